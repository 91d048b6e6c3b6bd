/**
 * The Node HTTP server: puts the Yoga app on a socket with its Kibo client, and takes both down gracefully:
 * stop accepting, let in-flight requests finish within the grace period, then close the pool.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayConfig } from '../config.js';
import { KiboClient, type UpstreamCallEvent } from '../kibo/client.js';
import { GRAPHQL_PATH } from '../paths.js';
import type { Logger } from '../telemetry/logger.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { createYogaApp, type GatewayYoga } from '../yoga.js';
import { refuseOversizedBody } from './body-limit.js';

export interface GatewayOptions {
  config: GatewayConfig;
  /** Where Kibo is: the configured base URL or the embedded emulator's. */
  kiboBaseUrl: string;
  logger: Logger;
  graphiqlHeaders?: Record<string, string> | undefined;
  onUpstreamCall?: ((event: UpstreamCallEvent) => void) | undefined;
}

export interface RunningGateway {
  url: string;
  graphqlUrl: string;
  port: number;
  server: Server;
  yoga: GatewayYoga;
  /** Resolves once in-flight requests are done (or the grace period is over) and the pool is closed. */
  stop(graceMs?: number): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger } = options;
  const metrics = config.metrics ? new GatewayMetrics() : undefined;
  const kibo = new KiboClient(options.kiboBaseUrl, config.upstream, (event) => {
    logger.debug({ upstream: event }, 'kibo call');
    metrics?.recordUpstreamCall(event);
    options.onUpstreamCall?.(event);
  });
  const yoga = createYogaApp({
    kibo,
    projection: config.projection,
    logger,
    limits: config.limits,
    browser: config.browser,
    refreshTokenCookie: config.refreshTokenCookie,
    graphiqlHeaders: options.graphiqlHeaders,
  });
  const server = createServer((request, response) => {
    if (metrics) {
      if (metrics.serve(request, response)) return;
      response.once('finish', () => metrics.recordResponse(response.statusCode));
    }
    if (!refuseOversizedBody(request, response, config.limits.maxBodyBytes)) void yoga(request, response);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = config.shutdownGraceMs) => (stopping ??= shutDown(server, kibo, graceMs));

  return { url, graphqlUrl: `${url}${GRAPHQL_PATH}`, port, server, yoga, stop };
}

async function shutDown(server: Server, kibo: KiboClient, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Keep-alive sockets would hold close() open: drop each one as soon as it has no request on it.
  const sweeper = setInterval(() => server.closeIdleConnections(), 50);
  server.closeIdleConnections();
  let graceTimer: NodeJS.Timeout | undefined;
  const graceOver = new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, graceMs)));
  await Promise.race([closed, graceOver]);
  clearInterval(sweeper);
  clearTimeout(graceTimer);
  server.closeAllConnections();
  await closed;
  await kibo.close();
}
