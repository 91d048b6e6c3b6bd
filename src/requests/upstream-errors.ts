/** Turns a failed Kibo call into the GraphQL error the client sees: a code, Kibo's own details, no internals. */
import { createGraphQLError } from 'graphql-yoga';
import type { ErrorCode } from '../error-codes.js';
import { KiboError } from '../kibo/errors.js';

export function toGraphQLError(error: unknown): Error {
  // Anything else is a bug of ours: rethrown as is, Yoga masks it as "Unexpected error."
  if (!(error instanceof KiboError)) return error instanceof Error ? error : new Error(String(error));
  const { status, kiboErrorCode, kiboMessage, retryAfterSeconds, correlationId } = error.details;
  return createGraphQLError(error.message, {
    extensions: {
      code: error.code,
      ...(retryAfterSeconds !== undefined && { retryAfter: retryAfterSeconds }),
      ...((status !== undefined || correlationId !== undefined) && {
        kibo: {
          status: status ?? null,
          errorCode: kiboErrorCode ?? null,
          message: kiboMessage ?? null,
          correlationId: correlationId ?? null,
        },
      }),
    },
  });
}

export function badUserInput(message: string, argumentName?: string): Error {
  return createGraphQLError(message, {
    extensions: { code: 'BAD_USER_INPUT' satisfies ErrorCode, ...(argumentName && { argumentName }) },
  });
}

export function unauthenticated(message: string): Error {
  return createGraphQLError(message, { extensions: { code: 'UNAUTHENTICATED' satisfies ErrorCode } });
}
