/**
 * The precompiled path for trusted documents (src/http/trusted-path.ts) against Yoga, differentially:
 * every operation of a manifest — the one `npm run codegen` writes, plus documents that reach the call
 * cap, `@include` on a variable, the `refreshToken` argument and `_entities` — is sent with random
 * variables (valid, of the wrong type, missing, extra), credentials (valid, missing, wrong, Kibo
 * faults; the refresh token in the header, the argument or the cookie), Origin, CSRF, Content-Type and
 * Accept headers, to a gateway with the fast path off (Yoga only) and one with it on, sharing one
 * emulator. Status, content type, cache-control, Set-Cookie (attributes; the value is a fresh token),
 * CORS headers and JSON bodies (tokens and Kibo's correlation ids by presence: each call mints new
 * ones) must be identical.
 * TRUSTED_PATH_RUNS sets the count per configuration (default 120); fast-check prints the seed of a
 * failure.
 *
 * The manifest's documents run compiled by graphql-jit on the fast path, except MaybeSites (`@include`),
 * which keeps graphql-js's executor there: both executors are compared with Yoga's.
 *
 * Two configurations cover the rules the fast path applies itself: cookie mode with two CORS origins,
 * and `only` with one origin, a small answer budget and a short execution deadline. Masking has its
 * own pair: a fault of the gateway's own (an upstream-call observer that throws) must come out as
 * "Unexpected error." on both paths.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import fc from 'fast-check';
import { getOperationAST, parse } from 'graphql';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { DEMO } from '../../src/emulator/demo-data.js';
import { CLIENT_PATH_PREFIX, startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { startGateway, type RunningGateway } from '../../src/http/listener.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { DEFAULT_MANIFEST_URL, documentIdOf } from '../../src/trusted-documents/manifest.js';

const RUNS = Number(process.env.TRUSTED_PATH_RUNS ?? 120);

/** The manifest codegen writes, and documents that exercise what that one does not. */
const DOCUMENTS = [
  ...Object.values(JSON.parse(readFileSync(DEFAULT_MANIFEST_URL, 'utf8')) as Record<string, string>),
  'mutation TwoTenants($a: Int!, $b: Int!) { first: switchTenant(tenantId: $a) { tenant { id } } second: switchTenant(tenantId: $b) { accessToken tenant { name } } }',
  'mutation MaybeSites($tenantId: Int!, $withSites: Boolean!) { switchTenant(tenantId: $tenantId) { accessTokenExpiresIn tenant { id sites @include(if: $withSites) { id name } } } }',
  'mutation WithRefreshToken($tenantId: Int!, $refreshToken: String) { switchTenant(tenantId: $tenantId, refreshToken: $refreshToken) { jwtAccessToken refreshToken user { userName } } }',
  'mutation AvailableTenants($tenantId: Int!) { switchTenant(tenantId: $tenantId) { availableTenants { id name } } }',
  'query TenantEntities($representations: [_Any!]!) { _entities(representations: $representations) { __typename ... on Tenant { id name } ... on Site { id domain } } }',
];
const ENTRIES = DOCUMENTS.map((text) => {
  const operation = getOperationAST(parse(text))!;
  return {
    id: documentIdOf(text),
    text,
    name: operation.name!.value,
    variables: (operation.variableDefinitions ?? []).map((definition) => definition.variable.name.value),
  };
});

const COOKIE = 'kibo_rt';
const ORIGINS = ['http://admin.test', 'http://other.test'];

function manifestFile(): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kibo-fast-path-')), 'manifest.json');
  writeFileSync(path, JSON.stringify(Object.fromEntries(ENTRIES.map((entry) => [entry.id, entry.text]))));
  return path;
}

interface Gateway {
  gateway: RunningGateway;
  logs: string[];
}

let emulator: RunningEmulator;
let manifest: string;
let started = 0;
const running: Gateway[] = [];

async function gateway(env: Record<string, string>, onUpstreamCall?: () => void): Promise<Gateway> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    ENTITY_CACHE: 'off',
    TRUSTED_DOCUMENTS_MANIFEST: manifest,
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const gateway = await startGateway({
    config,
    kiboBaseUrl: `${emulator.url}${CLIENT_PATH_PREFIX}fast-path-${++started}`,
    logger: createLogger(config.logLevel, sink),
    onUpstreamCall,
  });
  const started_ = { gateway, logs };
  running.push(started_);
  return started_;
}

