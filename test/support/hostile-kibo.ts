/**
 * A hostile Kibo: a real HTTP server on an ephemeral loopback port that answers whatever the test
 * tells it to — tickets with the wrong types, error bodies that echo the caller's credentials, huge
 * lists. It has the emulator's shape (`url`, `received`, `close`), so a stack takes it as its Kibo
 * (`startStack({ sharedEmulator: hostile })`).
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { recordRequest, type ReceivedRequest } from '../../src/emulator/received.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { startStack, type Stack } from './stack.js';

/** What the hostile server saw of one call, credentials included (it is the test's own server). */
export interface HostileCall {
  tenantId: string | null;
  responseFields: string | null;
  authorization: string;
  refreshToken: string | undefined;
  /** 1 for the first request on its connection, 2 for the next one on the same kept-alive connection, … */
  connectionRequest: number;
}

/** Reset the connection instead of answering: no byte of a response, as when a server closes a kept-alive connection. */
export const RESET = 'reset';

export interface HostileReply {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
  /** Send the status, headers and body written so far, then reset the connection mid-answer. */
  resetAfter?: boolean;
}

export interface HostileKibo extends RunningEmulator {
  /** How the next calls are answered; replace it per test. */
  respond: (call: HostileCall) => HostileReply | typeof RESET | Promise<HostileReply | typeof RESET>;
}

export async function startHostileKibo(respond: HostileKibo['respond'] = () => ticketReply({})): Promise<HostileKibo> {
  const received: ReceivedRequest[] = [];
  const requestsOnConnection = new WeakMap<Socket, number>();
  const server = createServer((request, response) => {
    const connectionRequest = (requestsOnConnection.get(request.socket) ?? 0) + 1;
    requestsOnConnection.set(request.socket, connectionRequest);
    const url = new URL(request.url ?? '/', 'http://hostile');
    const record = recordRequest(request, response, url, null);
    received.push(record);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let refreshToken: string | undefined;
      try {
        refreshToken = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { refreshToken?: string }).refreshToken;
      } catch {
        refreshToken = undefined;
      }
      const call: HostileCall = {
        tenantId: record.tenantId,
        responseFields: record.responseFields,
        authorization: request.headers.authorization ?? '',
        refreshToken,
        connectionRequest,
      };
      void Promise.resolve(hostile.respond(call)).then(
        (reply) => {
          if (reply === RESET) return void request.socket.resetAndDestroy();
          const body = typeof reply.body === 'string' ? Buffer.from(reply.body) : reply.body;
          response.writeHead(reply.status ?? 200, {
            'content-type': 'application/json',
            'content-length': String(body.length),
            ...reply.headers,
          });
          if (!reply.resetAfter) return void response.end(body);
          response.write(body);
          setTimeout(() => request.socket.resetAndDestroy(), 20);
        },
        () => response.destroy(),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const hostile: HostileKibo = {
    url: `http://127.0.0.1:${port}`,
    port,
    received,
    respond,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
  return hostile;
}

export function ticketReply(ticket: unknown): HostileReply {
  return { body: Buffer.from(JSON.stringify(ticket)) };
}

/** A Kibo error envelope, as the real service shapes it. */
export function errorReply(status: number, errorCode: unknown, message: unknown): HostileReply {
  return { status, body: JSON.stringify({ errorCode, message, applicationName: 'AdminUser', items: [] }) };
}

/**
 * A ticket of about `bytes` bytes, nearly all of it `availableTenants`: tenants with sites and
 * attributes, every value well-typed, as a Kibo user with access to very many tenants would get.
 */
export function hugeTicket(bytes: number): Record<string, unknown> {
  const now = new Date().toISOString();
  const tenant = (id: number) => ({
    id,
    name: `Tenant ${id}`,
    domain: `t${id}.sandbox.mozu.com`,
    isDevTenant: false,
    isUnified: true,
    expiry: null,
    lastLoginDate: now,
    sites: Array.from({ length: 5 }, (_, i) => ({ id: id * 10 + i, name: `Site ${i}`, domain: `s${i}.example.com` })),
    attributes: Array.from({ length: 5 }, (_, i) => ({ name: `attr${i}`, value: `value ${i}`, createDate: now })),
  });
  const sample = JSON.stringify(tenant(100_000)).length + 1;
  const count = Math.max(1, Math.ceil(bytes / sample));
  return {
    accessToken: 'hostile-access-token',
    accessTokenExpiration: new Date(Date.now() + 3_600_000).toISOString(),
    createdOn: now,
    tenant: tenant(100_000),
    availableTenants: Array.from({ length: count }, (_, i) => tenant(100_000 + i)),
  };
}

/**
 * For a test file: a gateway whose Kibo is a hostile one, logging at debug (so a leak into any line
 * is seen), started before the file's tests and closed after; its logs and records are cleared
 * before each test. Read `hostile` and `stack` inside the tests, once the hooks have run.
 */
export function useHostileStack(): { readonly hostile: HostileKibo; readonly stack: Stack } {
  let hostile: HostileKibo | undefined;
  let stack: Stack | undefined;
  beforeAll(async () => {
    hostile = await startHostileKibo();
    stack = await startStack({ sharedEmulator: hostile, env: { LOG_LEVEL: 'debug' } });
  });
  afterAll(async () => {
    await stack?.close();
    await hostile?.close();
  });
  beforeEach(() => {
    stack!.resetRecords();
    stack!.logs.length = 0;
  });
  return {
    get hostile() {
      return hostile!;
    },
    get stack() {
      return stack!;
    },
  };
}

/**
 * For one test: a hostile Kibo and a gateway in front of it with `env`, started for `use` and
 * closed after it, whatever it threw.
 */
export async function withHostileStack(
  env: Record<string, string>,
  use: (hostile: HostileKibo, stack: Stack) => Promise<void>,
): Promise<void> {
  const hostile = await startHostileKibo();
  const stack = await startStack({ sharedEmulator: hostile, env });
  try {
    await use(hostile, stack);
  } finally {
    await stack.close();
    await hostile.close();
  }
}
