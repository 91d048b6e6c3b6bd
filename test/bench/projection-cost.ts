/**
 * What deriving responseFields costs per request, for a 50-field operation across availableTenants:
 * the first request of a document (walk the selection set, print, fit the URL budget) and every
 * later one (a cache hit on the operation's AST). Pure CPU, no I/O.
 */
import {
  getOperationAST,
  Kind,
  parse,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type OperationDefinitionNode,
} from 'graphql';
import { ticketQueryLength } from '../../src/kibo/client.js';
import { fitResponseFields } from '../../src/projection/coarsen.js';
import { responseFieldsFor } from '../../src/projection/response-fields.js';
import { projectionFromInfo } from '../../src/projection/walker.js';
import { schema } from '../../src/schema/index.js';

export const WIDE_SELECTION = `{
  accessToken accessTokenExpiration createdOn
  user { userId userName emailAddress firstName lastName }
  availableTenants {
    id name domain isDevTenant isUnified expiry isExpired lastLoginDate
    attributes { name value createBy createDate updateBy updateDate }
    sites { id name tenantId catalogId countryCode currencyCode localeCode domain primaryCustomDomain attributes { name value } }
    masterCatalogs { id name tenantId defaultCurrencyCode defaultLocaleCode supportedLocaleCodes
      catalogs { id name masterCatalogId tenantId defaultCurrencyCode defaultLocaleCode } }
  }
}`;

export interface ProjectionCost {
  fields: number;
  uncachedMicros: number;
  cachedMicros: number;
  responseFields: string | undefined;
}

export function measureProjectionCost(iterations = 20_000): ProjectionCost {
  const document = parse(
    `mutation Wide($withUser: Boolean! = true) { switchTenant(tenantId: 100002) ${WIDE_SELECTION.replace('user {', 'user @include(if: $withUser) {')} }`,
  );
  const operation = getOperationAST(document) as OperationDefinitionNode;
  const root = operation.selectionSet.selections[0]!;
  if (root.kind !== Kind.FIELD) throw new Error('unexpected document');
  const info = {
    fieldNodes: [root],
    returnType: schema.getMutationType()!.getFields().switchTenant!.type,
    schema,
    fragments: {} as Record<string, FragmentDefinitionNode>,
    variableValues: { withUser: true },
    operation,
  } as unknown as GraphQLResolveInfo;
  const budget = { maxLength: 2048, measure: ticketQueryLength };
  const fits = (fields: string) => ticketQueryLength(fields) <= budget.maxLength;

  const time = (run: () => unknown) => {
    for (let i = 0; i < 2_000; i++) run();
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) run();
    return Number(process.hrtime.bigint() - started) / 1_000 / iterations;
  };

  const responseFields = responseFieldsFor(info, { budget });
  return {
    fields: (WIDE_SELECTION.match(/\b[a-zA-Z]+\b/g) ?? []).length,
    uncachedMicros: time(() => fitResponseFields(projectionFromInfo(info), fits)),
    cachedMicros: time(() => responseFieldsFor(info, { budget })),
    responseFields,
  };
}
