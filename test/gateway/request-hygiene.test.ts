/**
 * Smaller things a hostile client could lean on: log lines and error messages sized by the client,
 * a credential header sent twice, a cookie set on an error answer, one credential holding the whole
 * Kibo pool.
 */
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { FAULT_TOKEN_PREFIX } from '../../src/emulator/faults.js';
import { CredentialConcurrencyLimit } from '../../src/requests/concurrency-limit.js';
import { rawRequest } from '../support/raw-http.js';
import { DEMO_HEADERS, startStack, withStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'info' } });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.resetRecords();
  stack.logs.length = 0;
});

const requestLine = async () => {
  await new Promise((resolve) => setTimeout(resolve, 30));
  return stack.logs.map((line) => JSON.parse(line) as Record<string, unknown>).find((line) => line.msg === 'request');
};

describe('what the client sizes', () => {
  it('logs a long operationName capped at 100 characters, and one that is no GraphQL name not at all', async () => {
    const long = `Op${'x'.repeat(10_000)}`;
    await request(stack.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: `query ${long} { gatewayVersion }`, operationName: long }),
    }).then((response) => response.body.dump());
    const logged = String((await requestLine())?.operationName);
    expect(logged.length).toBeLessThanOrEqual(101);
    expect(long.startsWith(logged.replace(/…$/, ''))).toBe(true);

    stack.logs.length = 0;
    await request(stack.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ gatewayVersion }', operationName: '<img src=x> secret-looking' }),
    }).then((response) => response.body.dump());
    const line = await requestLine();
    expect(line?.operationName).toBe('(not a GraphQL name)');
    expect(JSON.stringify(line)).not.toContain('secret-looking');
  });

  it('echoes a malformed X-Vol-Tenant capped', async () => {
    const huge = `9${'z'.repeat(5_000)}`;
    const response = await stack.graphql(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { id } } }',
      { variables: { r: [{ __typename: 'Tenant', id: 100002 }] }, headers: { ...DEMO_HEADERS, 'x-vol-tenant': huge } },
    );
    const error = response.body.errors?.[0];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error!.message.length).toBeLessThan(200);
    expect(JSON.stringify(response.body).length).toBeLessThan(1_000);
  });
});

describe('credential headers sent twice', () => {
  it.each([['X-Kibo-Refresh-Token'], ['Authorization'], ['X-Vol-Tenant']])(
    'two %s lines get 400 BAD_REQUEST, and Kibo is not called',
    async (name) => {
      const body = JSON.stringify({ query: 'mutation { switchTenant(tenantId: 100002) { tenant { id } } }' });
      const twice =
        name === 'Authorization'
          ? `Authorization: Bearer ${DEMO.appToken}\r\nAuthorization: Bearer other\r\nX-Kibo-Refresh-Token: ${DEMO.refreshToken}\r\n`
          : name === 'X-Vol-Tenant'
            ? `Authorization: Bearer ${DEMO.appToken}\r\nX-Kibo-Refresh-Token: ${DEMO.refreshToken}\r\nX-Vol-Tenant: 1\r\nX-Vol-Tenant: 2\r\n`
            : `Authorization: Bearer ${DEMO.appToken}\r\nX-Kibo-Refresh-Token: ${DEMO.refreshToken}\r\nX-Kibo-Refresh-Token: ${DEMO.narrowRefreshToken}\r\n`;
      const answer = await rawRequest(
        stack.gateway.port,
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\n${twice}content-length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      );
      expect(answer.status).toBe(400);
      expect(JSON.parse(answer.body).errors[0].extensions.code).toBe('BAD_REQUEST');
      expect(answer.body).not.toContain(DEMO.refreshToken);
      expect(stack.received).toHaveLength(0);
    },
  );
});

describe('cookie mode: no Set-Cookie on an error answer', () => {
  it('a switch that succeeds beside one that fails sets no cookie', async () => {
    await withStack(
      {
        env: { REFRESH_TOKEN_COOKIE: 'kibo_rt', MAX_UPSTREAM_CALLS: '2', LOG_LEVEL: 'silent' },
        sharedEmulator: stack.emulator,
      },
      async (cookieStack) => {
        const headers = { authorization: DEMO_HEADERS.authorization, cookie: `kibo_rt=${DEMO.refreshToken}` };
        const alone = await cookieStack.graphql('mutation { switchTenant(tenantId: 100002) { tenant { id } } }', {
          headers,
        });
        expect(String(alone.headers['set-cookie'])).toContain('kibo_rt=');
        const mixed = await cookieStack.graphql(
          'mutation { ok: switchTenant(tenantId: 100002) { tenant { id } } no: switchTenant(tenantId: 999999) { tenant { id } } }',
          { headers },
        );
        expect(mixed.body.data).toMatchObject({ ok: { tenant: { id: 100002 } }, no: null });
        expect(mixed.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        expect(mixed.headers['set-cookie']).toBeUndefined();
      },
    );
  });
});

describe('one credential cannot hold the whole Kibo pool', () => {
  it('KIBO_MAX_CONCURRENT_PER_CREDENTIAL: a third concurrent call with the same credentials is refused with RATE_LIMITED, others go on', async () => {
    await withStack(
      { env: { KIBO_MAX_CONCURRENT_PER_CREDENTIAL: '2', LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (capped) => {
        const slow = {
          authorization: `Bearer ${FAULT_TOKEN_PREFIX}delay:600`,
          'x-kibo-refresh-token': DEMO.refreshToken,
        };
        const mutation = 'mutation { switchTenant(tenantId: 100002) { createdOn } }';
        const same = [1, 2, 3].map(() => capped.graphql(mutation, { headers: slow }));
        await new Promise((resolve) => setTimeout(resolve, 200));
        const other = await capped.graphql(mutation, {
          headers: { ...slow, 'x-kibo-refresh-token': DEMO.narrowRefreshToken },
        });
        const answers = await Promise.all(same);
        const codes = answers.map((answer) => answer.body.errors?.[0]?.extensions?.code ?? 'OK');
        expect(codes.filter((code) => code === 'RATE_LIMITED')).toHaveLength(1);
        expect(other.body.errors?.[0]?.extensions?.code).not.toBe('RATE_LIMITED');
        expect(capped.received.filter((r) => r.method === 'PUT')).toHaveLength(3);
      },
    );
  });

  it('keys by a digest, holds an entry only while calls are in flight, and bounds the credentials it tracks', async () => {
    const limit = new CredentialConcurrencyLimit(1, 100);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const running = Array.from({ length: 100 }, (_, i) =>
      limit.run({ authorization: `Bearer token-${i}`, refreshToken: `refresh-${i}` }, () => gate),
    );
    expect(limit.tracked).toBe(100);
    const keys = [...(limit as unknown as { inFlight: Map<string, number> }).inFlight.keys()];
    expect(keys.some((key) => key.includes('token') || key.includes('refresh'))).toBe(false);
    await expect(limit.run({ authorization: 'Bearer one-more', refreshToken: 'r' }, async () => 1)).rejects.toThrow(
      /Too many Kibo calls/,
    );
    release();
    await Promise.all(running);
    expect(limit.tracked).toBe(0);
    for (let i = 0; i < 5_000; i++)
      await limit.run({ authorization: `Bearer ${i}`, refreshToken: String(i) }, async () => i);
    expect(limit.tracked).toBe(0);
  });
});
