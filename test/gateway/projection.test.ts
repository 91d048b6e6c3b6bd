/**
 * What Kibo is asked for: the exact responseFields the emulator received for a set of selections,
 * next to the answer the client got.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SwitchTenantTokensDocument } from '../generated/operations.js';
import { startStack, withStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());
beforeEach(() => stack.resetRecords());

/** responseFields as a set of top-level-sorted parts, so order never matters to the assertion. */
const sentFor = async (query: string, variables?: Record<string, unknown>) => {
  const response = await stack.graphql(query, { variables });
  expect(response.body.errors).toBeUndefined();
  const sent = stack.receivedResponseFields();
  expect(sent).toHaveLength(1);
  return { sent: sent[0], data: response.body.data as Record<string, any> };
};

describe('responseFields derived from the selection set', () => {
  it('asks for exactly accessToken,tenant(id,name,sites(id,name)) for the README example', async () => {
    const response = await stack.graphql(SwitchTenantTokensDocument, { variables: { tenantId: 100002 } });
    expect(stack.receivedResponseFields()).toEqual(['accessToken,tenant(id,name,sites(id,name))']);
    const ticket = response.body.data?.switchTenant;
    expect(ticket?.tenant).toMatchObject({ id: 100002, name: 'Fabrikam Outfitters' });
    expect(ticket?.tenant.sites).toHaveLength(5);
    expect(typeof ticket?.accessToken).toBe('string');
  });

  it.each([
    [
      'aliases map back to their REST property',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            token: accessToken
            t: tenant {
              key: id
            }
          }
        }
      `,
      'accessToken,tenant(id)',
    ],
    [
      'one field under two aliases with different sub-selections asks for the union',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            a: tenant {
              id
            }
            b: tenant {
              name
              sites {
                id
              }
            }
          }
        }
      `,
      'tenant(id,name,sites(id))',
    ],
    [
      'a field selected twice is asked for once',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            accessToken
            accessToken
            tenant {
              id
            }
            tenant {
              id
            }
          }
        }
      `,
      'accessToken,tenant(id)',
    ],
    [
      'named fragments, including nested ones',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            ...T
          }
        }

        fragment T on TenantAdminUserAuthTicket {
          tenant {
            ...S
          }
        }

        fragment S on Tenant {
          sites {
            id
          }
        }
      `,
      'tenant(sites(id))',
    ],
    [
      'inline fragments, with and without a type condition',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            ... on TenantAdminUserAuthTicket {
              accessToken
            }
            ... {
              user {
                userName
              }
            }
          }
        }
      `,
      'accessToken,user(userName)',
    ],
    [
      '__typename never goes upstream',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            __typename
            tenant {
              __typename
              id
            }
          }
        }
      `,
      'tenant(id)',
    ],
    [
      'only __typename still sends a minimal projection',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            __typename
          }
        }
      `,
      'createdOn',
    ],
    [
      'an object with only __typename asks for its smallest property',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            user {
              __typename
            }
          }
        }
      `,
      'user(userId)',
    ],
    [
      'lists nest element-wise',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            availableTenants {
              id
              masterCatalogs {
                catalogs {
                  name
                }
              }
            }
          }
        }
      `,
      'availableTenants(id,masterCatalogs(catalogs(name)))',
    ],
    [
      'a computed field asks for what it reads',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            accessTokenExpiresIn
            tenant {
              isExpired
            }
          }
        }
      `,
      'accessTokenExpiration,tenant(expiry)',
    ],
    [
      'a computed field and the field it reads together ask once',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            accessTokenExpiresIn
            accessTokenExpiration
          }
        }
      `,
      'accessTokenExpiration',
    ],
  ])('%s', async (_case, query, expected) => {
    const { sent } = await sentFor(query);
    expect(sent).toBe(expected);
  });

  it.each([
    [{ withSites: true, withoutUser: false }, 'tenant(id,sites(name)),user(userName)'],
    [{ withSites: false, withoutUser: true }, 'tenant(id)'],
  ])('honours @include and @skip with variables %j', async (variables, expected) => {
    const { sent, data } = await sentFor(
      /* GraphQL */ `
        mutation ($withSites: Boolean!, $withoutUser: Boolean!) {
          switchTenant(tenantId: 100002) {
            tenant {
              id
              sites @include(if: $withSites) {
                name
              }
            }
            user @skip(if: $withoutUser) {
              userName
            }
          }
        }
      `,
      variables,
    );
    expect(sent).toBe(expected);
    expect('sites' in data.switchTenant.tenant).toBe(variables.withSites);
    expect('user' in data.switchTenant).toBe(!variables.withoutUser);
  });

  it('honours @include on the second of two nodes merged under one response key, whatever a request before set', async () => {
    // graphql-js resolves both nodes as one field; a cached projection keyed on the first node alone
    // answered `$withToken: true` with what an earlier `false` fetched (accessToken null).
    const operation = /* GraphQL */ `
      mutation ($withToken: Boolean!) {
        switchTenant(tenantId: 100002) {
          tenant {
            id
          }
        }
        switchTenant(tenantId: 100002) {
          accessToken @include(if: $withToken)
        }
      }
    `;
    for (const withToken of [false, true, false]) {
      const { sent, data } = await sentFor(operation, { withToken });
      expect(sent).toBe(withToken ? 'accessToken,tenant(id)' : 'tenant(id)');
      if (withToken) expect(data.switchTenant.accessToken).toEqual(expect.any(String));
      else expect(data.switchTenant).not.toHaveProperty('accessToken');
      stack.resetRecords();
    }
  });

  it('honours literal @skip/@include on fragments', async () => {
    const { sent } = await sentFor(/* GraphQL */ `
      mutation {
        switchTenant(tenantId: 100002) {
          ... on TenantAdminUserAuthTicket @skip(if: true) {
            accessToken
          }
          ...F @include(if: true)
        }
      }

      fragment F on TenantAdminUserAuthTicket {
        createdOn
      }
    `);
    expect(sent).toBe('createdOn');
  });

  it('answers the same as the full ticket would for the fields asked', async () => {
    const operation = /* GraphQL */ `
      mutation {
        switchTenant(tenantId: 100007) {
          tenant {
            id
            name
            domain
            isDevTenant
            sites {
              id
              name
              catalogId
              attributes {
                name
                value
              }
            }
          }
          user {
            userId
            userName
          }
          grantedBehaviors
        }
      }
    `;
    const projected = await stack.graphql(operation);
    await withStack({ env: { PROJECTION: 'false' }, sharedEmulator: stack.emulator }, async (full) => {
      const unprojected = await full.graphql(operation);
      expect(full.receivedResponseFields()).toEqual([null]);
      expect(projected.body).toEqual(unprojected.body);
    });
  });
});

describe('per-request dedupe', () => {
  it('makes identical calls in one operation once', async () => {
    const response = await stack.graphql(/* GraphQL */ `
      mutation {
        a: switchTenant(tenantId: 100002) {
          tenant {
            id
          }
        }
        b: switchTenant(tenantId: 100002) {
          tenant {
            id
          }
        }
      }
    `);
    expect(response.body.data).toEqual({ a: { tenant: { id: 100002 } }, b: { tenant: { id: 100002 } } });
    expect(stack.receivedResponseFields()).toEqual(['tenant(id)']);
  });

  it('merges aliases of one call with different sub-selections into one call asking for the union', async () => {
    const response = await stack.graphql(/* GraphQL */ `
      mutation {
        a: switchTenant(tenantId: 100002) {
          tenant {
            id
          }
        }
        b: switchTenant(tenantId: 100002) {
          user {
            userName
          }
          tenant {
            name
          }
        }
      }
    `);
    expect(response.body.data).toEqual({
      a: { tenant: { id: 100002 } },
      b: { user: { userName: 'demo.admin@example.com' }, tenant: { name: 'Fabrikam Outfitters' } },
    });
    expect(stack.receivedResponseFields()).toEqual(['tenant(id,name),user(userName)']);
  });
});
