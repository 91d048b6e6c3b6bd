/**
 * Hostile input against the live server: thousands of malformed or adversarial requests — broken
 * JSON, wrong types in variables, huge strings, deep nesting, unknown fields, odd tenantId values,
 * random headers. Each answer must be a well-formed GraphQL response (errors with a message and a
 * code) with status 200 or 4xx, within a few seconds, without a stack trace; memory stays bounded.
 * A second run writes HTTP by hand: malformed Host headers, request targets and GET parameters.
 * Every code an answer carries must be one the catalogue (src/error-codes.ts) lists.
 * FUZZ_RUNS sets the count (default 1500, a third of it for the hand-written HTTP); fast-check
 * prints the seed of a failure.
 */
import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { ERROR_CODES } from '../../src/error-codes.js';
import { rawRequest } from '../support/raw-http.js';
import { startStack, type Stack } from '../support/stack.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'silent' } });
});
afterAll(() => stack.close());

const oddTenantId = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.bigInt().map(String),
  fc.string(),
  fc.constantFrom(
    null,
    true,
    [],
    {},
    0,
    -1,
    2 ** 31,
    -(2 ** 31) - 1,
    Number.MAX_SAFE_INTEGER,
    '100002',
    100002.5,
    999999,
    100002,
  ),
);

const queryText = fc.oneof(
  fc.constant('mutation($t: Int!) { switchTenant(tenantId: $t) { accessToken tenant { id } } }'),
  fc.constant('mutation($t: Int!, $r: String) { switchTenant(tenantId: $t, refreshToken: $r) { tenant { id name } } }'),
  fc.constant('{ gatewayVersion }'),
  fc
    .integer({ min: 1, max: 800 })
    .map((depth) => `mutation { switchTenant(tenantId: 100002) ${'{ tenant '.repeat(depth)}${'}'.repeat(depth)} }`),
  fc.integer({ min: 1, max: 3000 }).map((depth) => `${'{'.repeat(depth)}`),
  fc
    .stringMatching(/^[a-zA-Z_]{1,20}$/)
    .map((name) => `mutation { switchTenant(tenantId: 100002) { ${name} ${name}(x: 1) { y } } }`),
  fc.string({ maxLength: 300 }),
  fc
    .integer({ min: 1, max: 120_000 })
    .map((size) => `mutation { switchTenant(tenantId: 100002, refreshToken: "${'r'.repeat(size)}") { createdOn } }`),
  fc.constant('subscription { switchTenant(tenantId: 1) { createdOn } }'),
  fc.constant(
    'mutation A { switchTenant(tenantId: 1) { createdOn } } mutation B { switchTenant(tenantId: 2) { createdOn } }',
  ),
  fc.constant('query { __schema { types { name fields { name type { name ofType { name ofType { name } } } } } } }'),
);

const body = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        query: queryText,
        variables: fc.option(
          fc.oneof(
            fc.record({
              t: oddTenantId,
              r: fc.option(fc.oneof(fc.string(), fc.integer(), fc.constant(DEMO.refreshToken))),
            }),
            fc.anything(),
          ),
          { nil: undefined },
        ),
        operationName: fc.option(fc.oneof(fc.string(), fc.integer()), { nil: undefined }),
        extra: fc.option(fc.anything(), { nil: undefined }),
      })
      .map((value) => JSON.stringify(value)),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 500 }) },
  { weight: 1, arbitrary: fc.json() },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 5000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 5000 }).map((depth) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('latin1')) },
);

const headers = fc.record({
  'content-type': fc.constantFrom(
    'application/json',
    'application/json; charset=utf-8',
    'application/graphql+json',
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/xml',
    '',
  ),
  authorization: fc.oneof(
    fc.constant(`Bearer ${DEMO.appToken}`),
    fc.constant('Bearer '),
    fc.string({ maxLength: 100 }).map((s) => `Bearer ${s.replace(/[\r\n]/g, '')}`),
    fc.constant(''),
  ),
  'x-kibo-refresh-token': fc.oneof(
    fc.constant(DEMO.refreshToken),
    fc.constant(''),
    fc.stringMatching(/^[\x21-\x7e]{0,200}$/),
  ),
  accept: fc.constantFrom(
    'application/json',
    'application/graphql-response+json',
    '*/*',
    'text/html',
    'text/event-stream',
    '',
  ),
});

