/**
 * Yoga's parsers for GET query strings and form bodies call `JSON.parse` on `variables` and
 * `extensions` unguarded: a malformed value throws a plain SyntaxError, which Yoga treats as its own
 * fault — a masked INTERNAL_SERVER_ERROR, a 500 and an error-level stack in the log. Whatever a
 * parser throws other than a GraphQL error comes from reading the client's request, so it is the
 * client's fault: a 400 with BAD_REQUEST, saying which part could not be read and not echoing it.
 * Yoga's JSON parser, the one nearly every request takes, codes its own failures (BAD_REQUEST, "POST
 * body sent invalid JSON.", 400 where the client accepts `application/graphql-response+json`), so it is
 * left as it is: wrapping it would put an async function and a promise on every request for nothing.
 */
import { GraphQLError } from 'graphql';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import type { ErrorCode } from '../error-codes.js';

const BAD_REQUEST: ErrorCode = 'BAD_REQUEST';

export function useSafeRequestParsing(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser || takenByJsonParser(request)) return;
      setRequestParser(async (parsed: Request) => {
        try {
          return await requestParser(parsed);
        } catch (error) {
          if (error instanceof GraphQLError) throw error;
          throw createGraphQLError(
            request.method === 'GET'
              ? 'The query string could not be read: `variables` and `extensions` must be JSON objects.'
              : 'The request body could not be read.',
            { extensions: { code: BAD_REQUEST, http: { status: 400 } } },
          );
        }
      });
    },
  };
}

/** Yoga's own test for its JSON parser: a POST whose content type (the first, if several) is JSON. */
const JSON_CONTENT_TYPES = ['application/json', 'application/graphql+json'];

function takenByJsonParser(request: Request): boolean {
  if (request.method !== 'POST') return false;
  const contentType = request.headers.get('content-type')?.split(',', 1)[0];
  return JSON_CONTENT_TYPES.some((type) => contentType === type || contentType?.startsWith(`${type};`) === true);
}
