/**
 * Request ids and Kibo's correlation id, with tracing off: the id a caller sends is taken when it
 * is well-formed and replaced when not, echoed on every answer and written in the log line; every
 * error that came from a Kibo answer carries that answer's `x-vol-correlation`.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { DEMO_HEADERS, startStack, type Stack } from '../support/stack.js';

const SWITCH = /* GraphQL */ `
  mutation ($t: Int!) {
    switchTenant(tenantId: $t) {
      tenant {
        id
      }
    }
  }
`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'info', KIBO_REQUEST_TIMEOUT_MS: '300' } });
});
afterAll(() => stack?.close());

const logLine = (requestId: string) =>
  stack.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.requestId === requestId);

describe('request ids', () => {
  it('takes a well-formed x-request-id, echoes it and logs it (no trace fields with tracing off)', async () => {
    const response = await stack.graphql(SWITCH, {
      variables: { t: 100002 },
      headers: { ...DEMO_HEADERS, 'x-request-id': 'edge-7f3a.01:retry_2' },
    });
    expect(response.headers['x-request-id']).toBe('edge-7f3a.01:retry_2');
    const line = logLine('edge-7f3a.01:retry_2');
    expect(line).toMatchObject({ msg: 'request', status: 200, path: '/graphql' });
    expect(line).not.toHaveProperty('trace_id');
  });

  it.each([
    ['too long', 'a'.repeat(129)],
    ['unsafe characters', 'id with spaces'],
    ['markup', '<script>alert(1)</script>'],
    ['a log-forging attempt', 'ok","level":60,"msg":"forged'],
  ])('replaces an x-request-id that is %s with a generated one', async (_why, given) => {
    const response = await stack.graphql(SWITCH, {
      variables: { t: 100002 },
      headers: { ...DEMO_HEADERS, 'x-request-id': given },
    });
    const echoed = String(response.headers['x-request-id']);
    expect(echoed).toMatch(UUID);
    expect(logLine(echoed)).toBeDefined();
    expect(stack.logs.join('\n')).not.toContain(given.slice(0, 40));
  });

  it('accepts the longest allowed id (128 characters)', async () => {
    const longest = 'b'.repeat(128);
    const response = await stack.graphql(SWITCH, {
      variables: { t: 100002 },
      headers: { ...DEMO_HEADERS, 'x-request-id': longest },
    });
    expect(response.headers['x-request-id']).toBe(longest);
  });

  it('generates one per request when none is sent, also on a refused document', async () => {
    const first = await stack.graphql('{ nope', {});
    const second = await stack.graphql('{ nope', {});
    expect(first.status).toBe(400);
    expect(String(first.headers['x-request-id'])).toMatch(UUID);
    expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
  });

  it('is on the answers the listener refuses itself, and on their log line', async () => {
    // Authorization sent twice: refused before Yoga sees the request.
    const response = await request(stack.gateway.graphqlUrl, {
      method: 'POST',
      // undici's flat header list: name, value, name, value…
      headers: [
        'content-type',
        'application/json',
        'authorization',
        `Bearer ${DEMO.appToken}`,
        'authorization',
        `Bearer ${DEMO.appToken}`,
        'x-request-id',
        'refused-at-the-door',
      ],
      body: JSON.stringify({ query: '{ gatewayVersion }' }),
    });
    await response.body.text();
    expect(response.statusCode).toBe(400);
    expect(response.headers['x-request-id']).toBe('refused-at-the-door');
    expect(logLine('refused-at-the-door')).toMatchObject({ msg: 'request', status: 400 });
  });
});

describe('Kibo’s correlation id', () => {
  it('is in the log line of a successful call', async () => {
    stack.resetRecords();
    const response = await stack.graphql(SWITCH, { variables: { t: 100002 } });
    const received = stack.emulator.received.find((r) => r.method === 'PUT')!;
    expect(received.correlationId).toMatch(/^[0-9a-f]{32}$/);
    expect(logLine(String(response.headers['x-request-id']))?.kiboCorrelationId).toBe(received.correlationId);
  });

  it.each([
    ['a refusal (403)', DEMO.appToken, 999999, 'FORBIDDEN'],
    ['an unknown bearer (401)', 'made-up-bearer', 100002, 'UNAUTHENTICATED'],
    ['a 5xx', 'emulator-fault:status:503', 100002, 'UPSTREAM_UNAVAILABLE'],
    ['a 429', 'emulator-fault:rate-limit:5', 100002, 'RATE_LIMITED'],
    ['an empty 502', 'emulator-fault:status-empty:502', 100002, 'UPSTREAM_UNAVAILABLE'],
    ['malformed JSON', 'emulator-fault:malformed-json', 100002, 'UPSTREAM_UNAVAILABLE'],
    ['a wrong content type', 'emulator-fault:wrong-content-type', 100002, 'UPSTREAM_UNAVAILABLE'],
  ])('travels with the error from %s in extensions.kibo.correlationId', async (_case, bearer, tenantId, code) => {
    stack.resetRecords();
    const response = await stack.graphql(SWITCH, {
      variables: { t: tenantId },
      headers: { authorization: `Bearer ${bearer}`, 'x-kibo-refresh-token': DEMO.refreshToken },
    });
    const received = stack.emulator.received.find((r) => r.method === 'PUT')!;
    const error = response.body.errors?.[0];
    expect(error?.extensions?.code).toBe(code);
    expect((error?.extensions?.kibo as { correlationId?: string } | undefined)?.correlationId).toBe(
      received.correlationId,
    );
    expect(logLine(String(response.headers['x-request-id']))?.kiboCorrelationId).toBe(received.correlationId);
  });

  it('is absent when no answer came from Kibo (a timeout)', async () => {
    const response = await stack.graphql(SWITCH, {
      variables: { t: 100002 },
      headers: { authorization: 'Bearer emulator-fault:delay:2000', 'x-kibo-refresh-token': DEMO.refreshToken },
    });
    const error = response.body.errors?.[0];
    expect(error?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(error?.extensions).not.toHaveProperty('kibo');
  });

  it('is not taken when malformed or echoing a credential (hostile upstream)', async () => {
    // Unit-level: the client keeps only bounded, safe ids that carry none of the call's secrets.
    const { createServer } = await import('node:http');
    const { KiboClient } = await import('../../src/kibo/client.js');
    const { loadConfig } = await import('../../src/config.js');
    const ids = ['x'.repeat(129), 'has space', `leak-${DEMO.refreshToken}`, 'fine-id-1'];
    const server = createServer((_req, res) => {
      res.writeHead(403, { 'content-type': 'application/json', 'x-vol-correlation': ids.shift()! });
      res.end('{"errorCode":"NO","message":"no"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new KiboClient(
      `http://127.0.0.1:${(server.address() as { port: number }).port}`,
      loadConfig({}).upstream,
    );
    const seen: Array<string | undefined> = [];
    try {
      for (let i = 0; i < 4; i++) {
        await client
          .refreshAuthTicket({ tenantId: 1, authorization: 'Bearer x', refreshToken: DEMO.refreshToken })
          .catch((error: { details: { correlationId?: string } }) => seen.push(error.details.correlationId));
      }
    } finally {
      await client.close();
      server.close();
    }
    expect(seen).toEqual([undefined, undefined, undefined, 'fine-id-1']);
  });
});
