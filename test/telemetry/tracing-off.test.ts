/**
 * "No cost when tracing is off": without an OTLP endpoint, not one OpenTelemetry module is loaded
 * (checked in a child process that logs every module it resolves); with one, they are — which
 * shows the check can see them.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/main-process.js';

const run = promisify(execFile);

async function loadedModules(env: Record<string, string>): Promise<{ answered: number; modules: string[] }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('OTEL_')));
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/telemetry/fixtures/loaded-modules.ts'], {
    cwd: ROOT,
    env: { ...clean, ...env },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

// The API package is a no-op facade that prom-client loads for exemplars whatever we do; the SDK,
// its exporters and the Hive plugin are what tracing costs.
const OPEN_TELEMETRY = /@opentelemetry\/(?!api\/)|plugin-opentelemetry/;

describe('tracing off', () => {
  it('loads no OpenTelemetry SDK, exporter or plugin module, and answers', async () => {
    const { answered, modules } = await loadedModules({});
    expect(answered).toBe(100002);
    expect(modules.some((url) => url.includes('/src/http/listener.ts'))).toBe(true);
    expect(modules.filter((url) => OPEN_TELEMETRY.test(url))).toEqual([]);
  }, 60_000);

  it('loads the SDK when OTEL_EXPORTER_OTLP_ENDPOINT is set (the check sees them)', async () => {
    const { answered, modules } = await loadedModules({
      // Nothing listens there: the export fails quietly, which is fine for this check.
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    expect(answered).toBe(100002);
    expect(modules.some((url) => url.includes('@opentelemetry/sdk-trace-base'))).toBe(true);
  }, 60_000);
});
