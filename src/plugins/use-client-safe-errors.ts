/**
 * The last word on error shape. Every error a client receives names a code: Yoga's own HTTP-level
 * refusals (the CSRF check, for one) come without; they are the request's fault, so BAD_REQUEST.
 * And none carries `originalError`, which Yoga adds to a JSON parse failure with the parser's
 * excerpt of the body — possibly a token.
 */
import { createGraphQLError, isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../error-codes.js';

const BAD_REQUEST: ErrorCode = 'BAD_REQUEST';
const UNSUPPORTED_MEDIA_TYPE: ErrorCode = 'UNSUPPORTED_MEDIA_TYPE';

export function useClientSafeErrors(): Plugin {
  return {
    // Yoga answers a body it has no parser for with a bare 415; say what it accepts instead.
    onRequestParse({ request, requestParser }) {
      if (requestParser || request.method !== 'POST') return;
      throw createGraphQLError('Send the GraphQL request as JSON (Content-Type: application/json).', {
        extensions: { code: UNSUPPORTED_MEDIA_TYPE, http: { status: 415 } },
      });
    },
    onResultProcess({ result }) {
      if (isAsyncIterable(result)) return;
      for (const single of Array.isArray(result) ? result : [result]) {
        for (const error of single.errors ?? []) {
          const extensions = error.extensions as Record<string, unknown> | undefined;
          if (extensions) {
            extensions.code ||= BAD_REQUEST;
            delete extensions.originalError;
          } else Object.defineProperty(error, 'extensions', { value: { code: BAD_REQUEST }, enumerable: true });
        }
      }
    },
  };
}
