/**
 * Upstream failures on demand, for tests of how the gateway behaves when Kibo misbehaves.
 * Only an emulator started with `faultInjection: true` honours them. A fault is chosen per request
 * by the bearer token `emulator-fault:<mode>[:<number>]`: the gateway forwards `Authorization`
 * untouched, so a test can steer one request through the whole stack without any test-only
 * plumbing in the gateway itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendKiboError } from './replies.js';

export const FAULT_TOKEN_PREFIX = 'emulator-fault:';

export type Fault =
  | { mode: 'delay'; ms: number }
  | { mode: 'reset' }
  | { mode: 'status'; status: number }
  | { mode: 'status-empty'; status: number }
  | { mode: 'rate-limit'; retryAfterSeconds: number }
  | { mode: 'malformed-json' }
  | { mode: 'wrong-content-type' }
  | { mode: 'oversize'; bytes: number }
  | { mode: 'trickle'; intervalMs: number }
  | { mode: 'echo' };

export function parseFault(bearer: string): Fault | undefined {
  if (!bearer.startsWith(FAULT_TOKEN_PREFIX)) return undefined;
  const [mode, rawNumber] = bearer.slice(FAULT_TOKEN_PREFIX.length).split(':');
  const number = rawNumber === undefined ? undefined : Number(rawNumber);
  switch (mode) {
    case 'delay':
      return { mode, ms: number ?? 10_000 };
    case 'reset':
    case 'malformed-json':
    case 'wrong-content-type':
    // `emulator-fault:echo[:anything]`: what follows is free text, so a test can plant a canary.
    case 'echo':
      return { mode };
    case 'status':
    case 'status-empty':
      return { mode, status: number ?? 500 };
    case 'rate-limit':
      return { mode, retryAfterSeconds: number ?? 30 };
    case 'oversize':
      return { mode, bytes: number ?? 16 * 1024 * 1024 };
    case 'trickle':
      return { mode, intervalMs: number ?? 1_000 };
    default:
      return undefined;
  }
}

/**
 * Plays a fault out on the response. `delay` returns after waiting, so the caller then answers
 * normally; every other mode ends the exchange itself.
 */
export async function playFault(
  fault: Fault,
  request: IncomingMessage,
  response: ServerResponse,
  signal: AbortSignal,
): Promise<'continue' | 'done'> {
  switch (fault.mode) {
    case 'delay':
      await sleep(fault.ms, signal);
      return 'continue';
    case 'reset':
      // Headers and half a body, then a TCP reset: the worst moment for a client to lose a peer.
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '4096' });
      response.write('{"accessToken":"');
      response.socket?.resetAndDestroy();
      return 'done';
    case 'status':
      sendKiboError(response, fault.status, 'EMULATED_FAILURE', `Emulated failure ${fault.status}`);
      return 'done';
    case 'status-empty':
      response.writeHead(fault.status, { 'content-length': '0' }).end();
      return 'done';
    case 'rate-limit':
      sendKiboError(response, 429, 'TOO_MANY_REQUESTS', 'Too many requests', [], {
        'retry-after': String(fault.retryAfterSeconds),
      });
      return 'done';
    case 'malformed-json':
      response.writeHead(200, { 'content-type': 'application/json' }).end('{"accessToken": "abc", "tenant": {');
      return 'done';
    case 'wrong-content-type':
      response
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end('<html><body>Maintenance</body></html>');
      return 'done';
    case 'oversize': {
      response.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      response.write('{"redirect":"');
      for (let sent = 0; sent < fault.bytes && !signal.aborted && !response.destroyed; sent += chunk.length) {
        if (!response.write(chunk)) await new Promise((resolve) => response.once('drain', resolve));
      }
      response.end('"}');
      return 'done';
    }
    case 'echo': {
      // Services do quote what they were sent in their error messages; the gateway passes Kibo's
      // message on to the client, so it must take the caller's credentials out of it first.
      const refreshToken = (await readJson(request))?.refreshToken;
      sendKiboError(
        response,
        401,
        'INVALID_REFRESH_TOKEN',
        `Rejected Authorization "${request.headers.authorization}" with refresh token "${String(refreshToken)}"`,
      );
      return 'done';
    }
    case 'trickle':
      response.writeHead(200, { 'content-type': 'application/json' });
      for (const piece of '{"accessToken":"trickle","redirect":null}') {
        if (signal.aborted || response.destroyed) return 'done';
        response.write(piece);
        await sleep(fault.intervalMs, signal);
      }
      response.end();
      return 'done';
  }
}

/** The request's JSON body, small as a ticket is; undefined when it is not JSON. */
async function readJson(request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 64 * 1024) return undefined;
    chunks.push(chunk);
  }
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
