/**
 * The subgraph contract, tested directly as a gateway would use it: `_service { sdl }` and
 * `_entities(representations: …)`, with the credentials and tenant context a gateway forwards.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { MAX_REPRESENTATIONS } from '../../src/requests/entity-representations.js';
import { EntitiesDocument } from '../generated/operations.js';
import { DEMO_HEADERS, startStack, type Stack } from '../support/stack.js';

const ENTITIES = EntitiesDocument;

const CONTEXT = { ...DEMO_HEADERS, 'x-vol-tenant': '100002' };

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'silent' } });
});
afterAll(() => stack.close());
beforeEach(() => stack.resetRecords());

describe('_service', () => {
  it('serves the SDL in schema/subgraph.graphql', async () => {
    const response = await stack.graphql<{ _service: { sdl: string } }>(/* GraphQL */ `
      {
        _service {
          sdl
        }
      }
    `);
    const committed = readFileSync(new URL('../../schema/subgraph.graphql', import.meta.url), 'utf8');
    expect(response.body.data?._service.sdl.trim()).toBe(committed.trim());
  });
});

describe('_entities', () => {
  it('resolves references of every entity type with one upstream call, projected to what was asked', async () => {
    const representations = [
      { __typename: 'Site', id: 201 },
      { __typename: 'Site', id: 5001 },
      { __typename: 'Tenant', id: 100050 },
      { __typename: 'Catalog', id: 211 },
      { __typename: 'AdminUserMasterCatalog', id: 21 },
      { __typename: 'UserProfile', userId: '0d1b6a7c4e2f4c3aa1b2c3d4e5f60718' },
      { __typename: 'Site', id: 202 },
    ];
    const response = await stack.graphql(ENTITIES, { variables: { representations }, headers: CONTEXT });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?._entities).toEqual([
      { __typename: 'Site', id: 201, name: 'Fabrikam Outfitters US', domain: 's201-t100002.sandbox.mozu.com' },
      { __typename: 'Site', id: 5001, name: expect.any(String), domain: expect.any(String) },
      { __typename: 'Tenant', id: 100050, name: expect.any(String), isExpired: true },
      { __typename: 'Catalog', id: 211, name: expect.any(String) },
      { __typename: 'AdminUserMasterCatalog', id: 21, supportedLocaleCodes: ['en-US', 'fr-CA'] },
      { __typename: 'UserProfile', userId: '0d1b6a7c4e2f4c3aa1b2c3d4e5f60718', userName: 'demo.admin@example.com' },
      { __typename: 'Site', id: 202, name: 'Fabrikam Outfitters CA', domain: 's202-t100002.sandbox.mozu.com' },
    ]);
    expect(stack.received).toHaveLength(1);
    expect(stack.received[0]!.tenantId).toBe('100002');
    const tenantPart = 'expiry,id,masterCatalogs(catalogs(id,name),id,supportedLocaleCodes),name,sites(domain,id,name)';
    expect(stack.received[0]!.responseFields).toBe(
      `availableTenants(${tenantPart}),tenant(${tenantPart}),user(userId,userName)`,
    );
  });

  it('makes one Kibo call for every _entities field of a request (30 aliases, different selections)', async () => {
    const fields = Array.from(
      { length: 30 },
      (_, i) =>
        `e${i}: _entities(representations: $r) { ... on Site { id ${i % 2 ? 'name' : 'domain'} } ... on Tenant { id ${i % 3 ? 'name' : 'isDevTenant'} } }`,
    ).join(' ');
    const response = await stack.graphql<Record<string, Array<Record<string, unknown>>>>(
      `query($r: [_Any!]!) { ${fields} }`,
      {
        variables: {
          r: [
            { __typename: 'Site', id: 201 },
            { __typename: 'Tenant', id: 100002 },
          ],
        },
        headers: CONTEXT,
      },
    );
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.e0).toEqual([
      { id: 201, domain: 's201-t100002.sandbox.mozu.com' },
      { id: 100002, isDevTenant: expect.any(Boolean) },
    ]);
    expect(response.body.data?.e1).toEqual([
      { id: 201, name: 'Fabrikam Outfitters US' },
      { id: 100002, name: expect.any(String) },
    ]);
    expect(Object.keys(response.body.data ?? {})).toHaveLength(30);
    expect(stack.receivedResponseFields()).toEqual([
      'availableTenants(id,isDevTenant,name,sites(domain,id,name)),tenant(id,isDevTenant,name,sites(domain,id,name))',
    ]);
  });

  it('gives each bad reference its own BAD_USER_INPUT error while the others resolve', async () => {
    const bad: unknown[] = [
      5,
      'Site',
      [],
      { __typename: 'Nope', id: 1 },
      { __typename: 42, id: 1 },
      { __typename: '__proto__', id: 1 },
      { __typename: 'TenantAdminUserAuthTicket' },
      { __typename: 'Query' },
      { __typename: 'Site', id: '201' },
      { __typename: 'Site', id: {} },
      { __typename: 'Site' },
      { __typename: 'Tenant', id: 1.5 },
      { __typename: 'Tenant', id: 2 ** 40 },
      { __typename: 'UserProfile', userId: 5 },
    ];
    const representations = [{ __typename: 'Site', id: 201 }, ...bad, { __typename: 'Tenant', id: 100002 }];
    const response = await stack.graphql(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Site { id name } ... on Tenant { id } } }',
      { variables: { r: representations }, headers: CONTEXT },
    );
    const entities = (response.body.data as { _entities: unknown[] } | undefined)?._entities;
    expect(entities?.[0]).toEqual({ id: 201, name: 'Fabrikam Outfitters US' });
    expect(entities?.[representations.length - 1]).toEqual({ id: 100002 });
    expect(entities?.slice(1, -1)).toEqual(bad.map(() => null));
    const errors = response.body.errors ?? [];
    expect(errors.map((error) => error.path)).toEqual(bad.map((_, i) => ['_entities', i + 1]));
    for (const error of errors) expect(error.extensions?.code).toBe('BAD_USER_INPUT');
    expect(stack.emulator.received).toHaveLength(1);
  });

  it(`refuses more than ${MAX_REPRESENTATIONS} representations over all _entities fields of a request, with one error`, async () => {
    const tenants = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ __typename: 'Tenant', id: 100001 + (i % 50) }));
    const aliased = (count: number) =>
      `query($r: [_Any!]!) { ${Array.from({ length: count }, (_, i) => `e${i}: _entities(representations: $r) { ... on Tenant { id } }`).join(' ')} }`;
    // No credentials: each representation within the limit gets its own UNAUTHENTICATED error.
    const anonymous = { 'x-vol-tenant': '100002' };
    const atLimit = await stack.graphql(aliased(1), {
      variables: { r: tenants(MAX_REPRESENTATIONS) },
      headers: anonymous,
    });
    expect(atLimit.body.errors).toHaveLength(MAX_REPRESENTATIONS);
    expect(new Set(atLimit.body.errors?.map((error) => error.extensions?.code))).toEqual(new Set(['UNAUTHENTICATED']));

    const over = await stack.graphql(aliased(30), { variables: { r: tenants(1_000) }, headers: anonymous });
    // _entities is non-null: the first refusal nulls the whole answer, and no other field runs.
    expect(over.body.errors).toHaveLength(1);
    for (const error of over.body.errors ?? []) {
      expect(error.extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
      expect(error.extensions?.limit).toBe(MAX_REPRESENTATIONS);
    }
    expect(over.body.data ?? null).toBeNull();
    // Split over fields or not, it is the request's total that counts; and nothing reached Kibo.
    const split = await stack.graphql(aliased(2), { variables: { r: tenants(501) }, headers: CONTEXT });
    expect(split.body.errors?.map((error) => error.extensions?.code)).toEqual(['OPERATION_LIMIT_EXCEEDED']);
    expect(stack.received).toHaveLength(0);
  });

  it('asks only for what the query selects of the types referenced', async () => {
    const response = await stack.graphql(
      /* GraphQL */ `
        query ($r: [_Any!]!) {
          _entities(representations: $r) {
            ... on Site {
              name
            }
          }
        }
      `,
      {
        variables: { r: [{ __typename: 'Site', id: 203 }] },
        headers: CONTEXT,
      },
    );
    expect(response.body.data).toEqual({ _entities: [{ name: 'Fabrikam Outfitters GB' }] });
    expect(stack.receivedResponseFields()).toEqual(['availableTenants(id,sites(id,name)),tenant(id,sites(id,name))']);
  });

  it('resolves a reference the ticket does not hold to null, without failing the others', async () => {
    const response = await stack.graphql(ENTITIES, {
      variables: {
        representations: [
          { __typename: 'Site', id: 999999 },
          { __typename: 'Site', id: 201 },
          { __typename: 'Tenant', id: 999999 },
        ],
      },
      headers: CONTEXT,
    });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data).toMatchObject({ _entities: [null, { id: 201 }, null] });
  });

  it('without credentials: UNAUTHENTICATED on each entity, and no upstream call', async () => {
    const response = await stack.graphql(ENTITIES, {
      variables: {
        representations: [
          { __typename: 'Site', id: 201 },
          { __typename: 'Tenant', id: 100002 },
        ],
      },
      headers: { 'x-vol-tenant': '100002' },
    });
    expect(response.body.errors?.map((error) => [error.path, error.extensions?.code])).toEqual([
      [['_entities', 0], 'UNAUTHENTICATED'],
      [['_entities', 1], 'UNAUTHENTICATED'],
    ]);
    expect(stack.received).toHaveLength(0);
  });

  it.each([undefined, 'abc', '0'])('with X-Vol-Tenant %j: BAD_USER_INPUT naming the header', async (tenant) => {
    const headers: Record<string, string> = {
      ...DEMO_HEADERS,
      ...(tenant !== undefined && { 'x-vol-tenant': tenant }),
    };
    const response = await stack.graphql(ENTITIES, {
      variables: { representations: [{ __typename: 'Site', id: 201 }] },
      headers,
    });
    const error = response.body.errors?.[0];
    expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(error?.message).toContain('X-Vol-Tenant');
    expect(stack.received).toHaveLength(0);
  });

  it('passes Kibo’s refusal on to each entity (a tenant the user cannot enter)', async () => {
    const response = await stack.graphql(ENTITIES, {
      variables: { representations: [{ __typename: 'Site', id: 201 }] },
      headers: { ...DEMO_HEADERS, 'x-vol-tenant': '999999' },
    });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(response.body.data).toEqual({ _entities: [null] });
  });

  it('uses the narrow user’s tenant when its refresh token is forwarded', async () => {
    const response = await stack.graphql(ENTITIES, {
      variables: { representations: [{ __typename: 'Tenant', id: DEMO.narrowTenantId }] },
      headers: {
        authorization: DEMO_HEADERS.authorization,
        'x-kibo-refresh-token': DEMO.narrowRefreshToken,
        'x-vol-tenant': String(DEMO.narrowTenantId),
      },
    });
    expect(response.body.data).toEqual({
      _entities: [{ __typename: 'Tenant', id: DEMO.narrowTenantId, name: null, isExpired: false }],
    });
  });
});
