/**
 * Trusted documents: the manifest codegen writes, the three TRUSTED_DOCUMENTS modes over real HTTP,
 * what `only` still admits (and what it must not), and the work done once at start.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { printExecutableGraphQLDocument } from '@graphql-tools/documents';
import { parse, print } from 'graphql';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { KiboClient } from '../../src/kibo/client.js';
import { projectionCacheSize } from '../../src/projection/response-fields.js';
import { schema } from '../../src/schema/index.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { DEFAULT_MANIFEST_URL, documentIdOf, loadTrustedDocuments } from '../../src/trusted-documents/manifest.js';
import { admitFullDocument } from '../../src/trusted-documents/admission.js';
import { PreparedDocuments } from '../../src/trusted-documents/prepare.js';
import { createYogaApp } from '../../src/yoga.js';
import { EntitiesDocument } from '../generated/operations.js';
import { DEMO_HEADERS, startStack, withStack, type Stack } from '../support/stack.js';

const OPERATIONS_DIR = new URL('../../schema/operations/', import.meta.url);
const manifest = JSON.parse(readFileSync(DEFAULT_MANIFEST_URL, 'utf8')) as Record<string, string>;
const idOfOperation = (name: string) => {
  const entry = Object.entries(manifest).find(([, text]) => text.includes(` ${name}(`) || text.includes(` ${name} {`));
  if (!entry) throw new Error(`no ${name} in the manifest`);
  return entry[0];
};
const TOKENS_ID = idOfOperation('SwitchTenantTokens');
const TOKENS_RESPONSE_FIELDS = 'accessToken,tenant(id,name,sites(id,name))';

async function post(stack: Stack, body: unknown, headers: Record<string, string> = DEMO_HEADERS) {
  const response = await request(stack.gateway.graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.statusCode,
    body: (await response.body.json()) as { data?: any; errors?: Array<{ message: string; extensions?: any }> },
  };
}
const codeOf = (body: { errors?: Array<{ extensions?: any }> }) => body.errors?.[0]?.extensions?.code;
const kiboCalls = (stack: Stack) => stack.received.filter((r) => r.method === 'PUT').length;

function manifestFile(documents: string[]): string {
  const path = join(mkdtempSync(join(tmpdir(), 'kibo-trusted-')), 'manifest.json');
  writeFileSync(path, JSON.stringify(Object.fromEntries(documents.map((text) => [documentIdOf(text), text]))));
  return path;
}

let emulator: RunningEmulator;
beforeAll(async () => {
  emulator = await startEmulator({ faultInjection: true });
});
afterAll(() => emulator.close());

describe('the manifest npm run codegen writes', () => {
  it('holds every operation of schema/operations/ under the id the client preset gives it (sha256 of the normalized print)', () => {
    const files = readdirSync(OPERATIONS_DIR).filter((file) => file.endsWith('.graphql'));
    expect(files.length).toBeGreaterThan(0);
    expect(Object.keys(manifest)).toHaveLength(files.length);
    for (const file of files) {
      const normalized = printExecutableGraphQLDocument(parse(readFileSync(new URL(file, OPERATIONS_DIR), 'utf8')));
      const id = `sha256:${createHash('sha256').update(normalized).digest('hex')}`;
      expect(manifest[id], file).toBe(normalized);
    }
  });
});

describe('TRUSTED_DOCUMENTS=allow', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sharedEmulator: emulator, env: { TRUSTED_DOCUMENTS: 'allow', LOG_LEVEL: 'silent' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetRecords());

  it('runs a manifest document named by GraphQL-over-HTTP documentId', async () => {
    const { status, body } = await post(stack, { documentId: TOKENS_ID, variables: { tenantId: 100002 } });
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    expect(body.data.switchTenant.tenant).toMatchObject({ id: 100002, name: 'Fabrikam Outfitters' });
    expect(stack.receivedResponseFields()).toEqual([TOKENS_RESPONSE_FIELDS]);
  });

  it("runs one named by Apollo's persisted-query extension (bare hex, as Apollo's link sends it)", async () => {
    const sha256Hash = TOKENS_ID.slice('sha256:'.length);
    const { body } = await post(stack, {
      extensions: { persistedQuery: { version: 1, sha256Hash } },
      variables: { tenantId: 100003 },
    });
    expect(body.errors).toBeUndefined();
    expect(body.data.switchTenant.tenant.id).toBe(100003);
  });

  it('still runs full documents', async () => {
    const { body } = await post(stack, { query: 'mutation { switchTenant(tenantId: 100004) { tenant { id } } }' });
    expect(body.data.switchTenant.tenant.id).toBe(100004);
  });

  it('refuses an id not in the manifest with PERSISTED_QUERY_NOT_FOUND ("PersistedQueryNotFound"), calling nothing', async () => {
    const unknown = documentIdOf('mutation { switchTenant(tenantId: 100002) { accessToken } }');
    for (const body of [
      { documentId: unknown },
      { extensions: { persistedQuery: { version: 1, sha256Hash: unknown.slice(7) } } },
    ]) {
      const response = await post(stack, body);
      expect(response.status).toBe(400);
      expect(codeOf(response.body)).toBe('PERSISTED_QUERY_NOT_FOUND');
      expect(response.body.errors![0]!.message).toBe('PersistedQueryNotFound');
    }
    expect(kiboCalls(stack)).toBe(0);
  });

  it('answers a request with neither document nor id with BAD_REQUEST', async () => {
    const { status, body } = await post(stack, { variables: {} });
    expect(status).toBe(400);
    expect(codeOf(body)).toBe('BAD_REQUEST');
  });
});

describe('TRUSTED_DOCUMENTS=only', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sharedEmulator: emulator, env: { TRUSTED_DOCUMENTS: 'only', LOG_LEVEL: 'silent' } });
  });
  afterAll(() => stack.close());
  beforeEach(() => stack.resetRecords());

  it('runs manifest documents by id', async () => {
    const { body } = await post(stack, { documentId: TOKENS_ID, variables: { tenantId: 100002 } });
    expect(body.errors).toBeUndefined();
    expect(stack.receivedResponseFields()).toEqual([TOKENS_RESPONSE_FIELDS]);
  });

  it('refuses any other document with PERSISTED_QUERY_ONLY before parsing it, calling nothing', async () => {
    for (const query of [
      'mutation { switchTenant(tenantId: 100002) { accessToken } }',
      '{ gatewayVersion }',
      'this is { not GraphQL',
      // a trusted document's fields, but one more: not the same operation
      `${manifest[TOKENS_ID]!.slice(0, -4)} refreshToken } }`,
    ]) {
      const { status, body } = await post(stack, { query, variables: { tenantId: 100002 } });
      expect(status, query).toBe(400);
      expect(codeOf(body), query).toBe('PERSISTED_QUERY_ONLY');
    }
    expect(kiboCalls(stack)).toBe(0);
  });

  it('runs a trusted document sent as text, in any spelling (GraphiQL, an Apollo retry)', async () => {
    const asWritten = readFileSync(new URL('SwitchTenant.graphql', OPERATIONS_DIR), 'utf8');
    const { body } = await post(stack, { query: asWritten });
    expect(body.errors).toBeUndefined();
    expect(body.data.switchTenant.tenant.id).toBe(100002);
    const exact = await post(stack, { query: manifest[TOKENS_ID], variables: { tenantId: 100005 } });
    expect(exact.body.data.switchTenant.tenant.id).toBe(100005);
  });

  it("admits the supergraph's _service and _entities fetches, which a router writes per query plan", async () => {
    const sdl = await post(stack, { query: 'query __ApolloGetServiceDefinition__ { _service { sdl } }' });
    expect(sdl.body.data._service.sdl).toContain('@link');
    const entities = await post(
      stack,
      { query: print(EntitiesDocument), variables: { representations: [{ __typename: 'Tenant', id: 100002 }] } },
      { ...DEMO_HEADERS, 'x-vol-tenant': '100002' },
    );
    expect(entities.body.errors).toBeUndefined();
    expect(entities.body.data._entities[0]).toMatchObject({ __typename: 'Tenant', id: 100002 });
  });

  it('admits no mutation, and nothing hidden beside _entities, in a document that also fetches entities', async () => {
    const entities = '_entities(representations: [{__typename: "Tenant", id: 100002}]) { __typename }';
    for (const query of [
      `query A { ${entities} } mutation B { switchTenant(tenantId: 100002) { accessToken } }`,
      `query { ${entities} ...Q } fragment Q on Query { gatewayVersion }`,
      `query { ${entities} ... on Query { gatewayVersion } }`,
      `query { ${entities} gatewayVersion }`,
      `mutation { __typename }`,
    ]) {
      const { body } = await post(stack, { query, operationName: 'B' }, { ...DEMO_HEADERS, 'x-vol-tenant': '100002' });
      expect(codeOf(body), query).toBe('PERSISTED_QUERY_ONLY');
    }
    expect(kiboCalls(stack)).toBe(0);
  });

  it('keeps /health and the GraphiQL page', async () => {
    const health = await request(`${stack.gateway.url}/health`);
    expect(health.statusCode).toBe(200);
    await health.body.dump();
    const page = await request(stack.gateway.graphqlUrl, { headers: { accept: 'text/html' } });
    expect(page.statusCode).toBe(200);
    expect(await page.body.text()).toContain('<title>kibo-auth-gateway</title>');
  });

  it('admits introspection (GraphiQL’s schema) only while INTROSPECTION allows it', async () => {
    const query = '{ __schema { queryType { name } } }';
    expect((await post(stack, { query })).body.data.__schema.queryType.name).toBe('Query');
    await withStack(
      { sharedEmulator: emulator, env: { TRUSTED_DOCUMENTS: 'only', INTROSPECTION: 'false', LOG_LEVEL: 'silent' } },
      async (closed) => {
        expect(codeOf((await post(closed, { query })).body)).toBe('PERSISTED_QUERY_ONLY');
      },
    );
  });

  it('parses an unknown document only up to MAX_TOKENS to recognise it', async () => {
    await withStack(
      { sharedEmulator: emulator, env: { TRUSTED_DOCUMENTS: 'only', MAX_TOKENS: '20', LOG_LEVEL: 'silent' } },
      async (small) => {
        const query = `{ _service { sdl } ${Array.from({ length: 20 }, (_, i) => `t${i}: __typename`).join(' ')} }`;
        expect(codeOf((await post(small, { query })).body)).toBe('PERSISTED_QUERY_ONLY');
      },
    );
  });
});

describe('TRUSTED_DOCUMENTS=only, recognising a trusted document sent as text', () => {
  // The client preset's normalized print collapses whitespace everywhere, inside string values too:
  // "a  b" and "a\u00a0b" print like "a b". Matching on it alone would run a document whose values
  // are not the manifest's.
  it('refuses a document whose string values differ from the trusted one only in whitespace, calling nothing', async () => {
    const trustedText = printExecutableGraphQLDocument(
      parse('mutation Pinned { switchTenant(tenantId: 100002, refreshToken: "not a token") { tenant { id } } }'),
    );
    await withStack(
      {
        sharedEmulator: emulator,
        env: {
          TRUSTED_DOCUMENTS: 'only',
          TRUSTED_DOCUMENTS_MANIFEST: manifestFile([trustedText]),
          LOG_LEVEL: 'silent',
        },
      },
      async (stack) => {
        stack.resetRecords();
        // Another spelling of the very same operation still runs (it reaches Kibo, which refuses the token).
        const respelled = await post(stack, {
          query:
            'mutation Pinned {\n  # pinned\n  switchTenant(tenantId: 100002, refreshToken: "not a token") {\n    tenant { id }\n  }\n}\n',
        });
        expect(codeOf(respelled.body)).not.toBe('PERSISTED_QUERY_ONLY');
        expect(kiboCalls(stack)).toBe(1);
        stack.resetRecords();
        for (const value of ['not  a token', 'not\u00a0a token', 'not\u2028a\u3000token']) {
          const query = `mutation Pinned { switchTenant(tenantId: 100002, refreshToken: ${JSON.stringify(value)}) { tenant { id } } }`;
          expect(printExecutableGraphQLDocument(parse(query))).toBe(trustedText);
          const { status, body } = await post(stack, { query });
          expect(status, JSON.stringify(value)).toBe(400);
          expect(codeOf(body), JSON.stringify(value)).toBe('PERSISTED_QUERY_ONLY');
        }
        expect(kiboCalls(stack)).toBe(0);
      },
    );
  });

  // Recognising a respelling sorts the document (printExecutableGraphQLDocument), whose cost grows
  // about with the cube of inline-fragment nesting: ~400 nested fragments (under MAX_TOKENS) cost
  // half a second of CPU per unauthenticated request. A respelling has exactly its trusted document's
  // tokens, so only a document with a manifest document's token count is worth sorting.
  it('spends no more than a parse on an unknown document, however its fragments nest', () => {
    const trusted = loadTrustedDocuments(DEFAULT_MANIFEST_URL, schema);
    const options = { trusted, introspection: true, maxTokens: 2_000 };
    const depth = 398; // 5 tokens per level: just under MAX_TOKENS
    const nested = `{ ${'... on Query { '.repeat(depth)}__typename${' }'.repeat(depth)} }`;
    expect(() => parse(nested, { maxTokens: 2_000 })).not.toThrow();
    const cpuMs = (run: () => void) => {
      let best = Infinity;
      for (let i = 0; i < 3; i++) {
        const start = process.cpuUsage();
        run();
        const used = process.cpuUsage(start);
        best = Math.min(best, (used.user + used.system) / 1000);
      }
      return best;
    };
    const parseMs = cpuMs(() => parse(nested, { noLocation: true, maxTokens: 2_000 }));
    const admitMs = cpuMs(() => expect(admitFullDocument(nested, options)).toBeUndefined());
    // Generous for a loaded machine: unbounded, this is hundreds of milliseconds.
    expect(admitMs).toBeLessThan(Math.max(60, 20 * parseMs));
    // The respellings that matter still cost what they did: recognised.
    const asWritten = readFileSync(new URL('SwitchTenant.graphql', OPERATIONS_DIR), 'utf8');
    expect(admitFullDocument(asWritten, options)).toBe('trusted');
  });
});

describe('TRUSTED_DOCUMENTS=off (the default)', () => {
  it('knows no ids: documentId is an unexpected parameter, a bare persisted-query hash no document', async () => {
    await withStack({ sharedEmulator: emulator, env: { LOG_LEVEL: 'silent' } }, async (stack) => {
      expect(codeOf((await post(stack, { documentId: TOKENS_ID })).body)).toBe('BAD_REQUEST');
      const apollo = await post(stack, {
        extensions: { persistedQuery: { version: 1, sha256Hash: TOKENS_ID.slice(7) } },
      });
      expect(codeOf(apollo.body)).toBe('BAD_REQUEST');
      expect(kiboCalls(stack)).toBe(0);
    });
  });
});

describe('loading a manifest', () => {
  const start = (manifestPath: string, env: Record<string, string> = {}) =>
    withStack(
      {
        sharedEmulator: emulator,
        env: { TRUSTED_DOCUMENTS: 'only', TRUSTED_DOCUMENTS_MANIFEST: manifestPath, LOG_LEVEL: 'silent', ...env },
      },
      async () => undefined,
    );

  it('refuses to start on an id that is not the hash of its document', async () => {
    const path = manifestFile(['mutation A { switchTenant(tenantId: 1) { accessToken } }']);
    const [id] = Object.keys(JSON.parse(readFileSync(path, 'utf8')));
    writeFileSync(path, JSON.stringify({ [id!]: 'mutation A { switchTenant(tenantId: 1) { refreshToken } }' }));
    await expect(start(path)).rejects.toThrow(/TRUSTED_DOCUMENTS_MANIFEST .*not the SHA-256 of its document/);
  });

  it('refuses to start on a document the schema or the limits refuse', async () => {
    await expect(start(manifestFile(['mutation A { switchTenant(tenantId: 1) { nope } }']))).rejects.toThrow(
      /TRUSTED_DOCUMENTS_MANIFEST .*does not validate/,
    );
    const deep = manifestFile(['mutation Deep { switchTenant(tenantId: 1) { tenant { sites { id } } } }']);
    await expect(start(deep, { MAX_DEPTH: '2' })).rejects.toThrow(ConfigError);
    await expect(start(deep, { MAX_DEPTH: '2' })).rejects.toThrow(/Deep\) is refused by this gateway's limits/);
  });

  it('refuses to start on a missing file, naming the variable', async () => {
    await expect(start('/nonexistent/manifest.json')).rejects.toThrow(/TRUSTED_DOCUMENTS_MANIFEST/);
  });
});

describe('work done once, at start', () => {
  it('counts each trusted document’s Kibo calls and computes its projection before any request', async () => {
    const trusted = loadTrustedDocuments(DEFAULT_MANIFEST_URL, schema);
    const kibo = new KiboClient(emulator.url, loadConfig({}).upstream);
    try {
      const prepared = new PreparedDocuments(trusted, {
        schema,
        budget: kibo.queryBudget,
        needs: { alsoNeeded: [] },
        projection: true,
      });
      const tokens = prepared.get(trusted.get(TOKENS_ID)!.document)!;
      expect(tokens.calls).toBe(1);
      expect([...tokens.responseFields.values()]).toEqual([TOKENS_RESPONSE_FIELDS]);
    } finally {
      await kibo.close();
    }
  });

  it.each(['off', 'on'])(
    'computes no projection for a trusted document’s first request (ENTITY_CACHE=%s): the one made at start is found',
    async (entityCache) => {
      // With the entity cache on, the resolver adds the seeding properties when the JWT is selected:
      // the projection made at start must have been made with them, or it sits under another key.
      const seeding = 'mutation Seeding { switchTenant(tenantId: 100002) { jwtAccessToken tenant { id name } } }';
      const path = manifestFile([seeding]);
      await withStack(
        {
          sharedEmulator: emulator,
          env: {
            TRUSTED_DOCUMENTS: 'only',
            TRUSTED_DOCUMENTS_MANIFEST: path,
            LOG_LEVEL: 'silent',
            ENTITY_CACHE: entityCache,
          },
        },
        async (stack) => {
          const before = projectionCacheSize();
          const { body } = await post(stack, { documentId: documentIdOf(seeding) });
          expect(body.errors).toBeUndefined();
          expect(projectionCacheSize()).toBe(before);
          if (entityCache === 'on') expect(stack.receivedResponseFields()[0]).toMatch(/refreshToken/);
        },
      );
    },
  );

  it('refuses a trusted document over the call cap from its precomputed count, calling nothing', async () => {
    const twoCalls =
      'mutation Two { a: switchTenant(tenantId: 100002) { accessToken } b: switchTenant(tenantId: 100003) { accessToken } }';
    const path = manifestFile([twoCalls]);
    await withStack(
      {
        sharedEmulator: emulator,
        env: { TRUSTED_DOCUMENTS: 'only', TRUSTED_DOCUMENTS_MANIFEST: path, LOG_LEVEL: 'silent' },
      },
      async (stack) => {
        stack.resetRecords();
        const { body } = await post(stack, { documentId: documentIdOf(twoCalls) });
        expect(codeOf(body)).toBe('UPSTREAM_CALL_LIMIT');
        expect(body.errors![0]!.extensions.calls).toBe(2);
        expect(kiboCalls(stack)).toBe(0);
      },
    );
  });

  it('builds an app in off mode without reading any manifest', () => {
    const kibo = new KiboClient(emulator.url, loadConfig({}).upstream);
    const config = loadConfig({ TRUSTED_DOCUMENTS_MANIFEST: '/nonexistent/manifest.json' });
    expect(() =>
      createYogaApp({
        kibo,
        projection: true,
        logger: createLogger('silent'),
        limits: config.limits,
        browser: config.browser,
        refreshTokenCookie: undefined,
        trustedDocuments: config.trustedDocuments,
      }),
    ).not.toThrow();
    void kibo.close();
  });
});
