/**
 * One operation may not execute for longer than `MAX_EXECUTION_MS`, Kibo calls included: past it the
 * client gets EXECUTION_TIMEOUT and nothing else, and the operation's later fields fail at once
 * instead of doing work nobody will read. Kibo's own deadline (`KIBO_REQUEST_TIMEOUT_MS`, shorter by
 * default) answers first when Kibo is the slow part, with the more precise UPSTREAM_UNAVAILABLE.
 */
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../error-codes.js';
import type { GatewayContext } from '../requests/context.js';

export const EXECUTION_TIMEOUT: ErrorCode = 'EXECUTION_TIMEOUT';

export interface ExecutionDeadlineOptions {
  /** Milliseconds one operation may execute (`MAX_EXECUTION_MS`, default 10,000). */
  maxMs: number;
}

export function useExecutionDeadline({ maxMs }: ExecutionDeadlineOptions): Plugin {
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((args) => {
        const execution = executeFn(args);
        // Synchronous executions (no Kibo call) are over already.
        if (!(execution instanceof Promise)) return execution;
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<{ errors: Error[] }>((resolve) => {
          timer = setTimeout(() => {
            const error = createGraphQLError(`The operation took longer than ${maxMs} ms (MAX_EXECUTION_MS).`, {
              extensions: { code: EXECUTION_TIMEOUT, limit: maxMs },
            });
            // Fields still to resolve fail at once: their answer would be thrown away.
            const context = args.contextValue as unknown as GatewayContext;
            context.answer.refusal ??= error;
            resolve({ errors: [error] });
          }, maxMs);
        });
        return Promise.race([execution, deadline]).finally(() => clearTimeout(timer));
      });
    },
  };
}
