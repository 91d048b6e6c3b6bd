/**
 * Readiness and the drain sequence, over real sockets: what a load balancer sees at each step
 * after the gateway is told to stop (http/drain.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEMO } from '../../src/emulator/demo-data.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { startGateway } from '../../src/http/listener.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { startStack, type Stack } from '../support/stack.js';

const QUERY = 'mutation { switchTenant(tenantId: 100002) { tenant { id } } }';

/** A switchTenant on `client`'s own connection; `delayMs` makes the emulator hold the Kibo call. */
function switchTenant(client: Client, delayMs?: number) {
  return client.request({
    path: '/graphql',
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: delayMs ? `Bearer emulator-fault:delay:${delayMs}` : `Bearer ${DEMO.appToken}`,
      'x-kibo-refresh-token': DEMO.refreshToken,
    },
    body: JSON.stringify({ query: QUERY }),
  });
}

/** One keep-alive connection, and whether the server has closed it. */
function connection(url: string) {
  const client = new Client(url, { pipelining: 1, keepAliveTimeout: 60_000 });
  const state = { client, connects: 0, disconnects: 0 };
  client.on('connect', () => state.connects++);
  client.on('disconnect', () => state.disconnects++);
  return state;
}

async function status(url: string): Promise<number> {
  const response = await request(url, { headers: { connection: 'close' } });
  await response.body.dump();
  return response.statusCode;
}

describe('readiness', () => {
  it('/ready and /health answer 200 while Kibo is unreachable: an outage must not empty the rotation', async () => {
    // Port 1 on loopback: nothing listens there, every Kibo call would fail.
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'silent' });
    const gateway = await startGateway({
      config,
      kiboBaseUrl: 'http://127.0.0.1:1',
      logger: createLogger('silent'),
    });
    try {
      const ready = await request(`${gateway.url}/ready`);
      expect(ready.statusCode).toBe(200);
      expect(ready.headers['cache-control']).toBe('no-store');
      expect(await ready.body.json()).toEqual({ status: 'ready' });
      expect(await status(`${gateway.url}/health`)).toBe(200);
      expect(await status(`${gateway.url}/ready?probe=kubelet`)).toBe(200);
    } finally {
      await gateway.stop(0);
    }
  });
});

describe('the drain sequence', () => {
  let emulator: RunningEmulator;
  beforeAll(async () => {
    emulator = await startEmulator({ faultInjection: true });
  });
  afterAll(() => emulator.close());

  // Generous, so the steps stay apart on a machine shared with other test runs.
  const DELAY_MS = 1_500;
  async function drainingStack(graceMs: number): Promise<Stack> {
    return startStack({
      sharedEmulator: emulator,
      env: { SHUTDOWN_DRAIN_DELAY_MS: String(DELAY_MS), SHUTDOWN_GRACE_MS: String(graceMs), LOG_LEVEL: 'info' },
    });
  }

  it('/ready turns 503 at once, serving and accepting go on for the delay with Connection: close, then it stops accepting', async () => {
    const stack = await drainingStack(5_000);
    const { url } = stack.gateway;
    const busy = connection(url);
    const idle = connection(url);
    try {
      // Both connections are kept alive before the drain starts.
      for (const { client } of [busy, idle]) {
        const before = await switchTenant(client);
        expect(before.headers.connection).toBe('keep-alive');
        await before.body.dump();
      }
      expect(await status(`${url}/ready`)).toBe(200);

      const started = Date.now();
      const drained = stack.gateway.drain().then(() => Date.now() - started);

      expect(await status(`${url}/ready`)).toBe(503);
      expect(await status(`${url}/health`)).toBe(200);

      // A request on a kept-alive connection is served, and the answer asks the client to let the connection go.
      const during = await switchTenant(busy.client);
      expect(during.statusCode).toBe(200);
      expect(during.headers.connection).toBe('close');
      expect(await during.body.json()).toEqual({ data: { switchTenant: { tenant: { id: 100002 } } } });
      await sleep(50);
      expect(busy.disconnects).toBe(1);

      // New connections are still accepted during the delay (a balancer may not have noticed yet),
      // and the idle keep-alive connection is left alone: closing it now could race a request.
      expect(await status(`${url}/health`)).toBe(200);
      expect(idle.disconnects).toBe(0);
      expect(Date.now() - started).toBeLessThan(DELAY_MS);

      // After the delay: no new connections, idle ones closed, and the sequence ends with no request in flight.
      const elapsed = await drained;
      expect(elapsed).toBeGreaterThanOrEqual(DELAY_MS - 5);
      expect(elapsed).toBeLessThan(DELAY_MS + 3_000);
      expect(idle.disconnects).toBe(1);
      await expect(request(`${url}/health`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      expect(stack.logs.join('')).toContain('no longer accepting connections');
    } finally {
      await Promise.all([busy.client.destroy(), idle.client.destroy()]);
      await stack.close();
    }
  });

  it('a request in flight when the delay ends finishes within the grace period', async () => {
    const stack = await drainingStack(5_000);
    const client = connection(stack.gateway.url).client;
    try {
      const started = Date.now();
      // Started near the end of the delay, answered well after the listener has closed.
      setTimeout(() => void stack.gateway.drain(), 0);
      await sleep(DELAY_MS - 700);
      const response = await switchTenant(client, 1_500);
      expect(response.statusCode).toBe(200);
      expect(response.headers.connection).toBe('close');
      expect(await response.body.json()).toEqual({ data: { switchTenant: { tenant: { id: 100002 } } } });
      expect(Date.now() - started).toBeGreaterThan(DELAY_MS);
      await stack.gateway.drain();
    } finally {
      await client.destroy();
      await stack.close();
    }
  });

  it('a request that outlasts the grace period has its connection closed when the grace is over', async () => {
    const GRACE_MS = 400;
    const stack = await drainingStack(GRACE_MS);
    const client = connection(stack.gateway.url).client;
    try {
      const inFlight = switchTenant(client, 10_000).then(
        () => 'answered',
        (error: Error & { code?: string }) => error.code ?? error.message,
      );
      while (emulator.received.length === 0) await sleep(10);
      const started = Date.now();
      await stack.gateway.drain();
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(DELAY_MS + GRACE_MS - 5);
      expect(elapsed).toBeLessThan(DELAY_MS + GRACE_MS + 3_000);
      expect(await inFlight).toBe('UND_ERR_SOCKET');
      expect(stack.logs.join('')).toContain('grace period over');
    } finally {
      emulator.received.length = 0;
      await client.destroy();
      await stack.close();
    }
  });

  it('drain() called twice runs one sequence', async () => {
    const stack = await drainingStack(1_000);
    try {
      const first = stack.gateway.drain();
      expect(stack.gateway.drain()).toBe(first);
      await first;
      expect(stack.gateway.server.listening).toBe(false);
    } finally {
      await stack.close();
    }
  });
});
