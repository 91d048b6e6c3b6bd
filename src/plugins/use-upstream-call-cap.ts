/**
 * One HTTP request must not become hundreds of Kibo calls (`a1: switchTenant … a500: switchTenant`).
 * Before execution starts, the operation's distinct calls are counted — identical ones count once,
 * as the per-request DataLoader makes them once — and an operation over the cap is refused whole,
 * so none of its calls is sent. The count and the refusal are `answer-rules.ts`'s, shared with the
 * trusted documents' fast path.
 */
import type { DocumentNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { upstreamCallRefusal } from '../answer-rules.js';
import type { GatewayContext } from '../requests/context.js';

export interface UpstreamCallCapOptions {
  /** Distinct Kibo calls one operation may make (`MAX_UPSTREAM_CALLS`, default 1); identical calls count once. */
  maxCalls: number;
  /** Call counts worked out ahead of any request (trusted documents); undefined: count per request. */
  knownCalls?: ((document: DocumentNode) => number | undefined) | undefined;
}

export function useUpstreamCallCap({ maxCalls, knownCalls }: UpstreamCallCapOptions): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refusal = upstreamCallRefusal(
        args.schema,
        args.document,
        args.operationName,
        args.variableValues as Record<string, unknown> | undefined,
        args.contextValue as unknown as GatewayContext,
        maxCalls,
        knownCalls?.(args.document),
      );
      if (refusal) setResultAndStopExecution(refusal);
    },
  };
}
