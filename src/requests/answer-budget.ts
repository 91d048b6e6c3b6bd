/**
 * Every answer has a byte budget (`MAX_RESPONSE_BYTES`), shared by all the fields of one request.
 * Each value Kibo sent is measured against it as it arrives, before graphql-js turns it into an
 * answer: a request whose answer would pass the budget — thirty aliases of a long `availableTenants`,
 * say — is refused with RESPONSE_TOO_LARGE after a walk no longer than the budget, and
 * `plugins/use-answer-budget.ts` then drops whatever data was already resolved: nothing is half-sent.
 */
import { createGraphQLError } from 'graphql-yoga';
import type { GraphQLObjectType, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import type { ErrorCode } from '../error-codes.js';
import { spendOnSelection, type ByteAllowance } from '../projection/answer-size.js';

export const RESPONSE_TOO_LARGE: ErrorCode = 'RESPONSE_TOO_LARGE';

export class AnswerBudget implements ByteAllowance {
  remaining: number;
  /** Set once the budget is spent: every later field fails at once, and the answer is dropped. */
  refusal: Error | undefined;

  constructor(readonly maxBytes: number) {
    this.remaining = maxBytes;
  }

  /**
   * Charges what `info`'s selection makes of `value` (an object of `type`); throws RESPONSE_TOO_LARGE
   * when the request's answer would pass the budget.
   */
  charge(info: GraphQLResolveInfo, type: GraphQLObjectType, value: unknown): void {
    if (this.refusal) throw this.refusal;
    const selectionSets: SelectionSetNode[] = [];
    for (const node of info.fieldNodes) if (node.selectionSet) selectionSets.push(node.selectionSet);
    if (spendOnSelection(info, selectionSets, type, value, this)) return;
    this.refusal = createGraphQLError(
      `The answer would be larger than ${this.maxBytes} bytes (MAX_RESPONSE_BYTES): select fewer fields or fewer aliases of lists.`,
      { extensions: { code: RESPONSE_TOO_LARGE, limit: this.maxBytes } },
    );
    throw this.refusal;
  }
}
