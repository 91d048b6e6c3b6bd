/**
 * The projection's promise, checked on thousands of random operations: deriving responseFields
 * changes how much Kibo sends and nothing else. Each generated operation runs through a gateway
 * with projection on and one with it off (Kibo sends whole tickets); the answers must agree, and
 * Kibo must have been asked for exactly what the generator's model says the operation needs.
 *
 * PROPERTY_RUNS sets how many operations (default 2000); PROPERTY_SEED replays a failure, whose
 * seed fast-check prints.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { operationArbitrary } from '../support/operation-generator.js';
import { startStack, type Stack } from '../support/stack.js';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 2000);
const SEED = process.env.PROPERTY_SEED === undefined ? undefined : Number(process.env.PROPERTY_SEED);

/** Fields whose values differ on every call; compared by presence only. */
const VOLATILE = new Set([
  'accessToken',
  'jwtAccessToken',
  'accessTokenExpiration',
  'accessTokenExpiresIn',
  'createdOn',
]);

/** Random operations are large on purpose; the limits have their own tests. */
const GENEROUS_LIMITS = {
  MAX_ALIASES: '10000',
  MAX_DEPTH: '50',
  MAX_TOKENS: '100000',
  MAX_DIRECTIVES: '10000',
  MAX_COST: '10000000',
  MAX_BODY_BYTES: '10000000',
  LOG_LEVEL: 'silent',
};

let projected: Stack;
let full: Stack;
beforeAll(async () => {
  projected = await startStack({ env: GENEROUS_LIMITS });
  // One emulator for both, so the two answers come from the same demo world.
  full = await startStack({ env: { ...GENEROUS_LIMITS, PROJECTION: 'false' }, sharedEmulator: projected.emulator });
});
afterAll(async () => {
  await full.close();
  await projected.close();
});

/** Response keys are field names or the generator's `<field>_a<n>` aliases. */
function withoutVolatileValues(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutVolatileValues);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => {
      const field = key.replace(/_a\d+$/, '');
      return [key, VOLATILE.has(field) ? (inner === null ? null : '<present>') : withoutVolatileValues(inner)];
    }),
  );
}

it(
  `answers ${RUNS} random operations exactly as the full ticket would, asking Kibo for only what each needs`,
  { timeout: 600_000 },
  async () => {
    let checked = 0;
    await fc.assert(
      fc.asyncProperty(operationArbitrary(schema), async (operation) => {
        projected.resetRecords();
        full.resetRecords();
        const [withProjection, withoutProjection] = await Promise.all([
          projected.graphql(operation.query, { variables: operation.variables }),
          full.graphql(operation.query, { variables: operation.variables }),
        ]);
        expect(withProjection.body.errors, operation.query).toBeUndefined();
        expect(withoutVolatileValues(withProjection.body), operation.query).toEqual(
          withoutVolatileValues(withoutProjection.body),
        );
        // Each gateway made one call: ours asked for what the model predicts, the other for everything.
        expect(projected.receivedResponseFields(), operation.query).toEqual([operation.expectedResponseFields]);
        expect(full.receivedResponseFields(), operation.query).toEqual([null]);
        checked++;
      }),
      { numRuns: RUNS, ...(SEED !== undefined && { seed: SEED }) },
    );
    expect(checked).toBeGreaterThanOrEqual(RUNS);
  },
);
