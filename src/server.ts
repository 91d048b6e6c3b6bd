/**
 * The Yoga app: schema, GraphiQL, health and request logging. It builds a fetch-style handler and
 * knows nothing of ports; `gateway.ts` puts it on a socket.
 */
import { readFileSync } from 'node:fs';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { useDisableIntrospection } from '@graphql-yoga/plugin-disable-introspection';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { GatewayContext } from './builder.js';
import type { KiboClient } from './kibo/client.js';
import type { Logger } from './logger.js';
import type { BrowserConfig, OperationLimits } from './config.js';
import { GRAPHQL_PATH, HEALTH_PATH } from './paths.js';
import { clientSafeErrors, inputErrorCodes } from './request-errors.js';
import { schema } from './schema/index.js';
import { noStore } from './security/no-store.js';
import { operationLimits } from './security/operation-limits.js';
import { refreshTokenCookies } from './security/refresh-token-cookie.js';
import { upstreamCallCap } from './security/upstream-call-cap.js';

export interface GatewayAppOptions {
  kibo: KiboClient;
  projection: boolean;
  logger: Logger;
  limits: OperationLimits;
  browser: BrowserConfig;
  refreshTokenCookie: string | undefined;
  /** Headers GraphiQL opens with; the embedded emulator's demo identity in development. */
  graphiqlHeaders?: Record<string, string> | undefined;
}

export type GatewayYoga = YogaServerInstance<Record<string, unknown>, Omit<GatewayContext, 'request'>>;

/** What GraphiQL opens with: the README's example, kept as a .graphql file that codegen checks against the schema. */
export const EXAMPLE_OPERATION = readFileSync(new URL('../schema/operations/SwitchTenant.graphql', import.meta.url), 'utf8');

export function createGatewayApp(options: GatewayAppOptions): GatewayYoga {
  const { browser, limits } = options;
  let graphiqlPage: Promise<string> | undefined;
  return createYoga<Record<string, unknown>, Omit<GatewayContext, 'request'>>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: HEALTH_PATH,
    landingPage: false,
    // Never dev mode, whatever NODE_ENV says: dev mode sends unexpected errors' messages and
    // stacks to the client.
    maskedErrors: { isDev: false },
    // Enforced on the raw request instead (security/body-limit.ts), where it costs nothing.
    maxRequestBodySize: false,
    // An array of operations would multiply Kibo calls past the per-request cap: not accepted.
    batching: false,
    // No CORS headers unless origins are configured: browsers then allow same-origin use only.
    cors: browser.corsOrigins.length ? { origin: browser.corsOrigins, credentials: true, methods: ['POST', 'GET', 'OPTIONS'] } : false,
    graphiql: browser.graphiql && {
      title: 'kibo-auth-gateway',
      defaultQuery: EXAMPLE_OPERATION,
      headers: JSON.stringify(options.graphiqlHeaders ?? { Authorization: 'Bearer <your Kibo JWT>', 'X-Kibo-Refresh-Token': '<your refresh token>' }, null, 2),
    },
    // GraphiQL's assets ship inside the package, so the page works without reaching a CDN. They
    // weigh ~45 MiB in memory: loaded on the first visit, never by an API-only deployment; the
    // 9 MB page is rendered once, as its options never change.
    renderGraphiQL: (graphiqlOptions) => (graphiqlPage ??= import('@graphql-yoga/render-graphiql').then(({ renderGraphiQL }) => renderGraphiQL(graphiqlOptions))),
    context: () => ({ kibo: options.kibo, projection: options.projection, refreshTokenCookie: options.refreshTokenCookie }),
    logging: yogaLogger(options.logger),
    plugins: [
      // Requests a browser would send without a CORS preflight must carry a custom header.
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight'] }),
      ...(browser.introspection ? [] : [useDisableIntrospection()]),
      ...operationLimits(limits),
      upstreamCallCap(limits.maxUpstreamCalls),
      inputErrorCodes(),
      clientSafeErrors(),
      refreshTokenCookies(),
      noStore(),
      requestLogging(options.logger),
    ],
  });
}

/** Yoga's own diagnostics, routed into the structured log. */
function yogaLogger(logger: Logger) {
  const forward = (level: 'debug' | 'info' | 'warn' | 'error') => (...args: unknown[]) => {
    const [first, ...rest] = args;
    if (first instanceof Error) logger[level]({ err: first }, rest.map(String).join(' ') || first.message);
    else logger[level](args.map((arg) => (arg instanceof Error ? arg.message : String(arg))).join(' '));
  };
  return { debug: forward('debug'), info: forward('info'), warn: forward('warn'), error: forward('error') };
}

/** One line per request: what was asked and how it went. Never headers, variables or bodies. */
function requestLogging(logger: Logger): Plugin {
  if (!logger.isLevelEnabled('info')) return {};
  const started = new WeakMap<Request, { at: number; operationName?: string | undefined }>();
  return {
    onRequest({ request }) {
      started.set(request, { at: performance.now() });
    },
    onParams({ request, params }) {
      const entry = started.get(request);
      if (entry) entry.operationName = params.operationName ?? undefined;
    },
    onResponse({ request, response }) {
      const entry = started.get(request);
      const path = new URL(request.url).pathname;
      if (path === HEALTH_PATH) return;
      logger.info(
        {
          method: request.method,
          path,
          status: response.status,
          operationName: entry?.operationName,
          durationMs: entry ? Math.round((performance.now() - entry.at) * 100) / 100 : undefined,
        },
        'request',
      );
    },
  };
}