beforeAll(async () => {
  emulator = await startEmulator({ faultInjection: true });
  manifest = manifestFile();
});
afterAll(async () => {
  await Promise.all(running.map(({ gateway }) => gateway.stop(0)));
  await emulator.close();
});

interface Sent {
  body: string;
  headers: Record<string, string>;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

async function send(target: Gateway, sent: Sent): Promise<Answer> {
  const response = await request(target.gateway.graphqlUrl, { method: 'POST', headers: sent.headers, body: sent.body });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

/** The fast path's own count of what it served and handed over, from /metrics. */
async function fastPathCounts(target: Gateway): Promise<{ served: number; handedOver: number }> {
  const text = await (await request(`${target.gateway.url}/metrics`)).body.text();
  const count = (outcome: string) =>
    Number(new RegExp(`^trusted_fast_path_requests_total\\{outcome="${outcome}"\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { served: count('served'), handedOver: count('handed_to_yoga') };
}

const TOKEN_KEYS = new Set(['accessToken', 'jwtAccessToken', 'refreshToken']);

/**
 * The answer with what each call mints (tokens, seconds left, the id Kibo gives each answer) reduced
 * to its presence.
 */
function comparable(answer: Answer) {
  let body: unknown;
  try {
    body = JSON.parse(answer.text, (key, value: unknown) => {
      if (TOKEN_KEYS.has(key) && typeof value === 'string') return '<token>';
      if (key === 'accessTokenExpiresIn' && typeof value === 'number') return '<seconds>';
      if (key === 'correlationId' && typeof value === 'string') return '<correlation id>';
      return value;
    });
  } catch {
    body = answer.text;
  }
  const header = (name: string) => answer.headers[name];
  const cookies = [header('set-cookie') ?? []].flat().map((cookie) =>
    cookie
      .split(';')
      .map((part) => part.trim())
      // The value is a fresh token and the expiry follows its ticket: compared by presence.
      .map((part) => part.replace(/^([^=]+)=.+$/, (_, name: string) => `${name}=<set>`))
      .sort(),
  );
  return {
    status: answer.status,
    contentType: header('content-type'),
    cacheControl: header('cache-control'),
    cookies,
    cors: Object.fromEntries(
      Object.entries(answer.headers).filter(([name]) => name.startsWith('access-control-') || name === 'vary'),
    ),
    body,
  };
}

// --- what is sent -----------------------------------------------------------------------------------

/** Mostly `usual`, now and then one of `odd`: most requests must be ones the fast path serves. */
const mostly = <T>(usual: T[], odd: T[], oddOneIn = 4) =>
  fc.oneof(
    { weight: oddOneIn - 1, arbitrary: fc.constantFrom(...usual) },
    { weight: 1, arbitrary: fc.constantFrom(...odd) },
  );

/** `arbitrary`'s value one time in `oneIn`, else null. */
const rarely = <T>(arbitrary: fc.Arbitrary<T>, oneIn: number) =>
  fc.oneof({ weight: oneIn - 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary });

const tenantId = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(100002, 100001, 100007, 100050) },
  { weight: 2, arbitrary: fc.constantFrom(999999, 0, -5) },
  { weight: 1, arbitrary: fc.constantFrom('100002', 'x', 2 ** 31, 1.5, null, true, [100002]) },
);
const refreshTokenValue = fc.constantFrom(
  DEMO.refreshToken,
  'narrow-refresh-token',
  'expired-refresh-token',
  'no-such-refresh-token',
  '',
  null,
  42,
);
const representations = fc.constantFrom(
  [{ __typename: 'Tenant', id: 100002 }],
  [
    { __typename: 'Tenant', id: 100003 },
    { __typename: 'Site', id: 201 },
  ],
  [{ __typename: 'Site', id: 'not an int' }],
  [],
  'nope',
  null,
);
const valueOf: Record<string, fc.Arbitrary<unknown>> = {
  tenantId,
  a: tenantId,
  b: fc.oneof(fc.constant('same'), tenantId),
  withSites: fc.constantFrom(true, false, 'yes', null),
  refreshToken: refreshTokenValue,
  representations,
};

const variablesFor = (names: string[]) =>
  fc
    .record({
      values: fc.tuple(
        ...names.map((name) =>
          fc.oneof(
            { weight: 8, arbitrary: valueOf[name]!.map((value) => ({ present: true as const, value })) },
            { weight: 1, arbitrary: fc.constant({ present: false as const, value: undefined }) },
          ),
        ),
      ),
      extra: rarely(fc.constantFrom({ unexpected: 1 }, { tenantId: 100003 }), 6),
      shape: mostly(['object'], ['absent', 'null', 'array'], 8),
    })
    .map(({ values, extra, shape }) => {
      if (shape === 'absent') return undefined;
      if (shape === 'null') return null;
      const variables: Record<string, unknown> = {};
      names.forEach((name, index) => {
        const { present, value } = values[index]!;
        if (present) variables[name] = value;
      });
      // `b: 'same'` asks for the same tenant as `a`: one call, within the cap.
      if (variables['b'] === 'same') variables['b'] = variables['a'];
      const withExtra = extra ? { ...extra, ...variables } : variables;
      return shape === 'array' ? [withExtra] : withExtra;
    });

const bodyFor = fc.constantFrom(...ENTRIES).chain((entry) =>
  fc
    .record({
      variables: variablesFor(entry.variables),
      idForm: mostly(['documentId', 'documentId', 'bare', 'upper', 'apollo'], ['apollo-v2', 'unknown', 'query'], 6),
      operationName: mostly(['absent', 'absent', 'own', 'null'], ['other'], 8),
      stray: rarely(fc.constantFrom('strayParam', 'extensionsString'), 8),
      raw: rarely(fc.constantFrom('{', '[]', '"text"', 'null', '{}'), 25),
    })
    .map(({ variables, idForm, operationName, stray, raw }) => {
      if (raw !== null) return raw;
      const hex = entry.id.slice('sha256:'.length);
      const params: Record<string, unknown> = {};
      if (idForm === 'documentId') params['documentId'] = entry.id;
      if (idForm === 'bare') params['documentId'] = hex;
      if (idForm === 'upper') params['documentId'] = `sha256:${hex.toUpperCase()}`;
      if (idForm === 'unknown') params['documentId'] = `sha256:${'0'.repeat(64)}`;
      if (idForm === 'query') params['query'] = entry.text;
      if (idForm.startsWith('apollo'))
        params['extensions'] = { persistedQuery: { version: idForm === 'apollo' ? 1 : 2, sha256Hash: hex } };
      if (variables !== undefined) params['variables'] = variables;
      if (operationName === 'own') params['operationName'] = entry.name;
      if (operationName === 'other') params['operationName'] = 'SomethingElse';
      if (operationName === 'null') params['operationName'] = null;
      if (stray === 'strayParam') params['operationType'] = 'mutation';
      if (stray === 'extensionsString') params['extensions'] = 'persistedQuery';
      return JSON.stringify(params);
    }),
);

const headersFor = (cookieMode: boolean, origins: string[]) =>
  fc
    .record({
      authorization: fc.constantFrom(
        `Bearer ${DEMO.appToken}`,
        `Bearer ${DEMO.appToken}`,
        `Bearer ${DEMO.appToken}`,
        undefined,
        'Bearer ',
        'Basic dXNlcjpwYXNz',
        'Bearer emulator-fault:status:503',
        'Bearer emulator-fault:rate-limit:7',
        'Bearer emulator-fault:delay:700',
      ),
      refreshHeader: fc.constantFrom(DEMO.refreshToken, DEMO.refreshToken, 'narrow-refresh-token', 'wrong', undefined),
      cookie: cookieMode ? fc.constantFrom(DEMO.refreshToken, 'wrong', undefined, undefined) : fc.constant(undefined),
      origin: fc.constantFrom(undefined, undefined, ...origins, 'http://evil.test', 'null'),
      requestedHeaders: fc.constantFrom(undefined, undefined, 'content-type, authorization'),
      contentType: mostly(
        ['application/json', 'application/json', 'application/json; charset=utf-8'],
        ['text/plain', 'application/x-www-form-urlencoded', 'application/graphql+json', 'application/json, text/plain'],
        6,
      ),
      csrf: fc.constantFrom(undefined, undefined, 'x-graphql-yoga-csrf', 'apollo-require-preflight'),
      accept: mostly(
        [
          undefined,
          'application/json',
          'application/graphql-response+json',
          'application/graphql-response+json, application/json',
          'application/json, application/graphql-response+json',
        ],
        ['*/*', 'application/*', 'application/json; charset=latin1, application/graphql-response+json', 'text/html'],
        5,
      ),
      volTenant: fc.constantFrom(undefined, '100002', 'abc'),
    })
    .map((choice) => {
      const headers: Record<string, string> = { 'content-type': choice.contentType };
      if (choice.authorization !== undefined) headers['authorization'] = choice.authorization;
      if (choice.refreshHeader !== undefined) headers['x-kibo-refresh-token'] = choice.refreshHeader;
      if (choice.cookie !== undefined) headers['cookie'] = `${COOKIE}=${choice.cookie}; theme=dark`;
      if (choice.origin !== undefined) headers['origin'] = choice.origin;
      if (choice.requestedHeaders !== undefined) headers['access-control-request-headers'] = choice.requestedHeaders;
      if (choice.csrf !== undefined) headers[choice.csrf] = '1';
      if (choice.accept !== undefined) headers['accept'] = choice.accept;
      if (choice.volTenant !== undefined) headers['x-vol-tenant'] = choice.volTenant;
      return headers;
    });

/** A persisted request for the manifest operation `name`. */
const persisted = (name: string, variables: Record<string, unknown>) =>
  JSON.stringify({ documentId: ENTRIES.find((entry) => entry.name === name)!.id, variables });
const asDemo = (extra: Record<string, string> = {}) => ({
  'content-type': 'application/json',
  authorization: `Bearer ${DEMO.appToken}`,
  'x-kibo-refresh-token': DEMO.refreshToken,
  ...extra,
});

/**
 * Requests every run sends besides the random ones, so each rule the fast path applies itself is
 * met whatever the seed: parameters Yoga refuses, a persisted body sent as text/plain (with and without a CSRF header),
 * calls over the cap, a Kibo slower than the execution deadline, an answer over its budget, a
 * switch in cookie mode (the cookie set) and one with an error beside it (no cookie), CORS.
 */
const ALWAYS: Array<[string, Record<string, string>]> = [
  [
    JSON.stringify({ ...JSON.parse(persisted('SwitchTenantTokens', { tenantId: 100002 })), operationType: 'mutation' }),
    asDemo(),
  ],
  [JSON.stringify({ ...JSON.parse(persisted('SwitchTenantTokens', { tenantId: 100002 })), extensions: 'x' }), asDemo()],
  // An id and a document: Yoga runs the document, so the fast path must not run the id's.
  [
    JSON.stringify({
      ...JSON.parse(persisted('SwitchTenantTokens', { tenantId: 100002 })),
      query: 'mutation SwitchTenantTokens($tenantId: Int!) { switchTenant(tenantId: $tenantId) { tenant { name } } }',
    }),
    asDemo(),
  ],
  [persisted('SwitchTenantTokens', { tenantId: 100002 }), asDemo({ origin: ORIGINS[0]! })],
  [persisted('SwitchTenantTokens', { tenantId: 100002 }), asDemo({ 'content-type': 'text/plain' })],
  [
    persisted('SwitchTenantTokens', { tenantId: 100002 }),
    asDemo({ 'content-type': 'text/plain', 'x-graphql-yoga-csrf': '1' }),
  ],
  [persisted('TwoTenants', { a: 100002, b: 100003 }), asDemo()],
  [persisted('TwoTenants', { a: 100002, b: 999999 }), asDemo()],
  [persisted('SwitchTenantTokens', { tenantId: 100002 }), asDemo({ authorization: 'Bearer emulator-fault:delay:700' })],
  [persisted('AvailableTenants', { tenantId: 100002 }), asDemo()],
  [
    persisted('AdminSwitchTenant', { tenantId: 100004 }),
    asDemo({ origin: ORIGINS[1]!, 'x-kibo-refresh-token': '', cookie: `${COOKIE}=${DEMO.refreshToken}` }),
  ],
];

const CONFIGURATIONS: Array<{ name: string; env: Record<string, string>; cookieMode: boolean; origins: string[] }> = [
  {
    name: 'cookie mode, two CORS origins, two calls per request, TRUSTED_DOCUMENTS=allow',
    env: {
      TRUSTED_DOCUMENTS: 'allow',
      REFRESH_TOKEN_COOKIE: COOKIE,
      CORS_ORIGINS: ORIGINS.join(','),
      MAX_UPSTREAM_CALLS: '2',
    },
    cookieMode: true,
    origins: ORIGINS,
  },
  {
    name: 'TRUSTED_DOCUMENTS=only, one CORS origin, a 1 KiB answer budget and a 400 ms execution deadline',
    env: {
      TRUSTED_DOCUMENTS: 'only',
      CORS_ORIGINS: ORIGINS[0]!,
      MAX_RESPONSE_BYTES: '1024',
      MAX_EXECUTION_MS: '400',
    },
    cookieMode: false,
    origins: [ORIGINS[0]!],
  },
];

describe.each(CONFIGURATIONS)('the fast path answers as Yoga does: $name', ({ env, cookieMode, origins }) => {
  let yogaOnly: Gateway;
  let fast: Gateway;
  beforeAll(async () => {
    [yogaOnly, fast] = await Promise.all([gateway({ ...env, TRUSTED_FAST_PATH: 'off' }), gateway(env)]);
  });

  it(
    `on ${RUNS} random persisted requests (and their near misses)`,
    async () => {
      const before = await fastPathCounts(fast);
      await fc.assert(
        fc.asyncProperty(bodyFor, headersFor(cookieMode, origins), async (body, headers) => {
          const sent = { body, headers };
          const viaYoga = await send(yogaOnly, sent);
          const viaFastPath = await send(fast, sent);
          expect(comparable(viaFastPath), `${body}\n${JSON.stringify(headers)}`).toEqual(comparable(viaYoga));
        }),
        { numRuns: RUNS, examples: ALWAYS },
      );
      const after = await fastPathCounts(fast);
      // The comparison means something only if the fast path served a good share of the requests.
      expect(after.served - before.served).toBeGreaterThan(RUNS / 5);
      expect(after.handedOver - before.handedOver).toBeGreaterThan(0);
      expect(await fastPathCounts(yogaOnly)).toEqual({ served: 0, handedOver: 0 });
    },
    RUNS * 1_000 + 30_000,
  );
});

describe('which requests take the fast path', () => {
  let fast: Gateway;
  const entry = ENTRIES.find((candidate) => candidate.name === 'SwitchTenantTokens')!;
  const demo = { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': DEMO.refreshToken };
  beforeAll(async () => {
    fast = await gateway({ TRUSTED_DOCUMENTS: 'allow', MAX_BODY_BYTES: '2048' });
  });

  async function counted(sent: Sent) {
    const before = await fastPathCounts(fast);
    const answer = await send(fast, sent);
    const after = await fastPathCounts(fast);
    return {
      answer,
      json: JSON.parse(answer.text) as { data?: any; errors?: Array<{ extensions?: any }> },
      served: after.served - before.served,
      handedOver: after.handedOver - before.handedOver,
    };
  }

  it('serves a persisted request itself, with the log line Yoga would write', async () => {
    const { answer, json, served, handedOver } = await counted({
      body: JSON.stringify({ documentId: entry.id, variables: { tenantId: 100002 }, operationName: entry.name }),
      headers: { 'content-type': 'application/json', ...demo },
    });
    expect([answer.status, served, handedOver]).toEqual([200, 1, 0]);
    expect(json.data.switchTenant.tenant.id).toBe(100002);
    expect(answer.headers['cache-control']).toBe('no-store');
    await expect.poll(() => fast.logs.join('')).toContain(`"operationName":"${entry.name}"`);
  });

  it('hands an ad-hoc document, an unknown id and variables that do not coerce to Yoga, body and all', async () => {
    const adHoc = await counted({
      body: JSON.stringify({ query: entry.text, variables: { tenantId: 100002 } }),
      headers: { 'content-type': 'application/json', ...demo },
    });
    expect([adHoc.answer.status, adHoc.served, adHoc.handedOver]).toEqual([200, 0, 1]);
    expect(adHoc.json.data.switchTenant.tenant.id).toBe(100002);
    const unknown = await counted({
      body: JSON.stringify({ documentId: `sha256:${'0'.repeat(64)}` }),
      headers: { 'content-type': 'application/json', ...demo },
    });
    expect([unknown.served, unknown.handedOver]).toEqual([0, 1]);
    expect(unknown.json.errors?.[0]?.extensions?.code).toBe('PERSISTED_QUERY_NOT_FOUND');
    const badVariables = await counted({
      body: JSON.stringify({ documentId: entry.id, variables: { tenantId: 'x' } }),
      headers: { 'content-type': 'application/json', ...demo },
    });
    expect([badVariables.served, badVariables.handedOver]).toEqual([0, 1]);
    expect(badVariables.json.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('leaves what is not a JSON POST to /graphql alone: GET, a form, the health check', async () => {
    const before = await fastPathCounts(fast);
    const get = await request(`${fast.gateway.graphqlUrl}?documentId=${encodeURIComponent(entry.id)}`, {
      headers: { accept: 'application/json' },
    });
    await get.body.text();
    const form = await send(fast, {
      body: `documentId=${encodeURIComponent(entry.id)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...demo },
    });
    // A form is a request a browser sends cross-site with no preflight: the CSRF rule refuses it.
    expect(form.status).toBe(403);
    const health = await request(`${fast.gateway.url}/health`);
    expect(health.statusCode).toBe(200);
    await health.body.text();
    expect(await fastPathCounts(fast)).toEqual(before);
  });

