/**
 * Every error class the gateway promises, over real HTTP: refusals it makes on its own (no upstream
 * call), Kibo's refusals, and Kibo failing — each as a GraphQL error with extensions.code.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { print } from 'graphql';
import { request } from 'undici';
import { loadConfig } from '../../src/config.js';
import { DEMO } from '../../src/emulator/demo-data.js';
import { startGateway } from '../../src/http/listener.js';
import { DEFAULT_MANIFEST_URL, documentIdOf, readManifestFile } from '../../src/trusted-documents/manifest.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { FirstTicketDocument, SwitchWithRefreshTokenDocument } from '../generated/operations.js';
import { DEMO_HEADERS, startStack, withStack, type Stack } from '../support/stack.js';
import { waitFor } from '../support/wait-for.js';

/** For variables the schema must refuse, which a typed document would not even compile with. */
const SWITCH_UNTYPED = print(SwitchWithRefreshTokenDocument);
const SWITCH = SwitchWithRefreshTokenDocument;

/** Headers that make the emulator misbehave in the given way (see src/emulator/faults.ts). */
const fault = (mode: string) => ({
  authorization: `Bearer emulator-fault:${mode}`,
  'x-kibo-refresh-token': DEMO.refreshToken,
});

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    env: {
      KIBO_HEADERS_TIMEOUT_MS: '400',
      KIBO_BODY_TIMEOUT_MS: '400',
      KIBO_REQUEST_TIMEOUT_MS: '600',
      KIBO_MAX_RESPONSE_BYTES: '65536',
    },
  });
});
afterAll(() => stack.close());
beforeEach(() => stack.resetRecords());

function singleError(body: { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }) {
  expect(body.errors).toHaveLength(1);
  return body.errors![0]!;
}

describe('refused by the gateway, without calling Kibo', () => {
  it.each([
    ['no Authorization header', { tenantId: 100002 }, { 'x-kibo-refresh-token': DEMO.refreshToken }, 'UNAUTHENTICATED'],
    [
      'a non-Bearer Authorization header',
      { tenantId: 100002 },
      { authorization: 'Basic abc', 'x-kibo-refresh-token': DEMO.refreshToken },
      'UNAUTHENTICATED',
    ],
    [
      'no refresh token anywhere',
      { tenantId: 100002 },
      { authorization: DEMO_HEADERS.authorization },
      'UNAUTHENTICATED',
    ],
    ['tenantId 0', { tenantId: 0 }, DEMO_HEADERS, 'BAD_USER_INPUT'],
    ['a negative tenantId', { tenantId: -5 }, DEMO_HEADERS, 'BAD_USER_INPUT'],
    ['a tenantId beyond int32', { tenantId: 2 ** 31 }, DEMO_HEADERS, 'BAD_USER_INPUT'],
    ['a fractional tenantId', { tenantId: 1.5 }, DEMO_HEADERS, 'BAD_USER_INPUT'],
    ['a string tenantId', { tenantId: '100002' }, DEMO_HEADERS, 'BAD_USER_INPUT'],
  ])('%s', async (_case, variables, headers, code) => {
    const response = await stack.graphql(SWITCH_UNTYPED, { variables, headers: headers as Record<string, string> });
    expect(singleError(response.body).extensions?.code).toBe(code);
    expect(stack.received).toHaveLength(0);
  });

  it('codes an out-of-range literal as BAD_USER_INPUT too', async () => {
    const response = await stack.graphql(/* GraphQL */ `
      mutation {
        switchTenant(tenantId: 99999999999) {
          accessToken
        }
      }
    `);
    expect(singleError(response.body).extensions?.code).toBe('BAD_USER_INPUT');
    expect(stack.received).toHaveLength(0);
  });
});

describe('credentials', () => {
  it('takes the refresh token from the argument before the header', async () => {
    const response = await stack.graphql(SwitchWithRefreshTokenDocument, {
      variables: { tenantId: DEMO.narrowTenantId, refreshToken: DEMO.narrowRefreshToken },
      headers: DEMO_HEADERS,
    });
    expect(response.body.data?.switchTenant?.tenant.id).toBe(DEMO.narrowTenantId);
    expect(typeof response.body.data?.switchTenant?.accessToken).toBe('string');
  });

  it('forwards the caller’s bearer as is: a JWT minted by the last switch works for the next', async () => {
    const first = await stack.graphql(FirstTicketDocument, { variables: { tenantId: 100001 } });
    const jwt = first.body.data?.switchTenant?.jwtAccessToken;
    expect(jwt).toEqual(expect.any(String));
    const next = await stack.graphql(SwitchWithRefreshTokenDocument, {
      variables: { tenantId: 100009 },
      headers: { authorization: `Bearer ${jwt}`, 'x-kibo-refresh-token': DEMO.refreshToken },
    });
    expect(next.body.data?.switchTenant?.tenant.id).toBe(100009);
  });
});

