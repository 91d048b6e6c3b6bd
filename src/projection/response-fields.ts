/**
 * The `responseFields` a resolver sends, computed once per operation and reused. A projection
 * depends only on the document and on the Boolean variables that `@skip`/`@include` read inside the
 * field's selection, so it is cached per field AST node (Yoga's parse cache hands the same nodes to
 * every request with the same query text) under the values of exactly those variables — never
 * under other variables, which may carry credentials and would only multiply entries.
 *
 * Clients choose documents and variable values, so the cache is an LRU with a fixed number of
 * entries: a client sending ever-new values evicts old entries instead of growing the heap.
 */
import {
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import { LRUCache } from 'lru-cache';
import { fitResponseFields } from './coarsen.js';
import { WHOLE_VALUE, type Projection } from './projection.js';
import { projectionFromInfo } from './walker.js';

export interface QueryBudget {
  /** Longest query string Kibo should be sent. */
  maxLength: number;
  /** Length of the query string a given responseFields makes. */
  measure(responseFields: string): number;
}

/**
 * Entries kept. Each holds one responseFields string (at most KIBO_MAX_QUERY_LENGTH characters),
 * so the cache stays within a few MiB; a thousand live (document, variables) pairs covers any
 * real client population, and a miss costs only a walk (~50 µs).
 */
export const PROJECTION_CACHE_MAX_ENTRIES = 1_000;

/** lru-cache holds no `undefined`; the whole-ticket answer is boxed. */
interface Entry {
  responseFields: string | undefined;
}

const cache = new LRUCache<string, Entry>({ max: PROJECTION_CACHE_MAX_ENTRIES });

/** What a field node contributes to its cache key; lives as long as the parsed document does. */
interface FieldKeyPart {
  id: number;
  /** The variables `@skip`/`@include` read beneath the field, sorted, each once. */
  conditionVariables: readonly string[];
}

const keyParts = new WeakMap<FieldNode, FieldKeyPart>();
let nextFieldId = 0;

/** Entries held now; for tests that check the bound. */
export function projectionCacheSize(): number {
  return cache.size;
}

export interface ResponseFieldsOptions {
  budget: QueryBudget;
  /**
   * Every field that shares this call, when more than the resolver's own (aliases of one call
   * with different sub-selections); such merged projections are rare and not cached.
   */
  fieldNodes?: readonly FieldNode[];
  /** Top-level properties the gateway itself needs, whatever was selected. */
  alsoNeeded?: readonly string[];
  /** Top-level properties the gateway needs only when the selection (after `@skip`/`@include`) has `selected`. */
  alsoNeededWhen?: ConditionalNeeds | undefined;
}

/** Properties the gateway asks Kibo for only when the client's selection has another one. */
export interface ConditionalNeeds {
  /** The top-level property whose presence in the selection decides. */
  selected: string;
  /** What is then asked as well (whole values). */
  properties: readonly string[];
}

/** What of a resolver's info the projection reads (trusted documents supply it at start, with no request). */
export type ProjectionInfo = Pick<
  GraphQLResolveInfo,
  'fieldNodes' | 'returnType' | 'schema' | 'fragments' | 'variableValues' | 'operation'
>;

/** `undefined`: ask for the whole ticket (the projection could not be made to fit). */
export function responseFieldsFor(
  info: ProjectionInfo,
  { budget, fieldNodes = info.fieldNodes, alsoNeeded = [], alsoNeededWhen }: ResponseFieldsOptions,
): string | undefined {
  const compute = () => {
    const projection = new Map(projectionFromInfo({ ...info, fieldNodes }));
    if (alsoNeededWhen && projection.has(alsoNeededWhen.selected)) {
      for (const property of alsoNeededWhen.properties) projection.set(property, WHOLE_VALUE);
    }
    for (const property of alsoNeeded) projection.set(property, WHOLE_VALUE);
    return responseFieldsForProjection(projection, budget);
  };
  // The key is made of one node (its id and the variables `@skip`/`@include` read beneath it): a
  // field graphql-js merged from several nodes under one response key is computed each time, as
  // merged aliases are, since its other nodes' conditions are not in that key.
  if (fieldNodes !== info.fieldNodes || fieldNodes.length > 1) return compute();

  const node = info.fieldNodes[0]!;
  let part = keyParts.get(node);
  if (!part) {
    part = { id: nextFieldId++, conditionVariables: conditionVariablesOf(node.selectionSet, info.fragments) };
    keyParts.set(node, part);
  }
  let key = `${part.id}|${budget.maxLength}|${alsoNeeded.join(',')}|`;
  if (alsoNeededWhen) key += `${alsoNeededWhen.selected}:${alsoNeededWhen.properties.join(',')}|`;
  for (const name of part.conditionVariables) key += `${String(info.variableValues[name])};`;

  const cached = cache.get(key);
  if (cached) return cached.responseFields;
  const responseFields = compute();
  cache.set(key, { responseFields });
  return responseFields;
}

/** A projection printed as responseFields within the budget (coarsened if need be); not cached. */
export function responseFieldsForProjection(projection: Projection, budget: QueryBudget): string | undefined {
  return fitResponseFields(projection, (candidate) => budget.measure(candidate) <= budget.maxLength);
}

/** The variables any `@skip(if:)`/`@include(if:)` beneath a selection reads, through fragments. */
export function conditionVariablesOf(
  selectionSet: SelectionSetNode | undefined,
  fragments: Record<string, FragmentDefinitionNode>,
): string[] {
  const names = new Set<string>();
  const visitedFragments = new Set<string>();
  const visit = (set: SelectionSetNode | undefined) => {
    for (const selection of set?.selections ?? []) {
      for (const directive of selection.directives ?? []) {
        for (const argument of directive.arguments ?? []) {
          if (argument.value.kind === Kind.VARIABLE) names.add(argument.value.name.value);
        }
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        if (visitedFragments.has(selection.name.value)) continue;
        visitedFragments.add(selection.name.value);
        visit(fragments[selection.name.value]?.selectionSet);
      } else visit(selection.selectionSet);
    }
  };
  visit(selectionSet);
  return [...names].sort();
}
