/**
 * Readiness and the drain sequence, over real sockets: what a load balancer sees at each step
 * after the gateway is told to stop (http/drain.ts).
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Client, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEMO } from '../../src/emulator/demo-data.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { LISTENER_QUIET_MS } from '../../src/http/drain.js';
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

/** switchTenant as raw bytes, for a socket the test drives by hand. */
function rawSwitchTenant(port: number): string {
  const body = JSON.stringify({ query: QUERY });
  return (
    `POST /graphql HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
    `authorization: Bearer ${DEMO.appToken}\r\nx-kibo-refresh-token: ${DEMO.refreshToken}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** Everything the server sends on `socket` until it closes it, or the error that ended it. */
function readUntilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => (text += chunk));
    socket.once('error', (error: Error & { code?: string }) => resolve(`${text}[${error.code ?? error.message}]`));
    socket.once('close', () => resolve(text));
  });
}

/** A worker that, once `signal[0]` is set, waits 50 ms, sends `request` on a new connection and posts back the answer. */
const CONNECT_WHEN_TOLD = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { signal, port, request } = workerData;
Atomics.wait(signal, 0, 0);
Atomics.wait(signal, 1, 0, 50);
const socket = net.connect(port, '127.0.0.1');
socket.write(request);
let text = '';
socket.on('data', (chunk) => (text += chunk));
socket.on('error', (error) => parentPort.postMessage(text + '[' + error.code + ']'));
socket.on('close', () => parentPort.postMessage(text));
`;

/** Blocks this process's event loop, as a CPU-starved replica's is blocked. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
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
      // The client hears of the close a moment after the server has closed its side.
      for (let tries = 0; tries < 100 && idle.disconnects === 0; tries++) await sleep(10);
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

  it('a connection accepted during the delay whose request comes after the listener closed is served, not reset', async () => {
    const stack = await drainingStack(5_000);
    const { port, server } = stack.gateway;
    // A balancer's fresh connection: open, its request not sent yet.
    const socket = connect(port, '127.0.0.1');
    const answer = readUntilClosed(socket);
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      const drained = stack.gateway.drain();
      while (server.listening) await sleep(10);
      // The sweep of idle connections has run a few times by now.
      await sleep(200);
      socket.write(rawSwitchTenant(port));
      const text = await answer;
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(text.toLowerCase()).toContain('connection: close');
      expect(text).toContain('{"data":{"switchTenant":{"tenant":{"id":100002}}}}');
      await drained;
    } finally {
      socket.destroy();
      await stack.close();
    }
  });

  it('a connection still in the listen queue when the delay ends (the event loop stalled) is accepted and served', async () => {
    const stack = await drainingStack(5_000);
    const { port, url } = stack.gateway;
    // Another thread connects while this one (the gateway's) is stalled: the kernel completes the
    // handshake and queues the connection, which only a poll of the event loop accepts.
    const signal = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(CONNECT_WHEN_TOLD, {
      eval: true,
      workerData: { signal, port, request: rawSwitchTenant(port) },
    });
    try {
      await once(worker, 'online');
      const drained = stack.gateway.drain();
      await sleep(DELAY_MS - 200);
      const answer = once(worker, 'message');
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
      // Stalled in the check phase, so that when the loop runs again its timers (the end of the
      // delay) come before its poll: the connection is still queued when the drain goes on.
      setImmediate(() => stall(700));
      const [text] = (await answer) as [string];
      expect(text).toMatch(/^HTTP\/1\.1 200 /);
      expect(text.toLowerCase()).toContain('connection: close');
      expect(text).toContain('{"data":{"switchTenant":{"tenant":{"id":100002}}}}');
      await drained;
      await expect(request(`${url}/health`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await worker.terminate();
      await stack.close();
    }
  });

  it('a balancer still opening connections after the delay is served until it stops, then the listener closes', async () => {
    const stack = await drainingStack(5_000);
    const { url, server } = stack.gateway;
    try {
      const started = Date.now();
      const drained = stack.gateway.drain();
      await sleep(DELAY_MS - 300);
      // A new connection every 50 ms from before the end of the delay to well after it.
      const statuses: Array<number | string> = [];
      let lastAnswer = 0;
      while (Date.now() - started < DELAY_MS + 600) {
        statuses.push(await status(`${url}/health`).catch((error: { code?: string }) => error.code ?? 'error'));
        lastAnswer = Date.now();
        await sleep(50);
      }
      expect(statuses.length).toBeGreaterThan(5);
      expect(statuses.every((code) => code === 200)).toBe(true);
      // Then, LISTENER_QUIET_MS after the last arrival, the listener closes (a slack for the answer's own time).
      while (server.listening) await sleep(10);
      expect(Date.now() - lastAnswer).toBeGreaterThanOrEqual(LISTENER_QUIET_MS - 100);
      await drained;
      await expect(request(`${url}/health`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    } finally {
      await stack.close();
    }
  });

  it('a balancer still using its kept-alive connections after the delay has each request served before they are closed', async () => {
    const stack = await drainingStack(5_000);
    const pool = Array.from({ length: 4 }, () => connection(stack.gateway.url));
    try {
      // Kept alive from before the drain, idle since: a balancer's pool that has not noticed.
      for (const { client } of pool) await (await switchTenant(client)).body.dump();
      const drained = stack.gateway.drain();
      await sleep(DELAY_MS - 100);
      // One request every 100 ms across the end of the delay, each on a connection idle until then.
      const answers: Array<number | string> = [];
      for (const { client } of pool) {
        answers.push(
          await switchTenant(client).then(
            async (response) => (await response.body.dump(), response.statusCode),
            (error: { code?: string }) => error.code ?? 'error',
          ),
        );
        await sleep(100);
      }
      expect(answers).toEqual([200, 200, 200, 200]);
      await drained;
    } finally {
      await Promise.all(pool.map(({ client }) => client.destroy()));
      await stack.close();
    }
  });

  it('with no drain delay, a balancer still sending on its kept-alive connections is served until it stops', async () => {
    const stack = await drainingStack(5_000);
    const pool = Array.from({ length: 4 }, () => connection(stack.gateway.url));
    try {
      // The pool's connections are opened first: when the drain starts, the last new connection is
      // long past, and only the requests say the balancer is still sending.
      for (const { client } of pool) await (await switchTenant(client)).body.dump();
      await sleep(300);
      const answers: Array<number | string> = [];
      let drained: Promise<void> | undefined;
      const started = Date.now();
      // Requests every 50 ms on the pool for 800 ms; the drain starts, with no delay, at 400 ms.
      for (let index = 0; Date.now() - started < 800; index++) {
        if (!drained && Date.now() - started >= 400) drained = stack.gateway.drain({ drainDelayMs: 0 });
        answers.push(
          await switchTenant(pool[index % pool.length]!.client).then(
            async (response) => (await response.body.dump(), response.statusCode),
            (error: { code?: string }) => error.code ?? 'error',
          ),
        );
        await sleep(50);
      }
      expect(answers.length).toBeGreaterThan(4);
      expect(answers.filter((answer) => answer !== 200)).toEqual([]);
      await drained;
    } finally {
      await Promise.all(pool.map(({ client }) => client.destroy()));
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
