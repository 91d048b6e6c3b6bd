/**
 * The precompiled path for trusted documents. A request naming a manifest document by id is known
 * down to its parsed, validated document, its call count and its projection before it arrives; what
 * Yoga's fetch-API stack adds around that (a Request and a Response object, their header maps and
 * signals, the plugin pipeline) costs more than the operation itself. Such a request is served here
 * on the Node request and response: id lookup, variable coercion, execution (compiled once by
 * graphql-jit, or graphql-js's executor for documents using @skip/@include), and the
 * answer — codes, masking, status, headers, cookies — by the same rules Yoga's plugins follow
 * (`answer-rules.ts`), so both paths answer alike (`test/gateway/trusted-path.test.ts` checks it).
 *
 * Everything else goes to Yoga untouched: any method but POST, any path but /graphql, a body that is
 * not JSON, an Accept header Yoga would answer otherwise, a full document, an unknown id, variables
 * that do not coerce (Yoga words and codes that refusal), any parameter it does not expect. Once the
 * body is read, Yoga gets it handed over with the request, as a body already read.
 */
import type { IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { BREAK, execute, visit, type DocumentNode, type ExecutionResult, type GraphQLError } from 'graphql';
import { compileQuery, isCompiledQuery, type CompiledQuery } from 'graphql-jit';
import type { GraphQLParams } from 'graphql-yoga';
import {
  ANSWER_CACHE_CONTROL,
  answerCookies,
  corsHeaders,
  makeErrorsClientSafe,
  maskError,
  passesCsrfCheck,
  regularMediaType,
  resultJson,
  resultStatus,
  upstreamCallRefusal,
  withDeadline,
  withinAnswerBudget,
  type RegularMediaType,
} from '../answer-rules.js';
import type { OperationLimits } from '../config.js';
import { GRAPHQL_PATH } from '../paths.js';
import { persistedDocumentId } from '../plugins/use-trusted-documents.js';
import { createRequestContext, type RequestView } from '../requests/context.js';
import type { Logger } from '../telemetry/logger.js';
import type { GatewayMetrics } from '../telemetry/metrics.js';
import { noteKiboCorrelationIds, noteOperationName } from '../telemetry/request-notes.js';
import type { TrustedDocument } from '../trusted-documents/manifest.js';
import type { TrustedServing } from '../yoga.js';

export interface TrustedPathOptions {
  /** The manifest, prepared work, schema and request settings the Yoga app serves with. */
  serving: TrustedServing;
  /** `MAX_UPSTREAM_CALLS` and `MAX_EXECUTION_MS` apply here as in Yoga. */
  limits: Pick<OperationLimits, 'maxUpstreamCalls' | 'maxExecutionMs'>;
  /** `CORS_ORIGINS`. */
  corsOrigins: readonly string[];
  /** Masked errors are logged here, as Yoga logs them. */
  logger: Logger;
  /** Counts what the path served and what it handed over (`trusted_fast_path_requests_total`). */
  metrics: GatewayMetrics | undefined;
  /** Yoga: serves whatever this path does not. */
  fallback: (request: IncomingMessage, response: ServerResponse) => void;
}

/** The parameters a persisted request may carry (GraphQL over HTTP's, and `documentId`). */
const PERSISTED_PARAMS = new Set(['documentId', 'variables', 'operationName', 'extensions']);

export class TrustedPath {
  private readonly notesOperations: boolean;
  /** Manifest documents compiled to JavaScript once, at start (graphql-jit). */
  private readonly compiled = new Map<TrustedDocument, CompiledQuery>();

  constructor(private readonly options: TrustedPathOptions) {
    // As the Yoga plugin notes it: only when a request line can be written at all.
    this.notesOperations = options.logger.isLevelEnabled('warn');
    for (const entry of options.serving.trusted) {
      // graphql-jit mishandles @skip/@include on fields merged under one response key: documents
      // with either directive keep graphql-js's own executor.
      if (hasConditionalDirectives(entry.document)) continue;
      const query = compileQuery(options.serving.schema, entry.document, entry.operationName);
      if (isCompiledQuery(query)) this.compiled.set(entry, query);
    }
  }

  /**
   * Takes the request and returns true when it may be a persisted one (it then answers it or hands it
   * to Yoga itself); returns false, having touched nothing, for anything else.
   */
  serve(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== 'POST' || request.url !== GRAPHQL_PATH) return false;
    const headers = request.headers;
    // JSON only (as Yoga reads it: the first of a list, parameters allowed): a form or text/plain body
    // is a request a browser sends cross-site without a preflight, and Yoga's to judge.
    const contentType = headers['content-type']?.split(',', 1)[0];
    if (contentType !== 'application/json' && !contentType?.startsWith('application/json;')) return false;
    if (!passesCsrfCheck(headerLookup(headers))) return false;
    const mediaType = regularMediaType(headers.accept);
    if (!mediaType) return false;
    // No body to read (an empty one is Yoga's refusal to word).
    const length = headers['content-length'];
    if (length === undefined || length === '0') return false;

    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.once('end', () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      this.answer(request, response, body, mediaType).catch((error: unknown) => this.fail(response, error));
    });
    // A client gone mid-body: nothing to answer; the listener logs the request as cut short.
    return true;
  }

  private async answer(
    request: IncomingMessage,
    response: ServerResponse,
    body: Buffer,
    mediaType: RegularMediaType,
  ): Promise<void> {
    const { serving, limits } = this.options;
    const persisted = persistedRequestOf(body, serving);
    if (!persisted) return this.handOver(request, response, body);

    const view = new NodeRequestView(request, response);
    const context = createRequestContext(serving.settings, view);
    if (this.notesOperations) noteKiboCorrelationIds(request, context.kiboCorrelationIds);
    const { document } = persisted.entry;
    const refusal = upstreamCallRefusal(
      serving.schema,
      document,
      persisted.operationName,
      persisted.variables,
      context,
      limits.maxUpstreamCalls,
      serving.prepared.callsOf(document),
    );
    let result: ExecutionResult;
    if (refusal) {
      this.served(request, persisted);
      result = refusal;
    } else {
      // Compiled, the operation builds no per-field argument maps and resolve infos as graphql-js does
      // (measured: ~19 KB less allocated and ~15–25 % less CPU per request on this path).
      const compiled = this.compiled.get(persisted.entry);
      const execution = compiled
        ? (compiled.query(undefined, context, persisted.variables ?? {}) as ExecutionResult | Promise<ExecutionResult>)
        : execute({
            schema: serving.schema,
            document,
            contextValue: context,
            variableValues: persisted.variables,
            operationName: persisted.operationName,
          });
      // Both executors answer at once and without data only when the variables do not coerce (nothing
      // has run): Yoga words and codes that refusal. Coercing them here first would coerce them twice.
      if (!(execution instanceof Promise) && !('data' in execution)) return this.handOver(request, response, body);
      this.served(request, persisted);
      // In Yoga's order: the deadline around execution, then the answer budget, then masking. (Yoga's
      // input codes apply to results without data, which only variables that do not coerce produce.)
      result = withinAnswerBudget(await withDeadline(execution, limits.maxExecutionMs, context), context);
      if (result.errors) result = { ...result, errors: result.errors.map((error) => this.masked(error)) };
    }
    makeErrorsClientSafe(result);
    if (response.destroyed) return;

    const status = resultStatus(result, mediaType);
    const json = resultJson(result);
    const answerHeaders: OutgoingHttpHeaders = {
      'content-type': `${mediaType}; charset=utf-8`,
      'content-length': Buffer.byteLength(json),
    };
    const cors = corsHeaders(
      this.options.corsOrigins,
      headerValue(request.headers.origin),
      headerValue(request.headers['access-control-request-headers']),
    );
    if (cors) Object.assign(answerHeaders, cors);
    const cookies = answerCookies(view, Boolean(result.errors?.length), status);
    if (cookies.length) answerHeaders['set-cookie'] = [...cookies];
    answerHeaders['cache-control'] = ANSWER_CACHE_CONTROL;
    response.writeHead(status, answerHeaders);
    response.end(json);
  }

  /** Counts the request as served here, and names its operation for the listener's log line. */
  private served(request: IncomingMessage, persisted: PersistedRequest): void {
    this.options.metrics?.recordTrustedPath('served');
    if (this.notesOperations) noteOperationName(request, persisted.operationName);
  }

  /** Yoga's masking, with the original logged as Yoga logs it. */
  private masked(error: GraphQLError): GraphQLError {
    const masked = maskError(error);
    if (masked !== error) this.options.logger.error({ err: error }, error.message);
    return masked as GraphQLError;
  }

  /** Yoga serves the request, with the body already read (whatwg-node takes a read body as `body`). */
  private handOver(request: IncomingMessage, response: ServerResponse, body: Buffer): void {
    this.options.metrics?.recordTrustedPath('handed_to_yoga');
    (request as IncomingMessage & { body?: Buffer }).body = body;
    this.options.fallback(request, response);
  }

  /** A fault of this path itself: masked, as Yoga masks its own. */
  private fail(response: ServerResponse, error: unknown): void {
    this.options.logger.error({ err: error }, 'trusted documents fast path failed');
    if (response.headersSent) return void response.destroy();
    const json = JSON.stringify({
      errors: [{ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
    response.writeHead(500, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(json),
      'cache-control': ANSWER_CACHE_CONTROL,
    });
    response.end(json);
  }
}

interface PersistedRequest {
  entry: TrustedDocument;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
}

/**
 * The manifest document a body names, with its variables, when the body is exactly a persisted
 * request this path can own: a JSON object of the expected parameters of the expected types (Yoga
 * words every other refusal), no document text, an id in the manifest, and no operation name other
 * than the document's own.
 */
function persistedRequestOf(body: Buffer, serving: TrustedServing): PersistedRequest | undefined {
  let params: unknown;
  try {
    params = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isPlainObject(params)) return undefined;
  for (const key in params) if (params[key] != null && !PERSISTED_PARAMS.has(key)) return undefined;
  const { variables, operationName, extensions } = params;
  if (variables != null && !isPlainObject(variables)) return undefined;
  if (extensions != null && !isPlainObject(extensions)) return undefined;
  if (operationName != null && typeof operationName !== 'string') return undefined;
  const id = persistedDocumentId(params as GraphQLParams);
  const entry = id === null ? undefined : serving.trusted.get(id);
  if (!entry || (operationName != null && operationName !== entry.operationName)) return undefined;
  return { entry, variables: variables ?? undefined, operationName: operationName ?? undefined };
}

function hasConditionalDirectives(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    Directive(node) {
      if (node.name.value === 'skip' || node.name.value === 'include') {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What resolvers read of the request: its headers, and whether its client has gone away. The Kibo
 * client only polls for that (`gone`); an AbortSignal, with its controller and event machinery, is
 * made only for code that listens for it (a call shared between requests, a DataLoader round).
 */
class NodeRequestView implements RequestView {
  readonly gone = { aborted: false };
  readonly headers: RequestView['headers'];
  private controller: AbortController | undefined;

  constructor(request: IncomingMessage, response: ServerResponse) {
    const get = headerLookup(request.headers);
    this.headers = { get: (name) => get(name) ?? null };
    response.once('close', () => {
      if (response.writableFinished) return;
      this.gone.aborted = true;
      this.controller?.abort();
    });
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.gone.aborted) this.controller.abort();
    }
    return this.controller.signal;
  }
}

function headerLookup(headers: IncomingHttpHeaders): (name: string) => string | undefined {
  return (name) => headerValue(headers[name]);
}

/** One value per header, as fetch Headers give it: repeated headers joined with ", ". */
function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}
