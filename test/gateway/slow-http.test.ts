/**
 * Slow and broken HTTP from clients: headers that trickle (slowloris), bodies that trickle, clients
 * that leave halfway, more connections than allowed. Small limits keep the suite fast; the same code
 * runs with the defaults (10 s / 30 s / 65 s / 900), which the last test checks are applied.
 */
import type { Socket } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { FAULT_TOKEN_PREFIX } from '../../src/emulator/faults.js';
import { openSocket, rawRequest, readUntilClosed } from '../support/raw-http.js';
import { startStack, withStack, type Stack } from '../support/stack.js';

// Far apart, so the slowloris test can tell the headers limit from the whole-request one.
const HEADERS_TIMEOUT_MS = 500;
const REQUEST_TIMEOUT_MS = 2_500;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: {
      LOG_LEVEL: 'info',
      HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      KEEP_ALIVE_TIMEOUT_MS: '400',
    },
  });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.logs.length = 0;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function metricsText(target: Stack = stack): Promise<string> {
  return (await request(`${target.gateway.url}/metrics`)).body.text();
}
const sample = (text: string, series: string) =>
  Number(new RegExp(`^${series.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);

type LogLine = { level: number; msg: string; status?: number; code?: string; cutShort?: string };
const requestLines = () =>
  stack.logs.map((line) => JSON.parse(line) as LogLine).filter((line) => line.msg === 'request');

/** Sends `text` one byte every `everyMs`, until the server closes the socket or the text runs out. */
function trickle(socket: Socket, text: string, everyMs: number): void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= text.length) return clearInterval(timer);
    socket.write(text[at++]!);
  }, everyMs);
  socket.once('close', () => clearInterval(timer));
}

/** Times GET /health on a fresh connection. */
async function healthMs(): Promise<number> {
  const started = performance.now();
  const response = await request(`${stack.gateway.url}/health`, { reset: true } as never);
  await response.body.dump();
  expect(response.statusCode).toBe(200);
  return performance.now() - started;
}

describe('slowloris: headers that never finish', () => {
  it('each slow client is answered 408 REQUEST_TIMEOUT and dropped within HEADERS_TIMEOUT_MS, while /health stays fast', async () => {
    const before = await metricsText();
    const clients = await Promise.all(Array.from({ length: 30 }, () => openSocket(stack.gateway.port)));
    const answers = clients.map((socket) => {
      const answer = readUntilClosed(socket, 10_000);
      trickle(socket, 'GET /health HTTP/1.1\r\nHost: localhost\r\nX-Padding: ' + 'a'.repeat(500), 50);
      return answer;
    });
    const healthTimes: number[] = [];
    const polling = (async () => {
      for (let i = 0; i < 8; i++) {
        healthTimes.push(await healthMs());
        await sleep(50);
      }
    })();
    const settled = await Promise.all(answers);
    await polling;
    for (const answer of settled) {
      expect(answer.closedByServer).toBe(true);
      // The limit, plus Node's checking period (a tenth of it) and slack for a shared, loaded
      // machine — still well short of REQUEST_TIMEOUT_MS, so it is the headers limit that acted.
      expect(answer.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_MS + 1_500);
      expect(answer.status).toBe(408);
      expect(JSON.parse(answer.body)).toEqual({
        errors: [{ message: expect.any(String), extensions: { code: 'REQUEST_TIMEOUT' } }],
      });
    }
    // Generous for a machine where several suites run at once (one probe may land on a busy
    // moment); a held event loop would show in every probe, as seconds.
    const sorted = [...healthTimes].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(250);
    expect(sorted.at(-1)).toBeLessThan(1_500);
    const lines = requestLines().filter((line) => line.status === 408);
    expect(lines).toHaveLength(30);
    expect(lines.every((line) => line.level === 40 && line.code === 'REQUEST_TIMEOUT')).toBe(true);
    const after = await metricsText();
    expect(
      sample(after, 'gateway_http_requests_cut_short_total{reason="timeout"}') -
        sample(before, 'gateway_http_requests_cut_short_total{reason="timeout"}'),
    ).toBe(30);
  });
});

describe('requests cut short', () => {
  const graphqlHead = (length: number, authorization = 'Bearer demo-app-token') =>
    'POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n' +
    `authorization: ${authorization}\r\nx-kibo-refresh-token: demo-refresh-token\r\n` +
    `content-length: ${length}\r\n\r\n`;
  const body = JSON.stringify({ query: 'mutation { switchTenant(tenantId: 100002) { tenant { id } } }' });

  it('a body that trickles past REQUEST_TIMEOUT_MS is answered 408 and logged and counted as 408, never 200', async () => {
    const before = await metricsText();
    const socket = await openSocket(stack.gateway.port);
    const answer = readUntilClosed(socket, 10_000);
    socket.write(graphqlHead(body.length));
    trickle(socket, body, 100);
    const settled = await answer;
    expect(settled.status).toBe(408);
    expect(settled.closedAfterMs).toBeGreaterThan(REQUEST_TIMEOUT_MS - 100);
    expect(settled.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_MS + 1_000);
    await sleep(50);
    const lines = requestLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 408, cutShort: 'timed out', level: 40 });
    const after = await metricsText();
    expect(sample(after, 'gateway_http_responses_total{status="4xx"}')).toBe(
      sample(before, 'gateway_http_responses_total{status="4xx"}') + 1,
    );
    expect(sample(after, 'gateway_http_responses_total{status="2xx"}')).toBe(
      sample(before, 'gateway_http_responses_total{status="2xx"}'),
    );
  });

  it('a client that leaves while Kibo is still answering is logged and counted as 499, never 200', async () => {
    const before = await metricsText();
    const socket = await openSocket(stack.gateway.port);
    socket.write(graphqlHead(body.length, `Bearer ${FAULT_TOKEN_PREFIX}delay:400`) + body);
    await sleep(150);
    socket.destroy();
    await sleep(600);
    const lines = requestLines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ status: 499, cutShort: 'client closed', level: 40 });
    const after = await metricsText();
    expect(
      sample(after, 'gateway_http_requests_cut_short_total{reason="client_closed"}') -
        sample(before, 'gateway_http_requests_cut_short_total{reason="client_closed"}'),
    ).toBe(1);
    expect(sample(after, 'gateway_http_responses_total{status="2xx"}')).toBe(
      sample(before, 'gateway_http_responses_total{status="2xx"}'),
    );
  });

  it('a client that leaves halfway through its body is logged as 499', async () => {
    const socket = await openSocket(stack.gateway.port);
    socket.write(graphqlHead(body.length) + body.slice(0, 10));
    await sleep(100);
    socket.destroy();
    await sleep(200);
    expect(requestLines()).toMatchObject([{ status: 499, cutShort: 'client closed' }]);
  });
});

describe('keep-alive and the connection cap', () => {
  it('closes an idle keep-alive connection after KEEP_ALIVE_TIMEOUT_MS', async () => {
    const socket = await openSocket(stack.gateway.port);
    socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const answer = await readUntilClosed(socket, 5_000);
    expect(answer.status).toBe(200);
    expect(answer.closedByServer).toBe(true);
    expect(answer.closedAfterMs).toBeGreaterThan(300);
    expect(answer.closedAfterMs).toBeLessThan(2_000);
  });

  it('MAX_CONNECTIONS: connections past the cap are closed on arrival and counted; room frees as clients leave', async () => {
    await withStack(
      { env: { MAX_CONNECTIONS: '5', LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (capped) => {
        const held = await Promise.all(Array.from({ length: 5 }, () => openSocket(capped.gateway.port)));
        await sleep(50);
        const extra = await rawRequest(
          capped.gateway.port,
          'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
          3_000,
        );
        expect(extra.closedByServer).toBe(true);
        expect(extra.status).toBeUndefined();
        for (const socket of held) socket.destroy();
        await sleep(100);
        const metrics = await metricsText(capped);
        expect(sample(metrics, 'gateway_http_connections_dropped_total')).toBe(1);
        const health = await rawRequest(
          capped.gateway.port,
          'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
        );
        expect(health.status).toBe(200);
      },
    );
  });

  it('the defaults are applied to the server: 10 s headers, 30 s request, 65 s keep-alive, 900 connections', async () => {
    const defaults = loadConfig({}).http;
    expect(defaults).toEqual({
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 30_000,
      keepAliveTimeoutMs: 65_000,
      maxConnections: 900,
    });
    await withStack({ env: { LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator }, async (plain) => {
      const server = plain.gateway.server;
      expect([server.headersTimeout, server.requestTimeout, server.keepAliveTimeout, server.maxConnections]).toEqual([
        10_000, 30_000, 65_000, 900,
      ]);
    });
  });
});
