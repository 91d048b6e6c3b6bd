/**
 * The rules every GraphQL answer follows, whichever path serves it: Yoga with the plugins of
 * `plugins/`, or the precompiled path for trusted documents (`http/trusted-path.ts`). Each rule is
 * written once, here, and both paths call it, so they cannot drift apart:
 *   - CSRF: which requests must carry a header proving a CORS preflight happened;
 *   - CORS: the headers a listed origin gets (and that any other origin gets none);
 *   - caching: `no-store` on every answer; cookie mode: when queued refresh-token cookies go out;
 *   - limits at execution: the upstream call cap, the execution deadline, the answer's byte budget;
 *   - errors: masking, input codes, and the last word on their shape (a code, no `originalError`).
 * What Yoga does on its own (choosing the media type, the status, the JSON) is mirrored in the
 * last section for the fast path, which falls through to Yoga wherever the mirror would not be exact;
 * `test/gateway/trusted-path.test.ts` sends the same requests down both paths and compares answers.
 */
import {
  getOperationAST,
  GraphQLError,
  Kind,
  type DocumentNode,
  type ExecutionResult,
  type FragmentDefinitionNode,
  type GraphQLSchema,
} from 'graphql';
import { createGraphQLError, maskError as yogaMaskError } from 'graphql-yoga';
import type { ErrorCode } from './error-codes.js';
import { DeadlineSweep, type SweptCall } from './kibo/deadline-sweep.js';
import type { GatewayContext } from './requests/context.js';
import { queuedCookies } from './requests/refresh-token-cookie.js';
import { coercedVariables } from './requests/switch-tenant-calls.js';

const BAD_REQUEST: ErrorCode = 'BAD_REQUEST';
const BAD_USER_INPUT: ErrorCode = 'BAD_USER_INPUT';
export const UPSTREAM_CALL_LIMIT: ErrorCode = 'UPSTREAM_CALL_LIMIT';
export const EXECUTION_TIMEOUT: ErrorCode = 'EXECUTION_TIMEOUT';

/** Header lookup by lower-case name, as both Yoga's fetch Headers and a Node request can give it. */
export type HeaderLookup = (name: string) => string | null | undefined;

// --- CSRF -----------------------------------------------------------------------------------------

/** Either header proves a preflight happened: Yoga's own, and the one Apollo clients send. */
export const CSRF_HEADERS = ['x-graphql-yoga-csrf', 'apollo-require-preflight'] as const;

/** Content types a browser sends cross-site without a CORS preflight (forms, `text/plain`). */
const NON_PREFLIGHTED_CONTENT_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'];

/**
 * Whether a request may be read: it has a content type a browser only sends after a CORS preflight
 * (JSON, say), or one of the CSRF headers, which a cross-site page cannot add without that preflight.
 * A GET or form has neither unless a script that passed CORS added the header.
 */
export function passesCsrfCheck(header: HeaderLookup): boolean {
  const contentType = header('content-type')?.toLowerCase();
  if (contentType && !NON_PREFLIGHTED_CONTENT_TYPES.some((simple) => contentType.startsWith(simple))) return true;
  return CSRF_HEADERS.some((name) => header(name) != null);
}

export function csrfRefusal(): GraphQLError {
  return createGraphQLError('Required CSRF header(s) not present', { extensions: { http: { status: 403 } } });
}

// --- CORS -----------------------------------------------------------------------------------------

/** Methods a listed origin may use, as the preflight answer says. */
const CORS_METHODS = 'POST, GET, OPTIONS';

/**
 * The CORS headers of an answer to `origin`, with credentials, when it is one of `origins`; none for
 * any other origin — `null` included, the origin of sandboxed iframes and data: pages. (Yoga's own
 * handling answered an unlisted origin `Access-Control-Allow-Origin: null` with credentials once two
 * or more origins were listed.) `requestedHeaders` is a preflight's Access-Control-Request-Headers.
 */
export function corsHeaders(
  origins: readonly string[],
  origin: string | null | undefined,
  requestedHeaders: string | null | undefined,
): Record<string, string> | undefined {
  if (!origin || !origins.includes(origin)) return undefined;
  const headers: Record<string, string> = { 'access-control-allow-origin': origin };
  // With several origins the answer depends on the request's Origin: caches must key on it.
  let vary = origins.length > 1 ? 'Origin' : undefined;
  headers['access-control-allow-methods'] = CORS_METHODS;
  if (requestedHeaders) {
    headers['access-control-allow-headers'] = requestedHeaders;
    vary = vary ? `${vary}, Access-Control-Request-Headers` : 'Access-Control-Request-Headers';
  }
  if (vary) headers['vary'] = vary;
  headers['access-control-allow-credentials'] = 'true';
  return headers;
}