it(
  `answers ${RUNS} hostile requests with well-formed GraphQL errors, never a 5xx, a hang or a stack trace`,
  { timeout: 300_000 },
  async () => {
    const rssBefore = process.memoryUsage().rss;
    let answered = 0;
    await fc.assert(
      fc.asyncProperty(body, headers, async (payload, rawHeaders) => {
        const sent = Object.fromEntries(Object.entries(rawHeaders).filter(([, value]) => value !== ''));
        const response = await request(stack.gateway.graphqlUrl, {
          method: 'POST',
          headers: sent,
          body: payload,
          signal: AbortSignal.timeout(5_000),
        });
        const text = await response.body.text();
        expect(
          response.statusCode === 200 || (response.statusCode >= 400 && response.statusCode < 500),
          `${response.statusCode}: ${text.slice(0, 300)}`,
        ).toBe(true);
        expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);
        // A client that accepts no GraphQL media type gets 406 and, rightly, no body it could not read.
        if (response.statusCode === 406) return;
        const results = graphqlResults(text, String(response.headers['content-type'] ?? ''));
        expect(results.length, text.slice(0, 300)).toBeGreaterThan(0);
        for (const result of results) {
          expect('data' in result || 'errors' in result, text.slice(0, 300)).toBe(true);
          for (const error of result.errors ?? []) {
            expect(typeof error.message).toBe('string');
            expect(typeof error.extensions?.code, JSON.stringify(error)).toBe('string');
            expect(Object.keys(ERROR_CODES), JSON.stringify(error)).toContain(error.extensions?.code);
          }
        }
        answered++;
      }),
      { numRuns: RUNS },
    );
    expect(answered).toBeGreaterThan(RUNS / 2);
    // Health after the storm, and memory within bounds.
    const health = await request(`${stack.gateway.url}/health`);
    await health.body.dump();
    expect(health.statusCode).toBe(200);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
  },
);

type GraphQLResult = { data?: unknown; errors?: Array<{ message?: unknown; extensions?: { code?: unknown } }> };

/** A JSON body, or the `data:` events of a server-sent event stream (for Accept: text/event-stream). */
function graphqlResults(text: string, contentType: string): GraphQLResult[] {
  if (!contentType.startsWith('text/event-stream')) return [JSON.parse(text) as GraphQLResult];
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:') && line.slice(5).trim())
    .map((line) => JSON.parse(line.slice(5)) as GraphQLResult);
}

/** What a router might send `_entities`: good references, odd type names, keys of every type, non-objects. */
const representation = fc.oneof(
  fc.record({
    __typename: fc.constantFrom('Site', 'Tenant', 'Catalog', 'AdminUserMasterCatalog'),
    id: fc.oneof(fc.integer({ min: 1, max: 300_000 }), fc.constantFrom(201, 100002, 21, 211)),
  }),
  fc.record({
    __typename: fc.constant('UserProfile'),
    userId: fc.oneof(fc.string(), fc.constant('0d1b6a7c4e2f4c3aa1b2c3d4e5f60718')),
  }),
  fc.record(
    {
      __typename: fc.oneof(
        fc.string({ maxLength: 40 }),
        fc.constantFrom('Query', 'Mutation', '__proto__', 'constructor', 'TenantAdminUserAuthTicket', '_Entity', ''),
        fc.anything(),
      ),
      id: fc.anything(),
      userId: fc.anything(),
    },
    { requiredKeys: [] },
  ),
  fc.anything(),
);

