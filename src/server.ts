/**
 * The Yoga app: schema, GraphiQL, health and request logging. It builds a fetch-style handler and
 * knows nothing of ports; `gateway.ts` puts it on a socket.
 */
import { readFileSync } from 'node:fs';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import type { GatewayContext } from './builder.js';
import type { KiboClient } from './kibo/client.js';
import type { Logger } from './logger.js';
import { inputErrorCodes } from './request-errors.js';
import { schema } from './schema/index.js';

export interface GatewayAppOptions {
  kibo: KiboClient;
  projection: boolean;
  logger: Logger;
  /** Headers GraphiQL opens with; the embedded emulator's demo identity in development. */
  graphiqlHeaders?: Record<string, string> | undefined;
}

export type GatewayYoga = YogaServerInstance<Record<string, unknown>, Omit<GatewayContext, 'request'>>;

export const GRAPHQL_PATH = '/graphql';

/** What GraphiQL opens with: the README's example, kept as a .graphql file that codegen checks against the schema. */
export const EXAMPLE_OPERATION = readFileSync(new URL('../schema/operations/SwitchTenant.graphql', import.meta.url), 'utf8');

export function createGatewayApp(options: GatewayAppOptions): GatewayYoga {
  return createYoga<Record<string, unknown>, Omit<GatewayContext, 'request'>>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/health',
    landingPage: false,
    // GraphiQL's assets ship inside the package, so the page works without reaching a CDN.
    renderGraphiQL,
    graphiql: {
      title: 'kibo-auth-gateway',
      defaultQuery: EXAMPLE_OPERATION,
      headers: JSON.stringify(options.graphiqlHeaders ?? { Authorization: 'Bearer <your Kibo JWT>', 'X-Kibo-Refresh-Token': '<your refresh token>' }, null, 2),
    },
    context: () => ({ kibo: options.kibo, projection: options.projection }),
    logging: yogaLogger(options.logger),
    plugins: [inputErrorCodes(), requestLogging(options.logger)],
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
      if (path === '/health') return;
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
