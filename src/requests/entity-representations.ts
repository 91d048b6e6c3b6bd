/**
 * A federation router sends `_entities` whatever representations its other subgraphs produced, and
 * `_Any` lets any JSON through. Each one is checked before anything resolves it: an object, whose
 * `__typename` is one of this subgraph's entities and whose key has the key field's type. A bad one
 * gets its own BAD_USER_INPUT error at its index; the others resolve as usual — one bad reference
 * never sinks the batch (graphql-js reports an Error in a list as that item's error).
 */
import { getNamedType, GraphQLID, GraphQLInt, GraphQLString, type GraphQLSchema } from 'graphql';
import { badUserInput } from './upstream-errors.js';

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
  return (source, args, context, info) => {
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
