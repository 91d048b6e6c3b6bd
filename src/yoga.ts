/**
 * The Yoga app: the schema, the plugins in the order a request meets them, GraphiQL and health. It
 * builds a fetch-style handler and knows nothing of ports; `http/listener.ts` puts it on a socket.
 */
import { readFileSync } from 'node:fs';
import type { GraphQLSchema } from 'graphql';
import { createYoga, type YogaServerInstance } from 'graphql-yoga';
import { maskError } from './answer-rules.js';
import type { EntityCache } from './cache/entity-cache.js';
import { ConfigError, type BrowserConfig, type OperationLimits, type TrustedDocumentsConfig } from './config.js';
import type { KiboClient } from './kibo/client.js';
import { GRAPHQL_PATH, HEALTH_PATH } from './paths.js';
import { boundedParserCache } from './plugins/bounded-parser-cache.js';
import { useAnswerBudget } from './plugins/use-answer-budget.js';
import { useExecutionDeadline } from './plugins/use-execution-deadline.js';
import { useCors } from './plugins/use-cors.js';
import { useClientSafeErrors } from './plugins/use-client-safe-errors.js';
import { useCsrfPrevention } from './plugins/use-csrf-prevention.js';
import { useInputErrorCodes } from './plugins/use-input-error-codes.js';
import { graphiqlAssets, useGraphiQLAssets } from './plugins/use-graphiql-assets.js';
import { useIntrospectionSwitch } from './plugins/use-introspection-switch.js';
import { useNoStore } from './plugins/use-no-store.js';
import { useOperationLimits } from './plugins/use-operation-limits.js';
import { useRefreshTokenCookie } from './plugins/use-refresh-token-cookie.js';
import { useRequestLogging } from './plugins/use-request-logging.js';
import { DOCUMENT_ID_PARAM, useTrustedDocuments } from './plugins/use-trusted-documents.js';
import { useSafeRequestParsing } from './plugins/use-safe-request-parsing.js';
import { useUpstreamCallCap } from './plugins/use-upstream-call-cap.js';
import { CredentialConcurrencyLimit } from './requests/concurrency-limit.js';
import { createRequestContext, type GatewayContext, type RequestSettings } from './requests/context.js';
import { gatewayNeeds } from './requests/switch-tenant.js';
import { schema } from './schema/index.js';
import type { Logger } from './telemetry/logger.js';
import { noteKiboCorrelationIds } from './telemetry/request-notes.js';
import {
  DEFAULT_MANIFEST_URL,
  loadTrustedDocuments,
  ManifestError,
  TrustedDocuments,
} from './trusted-documents/manifest.js';
import { PreparedDocuments } from './trusted-documents/prepare.js';
import { SCHEMA_FOLDER } from './schema-folder.js';
import type { Tracing } from './telemetry/tracing.js';

export interface YogaAppOptions {
  kibo: KiboClient;
  /** The private entity cache for `_entities`; undefined when ENTITY_CACHE is off. */
  entityCache?: EntityCache | undefined;
  /** `KIBO_MAX_CONCURRENT_PER_CREDENTIAL`: Kibo calls one credential may have in flight at once (default: no cap). */
  maxConcurrentPerCredential?: number | undefined;
  projection: boolean;
  logger: Logger;
  limits: OperationLimits;
  browser: BrowserConfig;
  refreshTokenCookie: string | undefined;
  trustedDocuments: TrustedDocumentsConfig;
  /** Headers GraphiQL opens with; the embedded emulator's demo identity in development. */
  graphiqlHeaders?: Record<string, string> | undefined;
  /** Present only when tracing is on: its plugin goes first, so its spans wrap the whole pipeline. */
  tracing?: Pick<Tracing, 'yogaPlugins' | 'traceFields'> | undefined;
}

export type GatewayYoga = YogaServerInstance<Record<string, unknown>, GatewayContext>;

/** What GraphiQL opens with: the README's example, kept as a .graphql file that codegen checks against the schema. */
export const EXAMPLE_OPERATION = readFileSync(new URL('operations/SwitchTenant.graphql', SCHEMA_FOLDER), 'utf8');

