/**
 * Every `extensions.code` the gateway sends, in one catalogue: the code, the HTTP status where the
 * gateway itself decides it (elsewhere Yoga follows GraphQL over HTTP: 200 for an executed operation,
 * 400 for a rejected document when the client accepts `application/graphql-response+json`), and when
 * a client sees it. Code that raises an error names it from
 * here; the README's Errors table is checked against this list by a test, so neither can drift.
 */

export const ERROR_CODES = {
  BAD_USER_INPUT: {
    when: '`tenantId` ≤ 0 or not an int32, a variable of the wrong type, a missing or malformed `X-Vol-Tenant` for entities (no Kibo call), a bad `_entities` representation (that reference only); Kibo answered 400',
  },
  UNAUTHENTICATED: {
    when: 'no `Authorization: Bearer`, or no refresh token (no Kibo call); Kibo answered 401',
  },
  FORBIDDEN: { when: 'Kibo answered 403: the user has no access to the tenant' },
  NOT_FOUND: { when: 'Kibo answered 404' },
  RATE_LIMITED: {
    when: 'Kibo answered 429; `extensions.retryAfter` carries `Retry-After` in seconds; or the same credentials already have `KIBO_MAX_CONCURRENT_PER_CREDENTIAL` Kibo calls in flight (no Kibo call, `retryAfter` 1)',
  },
  UPSTREAM_UNAVAILABLE: {
    when: 'Kibo answered 5xx, timed out, reset the connection, sent malformed JSON, a wrong content type, too large a body or a ticket that does not match the spec (a field of the wrong type or shape, a bad date)',
  },
  GRAPHQL_PARSE_FAILED: { when: 'the document does not parse' },
  GRAPHQL_VALIDATION_FAILED: { when: 'the document does not validate against the schema' },
  OPERATION_RESOLUTION_FAILURE: {
    when: 'the `operationName` names no operation of the document, or a document of several operations names none',
  },
  OPERATION_LIMIT_EXCEEDED: {
    when: 'depth, aliases, tokens, directives or cost over the configured limit, or more than 1,000 `_entities` representations in one request (nothing sent to Kibo)',
  },
  UPSTREAM_CALL_LIMIT: {
    when: 'the operation would make more distinct Kibo calls than `MAX_UPSTREAM_CALLS`; `extensions.limit` and `extensions.calls` say how many (nothing sent)',
  },
  PERSISTED_QUERY_NOT_FOUND: {
    when: 'a `documentId` or `extensions.persistedQuery.sha256Hash` names no document of the trusted-documents manifest (`TRUSTED_DOCUMENTS=allow` or `only`; nothing parsed, no Kibo call); the message is `PersistedQueryNotFound`, as Apollo clients expect',
  },
  PERSISTED_QUERY_ONLY: {
    when: '`TRUSTED_DOCUMENTS=only` and the request sent a document that is not a trusted one (nor a subgraph `_entities`/`_service` fetch, nor introspection where enabled): refused before parsing, no Kibo call',
  },
  RESPONSE_TOO_LARGE: {
    when: 'the answer would be larger than `MAX_RESPONSE_BYTES`, counted on what Kibo sent (list lengths included) before it is built; `extensions.limit` says the budget, and no data is sent',
  },
  EXECUTION_TIMEOUT: {
    when: 'the operation executed for longer than `MAX_EXECUTION_MS`; `extensions.limit` says the limit, and no data is sent',
  },
  REQUEST_ENTITY_TOO_LARGE: { httpStatus: 413, when: 'body over `MAX_BODY_BYTES`' },
  LENGTH_REQUIRED: { httpStatus: 411, when: 'a chunked body without Content-Length' },
  REQUEST_TIMEOUT: {
    httpStatus: 408,
    when: 'the request (headers within `HEADERS_TIMEOUT_MS`, the whole of it within `REQUEST_TIMEOUT_MS`) was not received in time',
  },
  REQUEST_HEADER_FIELDS_TOO_LARGE: {
    httpStatus: 431,
    when: "the request headers are larger than Node's limit (16 KiB)",
  },
  UNSUPPORTED_MEDIA_TYPE: {
    httpStatus: 415,
    when: 'the body is not JSON (nor a form or `application/graphql` text); a multipart body (the file-upload format) too: no field takes a file, so it is refused rather than parsed',
  },
  BAD_REQUEST: {
    httpStatus: 400,
    when: 'malformed JSON or Content-Length, a malformed `Host` header or request target, `Authorization`, `X-Kibo-Refresh-Token` or `X-Vol-Tenant` sent twice, GET `variables` or `extensions` that are not JSON objects, a batch (arrays are not accepted), a missing CSRF header, GET for a mutation, neither a document nor a document id',
  },
  INTERNAL_SERVER_ERROR: { when: 'a fault of the gateway itself, masked as "Unexpected error." with nothing internal' },
} as const satisfies Record<string, { httpStatus?: number; when: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The codes a failed Kibo call maps to (see `kibo/errors.ts`). */
export type UpstreamErrorCode = Extract<
  ErrorCode,
  'BAD_USER_INPUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'RATE_LIMITED' | 'UPSTREAM_UNAVAILABLE'
>;
