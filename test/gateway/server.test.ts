/**
 * The server as a newcomer and an operator meet it: `npm start`'s entry point in its own process,
 * with the embedded emulator, GraphiQL, health, a bad configuration, and SIGTERM with work in flight.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { startEmulator } from '../../src/emulator/server.js';
import { spawnMain, startMain } from '../support/main-process.js';
import { DEMO_HEADERS } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('npm start', () => {
  it('starts the embedded emulator when KIBO_BASE_URL is unset, says so, and serves the example', async () => {
    const { url, output } = await startMain({}, children);
    expect(output()).toContain('started the embedded Kibo emulator');

    const health = await request(`${url}/health`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();

    const page = await request(`${url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await page.body.text();
    expect(page.statusCode).toBe(200);
    expect(html).toContain('switchTenant(tenantId: 100002)');
    // GraphiQL opens with the demo identity filled in, so the example runs as is.
    expect(html).toContain(DEMO.appToken);

    const { EXAMPLE_OPERATION } = await import('../../src/yoga.js');
    const response = await request(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify({ query: EXAMPLE_OPERATION }),
    });
    const body = (await response.body.json()) as {
      data: { switchTenant: { tenant: { id: number }; accessTokenExpiresIn: number } };
    };
    expect(body.data.switchTenant.tenant.id).toBe(100002);
    expect(body.data.switchTenant.accessTokenExpiresIn).toBeGreaterThan(0);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    [
      'TRUSTED_DOCUMENTS_MANIFEST',
      { TRUSTED_DOCUMENTS: 'only', TRUSTED_DOCUMENTS_MANIFEST: '/nonexistent/manifest.json' },
    ],
  ])('refuses to start on a bad %s and names it', { timeout: 40_000 }, async (variable, env) => {
    const child = spawnMain(env);
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    const [code] = await once(child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toContain(variable);
    expect(stderr).not.toMatch(/at .*\.ts:\d+/);
  });

  it("writes a quiet request's line without waiting for a full batch", async () => {
    const emulator = await startEmulator();
    try {
      const { child, url, output } = await startMain({ KIBO_BASE_URL: emulator.url, LOG_LEVEL: 'info' }, children);
      const response = await request(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
        body: JSON.stringify({ query: 'mutation { switchTenant(tenantId: 100002) { tenant { id } } }' }),
      });
      expect(await response.body.json()).toEqual({ data: { switchTenant: { tenant: { id: 100002 } } } });
      // One line is far below a batch: the periodic flush writes it, with the process still running.
      await waitFor(() => output().includes('"msg":"request"'), 3_000);
      expect(output()).toContain('"msg":"request"');
      expect(child.exitCode).toBeNull();
    } finally {
      await emulator.close();
    }
  });

  it('on SIGTERM turns /ready to 503, finishes the request in flight, flushes its log and exits 0', async () => {
    const emulator = await startEmulator({ faultInjection: true });
    try {
      const { child, url, output } = await startMain(
        { KIBO_BASE_URL: emulator.url, SHUTDOWN_DRAIN_DELAY_MS: '300', SHUTDOWN_GRACE_MS: '5000' },
        children,
      );
      expect((await request(`${url}/ready`)).statusCode).toBe(200);
      const inFlight = request(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: 'Bearer emulator-fault:delay:700',
          'x-kibo-refresh-token': DEMO.refreshToken,
        },
        body: JSON.stringify({ query: 'mutation { switchTenant(tenantId: 100002) { tenant { id } } }' }),
      });
      while (emulator.received.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGTERM');
      let ready = 200;
      while (ready === 200) ready = (await request(`${url}/ready`, { reset: true })).statusCode;
      expect(ready).toBe(503);
      const response = await inFlight;
      expect(await response.body.json()).toEqual({ data: { switchTenant: { tenant: { id: 100002 } } } });
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      await expect(request(`${url}/health`)).rejects.toThrow();
      // Log lines leave in batches; none may be lost at exit: the request's line and the last one.
      const lines = output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { msg: string; status?: number });
      expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', status: 200 }));
      expect(lines.at(-1)?.msg).toBe('stopped');
    } finally {
      await emulator.close();
    }
  });
});
