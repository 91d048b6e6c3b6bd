/**
 * Introspection inside the limits: `__schema` is charged what it answers, so aliasing it cannot turn
 * a small request into a megabyte; and with INTROSPECTION=false every door to the schema is shut —
 * `_service { sdl }` (unless SUBGRAPH_SDL=true) and "Did you mean" hints included.
 */
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemaIntrospectionWeight } from '../../src/plugins/introspection-cost.js';
import { schema } from '../../src/schema/index.js';
import { startStack, withStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'silent' } });
});
afterAll(() => stack.close());

const schemaAliases = (count: number) =>
  `query { ${Array.from({ length: count }, (_, i) => `s${i}: __schema { types { name fields { name type { name ofType { name } } } } }`).join(' ')} }`;

describe('introspection is counted in the cost limit', () => {
  it('30 aliases of __schema { types … } are refused with OPERATION_LIMIT_EXCEEDED, before executing', async () => {
    const query = schemaAliases(30);
    expect(query.length).toBeLessThan(3_000);
    const response = await stack.graphql(query);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
    expect(response.body.data ?? null).toBeNull();
    expect(JSON.stringify(response.body).length).toBeLessThan(2_000);
  });

  it('hiding the copies in fragments does not help', async () => {
    const spreads = Array.from({ length: 12 }, (_, i) => `...F${i}`).join(' ');
    const fragments = Array.from(
      { length: 12 },
      (_, i) => `fragment F${i} on Query { s${i}: __schema { types { name fields { name } } } }`,
    ).join(' ');
    const response = await stack.graphql(`query { ${spreads} } ${fragments}`);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
  });

  it('one full introspection, as GraphiQL and codegen send it, still answers', async () => {
    const response = await stack.graphql<{ __schema: { types: unknown[] } }>(
      getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true, directiveIsRepeatable: true }),
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.__schema.types.length).toBeGreaterThan(20);
  });

  it('29 aliases of types inside one __schema are charged each, and refused', async () => {
    const types = Array.from(
      { length: 29 },
      (_, i) => `t${i}: types { name description fields { name description args { name } type { name } } }`,
    ).join(' ');
    const response = await stack.graphql(`{ __schema { ${types} } }`);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
    expect(response.body.data ?? undefined).toBeUndefined();
  });

  it('the charge adds to the rest of the operation’s cost: together they must fit MAX_COST', async () => {
    const maxCost = schemaIntrospectionWeight(schema) + 10;
    await withStack(
      { env: { MAX_COST: String(maxCost), LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (tight) => {
        const alone = await tight.graphql('{ __schema { queryType { name } } }');
        expect(alone.body.errors).toBeUndefined();
        const versions = Array.from({ length: 20 }, (_, i) => `v${i}: gatewayVersion`).join(' ');
        expect((await tight.graphql(`{ ${versions} }`)).body.errors).toBeUndefined();
        const both = await tight.graphql(`{ __schema { queryType { name } } ${versions} }`);
        expect(both.body.errors?.[0]?.extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
      },
    );
  });

  it('a lower MAX_COST lowers what introspection may cost too', async () => {
    await withStack(
      { env: { MAX_COST: '500', LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (strict) => {
        const response = await strict.graphql('{ __schema { types { name } } }');
        expect(response.body.errors?.[0]?.extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
      },
    );
  });
});

describe('INTROSPECTION=false closes every door to the schema', () => {
  let locked: Stack;
  beforeAll(async () => {
    locked = await startStack({ env: { INTROSPECTION: 'false', LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator });
  });
  afterAll(() => locked.close());

  it('refuses _service { sdl }', async () => {
    const response = await locked.graphql('{ _service { sdl } }');
    expect(response.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(response.body.data ?? null).toBeNull();
    expect(JSON.stringify(response.body)).not.toContain('switchTenant');
  });

  it('answers _service { sdl } with SUBGRAPH_SDL=true, for routers that compose by querying subgraphs', async () => {
    await withStack(
      { env: { INTROSPECTION: 'false', SUBGRAPH_SDL: 'true', LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (subgraph) => {
        const response = await subgraph.graphql<{ _service: { sdl: string } }>('{ _service { sdl } }');
        expect(response.body.data?._service.sdl).toContain('switchTenant');
        expect((await subgraph.graphql('{ __schema { queryType { name } } }')).body.data ?? null).toBeNull();
      },
    );
  });

  it('gives no "Did you mean" hints that would spell out the schema', async () => {
    const typo = 'mutation { switchTenan(tenantId: 1) { createdOn } }';
    const open = await stack.graphql(typo);
    expect(open.body.errors?.[0]?.message).toContain('Did you mean');
    const closed = await locked.graphql(typo);
    expect(closed.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    expect(closed.body.errors?.[0]?.message).not.toMatch(/Did you mean|switchTenant/);
  });
});
