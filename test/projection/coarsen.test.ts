/** Long projections: folded level by level into whole parents until the query string fits. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fitResponseFields } from '../../src/projection/coarsen.js';
import { WHOLE_VALUE, type Projection } from '../../src/projection/projection.js';
import { startStack, type Stack } from '../support/stack.js';

const tree = (spec: Record<string, unknown>): Projection =>
  new Map(
    Object.entries(spec).map(([name, children]) => [
      name,
      children === true ? WHOLE_VALUE : tree(children as Record<string, unknown>),
    ]),
  );

describe('fitResponseFields', () => {
  const projection = tree({
    accessToken: true,
    tenant: { id: true, sites: { id: true, name: true } },
    user: { userName: true },
  });

  it.each([
    [1000, 'accessToken,tenant(id,sites(id,name)),user(userName)'],
    [45, 'accessToken,tenant(id,sites),user(userName)'],
    [30, 'accessToken,tenant,user'],
    [10, undefined],
  ])('within %i characters → %s', (limit, expected) => {
    expect(fitResponseFields(projection, (fields) => fields.length <= limit)).toBe(expected);
  });
});

describe('a projection longer than KIBO_MAX_QUERY_LENGTH', () => {
  let narrow: Stack;
  let roomy: Stack;
  beforeAll(async () => {
    narrow = await startStack({ env: { KIBO_MAX_QUERY_LENGTH: '200', LOG_LEVEL: 'silent' } });
    roomy = await startStack({ env: { LOG_LEVEL: 'silent' }, sharedEmulator: narrow.emulator });
  });
  afterAll(async () => {
    await roomy.close();
    await narrow.close();
  });

  it('is sent coarser, within the limit, and the answer is unchanged', async () => {
    const query = /* GraphQL */ `
      mutation {
        switchTenant(tenantId: 100003) {
          tenant {
            id
            name
            domain
            isDevTenant
            isUnified
            sites {
              id
              name
              tenantId
              catalogId
              countryCode
              currencyCode
              localeCode
              domain
              primaryCustomDomain
            }
          }
          user {
            userId
            userName
            emailAddress
            firstName
            lastName
          }
        }
      }
    `;
    narrow.resetRecords();
    roomy.resetRecords();
    const coarse = await narrow.graphql(query);
    const fine = await roomy.graphql(query);
    const [sentCoarse] = narrow.receivedResponseFields();
    const [sentFine] = roomy.receivedResponseFields();

    const queryLength = (fields: string) =>
      new URLSearchParams({ tenantId: '100003', responseFields: fields }).toString().length;
    expect(queryLength(sentFine!)).toBeGreaterThan(200);
    expect(sentCoarse).toBe(
      'tenant(domain,id,isDevTenant,isUnified,name,sites),user(emailAddress,firstName,lastName,userId,userName)',
    );
    expect(queryLength(sentCoarse!)).toBeLessThanOrEqual(200);
    expect(coarse.body).toEqual(fine.body);
  });
});
