/**
 * Prometheus metrics at /metrics (prom-client): Kibo calls by outcome, their latency and size, and
 * HTTP responses by status. Labels are closed sets (codes, statuses) — never tenant ids, operation
 * names or anything a caller controls, and never a credential.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EntityCacheObserver } from '../cache/entity-cache.js';
import type { UpstreamCallEvent } from '../kibo/client.js';

export const METRICS_PATH = '/metrics';

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly upstreamCalls = new Counter({
    name: 'kibo_upstream_calls_total',
    help: 'Calls to Kibo by outcome (OK or the error code returned to the client).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly upstreamSeconds = new Histogram({
    name: 'kibo_upstream_call_duration_seconds',
    help: 'Duration of calls to Kibo, headers to last byte.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  private readonly upstreamBytes = new Counter({
    name: 'kibo_upstream_response_bytes_total',
    help: 'Bytes of ticket bodies received from Kibo.',
    registers: [this.registry],
  });
  private readonly responses = new Counter({
    name: 'gateway_http_responses_total',
    help: 'HTTP responses of the gateway by status class.',
    labelNames: ['status'],
    registers: [this.registry],
  });

  private readonly cacheHits = new Counter({
    name: 'entity_cache_hits_total',
    help: 'Entity cache lookups answered, by tier (memory, redis).',
    labelNames: ['tier'],
    registers: [this.registry],
  });
  private readonly cacheMisses = new Counter({
    name: 'entity_cache_misses_total',
    help: 'Entity cache lookups a tier could not answer (absent, expired or not holding every field asked), by tier.',
    labelNames: ['tier'],
    registers: [this.registry],
  });
  private readonly cacheStores = new Counter({
    name: 'entity_cache_stores_total',
    help: 'Entity cache entries written, by tier.',
    labelNames: ['tier'],
    registers: [this.registry],
  });
  private readonly cacheEvictions = new Counter({
    name: 'entity_cache_evictions_total',
    help: 'Entity cache entries removed before expiry, by tier and reason (capacity: the LRU bound; refusal: Kibo refused the credentials).',
    labelNames: ['tier', 'reason'],
    registers: [this.registry],
  });
  private readonly cacheRedisErrors = new Counter({
    name: 'entity_cache_redis_errors_total',
    help: 'Redis tier failures by operation (read, write, evict; open: a value that failed authentication). Requests carry on without Redis.',
    labelNames: ['tier', 'operation'],
    registers: [this.registry],
  });
  private readonly cutShort = new Counter({
    name: 'gateway_http_requests_cut_short_total',
    help: 'Requests that ended before their answer was out: the client closed (499) or was too slow sending (408).',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  private readonly droppedConnections = new Counter({
    name: 'gateway_http_connections_dropped_total',
    help: 'Connections closed on arrival because MAX_CONNECTIONS were already open.',
    registers: [this.registry],
  });

  private readonly trustedPath = new Counter({
    name: 'trusted_fast_path_requests_total',
    help: 'POST /graphql JSON requests the trusted documents fast path looked at: served itself, or handed to Yoga unchanged (not a persisted request, an unknown id, variables that do not coerce, anything it does not fully own).',
    labelNames: ['outcome'],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The size of a cache keyed by client input, read when /metrics is scraped: a bound that holds
   * shows as a flat line (the soak reads it; an operator can alert on it).
   */
  watchCacheSize(name: string, help: string, size: () => number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(size());
      },
    });
  }

  /** Counts what the entity cache reports; its labels are closed sets (tiers, reasons, operations). */
  readonly entityCache: EntityCacheObserver = {
    hit: (tier) => this.cacheHits.inc({ tier }),
    miss: (tier) => this.cacheMisses.inc({ tier }),
    store: (tier) => this.cacheStores.inc({ tier }),
    evict: (tier, reason, count) => this.cacheEvictions.inc({ tier, reason }, count),
    redisError: (operation) => this.cacheRedisErrors.inc({ tier: 'redis', operation }),
  };

  recordUpstreamCall(event: UpstreamCallEvent): void {
    this.upstreamCalls.inc({ outcome: event.code ?? 'OK' });
    this.upstreamSeconds.observe(event.durationMs / 1000);
    this.upstreamBytes.inc(event.responseBytes);
  }

  recordResponse(status: number): void {
    this.responses.inc({ status: `${Math.floor(status / 100)}xx` });
  }

  recordCutShort(reason: 'client_closed' | 'timeout'): void {
    this.cutShort.inc({ reason });
  }

  recordTrustedPath(outcome: 'served' | 'handed_to_yoga'): void {
    this.trustedPath.inc({ outcome });
  }

  recordDroppedConnection(): void {
    this.droppedConnections.inc();
  }

  /** Answers GET /metrics and returns true; leaves every other request alone. */
  serve(request: IncomingMessage, response: ServerResponse): boolean {
    if (request.method !== 'GET' || request.url?.split('?')[0] !== METRICS_PATH) return false;
    void this.registry.metrics().then((text) => {
      response.writeHead(200, { 'content-type': this.registry.contentType });
      response.end(text);
    });
    return true;
  }
}
