/**
 * Minimal projection, field by field: for every field of every object type reachable from the
 * ticket, a query selecting that field alone must ask Kibo for the path to it and that field's own
 * needs — nothing else. What each field needs is written out by hand below, from the spec and the
 * field's meaning, not read from the declarations the walker uses: a declaration that names the
 * wrong property fails here, and so does a new field until its needs are written down.
 */
import { getNamedType, isObjectType, type GraphQLObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.js';
import { startStack, type Stack } from '../support/stack.js';

/**
 * Type → field → what selecting the field alone asks of Kibo at its own level; an object-typed
 * field selected as `{ __typename }` asks for its type's placeholder property.
 */
const NEEDS: Record<string, Record<string, string>> = {
  TenantAdminUserAuthTicket: {
    accessToken: 'accessToken',
    accessTokenExpiration: 'accessTokenExpiration',
    accessTokenExpiresIn: 'accessTokenExpiration',
    availableTenants: 'availableTenants(id)',
    createdOn: 'createdOn',
    grantedBehaviors: 'grantedBehaviors',
    jwtAccessToken: 'jwtAccessToken',
    redirect: 'redirect',
    refreshToken: 'refreshToken',
    refreshTokenExpiration: 'refreshTokenExpiration',
    ssoNameId: 'ssoNameId',
    ssoSession: 'ssoSession',
    tenant: 'tenant(id)',
    user: 'user(userId)',
  },
  Tenant: {
    attributes: 'attributes(name)',
    domain: 'domain',
    expiry: 'expiry',
    id: 'id',
    isDevTenant: 'isDevTenant',
    isExpired: 'expiry',
    isUnified: 'isUnified',
    lastLoginDate: 'lastLoginDate',
    masterCatalogs: 'masterCatalogs(id)',
    name: 'name',
    sites: 'sites(id)',
  },
  UserProfile: {
    emailAddress: 'emailAddress',
    firstName: 'firstName',
    lastName: 'lastName',
    userId: 'userId',
    userName: 'userName',
  },
  TenantAttribute: {
    createBy: 'createBy',
    createDate: 'createDate',
    name: 'name',
    updateBy: 'updateBy',
    updateDate: 'updateDate',
    value: 'value',
  },
  AdminUserMasterCatalog: {
    catalogs: 'catalogs(id)',
    defaultCurrencyCode: 'defaultCurrencyCode',
    defaultLocaleCode: 'defaultLocaleCode',
    id: 'id',
    name: 'name',
    supportedLocaleCodes: 'supportedLocaleCodes',
    tenantId: 'tenantId',
  },
  Site: {
    attributes: 'attributes(name)',
    catalogId: 'catalogId',
    countryCode: 'countryCode',
    currencyCode: 'currencyCode',
    domain: 'domain',
    id: 'id',
    localeCode: 'localeCode',
    name: 'name',
    primaryCustomDomain: 'primaryCustomDomain',
    tenantId: 'tenantId',
  },
  Catalog: {
    defaultCurrencyCode: 'defaultCurrencyCode',
    defaultLocaleCode: 'defaultLocaleCode',
    id: 'id',
    masterCatalogId: 'masterCatalogId',
    name: 'name',
    tenantId: 'tenantId',
  },
};

interface FieldCase {
  label: string;
  /** Ticket → … → the type holding the field, as field names (each the REST property it exposes). */
  path: string[];
  field: string;
  /** Selection inside the field, for object types. */
  inner: string;
}

/** Every field reachable from the ticket, by the shortest path to its type. */
function reachableFields(): FieldCase[] {
  const cases: FieldCase[] = [];
  const seen = new Set<string>();
  const queue: Array<{ type: GraphQLObjectType; path: string[] }> = [
    { type: schema.getType('TenantAdminUserAuthTicket') as GraphQLObjectType, path: [] },
  ];
  while (queue.length) {
    const { type, path } = queue.shift()!;
    if (seen.has(type.name)) continue;
    seen.add(type.name);
    for (const field of Object.values(type.getFields())) {
      const named = getNamedType(field.type);
      cases.push({
        label: `${type.name}.${field.name}`,
        path,
        field: field.name,
        inner: isObjectType(named) ? '{ __typename }' : '',
      });
      if (isObjectType(named)) queue.push({ type: named, path: [...path, field.name] });
    }
  }
  return cases;
}

const CASES = reachableFields();

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'silent' } });
});
afterAll(() => stack.close());

describe('minimal projection for every field', () => {
  it('covers every object type of the schema', () => {
    const covered = new Set(CASES.map((c) => c.label.split('.')[0]));
    const objectTypes = Object.values(schema.getTypeMap()).filter(
      (t) => isObjectType(t) && !t.name.startsWith('_') && !['Query', 'Mutation'].includes(t.name),
    );
    expect([...covered].sort()).toEqual(objectTypes.map((t) => t.name).sort());
  });

  it('has written down the needs of exactly the fields the schema has', () => {
    const written = Object.entries(NEEDS).flatMap(([type, fields]) => Object.keys(fields).map((f) => `${type}.${f}`));
    expect(written.sort()).toEqual(CASES.map((c) => c.label).sort());
  });

  it.each(CASES.map((c) => [c.label, c] as const))('%s', async (label, fieldCase) => {
    const [typeName, fieldName] = label.split('.') as [string, string];
    const own = NEEDS[typeName]?.[fieldName];
    expect(own, `${label}: write down what it needs in NEEDS`).toEqual(expect.any(String));
    const selection = fieldCase.path.reduceRight(
      (inner, step) => `${step} { ${inner} }`,
      `${fieldCase.field} ${fieldCase.inner}`,
    );
    const expected = fieldCase.path.reduceRight((inner, step) => `${step}(${inner})`, own!);
    stack.resetRecords();
    const response = await stack.graphql(`mutation { switchTenant(tenantId: 100002) { ${selection} } }`);
    expect(response.body.errors).toBeUndefined();
    expect(stack.receivedResponseFields()).toEqual([expected]);
  });
});
