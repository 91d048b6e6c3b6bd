/**
 * Caches keyed by what clients send stay bounded whatever they send: thousands of distinct inputs
 * are sent over HTTP and each cache's size is read back (not the process's RSS, which lags and
 * lies). Both caches live in this process, next to the gateway the stack starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARSER_CACHE_MAX_CHARS } from '../../src/plugins/bounded-parser-cache.js';
import { PROJECTION_CACHE_MAX_ENTRIES, projectionCacheSize } from '../../src/projection/response-fields.js';
import { seedProjectionCacheSize } from '../../src/requests/cached-entities.js';
import { heldParserCacheChars } from '../../src/yoga.js';
import { startStack, withStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  // One demo credential sends 25 requests at a time here: above the per-credential cap on Kibo calls
  // in flight (request-hygiene.test.ts tests that cap), which is not what these tests measure.
  stack = await startStack({ env: { LOG_LEVEL: 'silent', KIBO_MAX_CONCURRENT_PER_CREDENTIAL: '64' } });
});
afterAll(() => stack.close());

/** Sends `count` requests, `parallel` at a time, each built from its index. */
async function sendMany(count: number, parallel: number, send: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) await send(next++);
    }),
  );
}

const bits = (index: number, count: number) =>
  Object.fromEntries(Array.from({ length: count }, (_, bit) => [bit, ((index >> bit) & 1) === 1]));

describe('the projection cache', () => {
  const READ = 11;
  const readVariables = Array.from({ length: READ }, (_, i) => `$v${i}: Boolean!`).join(', ');
  const conditional = Array.from({ length: READ }, (_, i) => `f${i}: tenant @include(if: $v${i}) { id }`).join(' ');
  const DISTINCT_DOCUMENT = `mutation(${readVariables}) { switchTenant(tenantId: 100002) { createdOn ${conditional} } }`;

  // Thousands of requests: seconds on a quiet machine, much longer on a loaded one.
  it(
    `holds at most ${PROJECTION_CACHE_MAX_ENTRIES} entries after 2,048 distinct variable combinations`,
    { timeout: 120_000 },
    async () => {
      await sendMany(2_048, 25, async (index) => {
        const variables = Object.fromEntries(Object.entries(bits(index, READ)).map(([bit, on]) => [`v${bit}`, on]));
        const response = await stack.graphql(DISTINCT_DOCUMENT, { variables });
        expect(response.body.errors).toBeUndefined();
      });
      expect(projectionCacheSize()).toBeGreaterThan(PROJECTION_CACHE_MAX_ENTRIES / 2);
      expect(projectionCacheSize()).toBeLessThanOrEqual(PROJECTION_CACHE_MAX_ENTRIES);
    },
  );

  it(
    'keys only on the variables @skip/@include read inside the field (not the others)',
    { timeout: 60_000 },
    async () => {
      const NOISE = 9;
      const noiseVariables = Array.from({ length: NOISE }, (_, i) => `$n${i}: Boolean!`).join(', ');
      // The noise variables are read, but outside switchTenant's selection: they cannot change its projection.
      const noise = Array.from({ length: NOISE }, (_, i) => `t${i}: __typename @include(if: $n${i})`).join(' ');
      const document = `mutation(${noiseVariables}) { ${noise} switchTenant(tenantId: 100002) { createdOn tenant { id } } }`;
      const before = projectionCacheSize();
      const fieldsSent = new Set<string>();
      await sendMany(300, 25, async (index) => {
        const variables = Object.fromEntries(Object.entries(bits(index, NOISE)).map(([bit, on]) => [`n${bit}`, on]));
        const response = await stack.graphql(document, { variables });
        expect(response.body.errors).toBeUndefined();
      });
      for (const fields of stack.receivedResponseFields()) fieldsSent.add(String(fields));
      expect(fieldsSent.has('createdOn,tenant(id)')).toBe(true);
      // One new entry for the one projection — or none, when the LRU was already full and evicted one.
      expect(projectionCacheSize() - before).toBeLessThanOrEqual(1);
    },
  );
});