describe('refused by Kibo', () => {
  it.each([
    ['a tenant the user cannot access', { tenantId: 999999 }, DEMO_HEADERS, 'FORBIDDEN', 403, 'TENANT_ACCESS_DENIED'],
    [
      'an unknown bearer',
      { tenantId: 100002 },
      { ...DEMO_HEADERS, authorization: 'Bearer not-a-token' },
      'UNAUTHENTICATED',
      401,
      'UNAUTHORIZED',
    ],
    [
      'an expired refresh token',
      { tenantId: 100002, refreshToken: DEMO.expiredRefreshToken },
      DEMO_HEADERS,
      'UNAUTHENTICATED',
      401,
      'INVALID_REFRESH_TOKEN',
    ],
  ])('%s → %s, with Kibo’s code and message kept', async (_case, variables, headers, code, status, kiboCode) => {
    const response = await stack.graphql(SWITCH, { variables, headers });
    const error = singleError(response.body);
    expect(error.extensions).toMatchObject({
      code,
      kibo: { status, errorCode: kiboCode, message: expect.any(String) },
    });
    expect(response.body.data).toEqual({ switchTenant: null });
  });
});

describe('Kibo failing', () => {
  it.each([
    ['a 500 with a Kibo body', 'status:500', 'UPSTREAM_UNAVAILABLE'],
    ['a 503 without a body', 'status-empty:503', 'UPSTREAM_UNAVAILABLE'],
    ['a 404', 'status:404', 'NOT_FOUND'],
    ['a 400', 'status:400', 'BAD_USER_INPUT'],
    ['malformed JSON', 'malformed-json', 'UPSTREAM_UNAVAILABLE'],
    ['a wrong content type', 'wrong-content-type', 'UPSTREAM_UNAVAILABLE'],
    ['a reset mid-body', 'reset', 'UPSTREAM_UNAVAILABLE'],
    ['no answer within the timeout', 'delay:3000', 'UPSTREAM_UNAVAILABLE'],
    ['a body trickling past the deadline', 'trickle:150', 'UPSTREAM_UNAVAILABLE'],
    ['a body larger than the cap', 'oversize:1048576', 'UPSTREAM_UNAVAILABLE'],
  ])('%s → %s', async (_case, mode, code) => {
    const started = Date.now();
    const response = await stack.graphql(SWITCH, { variables: { tenantId: 100002 }, headers: fault(mode) });
    const error = singleError(response.body);
    expect(error.extensions?.code).toBe(code);
    expect(JSON.stringify(error)).not.toContain(stack.emulator.url);
    // Every fault ends within the configured deadline (600 ms) + 250 ms.
    expect(Date.now() - started).toBeLessThan(600 + 250);
    // The gateway stays healthy, and the next ordinary request works.
    const health = await request(`${stack.gateway.url}/health`);
    await health.body.dump();
    expect(health.statusCode).toBe(200);
    const next = await stack.graphql(SWITCH, { variables: { tenantId: 100002 } });
    expect(next.body.data).toMatchObject({ switchTenant: { tenant: { id: 100002 } } });
  });

  it('429 → RATE_LIMITED with retryAfter from Retry-After', async () => {
    const response = await stack.graphql(SWITCH, { variables: { tenantId: 100002 }, headers: fault('rate-limit:42') });
    expect(singleError(response.body).extensions).toMatchObject({
      code: 'RATE_LIMITED',
      retryAfter: 42,
      kibo: { status: 429 },
    });
  });

  it('never retries on its own', async () => {
    await stack.graphql(SWITCH, { variables: { tenantId: 100002 }, headers: fault('status:502') });
    expect(stack.received).toHaveLength(1);
  });

  it('a Kibo that does not listen → UPSTREAM_UNAVAILABLE', async () => {
    const gateway = await startGateway({
      config: loadConfig({ PORT: '0', HOST: '127.0.0.1' }),
      kiboBaseUrl: 'http://127.0.0.1:9',
      logger: createLogger('silent'),
    });
    try {
      const response = await request(gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
        body: JSON.stringify({ query: SWITCH_UNTYPED, variables: { tenantId: 100002 } }),
      });
      const body = (await response.body.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
      expect(body.errors[0]!.extensions.code).toBe('UPSTREAM_UNAVAILABLE');
      expect(body.errors[0]!.message).not.toContain('127.0.0.1');
    } finally {
      await gateway.stop(0);
    }
  });
});

describe('content types the spec lists', () => {
  it.each(['text/json', 'text/plain'] as const)('reads a ticket sent as %s', async (contentType) => {
    await withStack({ emulator: { contentType } }, async (other) => {
      const response = await other.graphql(SWITCH, { variables: { tenantId: 100002 } });
      expect(response.body.data).toMatchObject({ switchTenant: { tenant: { id: 100002 } } });
    });
  });
});

