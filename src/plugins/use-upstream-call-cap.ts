/**
 * One HTTP request must not become hundreds of Kibo calls (`a1: switchTenant … a500: switchTenant`).
 * Before execution starts, the operation's distinct calls are counted — identical ones count once,
 * as the per-request DataLoader makes them once — and an operation over the cap is refused whole,
 * so none of its calls is sent.
 */
import { getOperationAST, Kind, type DocumentNode, type FragmentDefinitionNode } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../error-codes.js';
import type { GatewayContext } from '../requests/context.js';
import { coercedVariables } from '../requests/switch-tenant-calls.js';

export const UPSTREAM_CALL_LIMIT: ErrorCode = 'UPSTREAM_CALL_LIMIT';

export interface UpstreamCallCapOptions {
  /** Distinct Kibo calls one operation may make (`MAX_UPSTREAM_CALLS`, default 1); identical calls count once. */
  maxCalls: number;
  /** Call counts worked out ahead of any request (trusted documents); undefined: count per request. */
  knownCalls?: ((document: DocumentNode) => number | undefined) | undefined;
}

export function useUpstreamCallCap({ maxCalls, knownCalls }: UpstreamCallCapOptions): Plugin {
  const refuse = (calls: number) => ({
    errors: [
      createGraphQLError(
        `This operation would make ${calls} distinct Kibo calls; ` +
          `at most ${maxCalls} ${maxCalls === 1 ? 'is' : 'are'} allowed per request. Send them as separate requests.`,
        { extensions: { code: UPSTREAM_CALL_LIMIT, limit: maxCalls, calls } },
      ),
    ],
  });
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const known = knownCalls?.(args.document);
      if (known !== undefined) {
        if (known > maxCalls) setResultAndStopExecution(refuse(known));
        return;
      }
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation || operation.operation !== 'mutation') return;
      // Variables that do not coerce fail execution on their own, with BAD_USER_INPUT.
      const variables = coercedVariables(
        args.schema,
        operation,
        args.variableValues as Record<string, unknown> | undefined,
      );
      if (!variables) return;
      const fragments: Record<string, FragmentDefinitionNode> = {};
      for (const definition of args.document.definitions) {
        if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
      }
      const calls = (args.contextValue as unknown as GatewayContext).callPlan.callsOf(
        args.schema,
        operation,
        fragments,
        variables,
      );
      if (calls.length <= maxCalls) return;
      setResultAndStopExecution(refuse(calls.length));
    },
  };
}
