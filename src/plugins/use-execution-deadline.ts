/**
 * One operation may not execute for longer than `MAX_EXECUTION_MS`, Kibo calls included: past it the
 * client gets EXECUTION_TIMEOUT and nothing else (`answer-rules.ts`'s `withDeadline`, shared with the
 * trusted documents' fast path). Kibo's own deadline (`KIBO_REQUEST_TIMEOUT_MS`, shorter by default)
 * answers first when Kibo is the slow part, with the more precise UPSTREAM_UNAVAILABLE.
 */
import type { Plugin } from 'graphql-yoga';
import { withDeadline } from '../answer-rules.js';
import type { GatewayContext } from '../requests/context.js';

export interface ExecutionDeadlineOptions {
  /** Milliseconds one operation may execute (`MAX_EXECUTION_MS`, default 10,000). */
  maxMs: number;
}

export function useExecutionDeadline({ maxMs }: ExecutionDeadlineOptions): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args) => withDeadline(executeFn(args), maxMs, args.contextValue as unknown as GatewayContext));
    },
  };
}