  it('is behind the body limit: a persisted request over MAX_BODY_BYTES is refused before anything reads it', async () => {
    const { answer, served, handedOver } = await counted({
      body: JSON.stringify({ documentId: entry.id, variables: { tenantId: 100002, pad: 'x'.repeat(4096) } }),
      headers: { 'content-type': 'application/json', ...demo },
    });
    expect([answer.status, served, handedOver]).toEqual([413, 0, 0]);
    expect(JSON.parse(answer.text).errors[0].extensions.code).toBe('REQUEST_ENTITY_TOO_LARGE');
  });
});

describe('masking on both paths', () => {
  // A fault of the gateway's own: the upstream-call observer throws a plain Error, which reaches the
  // resolver as something that is not a GraphQL error — exactly what masking exists for.
  const CANARY = 'internal-canary /srv/secret/path';
  const throwing = () => {
    throw new Error(CANARY);
  };
  let yogaOnly: Gateway;
  let fast: Gateway;
  beforeAll(async () => {
    [yogaOnly, fast] = await Promise.all([
      gateway({ TRUSTED_DOCUMENTS: 'allow', TRUSTED_FAST_PATH: 'off' }, throwing),
      gateway({ TRUSTED_DOCUMENTS: 'allow' }, throwing),
    ]);
  });

  it.each(['application/json', 'application/graphql-response+json'])(
    'answers "Unexpected error." with INTERNAL_SERVER_ERROR and nothing internal (Accept: %s)',
    async (accept) => {
      const entry = ENTRIES.find((candidate) => candidate.name === 'SwitchTenantTokens')!;
      const sent = {
        body: JSON.stringify({ documentId: entry.id, variables: { tenantId: 100002 } }),
        headers: {
          'content-type': 'application/json',
          accept,
          authorization: `Bearer ${DEMO.appToken}`,
          'x-kibo-refresh-token': DEMO.refreshToken,
        },
      };
      const before = await fastPathCounts(fast);
      const [viaYoga, viaFastPath] = [await send(yogaOnly, sent), await send(fast, sent)];
      expect((await fastPathCounts(fast)).served - before.served).toBe(1);
      expect(comparable(viaFastPath)).toEqual(comparable(viaYoga));
      expect(viaFastPath.text).not.toContain('canary');
      const [error] = JSON.parse(viaFastPath.text).errors;
      expect([error.message, error.extensions]).toEqual(['Unexpected error.', { code: 'INTERNAL_SERVER_ERROR' }]);
      // The original is logged (without the request's credentials), on both paths alike.
      await expect.poll(() => fast.logs.some((line) => line.includes(CANARY))).toBe(true);
      expect(yogaOnly.logs.some((line) => line.includes(CANARY))).toBe(true);
    },
  );
});
