/**
 * A federation router sends `_entities` whatever representations its other subgraphs produced, and
 * `_Any` lets any JSON through. Each one is checked before anything resolves it: an object, whose
 * `__typename` is one of this subgraph's entities and whose key has the key field's type. A bad one
 * gets its own BAD_USER_INPUT error at its index; the others resolve as usual — one bad reference
 * never sinks the batch (graphql-js reports an Error in a list as that item's error). A request
 * sending more than MAX_REPRESENTATIONS in all is refused before any is looked at.
 */
import {
  getArgumentValues,
  getNamedType,
  GraphQLError,
  GraphQLID,
  GraphQLInt,
  GraphQLString,
  Kind,
  type GraphQLField,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { ErrorCode } from '../error-codes.js';
import { badUserInput } from './upstream-errors.js';

/**
 * Representations one request may send, over all its `_entities` fields. Each gets its own answer
 * or error, and an error costs ~0.3 ms to build and mask: 30 aliased `_entities` fields of 1,000
 * representations each, sent with no credentials, made 30,000 UNAUTHENTICATED errors — 6 s of CPU
 * and a 6 MB answer for a 36 KB request. Routers send each distinct reference once, and a ticket
 * holds about a thousand entities at most (50 tenants, their sites and catalogs), so 1,000 is room.
 */
export const MAX_REPRESENTATIONS = 1_000;
const LIMIT_EXCEEDED: ErrorCode = 'OPERATION_LIMIT_EXCEEDED';

export interface EntityKey {
  typename: string;
  key: string;
}

/** The problem with one representation, or undefined when it names an entity with a well-typed key. */
export type RepresentationCheck = (representation: unknown) => string | undefined;

export function createRepresentationCheck(entities: readonly EntityKey[], schema: GraphQLSchema): RepresentationCheck {
  const keyTypes = new Map<string, { key: string; accepts: (value: unknown) => boolean; typeName: string }>();
  for (const { typename, key } of entities) {
    const type = schema.getType(typename);
    const field = type && 'getFields' in type ? type.getFields()[key] : undefined;
    if (!field) throw new Error(`Entity ${typename} has no key field ${key}`);
    const keyType = getNamedType(field.type);
    keyTypes.set(typename, { key, accepts: acceptsFor(keyType.name), typeName: keyType.name });
  }
  const names = [...keyTypes.keys()].join(', ');

  return (representation) => {
    if (representation === null || typeof representation !== 'object' || Array.isArray(representation))
      return 'a representation must be an object with __typename and the entity key';
    const { __typename: typename } = representation as { __typename?: unknown };
    const entity = typeof typename === 'string' ? keyTypes.get(typename) : undefined;
    if (!entity) return `__typename must name one of this subgraph's entities: ${names}`;
    const key = (representation as Record<string, unknown>)[entity.key];
    if (!entity.accepts(key)) return `${typename}.${entity.key} must be ${article(entity.typeName)} ${entity.typeName}`;
    return undefined;
  };
}

/** The `_entities` resolver, with each representation checked first. */
export function checkingRepresentations(
  resolve: (source: unknown, args: { representations: unknown[] }, context: unknown, info: unknown) => unknown,
  check: RepresentationCheck,
): (source: unknown, args: { representations: unknown[] }, context: unknown, info: unknown) => unknown {
  /** Per request (its context): how many representations all its `_entities` fields send. */
  const totals = new WeakMap<object, number>();
  return (source, args, context, info) => {
    const resolveInfo = info as GraphQLResolveInfo;
    let total = totals.get(context as object);
    if (total === undefined) totals.set(context as object, (total = representationsSent(resolveInfo)));
    if (total > MAX_REPRESENTATIONS)
      throw new GraphQLError(
        `The request sends ${total} _entities representations; at most ${MAX_REPRESENTATIONS} are accepted in one request.`,
        { extensions: { code: LIMIT_EXCEEDED, limit: MAX_REPRESENTATIONS } },
      );
    const problems = args.representations.map(check);
    if (problems.every((problem) => problem === undefined)) return resolve(source, args, context, info);
    const goodAt: number[] = [];
    const good = args.representations.filter((_, index) => problems[index] === undefined && goodAt.push(index));
    const resolved =
      good.length > 0 ? (resolve(source, { ...args, representations: good }, context, info) as unknown[]) : [];
    const answer: unknown[] = problems.map((problem, index) =>
      problem === undefined ? undefined : badUserInput(`representations[${index}]: ${problem}.`, 'representations'),
    );
    goodAt.forEach((index, position) => (answer[index] = resolved[position]));
    return answer;
  };
}

/** Representations of every `_entities` field of the operation (root fields, through fragments). */
function representationsSent(info: GraphQLResolveInfo): number {
  const field = info.parentType.getFields()[info.fieldName] as GraphQLField<unknown, unknown>;
  const count = (selectionSet: SelectionSetNode, spreading: Set<string>): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value !== info.fieldName) continue;
        const { representations } = getArgumentValues(field, selection, info.variableValues);
        if (Array.isArray(representations)) total += representations.length;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        total += count(selection.selectionSet, spreading);
      } else if (!spreading.has(selection.name.value) && info.fragments[selection.name.value]) {
        spreading.add(selection.name.value);
        total += count(info.fragments[selection.name.value]!.selectionSet, spreading);
        spreading.delete(selection.name.value);
      }
    }
    return total;
  };
  return count(info.operation.selectionSet, new Set());
}

function acceptsFor(typeName: string): (value: unknown) => boolean {
  switch (typeName) {
    case GraphQLInt.name:
      return (value) => typeof value === 'number' && Number.isInteger(value) && (value | 0) === value;
    case GraphQLString.name:
      return (value) => typeof value === 'string';
    case GraphQLID.name:
      return (value) => typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
    default:
      return () => false;
  }
}

function article(word: string): string {
  return /^[AEIOU]/.test(word) ? 'an' : 'a';
}