/**
 * What the trusted documents' fast path (`http/trusted-path.ts`) shares with the Yoga app, so both
 * serve a manifest document from the same parsed document, prepared work and request settings.
 */
export interface TrustedServing {
  schema: GraphQLSchema;
  trusted: TrustedDocuments;
  prepared: PreparedDocuments;
  settings: RequestSettings;
}

export interface GatewayApp {
  yoga: GatewayYoga;
  trusted: TrustedServing;
}

export function createYogaApp(options: YogaAppOptions): GatewayYoga {
  return createGatewayApp(options).yoga;
}

export function createGatewayApp(options: YogaAppOptions): GatewayApp {
  const { browser, limits } = options;
  const settings: RequestSettings = {
    kibo: options.kibo,
    entityCache: options.entityCache,
    kiboConcurrency: new CredentialConcurrencyLimit(options.maxConcurrentPerCredential ?? Number.POSITIVE_INFINITY),
    projection: options.projection,
    refreshTokenCookie: options.refreshTokenCookie,
    maxResponseBytes: limits.maxResponseBytes,
  };
  let graphiqlPage: Promise<string> | undefined;
  const trustedMode = options.trustedDocuments.mode;
  const trusted = trustedMode === 'off' ? new TrustedDocuments([]) : loadManifest(options.trustedDocuments);
  // Calls and projections of trusted documents, worked out now rather than per request.
  const prepared = new PreparedDocuments(trusted, {
    schema,
    budget: options.kibo.queryBudget,
    needs: gatewayNeeds(options),
    projection: options.projection,
  });
  const parserCache = boundedParserCache();
  const yoga = createYoga<Record<string, unknown>, GatewayContext>({
    schema,
    // Keyed by the query text clients send: bounded by weight, not only by count.
    parserAndValidationCache: parserCache.options,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: HEALTH_PATH,
    landingPage: false,
    // Never dev mode, whatever NODE_ENV says: dev mode sends unexpected errors' messages and
    // stacks to the client.
    maskedErrors: { isDev: false, maskError },
    // Enforced on the raw request instead (http/body-limit.ts), where it costs nothing.
    maxRequestBodySize: false,
    // An array of operations would multiply Kibo calls past the per-request cap: not accepted.
    batching: false,
    // Multipart bodies carry file uploads, which no field here takes: refused with a coded 415
    // (plugins/use-client-safe-errors.ts) rather than parsed.
    multipart: false,
    // GraphQL over HTTP names a persisted document with `documentId`; Yoga refuses unknown params.
    extraParamNames: trustedMode === 'off' ? [] : [DOCUMENT_ID_PARAM],
    // CORS is the plugin's below (answer-rules.ts), shared with the trusted documents' fast path.
    cors: false,
    graphiql: browser.graphiql && {
      title: 'kibo-auth-gateway',
      defaultQuery: EXAMPLE_OPERATION,
      headers: JSON.stringify(
        options.graphiqlHeaders ?? {
          Authorization: 'Bearer <your Kibo JWT>',
          'X-Kibo-Refresh-Token': '<your refresh token>',
        },
        null,
        2,
      ),
    },
    // GraphiQL's assets ship inside the package, so the page works without reaching a CDN; the page
    // names them by hash, served compressed and immutable (plugins/use-graphiql-assets.ts), and is
    // rendered once, as its options never change.
    renderGraphiQL: (graphiqlOptions) =>
      (graphiqlPage ??= graphiqlAssets().then((assets) =>
        assets.page({ ...graphiqlOptions }, graphiqlOptions?.title ?? 'GraphiQL'),
      )),
    context: notedContext(settings, options.logger),
    logging: yogaLogger(options.logger),
    // The request pipeline, in order: the trace around it all (when on), HTTP-level refusals, then
    // the document's shape, then what executing it would cost Kibo, then the answer's codes and
    // headers, then the log line.
    plugins: [
      ...(options.tracing?.yogaPlugins ?? []),
      ...useCors({ origins: browser.corsOrigins }),
      ...(browser.graphiql ? [useGraphiQLAssets()] : []),
      useSafeRequestParsing(),
      useCsrfPrevention(),
      ...useTrustedDocuments({
        mode: trustedMode,
        trusted,
        introspection: browser.introspection,
        maxTokens: limits.maxTokens,
      }),
      ...useIntrospectionSwitch({ introspection: browser.introspection, subgraphSdl: browser.subgraphSdl }),
      ...useOperationLimits(limits),
      useUpstreamCallCap({ maxCalls: limits.maxUpstreamCalls, knownCalls: (document) => prepared.callsOf(document) }),
      useExecutionDeadline({ maxMs: limits.maxExecutionMs }),
      useAnswerBudget(),
      useInputErrorCodes(),
      useClientSafeErrors(),
      // Only cookie mode queues cookies: without it the plugin's two hooks would run for nothing.
      ...(options.refreshTokenCookie ? [useRefreshTokenCookie()] : []),
      useNoStore(),
      useRequestLogging({ logger: options.logger, traceFields: options.tracing?.traceFields }),
    ],
  });
  validateOnce(yoga, trusted);
  parserCacheChars.set(yoga, parserCache.heldChars);
  return { yoga, trusted: { schema, trusted, prepared, settings } };
}

