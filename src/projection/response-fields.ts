/**
 * The `responseFields` a resolver sends, computed once per operation and reused. A projection
 * depends only on the document and on the Boolean variables `@skip`/`@include` can read, so it is
 * cached on the field's AST node (Yoga's parse cache hands the same nodes to every request with
 * the same query text) under those variables' values — never under other variables, which may
 * carry credentials.
 */
import { Kind, type FieldNode, type GraphQLResolveInfo, type TypeNode } from 'graphql';
import { fitResponseFields } from './coarsen.js';
import { WHOLE_VALUE, type Projection } from './projection.js';
import { projectionFromInfo } from './walker.js';

export interface QueryBudget {
  /** Longest query string Kibo should be sent. */
  maxLength: number;
  /** Length of the query string a given responseFields makes. */
  measure(responseFields: string): number;
}

const cache = new WeakMap<FieldNode, Map<string, string | undefined>>();

export interface ResponseFieldsOptions {
  budget: QueryBudget;
  /**
   * Every field that shares this call, when more than the resolver's own (aliases of one call
   * with different sub-selections); such merged projections are rare and not cached.
   */
  fieldNodes?: readonly FieldNode[];
  /** Top-level properties the gateway itself needs, whatever was selected. */
  alsoNeeded?: readonly string[];
}

/** What of a resolver's info the projection reads (trusted documents supply it at start, with no request). */
export type ProjectionInfo = Pick<
  GraphQLResolveInfo,
  'fieldNodes' | 'returnType' | 'schema' | 'fragments' | 'variableValues' | 'operation'
>;

/** `undefined`: ask for the whole ticket (the projection could not be made to fit). */
export function responseFieldsFor(
  info: ProjectionInfo,
  { budget, fieldNodes = info.fieldNodes, alsoNeeded = [] }: ResponseFieldsOptions,
): string | undefined {
  const compute = () => {
    const projection = new Map(projectionFromInfo({ ...info, fieldNodes }));
    for (const property of alsoNeeded) projection.set(property, WHOLE_VALUE);
    return responseFieldsForProjection(projection, budget);
  };
  if (fieldNodes !== info.fieldNodes) return compute();

  const key = `${budget.maxLength}|${alsoNeeded.join(',')}|${booleanVariablesKey(info)}`;
  const node = info.fieldNodes[0]!;
  let byVariables = cache.get(node);
  if (!byVariables) {
    byVariables = new Map();
    cache.set(node, byVariables);
  }
  if (byVariables.has(key)) return byVariables.get(key);
  const responseFields = compute();
  byVariables.set(key, responseFields);
  return responseFields;
}

/** A projection printed as responseFields within the budget (coarsened if need be); not cached. */
export function responseFieldsForProjection(projection: Projection, budget: QueryBudget): string | undefined {
  return fitResponseFields(projection, (candidate) => budget.measure(candidate) <= budget.maxLength);
}

function booleanVariablesKey(info: ProjectionInfo): string {
  const definitions = info.operation.variableDefinitions;
  if (!definitions?.length) return '';
  let key = '';
  for (const definition of definitions) {
    if (namedTypeOf(definition.type) !== 'Boolean') continue;
    key += `${definition.variable.name.value}=${String(info.variableValues[definition.variable.name.value])};`;
  }
  return key;
}

function namedTypeOf(type: TypeNode): string {
  return type.kind === Kind.NAMED_TYPE ? type.name.value : namedTypeOf(type.type);
}
