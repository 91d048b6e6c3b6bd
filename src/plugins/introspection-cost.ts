/**
 * What introspection costs. graphql-armor's cost limit skips `__schema` (its `ignoreIntrospection`),
 * and could not price it anyway: it counts a list field once, while `__schema { types { fields … } }`
 * answers every type and every field of the schema — 30 aliases of it turned 1.5 KB into 1 MB. Here
 * each `__schema` field an operation selects (through aliases and fragments), once per `types` field
 * under it, is charged what a whole schema's answer weighs, priced as armor prices fields (objects 2, scalars 1) over the real answer to
 * the full introspection query, computed once. The charge is added to the operation's armor cost,
 * and the sum must stay within `MAX_COST`: one GraphiQL introspection fits, a dozen do not.
 */
import {
  getIntrospectionQuery,
  graphqlSync,
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FieldNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
} from 'graphql';
import type { ErrorCode } from '../error-codes.js';

const LIMIT_EXCEEDED: ErrorCode = 'OPERATION_LIMIT_EXCEEDED';

const weights = new WeakMap<GraphQLSchema, number>();

/** The armor-style cost of the full introspection answer for `schema` (objects 2, scalars 1). */
export function schemaIntrospectionWeight(schema: GraphQLSchema): number {
  let weight = weights.get(schema);
  if (weight === undefined) {
    const answer = graphqlSync({ schema, source: getIntrospectionQuery({ descriptions: true }) }).data;
    weight = priceOf(answer);
    weights.set(schema, weight);
  }
  return weight;
}

function priceOf(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + priceOf(item), 0);
  if (value && typeof value === 'object') return 2 + priceOf(Object.values(value));
  return 1;
}

export interface IntrospectionCostOptions {
  maxCost: number;
  /** The armor cost already counted for the operation being validated, if armor accepted it. */
  armorCost: (context: ValidationContext) => number;
}

/** A validation rule: refuses an operation whose introspection charge plus armor cost passes `maxCost`. */
export function introspectionCostRule({ maxCost, armorCost }: IntrospectionCostOptions) {
  return (context: ValidationContext): ASTVisitor => ({
    OperationDefinition: {
      leave(operation) {
        const fields = schemaFields(context, operation.selectionSet, new Set());
        if (fields === 0) return;
        const cost = fields * schemaIntrospectionWeight(context.getSchema()) + armorCost(context);
        if (cost <= maxCost) return;
        context.reportError(
          new GraphQLError(
            `Query Cost limit of ${maxCost} exceeded, found ${cost} (each __schema is charged ${schemaIntrospectionWeight(context.getSchema())}).`,
            { nodes: [operation], extensions: { code: LIMIT_EXCEEDED } },
          ),
        );
      },
    },
  });
}

/**
 * How many whole-schema answers a selection set asks for, fragments spread (each once per path):
 * each `__schema` field counts once per `types` field it selects (aliases of `types` inside one
 * `__schema` each answer every type: 29 of them made 3 KB into 540 KB), and at least once.
 */
function schemaFields(context: ValidationContext, selectionSet: SelectionSetNode, spreading: Set<string>): number {
  return countFields(context, selectionSet, spreading, '__schema', (field) =>
    Math.max(1, field.selectionSet ? countFields(context, field.selectionSet, new Set(), 'types', () => 1) : 0),
  );
}

/** Sums `weigh(field)` over the fields named `name` in a selection set, fragments spread once per path. */
function countFields(
  context: ValidationContext,
  selectionSet: SelectionSetNode,
  spreading: Set<string>,
  name: string,
  weigh: (field: FieldNode) => number,
): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) {
      if (selection.name.value === name) count += weigh(selection);
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      count += countFields(context, selection.selectionSet, spreading, name, weigh);
    } else if (!spreading.has(selection.name.value)) {
      const fragment = context.getFragment(selection.name.value);
      if (!fragment) continue;
      spreading.add(selection.name.value);
      count += countFields(context, fragment.selectionSet, spreading, name, weigh);
      spreading.delete(selection.name.value);
    }
  }
  return count;
}
