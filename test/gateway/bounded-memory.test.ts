/**
 * Caches keyed by what clients send stay bounded whatever they send: thousands of distinct inputs
 * are sent over HTTP and each cache's size is read back (not the process's RSS, which lags and
 * lies). Both caches live in this process, next to the gateway the stack starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARSER_CACHE_MAX_CHARS } from '../../src/plugins/bounded-parser-cache.js';
import { PROJECTION_CACHE_MAX_ENTRIES, projectionCacheSize } from '../../src/projection/response-fields.js';
import { heldParserCacheChars } from '../../src/yoga.js';
import { startStack, type Stack } from '../support/stack.js';

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
