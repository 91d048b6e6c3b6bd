/**
 * The `responseFields` a resolver sends, computed once per operation and reused. A projection
 * depends only on the document and on the Boolean variables `@skip`/`@include` can read, so it is
 * cached on the field's AST node (Yoga's parse cache hands the same nodes to every request with
 * the same query text) under those variables' values — never under other variables, which may
 * carry credentials.
 */
import { Kind, type FieldNode, type GraphQLResolveInfo, type TypeNode } from 'graphql';
import { fitResponseFields } from './coarsen.js';
import { projectionFromInfo } from './walker.js';

export interface QueryBudget {
  /** Longest query string Kibo should be sent. */
  maxLength: number;
  /** Length of the query string a given responseFields makes. */
  measure(responseFields: string): number;
}

const cache = new WeakMap<FieldNode, Map<string, string | undefined>>();

/** `undefined`: ask for the whole ticket (the projection could not be made to fit). */
export function responseFieldsFor(info: GraphQLResolveInfo, budget: QueryBudget): string | undefined {
  const node = info.fieldNodes[0]!;
  const key = `${budget.maxLength}|${booleanVariablesKey(info)}`;
  let byVariables = cache.get(node);
  if (!byVariables) {
    byVariables = new Map();
    cache.set(node, byVariables);
  }
  if (byVariables.has(key)) return byVariables.get(key);
  const responseFields = fitResponseFields(projectionFromInfo(info), (candidate) => budget.measure(candidate) <= budget.maxLength);
  byVariables.set(key, responseFields);
  return responseFields;
}

function booleanVariablesKey(info: GraphQLResolveInfo): string {
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
