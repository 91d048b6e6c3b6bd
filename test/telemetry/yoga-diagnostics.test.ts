/**
 * Yoga's own diagnostics reach the structured log at their level. Yoga calls `debug` on every
 * request, so below the logger's level a call must not even format its arguments.
 */
import { describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { KiboClient } from '../../src/kibo/client.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { createYogaApp } from '../../src/yoga.js';

function yogaLoggingAt(level: string) {
  const lines: string[] = [];
  const config = loadConfig({});
  // Never called: nothing here executes an operation.
  const kibo = new KiboClient('http://127.0.0.1:9', config.upstream);
  const yoga = createYogaApp({
    kibo,
    projection: true,
    logger: createLogger(level, { write: (line: string) => void lines.push(line) }),
    limits: config.limits,
    browser: config.browser,
    refreshTokenCookie: undefined,
    trustedDocuments: config.trustedDocuments,
  });
  return { yoga, lines, close: () => kibo.close() };
}

describe("Yoga's diagnostics", () => {
  it('below the level are not formatted at all; at it they are logged, formatted once', async () => {
    const { yoga, lines, close } = yogaLoggingAt('info');
    const formatted = vi.fn(() => 'a diagnostic');
    yoga.logger.debug({ toString: formatted }, 'more');
    expect(formatted).not.toHaveBeenCalled();
    expect(lines).toEqual([]);

    yoga.logger.info({ toString: formatted }, 'more');
    expect(formatted).toHaveBeenCalledTimes(1);
    expect(lines.map((line) => JSON.parse(line) as { level: number; msg: string })).toEqual([
      expect.objectContaining({ level: 30, msg: 'a diagnostic more' }),
    ]);
    await close();
  });

  it('at debug, debug calls are logged', async () => {
    const { yoga, lines, close } = yogaLoggingAt('debug');
    yoga.logger.debug('Parsing request');
    expect(lines.map((line) => (JSON.parse(line) as { msg: string }).msg)).toEqual(['Parsing request']);
    await close();
  });
});
