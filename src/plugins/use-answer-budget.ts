/**
 * Nothing half-sent: when a request's answer passed its byte budget (`requests/answer-budget.ts`),
 * the fields resolved before it are dropped too, and the answer is the RESPONSE_TOO_LARGE error
 * alone — the client never receives a truncated or partial answer it could mistake for a whole one.
 */
import type { Plugin } from 'graphql-yoga';
import type { GatewayContext } from '../requests/context.js';

export function useAnswerBudget(): Plugin {
  return {
    onExecute({ args }) {
      const context = args.contextValue as unknown as GatewayContext;
      return {
        onExecuteDone({ result, setResult }) {
          const refusal = context.answer?.refusal;
          if (refusal && !(Symbol.asyncIterator in result)) setResult({ errors: [refusal] });
        },
      };
    },
  };
}
