/**
 * The last word on error shape (`answer-rules.ts`'s `makeErrorsClientSafe`, shared with the trusted
 * documents' fast path): every error names a code, none carries `originalError`. And a body Yoga has
 * no parser for gets a coded 415 saying what it accepts, instead of a bare one.
 */
import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import { makeErrorsClientSafe } from '../answer-rules.js';
import type { ErrorCode } from '../error-codes.js';

const UNSUPPORTED_MEDIA_TYPE: ErrorCode = 'UNSUPPORTED_MEDIA_TYPE';

export function useClientSafeErrors(): Plugin {
  return {
    onRequestParse({ request, requestParser }) {
      if (requestParser || request.method !== 'POST') return;
      throw createGraphQLError('Send the GraphQL request as JSON (Content-Type: application/json).', {
        extensions: { code: UNSUPPORTED_MEDIA_TYPE, http: { status: 415 } },
      });
    },
    onResultProcess({ result }) {
      if (isAsyncIterable(result)) return;
      for (const single of Array.isArray(result) ? result : [result]) makeErrorsClientSafe(single);
    },
  };
}
