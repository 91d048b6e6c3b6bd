/**
 * Nothing half-sent: when a request's answer passed its byte budget (`requests/answer-budget.ts`),
 * the fields resolved before it are dropped too, and the answer is the RESPONSE_TOO_LARGE error
 * alone (`answer-rules.ts`'s `withinAnswerBudget`, shared with the trusted documents' fast path).
 */
import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { withinAnswerBudget } from '../answer-rules.js';
import type { GatewayContext } from '../requests/context.js';

export function useAnswerBudget(): Plugin {
  return {
    onExecute({ args }) {
      const context = args.contextValue as unknown as GatewayContext;
      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          const kept = withinAnswerBudget(result as ExecutionResult, context);
          if (kept !== result) setResult(kept);
        },
      };
    },
  };
}