describe("Yoga's parse caches", () => {
  it(
    `hold at most ${PARSER_CACHE_MAX_CHARS.toLocaleString('en')} characters of query text after 300 distinct 10 KB documents`,
    { timeout: 60_000 },
    async () => {
      await sendMany(300, 10, async (index) => {
        // 400 aliases: parsed (and cached) first, then refused by MAX_ALIASES, so Kibo is never called.
        const fields = Array.from({ length: 400 }, (_, i) => `a${i}_${index}: createdOn`).join(' ');
        const response = await stack.graphql(`mutation { switchTenant(tenantId: 100002) { ${fields} } }`);
        expect(response.body.errors?.[0]?.extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
      });
      const held = heldParserCacheChars(stack.gateway.yoga);
      expect(held).toBeGreaterThan(PARSER_CACHE_MAX_CHARS / 2);
      expect(held).toBeLessThanOrEqual(PARSER_CACHE_MAX_CHARS);
    },
  );
});

describe('the entity cache', () => {
  /**
   * Every switchTenant seeds the cache under the credentials of the ticket it returns, and each
   * ticket carries a fresh JWT: a user who switches again and again with a wide selection writes new
   * entries every time, and the entry count alone lets each be as big as the selection makes it.
   */
  const WIDE = /* GraphQL */ `
    mutation {
      switchTenant(tenantId: 100002) {
        jwtAccessToken
        availableTenants {
          id
          name
          domain
          sites {
            id
            name
            domain
            countryCode
          }
          masterCatalogs {
            id
            name
            catalogs {
              id
              name
            }
          }
          attributes {
            name
            value
          }
        }
      }
    }
  `;
  const MAX_BYTES = 1024 * 1024;

  it(
    `holds at most ENTITY_CACHE_MAX_BYTES (${MAX_BYTES.toLocaleString('en')} here) of entity data after 40 switches with a wide selection`,
    { timeout: 120_000 },
    async () => {
      await withStack(
        {
          env: {
            LOG_LEVEL: 'silent',
            ENTITY_CACHE: 'on',
            ENTITY_CACHE_MAX_BYTES: String(MAX_BYTES),
            KIBO_MAX_CONCURRENT_PER_CREDENTIAL: '64',
          },
          sharedEmulator: stack.emulator,
        },
        async (cached) => {
          await sendMany(40, 4, async () => {
            const response = await cached.graphql(WIDE);
            expect(response.body.errors).toBeUndefined();
          });
          const { memory } = await cached.gateway.entityCache!.dump();
          // Each entity's key and its JSON, the weight the bound is stated in.
          let held = 0;
          for (const [, set] of memory)
            for (const [key, entity] of set.entities) held += key.length + JSON.stringify(entity).length;
          // Filled, not left empty: one switch's entries weigh a good part of the bound.
          expect(held).toBeGreaterThan(MAX_BYTES / 4);
          expect(held).toBeLessThanOrEqual(MAX_BYTES);
        },
      );
    },
  );

  // Seeding reads each responseFields back into a projection once and keeps it: 2,048 distinct ones here.
  it(
    `keeps at most ${PROJECTION_CACHE_MAX_ENTRIES} of the projections it seeded from, after 2,048 distinct ones`,
    { timeout: 120_000 },
    async () => {
      const FIELDS = ['domain', 'expiry', 'isDevTenant', 'isUnified', 'lastLoginDate', 'name'];
      const NESTED = [
        'sites { id }',
        'masterCatalogs { id }',
        'attributes { name }',
        'sites { name }',
        'sites { domain }',
      ];
      const selections = [...FIELDS, ...NESTED];
      const variables = selections.map((_, i) => `$v${i}: Boolean!`).join(', ');
      const fields = selections.map((field, i) =>
        field.includes('{') ? field.replace(' {', ` @include(if: $v${i}) {`) : `${field} @include(if: $v${i})`,
      );
      // The JWT selected: only a switch whose client gets it seeds the cache.
      const document = `mutation(${variables}) { switchTenant(tenantId: 100002) { jwtAccessToken tenant { id ${fields.join(' ')} } } }`;
      await withStack(
        {
          env: { LOG_LEVEL: 'silent', ENTITY_CACHE: 'on', KIBO_MAX_CONCURRENT_PER_CREDENTIAL: '64' },
          sharedEmulator: stack.emulator,
        },
        async (cached) => {
          await sendMany(2 ** selections.length, 25, async (index) => {
            const values = Object.fromEntries(
              Object.entries(bits(index, selections.length)).map(([bit, on]) => [`v${bit}`, on]),
            );
            const response = await cached.graphql(document, { variables: values });
            expect(response.body.errors).toBeUndefined();
          });
          expect(seedProjectionCacheSize()).toBeGreaterThan(PROJECTION_CACHE_MAX_ENTRIES / 2);
          expect(seedProjectionCacheSize()).toBeLessThanOrEqual(PROJECTION_CACHE_MAX_ENTRIES);
        },
      );
    },
  );
});
