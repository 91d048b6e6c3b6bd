/**
 * Prometheus metrics at /metrics (prom-client): Kibo calls by outcome, their latency and size, and
 * HTTP responses by status. Labels are closed sets (codes, statuses) — never tenant ids, operation
 * names or anything a caller controls, and never a credential.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { CacheTier, EntityCacheObserver, EvictionReason } from '../cache/entity-cache.js';
import type { UpstreamCallEvent } from '../kibo/client.js';
import { CellsByValue, ScrapedCounter, type CounterCell } from './scraped-counter.js';

export const METRICS_PATH = '/metrics';

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly upstreamCalls = new CellsByValue(
    new ScrapedCounter(
      this.registry,
      'kibo_upstream_calls_total',
      'Calls to Kibo by outcome (OK or the error code returned to the client).',
      ['outcome'],
    ),
    'outcome',
  );
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
  /** By status class: cells for 1xx … 5xx, indexed by the status's first digit. */
  private readonly responses = statusClassCells(
    new ScrapedCounter(
      this.registry,
      'gateway_http_responses_total',
      'HTTP responses of the gateway by status class.',
      ['status'],
    ),
  );

  private readonly cacheHits = tierCells(
    new ScrapedCounter(
      this.registry,
      'entity_cache_hits_total',
      'Entity cache lookups answered, by tier (memory, redis).',
      ['tier'],
    ),
  );
  private readonly cacheMisses = tierCells(
    new ScrapedCounter(
      this.registry,
      'entity_cache_misses_total',
      'Entity cache lookups a tier could not answer (absent, expired or not holding every field asked), by tier.',
      ['tier'],
    ),
  );
  private readonly cacheStores = tierCells(
    new ScrapedCounter(this.registry, 'entity_cache_stores_total', 'Entity cache entries written, by tier.', ['tier']),
  );
  private readonly cacheEvictions = evictionCells(
    new ScrapedCounter(
      this.registry,
      'entity_cache_evictions_total',
      'Entity cache entries removed before expiry, by tier and reason (capacity: the LRU bound; refusal: Kibo refused the credentials).',
      ['tier', 'reason'],
    ),
  );
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

  private readonly trustedPath = new CellsByValue(
    new ScrapedCounter(
      this.registry,
      'trusted_fast_path_requests_total',
      'POST /graphql JSON requests the trusted documents fast path looked at: served itself, or handed to Yoga unchanged (not a persisted request, an unknown id, variables that do not coerce, anything it does not fully own).',
      ['outcome'],
    ),
    'outcome',
  );

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

  /** A count kept elsewhere (by a part that knows no metrics), read when /metrics is scraped. */
  watchCount(name: string, help: string, count: () => number): void {
    new Counter({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(count());
      },
    });
  }

  /** Counts what the entity cache reports; its labels are closed sets (tiers, reasons, operations). */
  readonly entityCache: EntityCacheObserver = {
    hit: (tier) => void this.cacheHits[tier].count++,
    miss: (tier) => void this.cacheMisses[tier].count++,
    store: (tier) => void this.cacheStores[tier].count++,
    evict: (tier, reason, count) => void (this.cacheEvictions[tier][reason].count += count),
    redisError: (operation) => this.cacheRedisErrors.inc({ tier: 'redis', operation }),
  };

  recordUpstreamCall(event: UpstreamCallEvent): void {
    this.upstreamCalls.inc(event.code ?? 'OK');
    this.upstreamSeconds.observe(event.durationMs / 1000);
    this.upstreamBytes.inc(event.responseBytes);
  }

  recordResponse(status: number): void {
    const cell = this.responses[Math.floor(status / 100)];
    if (cell) cell.count++;
  }

  recordCutShort(reason: 'client_closed' | 'timeout'): void {
    this.cutShort.inc({ reason });
  }

  recordTrustedPath(outcome: 'served' | 'handed_to_yoga'): void {
    this.trustedPath.inc(outcome);
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

function tierCells(counter: ScrapedCounter<'tier'>): Record<CacheTier, CounterCell> {
  return { memory: counter.cell({ tier: 'memory' }), redis: counter.cell({ tier: 'redis' }) };
}

function evictionCells(
  counter: ScrapedCounter<'tier' | 'reason'>,
): Record<CacheTier, Record<EvictionReason, CounterCell>> {
  const of = (tier: CacheTier) => ({
    capacity: counter.cell({ tier, reason: 'capacity' }),
    refusal: counter.cell({ tier, reason: 'refusal' }),
  });
  return { memory: of('memory'), redis: of('redis') };
}

/** Index 1 … 5: the cells of 1xx … 5xx (index 0 unused: no status starts with 0). */
function statusClassCells(counter: ScrapedCounter<'status'>): CounterCell[] {
  const cells: CounterCell[] = [];
  for (let digit = 1; digit <= 5; digit++) cells[digit] = counter.cell({ status: `${digit}xx` });
  return cells;
}
