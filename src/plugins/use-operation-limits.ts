/**
 * Limits on the shape of an operation, from graphql-armor: depth, aliases, tokens, directives and
 * cost, each rejected at parse or validation time — before anything reaches Kibo. Rejections carry
 * `extensions.code` so clients can tell a limit from a mistake.
 */
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { OperationLimits } from '../config.js';
import type { ErrorCode } from '../error-codes.js';
import { introspectionCostRule } from './introspection-cost.js';

export const LIMIT_EXCEEDED: ErrorCode = 'OPERATION_LIMIT_EXCEEDED';

/** graphql-armor reports through callbacks; this one stamps the code on what it rejects. */
const coded = [
  (_context: unknown, error: GraphQLError) => void Object.assign(error.extensions, { code: LIMIT_EXCEEDED }),
];

/**
 * Each limit comes from the configuration (`MAX_TOKENS`, `MAX_DEPTH`, `MAX_ALIASES`, `MAX_DIRECTIVES`,
 * `MAX_COST`). Depth ignores introspection (GraphiQL's own query nests type references 9 deep); cost
 * does not: armor prices the operation, `introspection-cost.ts` adds each `__schema` at its real weight.
 */
export function useOperationLimits(limits: OperationLimits): Plugin[] {
  const common = { exposeLimits: true, onReject: coded };
  // Armor reports the cost it accepted per validation; the introspection rule adds to it.
  const accepted = new WeakMap<object, number>();
  const rememberCost = (context: unknown, { n }: { n: number }) => void accepted.set(context as object, n);
  const introspectionCost = introspectionCostRule({
    maxCost: limits.maxCost,
    armorCost: (context: ValidationContext) => accepted.get(context) ?? 0,
  });
  return [
    maxTokensPlugin({ n: limits.maxTokens, ...common }),
    maxDepthPlugin({ n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true, ...common }),
    maxAliasesPlugin({ n: limits.maxAliases, ...common }),
    maxDirectivesPlugin({ n: limits.maxDirectives, ...common }),
    costLimitPlugin({ maxCost: limits.maxCost, ignoreIntrospection: true, onAccept: [rememberCost], ...common }),
    { onValidate: ({ addValidationRule }) => addValidationRule(introspectionCost) },
  ] as Plugin[];
}
