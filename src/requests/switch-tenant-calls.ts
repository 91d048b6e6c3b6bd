/**
 * The Kibo calls an operation will make, known before any resolver runs: its root `switchTenant`
 * fields (through root fragments, minus what `@skip`/`@include` drop), grouped by their arguments.
 * One group is one Kibo call — its fields share a ticket and a merged projection — so the number of
 * groups is what the upstream call cap counts.
 */
import {
  getArgumentValues,
  getVariableValues,
  Kind,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { isIncluded } from '../projection/walker.js';

export const SWITCH_TENANT = 'switchTenant';

export interface SwitchTenantCall {
  /** Identifies the call among the operation's calls: its argument values. */
  key: string;
  fieldNodes: FieldNode[];
}

/** The calls of the operation one request executes, worked out once (by the call cap, or the first resolver). */
export class CallPlan {
  private calls: SwitchTenantCall[] | undefined;

  callsOf(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Record<string, FragmentDefinitionNode>,
    variableValues: Record<string, unknown>,
  ): SwitchTenantCall[] {
    return (this.calls ??= switchTenantCalls(schema, operation, fragments, variableValues));
  }
}

export function switchTenantCalls(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragments: Record<string, FragmentDefinitionNode>,
  variableValues: Record<string, unknown>,
): SwitchTenantCall[] {
  const field = schema.getMutationType()?.getFields()[SWITCH_TENANT];
  if (operation.operation !== 'mutation' || !field) return [];
  // The common case, one plain root field, needs no argument evaluation: it is one call at most.
  const roots = operation.selectionSet.selections;
  if (roots.length === 1 && roots[0]!.kind === Kind.FIELD && !roots[0]!.directives?.length) {
    return roots[0]!.name.value === SWITCH_TENANT ? [{ key: 'only', fieldNodes: [roots[0]!] }] : [];
  }
  const calls = new Map<string, SwitchTenantCall>();
  const visited = new Set<string>();

  const collect = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (!isIncluded(selection, variableValues)) continue;
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value !== SWITCH_TENANT) continue;
        const args = getArgumentValues(field, selection, variableValues);
        const key = JSON.stringify([args.tenantId ?? null, args.refreshToken ?? null]);
        const call = calls.get(key) ?? { key, fieldNodes: [] };
        call.fieldNodes.push(selection);
        calls.set(key, call);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value);
        const fragment = fragments[selection.name.value];
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(operation.selectionSet);
  return [...calls.values()];
}

/** Coerces raw request variables the way execution will; undefined when they do not coerce. */
export function coercedVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  raw: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const result = getVariableValues(schema, operation.variableDefinitions ?? [], raw ?? {});
  return result.errors ? undefined : result.coerced;
}