// --- caching and cookies --------------------------------------------------------------------------

/** Answers carry fresh tokens: no browser, proxy or CDN may keep a copy. */
export const ANSWER_CACHE_CONTROL = 'no-store';

/**
 * Cookie mode: the refresh-token cookies resolvers queued for `request`, unless the answer carries an
 * error or a 4xx/5xx status. A client that reads an error may retry or give up, and must not have its
 * cookie replaced behind its back by a half-successful operation.
 */
export function answerCookies(request: object, hasErrors: boolean, status: number): readonly string[] {
  if (hasErrors || status >= 400) return [];
  return queuedCookies(request);
}

// --- limits at execution --------------------------------------------------------------------------

/**
 * The upstream call cap: the answer refusing an operation that would make more distinct Kibo calls
 * than `maxCalls` (identical calls count once, as the per-request DataLoader makes them once), or
 * undefined when it may run. `known` is the count worked out at start for a trusted document.
 */
export function upstreamCallRefusal(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variableValues: Record<string, unknown> | null | undefined,
  context: GatewayContext,
  maxCalls: number,
  known: number | undefined,
): ExecutionResult | undefined {
  let calls = known;
  if (calls === undefined) {
    const operation = getOperationAST(document, operationName);
    if (!operation || operation.operation !== 'mutation') return undefined;
    // Variables that do not coerce fail execution on their own, with BAD_USER_INPUT.
    const variables = coercedVariables(schema, operation, variableValues ?? undefined);
    if (!variables) return undefined;
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const definition of document.definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
    }
    calls = context.callPlan.callsOf(schema, operation, fragments, variables).length;
  }
  if (calls <= maxCalls) return undefined;
  return {
    errors: [
      createGraphQLError(
        `This operation would make ${calls} distinct Kibo calls; ` +
          `at most ${maxCalls} ${maxCalls === 1 ? 'is' : 'are'} allowed per request. Send them as separate requests.`,
        { extensions: { code: UPSTREAM_CALL_LIMIT, limit: maxCalls, calls } },
      ),
    ],
  };
}

/** One sweep per MAX_EXECUTION_MS value (a setting, so one in practice): no timer per request. */
const executionSweeps = new Map<number, DeadlineSweep>();

function executionSweep(maxMs: number): DeadlineSweep {
  let sweep = executionSweeps.get(maxMs);
  if (!sweep) executionSweeps.set(maxMs, (sweep = DeadlineSweep.forTimeout(maxMs)));
  return sweep;
}

/**
 * `MAX_EXECUTION_MS`: an execution still running after `maxMs` answers EXECUTION_TIMEOUT alone, and
 * its later fields fail at once (through the answer budget's refusal) instead of doing work nobody
 * will read. A synchronous execution (no Kibo call) is over already and passes through. Deadlines are
 * checked by one shared interval (as the Kibo client's are), so one may be noticed up to an eighth
 * of `maxMs` (at most 100 ms) late.
 */
export function withDeadline<T>(
  execution: T | Promise<T>,
  maxMs: number,
  context: GatewayContext,
): T | Promise<T | ExecutionResult> {
  if (!(execution instanceof Promise)) return execution;
  const sweep = executionSweep(maxMs);
  return new Promise<T | ExecutionResult>((resolve, reject) => {
    const overdue: SweptCall = {
      deadline: performance.now() + maxMs,
      callerSignal: undefined,
      sweepSlot: -1,
      abort: () => {
        sweep.untrack(overdue);
        const error = createGraphQLError(`The operation took longer than ${maxMs} ms (MAX_EXECUTION_MS).`, {
          extensions: { code: EXECUTION_TIMEOUT, limit: maxMs },
        });
        context.answer.refusal ??= error;
        resolve({ errors: [error] });
      },
    };
    sweep.track(overdue);
    execution.then(
      (result) => {
        sweep.untrack(overdue);
        resolve(result);
      },
      (error: unknown) => {
        sweep.untrack(overdue);
        reject(error);
      },
    );
  });
}

/**
 * Nothing half-sent: when the answer passed its byte budget (`requests/answer-budget.ts`), the fields
 * resolved before it are dropped too, and the answer is the RESPONSE_TOO_LARGE error alone.
 */
export function withinAnswerBudget(result: ExecutionResult, context: GatewayContext): ExecutionResult {
  const refusal = context.answer?.refusal;
  return refusal ? { errors: [refusal as GraphQLError] } : result;
}

// --- errors ---------------------------------------------------------------------------------------

export const MASKED_MESSAGE = 'Unexpected error.';