const parserCacheChars = new WeakMap<GatewayYoga, () => number>();

/** Characters of query text an app's parse caches hold now; for tests of their bound. */
export function heldParserCacheChars(yoga: GatewayYoga): number {
  return parserCacheChars.get(yoga)?.() ?? 0;
}

function loadManifest(config: TrustedDocumentsConfig): TrustedDocuments {
  try {
    return loadTrustedDocuments(config.manifest ?? DEFAULT_MANIFEST_URL, schema);
  } catch (error) {
    if (error instanceof ManifestError) throw new ConfigError('TRUSTED_DOCUMENTS_MANIFEST', error.message);
    throw error;
  }
}

/**
 * Runs each trusted document through the app's own validation — the schema's rules plus every limit
 * and switch the plugins add — once, now: Yoga caches the result on the DocumentNode that requests
 * naming the document share, so no request validates it again. One the limits refuse stops the start.
 */
function validateOnce(yoga: GatewayYoga, trusted: TrustedDocuments): void {
  if (!trusted.size) return;
  const { schema: served, validate } = yoga.getEnveloped({});
  for (const entry of trusted) {
    let errors: readonly { message: string }[];
    try {
      errors = validate(served, entry.document);
    } catch (error) {
      // Some graphql-armor limits throw instead of reporting.
      errors = [error as Error];
    }
    if (errors.length)
      throw new ConfigError(
        'TRUSTED_DOCUMENTS_MANIFEST',
        `${entry.id} (${entry.operationName ?? 'anonymous'}) is refused by this gateway's limits: ${errors.map((e) => e.message).join('; ')}`,
      );
  }
}

/**
 * The context factory: each request's context, and — when request lines are written at all — its Kibo
 * calls' correlation ids noted for its line (the list fills as the calls complete; the line reads it
 * when the response closes). Noted here rather than in a plugin's `onExecute`, which would add a hook
 * to every execution.
 */
function notedContext(settings: RequestSettings, logger: Logger) {
  const notesCalls = logger.isLevelEnabled('warn');
  return ({ request, req }: { request: Request; req?: unknown }): GatewayContext => {
    const context = createRequestContext(settings, request);
    if (notesCalls && typeof req === 'object' && req !== null) noteKiboCorrelationIds(req, context.kiboCorrelationIds);
    return context;
  };
}

/**
 * Yoga's own diagnostics, routed into the structured log. Yoga calls `debug` several times on every
 * request: below the logger's level a call returns before it formats anything.
 */
function yogaLogger(logger: Logger) {
  const forward =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...args: unknown[]) => {
      if (!logger.isLevelEnabled(level)) return;
      const [first, ...rest] = args;
      if (first instanceof Error) logger[level]({ err: first }, rest.map(String).join(' ') || first.message);
      else logger[level](args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' '));
    };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}