describe('cancellation', () => {
  it('aborting the GraphQL request cancels the upstream call', async () => {
    const controller = new AbortController();
    const pending = stack
      .graphql(SWITCH, { variables: { tenantId: 100002 }, headers: fault('delay:5000'), signal: controller.signal })
      .catch((error: Error) => error);
    await waitFor(() => stack.received.length === 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(Error);
    await waitFor(() => stack.received[0]!.clientAborted);
    expect(stack.received[0]!.clientAborted).toBe(true);
  });

  it('a client that goes away ends the upstream call at once, not when a timeout would', async () => {
    // Timeouts far beyond the wait below: only the disconnect itself can end the call in time.
    const patient = {
      KIBO_HEADERS_TIMEOUT_MS: '20000',
      KIBO_BODY_TIMEOUT_MS: '20000',
      KIBO_REQUEST_TIMEOUT_MS: '20000',
    };
    await withStack({ sharedEmulator: stack.emulator, env: patient }, async (other) => {
      const controller = new AbortController();
      const pending = other
        .graphql(SWITCH, { variables: { tenantId: 100002 }, headers: fault('delay:10000'), signal: controller.signal })
        .catch((error: Error) => error);
      await waitFor(() => other.received.length === 1);
      controller.abort();
      expect(await pending).toBeInstanceOf(Error);
      await waitFor(() => other.received[0]!.clientAborted, 1500);
    });
  });

  it('a client that goes away from a persisted request (the trusted-documents path) ends the upstream call at once', async () => {
    const patient = {
      KIBO_HEADERS_TIMEOUT_MS: '20000',
      KIBO_BODY_TIMEOUT_MS: '20000',
      KIBO_REQUEST_TIMEOUT_MS: '20000',
      TRUSTED_DOCUMENTS: 'allow',
    };
    const [documentId] = Object.entries(readManifestFile(DEFAULT_MANIFEST_URL)).find(([, text]) =>
      text.startsWith('mutation SwitchTenantTokens('),
    )!;
    await withStack({ sharedEmulator: stack.emulator, env: patient }, async (other) => {
      const controller = new AbortController();
      const pending = request(other.gateway.graphqlUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...fault('delay:10000') },
        body: JSON.stringify({ documentId, variables: { tenantId: 100002 } }),
        signal: controller.signal,
      }).catch((error: Error) => error);
      await waitFor(() => other.received.length === 1);
      controller.abort();
      expect(await pending).toBeInstanceOf(Error);
      await waitFor(() => other.received[0]!.clientAborted, 1500);
      // It was this path's to serve, not Yoga's.
      const metrics = await request(new URL('/metrics', other.gateway.graphqlUrl)).then((r) => r.body.text());
      expect(metrics).toMatch(/trusted_fast_path_requests_total\{outcome="served"\} 1/);
    });
  });

  // The other ways a persisted request reaches Kibo: through the request's DataLoader (several calls,
  // or entities with no cache) and through the entity cache's call shared between requests. Each
  // listens for the request's signal, which the fast path makes only on demand.
  const persisted = {
    TwoTenants:
      'mutation TwoTenants($a: Int!, $b: Int!) { first: switchTenant(tenantId: $a) { tenant { id } } second: switchTenant(tenantId: $b) { tenant { name } } }',
    TenantEntities:
      'query TenantEntities($representations: [_Any!]!) { _entities(representations: $representations) { ... on Tenant { id name } } }',
  };
  const manifest = () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kibo-cancel-')), 'manifest.json');
    writeFileSync(path, JSON.stringify(Object.fromEntries(Object.values(persisted).map((t) => [documentIdOf(t), t]))));
    return path;
  };
  it.each([
    // Mutation fields run one after the other: the second call must not start once the client left.
    { path: 'several calls (DataLoader)', document: persisted.TwoTenants, calls: 1, cache: 'true' },
    { path: 'entities, no cache (DataLoader)', document: persisted.TenantEntities, calls: 1, cache: 'false' },
    { path: "entities through the cache's shared call", document: persisted.TenantEntities, calls: 1, cache: 'true' },
  ])(
    'a client that goes away from a persisted request ends its Kibo calls at once: $path',
    async ({ document, calls, cache }) => {
      const patient = {
        KIBO_HEADERS_TIMEOUT_MS: '20000',
        KIBO_BODY_TIMEOUT_MS: '20000',
        KIBO_REQUEST_TIMEOUT_MS: '20000',
        TRUSTED_DOCUMENTS: 'allow',
        TRUSTED_DOCUMENTS_MANIFEST: manifest(),
        ENTITY_CACHE: cache,
        MAX_UPSTREAM_CALLS: '2',
      };
      await withStack({ sharedEmulator: stack.emulator, env: patient }, async (other) => {
        const controller = new AbortController();
        const pending = request(other.gateway.graphqlUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-vol-tenant': '100002', ...fault('delay:10000') },
          body: JSON.stringify({
            documentId: documentIdOf(document),
            variables: { a: 100002, b: 100003, representations: [{ __typename: 'Tenant', id: 100002 }] },
          }),
          signal: controller.signal,
        }).catch((error: Error) => error);
        await waitFor(() => other.received.length === calls);
        controller.abort();
        expect(await pending).toBeInstanceOf(Error);
        await waitFor(() => other.received.every((record) => record.clientAborted), 1500);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(other.received).toHaveLength(calls);
        const metrics = await request(new URL('/metrics', other.gateway.graphqlUrl)).then((r) => r.body.text());
        expect(metrics).toMatch(/trusted_fast_path_requests_total\{outcome="served"\} 1/);
      });
    },
  );
});