/**
 * Unexpected errors (anything not raised as a GraphQL error on purpose) become "Unexpected error."
 * with INTERNAL_SERVER_ERROR and nothing internal — never dev mode, whatever NODE_ENV says, since dev
 * mode sends messages and stacks to the client. Yoga's own masking, pinned to production.
 */
export function maskError(error: unknown, message: string = MASKED_MESSAGE): Error {
  return yogaMaskError(error, message, false);
}

/**
 * graphql-js answers without `data` only when it could not start executing: the variables failed to
 * coerce to their declared types. That is the caller's input: BAD_USER_INPUT.
 */
export function codeInputErrors(result: ExecutionResult): void {
  if ('data' in result || !result.errors) return;
  for (const error of result.errors) (error.extensions as Record<string, unknown>).code ??= BAD_USER_INPUT;
}

/**
 * The last word on error shape. Every error a client receives names a code (Yoga's own HTTP-level
 * refusals come without; they are the request's fault, so BAD_REQUEST), and none carries
 * `originalError`, which Yoga adds to a JSON parse failure with the parser's excerpt of the body —
 * possibly a token.
 */
export function makeErrorsClientSafe(result: ExecutionResult): void {
  for (const error of result.errors ?? []) {
    const extensions = error.extensions as Record<string, unknown> | undefined;
    if (extensions) {
      extensions.code ||= BAD_REQUEST;
      delete extensions.originalError;
    } else Object.defineProperty(error, 'extensions', { value: { code: BAD_REQUEST }, enumerable: true });
  }
}

// --- Yoga's answer, mirrored for the fast path ----------------------------------------------------

export type RegularMediaType = 'application/json' | 'application/graphql-response+json';
const REGULAR_MEDIA_TYPES: readonly RegularMediaType[] = ['application/graphql-response+json', 'application/json'];

/**
 * The media type Yoga answers a single result with, for this Accept header; undefined when Yoga would
 * answer otherwise (an event stream, multipart, 406). Yoga lets every processor that matches any
 * accepted type claim the result in turn, the JSON one last: the JSON types win whenever one matches,
 * and among them the match met last — Accept's entries are walked from the last to the first.
 */
export function regularMediaType(accept: string | null | undefined): RegularMediaType | undefined {
  const entries = (accept || '*/*').replace(/\s/g, '').toLowerCase().split(',').reverse();
  let chosen: RegularMediaType | undefined;
  for (const entry of entries) {
    const [mediaType, ...params] = entry.split(';');
    // Only UTF-8 is served; an entry asking for another charset is skipped.
    const charset = params.find((param) => param.includes('charset=')) ?? 'charset=utf-8';
    if (charset !== 'charset=utf-8' || mediaType === undefined) continue;
    const [asked, askedSub] = mediaType.split('/');
    for (const candidate of REGULAR_MEDIA_TYPES) {
      const [type, subtype] = candidate.split('/');
      if ((asked === '*' || asked === type) && (askedSub === '*' || askedSub === subtype)) chosen = candidate;
    }
  }
  return chosen;
}

/**
 * The status Yoga gives an executed result: the highest `extensions.http.status` of its errors (a
 * GraphQL-over-HTTP `spec` status is not applied to legacy `application/json` clients), 500 for an
 * unexpected error with no data, else 200.
 */
export function resultStatus(result: ExecutionResult, mediaType: RegularMediaType): number {
  if (!result.errors?.length) return 200;
  let status: number | undefined;
  let unexpected = false;
  for (const error of result.errors) {
    const http = error.extensions?.['http'] as { status?: number; spec?: boolean } | undefined;
    if (http) {
      if (mediaType === 'application/json' && http.spec) continue;
      if (http.status && (!status || http.status > status)) status = http.status;
    } else if (!isOriginalGraphQLError(error) || error.extensions?.['unexpected']) unexpected = true;
  }
  return status ?? (unexpected && !('data' in result) ? 500 : 200);
}

/** A GraphQL error raised on purpose: every error in its `originalError` chain is a GraphQL error. */
function isOriginalGraphQLError(error: unknown): boolean {
  if (!(error instanceof GraphQLError)) return false;
  return error.originalError == null || isOriginalGraphQLError(error.originalError);
}

/** The JSON body of a result as Yoga writes it: errors as GraphQL errors print, without `http` or `unexpected`. */
export function resultJson(result: ExecutionResult): string {
  if (!result.errors?.length) return JSON.stringify(result);
  return JSON.stringify({ ...result, errors: result.errors.map(errorJson) });
}

function errorJson(error: GraphQLError) {
  const { http: _http, unexpected: _unexpected, ...extensions } = error.extensions ?? {};
  return {
    message: error.message,
    locations: error.locations?.length ? error.locations : undefined,
    path: error.path,
    extensions: Object.keys(extensions).length ? extensions : undefined,
  };
}
