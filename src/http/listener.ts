/**
 * The Node HTTP server: puts the Yoga app on a socket with its Kibo client, and takes both down gracefully
 * (the drain sequence in `drain.ts`), then closes the pool.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EntityCache, type EntityCacheObserver } from '../cache/entity-cache.js';
import type { GatewayConfig } from '../config.js';
import { KiboClient, type UpstreamCallEvent } from '../kibo/client.js';
import { GRAPHQL_PATH } from '../paths.js';
import { droppedLogLines, type Logger } from '../telemetry/logger.js';
import { GatewayMetrics } from '../telemetry/metrics.js';
import { PROJECTION_CACHE_MAX_ENTRIES, projectionCacheSize } from '../projection/response-fields.js';
import { createGatewayApp, type GatewayApp, type GatewayYoga } from '../yoga.js';
import { oversizedBody } from './body-limit.js';
import { capConnections, connectionLimitOptions } from './connection-limits.js';
import { Drain, type DrainTimings } from './drain.js';
import { duplicateCredentialHeader } from './duplicate-headers.js';
import { RequestOutcomes } from './request-outcomes.js';
import { malformedTarget } from './request-target.js';
import { TrustedPath } from './trusted-path.js';

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
  /** The entity cache, when ENTITY_CACHE is on. */
  entityCache: EntityCache | undefined;
  /**
   * The drain sequence (timings from the configuration unless given), then the Kibo pool is closed.
   * Calling it again returns the sequence already under way.
   */
  drain(timings?: Partial<DrainTimings>): Promise<void>;
  /** Drain without the delay: for tests and tools that have no balancer to wait for. */
  stop(graceMs?: number): Promise<void>;
}

export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const { config, logger } = options;
  const metrics = config.metrics ? new GatewayMetrics() : undefined;
  metrics?.watchCacheSize(
    'gateway_projection_cache_entries',
    `Entries of the per-document projection cache (at most ${PROJECTION_CACHE_MAX_ENTRIES}).`,
    projectionCacheSize,
  );
  metrics?.watchCount(
    'gateway_log_lines_dropped_total',
    'Log lines dropped because stdout was not being read (a stalled or closed log reader).',
    () => droppedLogLines(logger),
  );
  // Loaded only when configured: with tracing off, no OpenTelemetry module is ever imported.
  const tracing = config.tracing
    ? await (await import('../telemetry/tracing.js')).startTracing(config.tracing, logger)
    : undefined;
  const kibo = new KiboClient(
    options.kiboBaseUrl,
    config.upstream,
    (event) => {
      logger.debug({ upstream: event }, 'kibo call');
      metrics?.recordUpstreamCall(event);
      options.onUpstreamCall?.(event);
    },
    tracing?.kiboObserver,
  );
  const entityCache = config.entityCache.enabled
    ? await EntityCache.create({
        ttlSeconds: config.entityCache.ttlSeconds,
        maxEntries: config.entityCache.maxEntries,
        maxBytes: config.entityCache.maxBytes,
        redis: config.entityCache.redisUrl
          ? { url: config.entityCache.redisUrl, timeoutMs: config.entityCache.redisTimeoutMs }
          : undefined,
        observer: cacheObserver(logger, metrics?.entityCache, tracing?.cacheEvents),
      })
    : undefined;
  const app = createGatewayApp({
    kibo,
    entityCache,
    maxConcurrentPerCredential: config.upstream.maxConcurrentPerCredential,
    projection: config.projection,
    logger,
    limits: config.limits,
    browser: config.browser,
    refreshTokenCookie: config.refreshTokenCookie,
    trustedDocuments: config.trustedDocuments,
    graphiqlHeaders: options.graphiqlHeaders,
    tracing,
  });
  const yoga = app.yoga;
  const trustedPath = fastPathFor(config, app, logger, metrics);
  const outcomes = new RequestOutcomes(logger, metrics);
  const server = createServer(connectionLimitOptions(config.http), (request, response) => {
    if (drain.intercept(request, response)) return;
    if (metrics?.serve(request, response)) return;
    // Refused on the raw request: a URL the app could not build, a credential sent twice, a body it will not read.
    const refusal =
      malformedTarget(request) ??
      duplicateCredentialHeader(request) ??
      oversizedBody(request, config.limits.maxBodyBytes);
    if (refusal) return outcomes.refuse(request, response, refusal);
    outcomes.track(request, response);
    if (!trustedPath?.serve(request, response)) void yoga(request, response);
  });
  server.on('clientError', outcomes.onClientError);
  capConnections(server, config.http, () => metrics?.recordDroppedConnection());
  const drain = new Drain(server, logger);

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  let stopped: Promise<void> | undefined;
  const drainAndClose = (timings?: Partial<DrainTimings>) =>
    (stopped ??= drain
      .run({ drainDelayMs: config.shutdownDrainDelayMs, graceMs: config.shutdownGraceMs, ...timings })
      .then(() => kibo.close())
      .then(() => entityCache?.close())
      // The last spans are still in the batch: flush them before the process goes.
      .then(() => tracing?.shutdown()));

  return {
    url,
    graphqlUrl: `${url}${GRAPHQL_PATH}`,
    port,
    server,
    yoga,
    entityCache,
    drain: drainAndClose,
    stop: (graceMs) => drainAndClose({ drainDelayMs: 0, ...(graceMs !== undefined && { graceMs }) }),
  };
}

/**
 * The precompiled path for manifest documents, unless trusted documents or the path are off — or
 * tracing is on: the server and GraphQL spans come from Hive's plugin in Yoga's pipeline, so a traced
 * gateway serves every request through Yoga.
 */
function fastPathFor(
  config: GatewayConfig,
  app: GatewayApp,
  logger: Logger,
  metrics: GatewayMetrics | undefined,
): TrustedPath | undefined {
  if (config.trustedDocuments.mode === 'off' || !config.trustedDocuments.fastPath || config.tracing) return undefined;
  return new TrustedPath({
    serving: app.trusted,
    limits: config.limits,
    corsOrigins: config.browser.corsOrigins,
    logger,
    metrics,
    fallback: (request, response) => void app.yoga(request, response),
  });
}

/** The cache's reports as metrics, and Redis going away or coming back as one log line each. */
function cacheObserver(
  logger: Logger,
  counters: EntityCacheObserver | undefined,
  spanEvents: Pick<EntityCacheObserver, 'hit' | 'miss'> | undefined,
): EntityCacheObserver {
  return {
    ...counters,
    hit: (tier) => {
      counters?.hit?.(tier);
      spanEvents?.hit?.(tier);
    },
    miss: (tier) => {
      counters?.miss?.(tier);
      spanEvents?.miss?.(tier);
    },
    redisAvailability: (available, reason) => {
      if (available) logger.info('entity cache: Redis is back; sharing entries across replicas again');
      else
        logger.warn(
          { reason },
          'entity cache: Redis is unavailable; serving from memory and Kibo until it is back (see entity_cache_redis_errors_total)',
        );
    },
  };
}