it(
  `answers ${Math.ceil(RUNS / 5)} hostile _entities requests with per-reference codes, never INTERNAL_SERVER_ERROR`,
  { timeout: 300_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(representation, { maxLength: 12 }),
        fc.oneof(fc.constant('100002'), fc.constant(''), fc.string({ maxLength: 12 })),
        async (representations, tenant) => {
          const response = await request(stack.gateway.graphqlUrl, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              authorization: `Bearer ${DEMO.appToken}`,
              'x-kibo-refresh-token': DEMO.refreshToken,
              ...(tenant.trim() && !/[\r\n\0]/.test(tenant) && { 'x-vol-tenant': tenant }),
            },
            body: JSON.stringify({
              query:
                'query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Site { id name } ... on Tenant { id } ... on UserProfile { userId } } }',
              variables: { r: representations },
            }),
            signal: AbortSignal.timeout(5_000),
          });
          const text = await response.body.text();
          expect(response.statusCode === 200 || response.statusCode === 400, text.slice(0, 300)).toBe(true);
          const result = JSON.parse(text) as GraphQLResult & { data?: { _entities?: unknown[] } | null };
          for (const error of result.errors ?? []) {
            expect(error.extensions?.code, JSON.stringify(error)).not.toBe('INTERNAL_SERVER_ERROR');
            expect(typeof error.extensions?.code, JSON.stringify(error)).toBe('string');
          }
          if (result.data?._entities) expect(result.data._entities).toHaveLength(representations.length);
        },
      ),
      { numRuns: Math.ceil(RUNS / 5) },
    );
  },
);

/** Anything that fits on one header line: CR and LF would start another header or request. */
const headerText = (maxLength: number) =>
  fc.string({ maxLength, unit: 'binary' }).map((s) => s.replace(/[\r\n\0]/g, ''));

const hostHeader = fc.oneof(
  fc.constantFrom(
    'localhost',
    'evil.example:99999',
    'a b',
    '[::1',
    '[::1]:4000',
    '[',
    ':',
    ':0',
    'a:b:c',
    '%',
    'x/y',
    'a@b',
    'a?b',
    'a#b',
    '127.0.0.1:-1',
    '[::ffff:127.0.0.1]',
    'xn--',
    '\u00e9.example',
  ),
  fc.stringMatching(/^[a-z0-9.-]{1,30}(:[0-9]{1,7})?$/),
  headerText(60),
);

/** A JSON-ish value for `variables` / `extensions`: valid, invalid, or of the wrong type. */
const jsonParam = fc.oneof(
  fc.json({ maxDepth: 3 }),
  fc.constantFrom('{', '[', '{"a":', 'null', '1', '"s"', '[]', '{}', 'true', '{"__proto__":{"x":1}}', 'NaN'),
  fc.string({ maxLength: 80 }),
);

const getTarget = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record(
        {
          query: fc.oneof(queryText, fc.constant('{ gatewayVersion }')),
          variables: jsonParam,
          extensions: jsonParam,
          operationName: fc.string({ maxLength: 40 }),
        },
        { requiredKeys: [] },
      )
      .map(
        (params) =>
          `/graphql?${Object.entries(params)
            .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
            .join('&')}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('*', 'http://evil.example/graphql', '/health', '/graphql?variables=%7B', '//graphql'),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^\/graphql\?[A-Za-z0-9%=&_.~+-]{0,80}$/) },
);

it(
  `answers ${Math.ceil(RUNS / 3)} hand-written requests with malformed Host headers, targets and GET parameters without a 5xx or a stack`,
  { timeout: 300_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(hostHeader, getTarget, fc.boolean(), async (host, target, csrf) => {
        const answer = await rawRequest(
          stack.gateway.port,
          `GET ${target} HTTP/1.1\r\nHost: ${host}\r\naccept: application/json\r\n${csrf ? 'x-graphql-yoga-csrf: 1\r\n' : ''}connection: close\r\n\r\n`,
        );
        const summary = `${answer.status}: ${answer.text.slice(0, 300)}`;
        expect(answer.status, summary).toBeDefined();
        expect(answer.status! < 500, summary).toBe(true);
        expect(answer.text, summary).not.toMatch(/\n\s+at .+:\d+:\d+/);
        if (answer.status! >= 400) {
          const body = JSON.parse(answer.body) as GraphQLResult;
          for (const error of body.errors ?? []) {
            expect(Object.keys(ERROR_CODES), summary).toContain(error.extensions?.code);
          }
          expect(body.errors?.length, summary).toBeGreaterThan(0);
        }
      }),
      { numRuns: Math.ceil(RUNS / 3) },
    );
    const health = await request(`${stack.gateway.url}/health`);
    await health.body.dump();
    expect(health.statusCode).toBe(200);
  },
);
