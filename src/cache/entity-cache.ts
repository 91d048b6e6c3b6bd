/**
 * The private entity cache: an in-memory LRU in front of an optional Redis tier, holding entity
 * data (never tokens) under names and keys derived from the caller's credentials (keys.ts).
 *
 * The unit is one entity type's entities of one tenant's ticket for one caller (entity-set.ts).
 * A set answers only queries it covers (held.ts); the caller of `read` fetches what is missing in
 * one Kibo call, shared by concurrent identical misses (`fetchOnce`), and `write`s the result.
 * Sets live `ttlSeconds` at most, never beyond the ticket's access-token expiry.
 */
import { mergeProjections, type Projection } from '../projection/projection.js';
import { covers } from './held.js';
import { type CachedSet, type EntitySet } from './entity-set.js';
import { CallerKeys, type CallerCredentials } from './keys.js';
import { MemoryTier } from './memory-tier.js';
import { RedisTier, type RedisOperation } from './redis-tier.js';
import { SingleFlight } from './single-flight.js';

export type CacheTier = 'memory' | 'redis';
export type EvictionReason = 'capacity' | 'refusal';

/** What the cache reports, for metrics and logs. Carries no tenant, key or credential. */
export interface EntityCacheObserver {
  hit?(tier: CacheTier): void;
  miss?(tier: CacheTier): void;
  store?(tier: CacheTier): void;
  evict?(tier: CacheTier, reason: EvictionReason, count: number): void;
  redisError?(operation: RedisOperation | 'open'): void;
  redisAvailability?(available: boolean, reason: string): void;
}

export interface CacheRead {
  /** Sets that answer what was asked of their type. */
  answered: Map<string, CachedSet>;
  /** For types found that hold less than asked: what they hold. */
  partial: Map<string, Projection>;
}

export interface EntityCacheOptions {
  /** Longest life of an entry; shorter when the ticket's access token expires sooner. */
  ttlSeconds: number;
  /** Bound of the in-memory tier, in entries (one entry: one type of one tenant for one caller). */
  maxEntries: number;
  /** Bound of the in-memory tier, in characters of entity data as JSON. */
  maxBytes: number;
  /** The shared tier; absent: memory only. */
  redis?: { url: string; timeoutMs: number; keyPrefix?: string } | undefined;
  observer?: EntityCacheObserver | undefined;
}

export class EntityCache {
  private readonly memory: MemoryTier;
  private readonly flights = new SingleFlight<unknown>();

  private constructor(
    private readonly options: EntityCacheOptions,
    private readonly redis: RedisTier | undefined,
  ) {
    const observer = options.observer;
    this.memory = new MemoryTier({
      maxEntries: options.maxEntries,
      maxBytes: options.maxBytes,
      onCapacityEviction: () => observer?.evict?.('memory', 'capacity', 1),
    });
  }

  static async create(options: EntityCacheOptions): Promise<EntityCache> {
    const observer = options.observer;
    const redis = options.redis
      ? await RedisTier.connect({
          ...options.redis,
          onError: (operation) => observer?.redisError?.(operation),
          onRejectedValue: () => observer?.redisError?.('open'),
          onAvailability: (available, reason) => observer?.redisAvailability?.(available, reason),
        })
      : undefined;
    return new EntityCache(options, redis);
  }

  /** The caller's derived keys; derive once per request and pass them to the other methods. */
  caller(credentials: CallerCredentials): CallerKeys {
    return new CallerKeys(credentials, this.redis !== undefined);
  }

  /**
   * The sets, by type, that cover what is asked of each type (`answered`): memory first, then Redis
   * for what memory cannot answer (a Redis hit is kept in memory too). For a type found but not
   * covering what is asked, `partial` says what it holds, so the refetch can ask for the union and
   * the new entry answer both the old queries and this one.
   */
  async read(caller: CallerKeys, tenantId: number, asked: ReadonlyMap<string, Projection>): Promise<CacheRead> {
    const observer = this.options.observer;
    const answered = new Map<string, CachedSet>();
    const partial = new Map<string, Projection>();
    const remaining: Array<{ typename: string; name: string }> = [];
    for (const [typename, projection] of asked) {
      const set = this.memory.get(caller.id, caller.memoryName(tenantId, typename));
      if (set && covers(set.held, projection)) {
        observer?.hit?.('memory');
        answered.set(typename, set);
      } else {
        observer?.miss?.('memory');
        if (set) partial.set(typename, set.held);
        if (this.redis) remaining.push({ typename, name: caller.entryName(tenantId, typename) });
      }
    }
    if (!this.redis || remaining.length === 0) return { answered, partial };

    const stored = await this.redis.read(
      caller,
      remaining.map(({ typename, name }) => ({ name, key: caller.sealingKey(tenantId, typename) })),
    );
    for (const { typename, name } of remaining) {
      const set = stored.get(name);
      if (set && covers(set.held, asked.get(typename)!)) {
        observer?.hit?.('redis');
        this.memory.set(caller.id, caller.memoryName(tenantId, typename), set);
        answered.set(typename, set);
        partial.delete(typename);
      } else {
        observer?.miss?.('redis');
        if (set) partial.set(typename, mergeProjections(partial.get(typename) ?? new Map(), set.held));
      }
    }
    return { answered, partial };
  }

  /**
   * Stores sets fetched from Kibo. `ticketExpiresAt` is the fetched ticket's access-token expiry
   * (epoch ms); without one the entry's life could not be bounded, so nothing is stored.
   * Redis writes are not awaited by the request; the returned promise settles when they are done.
   */
  write(
    caller: CallerKeys,
    tenantId: number,
    sets: ReadonlyMap<string, EntitySet>,
    ticketExpiresAt: number | undefined,
  ): Promise<void> {
    const now = Date.now();
    if (ticketExpiresAt === undefined || !Number.isFinite(ticketExpiresAt)) return Promise.resolve();
    const expiresAt = Math.min(now + this.options.ttlSeconds * 1000, ticketExpiresAt);
    if (expiresAt <= now) return Promise.resolve();
    const observer = this.options.observer;
    const writes: Array<Promise<unknown>> = [];
    for (const [typename, set] of sets) {
      const cached: CachedSet = { held: set.held, complete: set.complete, entities: set.entities, expiresAt };
      try {
        this.memory.set(caller.id, caller.memoryName(tenantId, typename), cached, now);
        observer?.store?.('memory');
        if (this.redis) {
          const name = caller.entryName(tenantId, typename);
          const key = caller.sealingKey(tenantId, typename);
          writes.push(
            this.redis.write(caller, { name, key }, cached, now).then((ok) => ok && observer?.store?.('redis')),
          );
        }
      } catch (error) {
        // A value held whole (a coarsened projection) nested deeper than the stack can walk, which
        // only a hostile Kibo sends, can be neither weighed nor encoded: that set is not stored, and
        // the request that fetched it is answered all the same.
        if (!(error instanceof RangeError)) throw error;
      }
    }
    // Memory only (or nothing written): no Promise.all round for an empty list on every switch.
    return writes.length === 0 ? Promise.resolve() : Promise.all(writes).then(() => undefined);
  }

  /** Kibo refused these credentials: forget everything they cached, in both tiers. */
  evictCaller(caller: CallerKeys): Promise<void> {
    const observer = this.options.observer;
    const dropped = this.memory.evictCaller(caller.id);
    if (dropped > 0) observer?.evict?.('memory', 'refusal', dropped);
    if (!this.redis) return Promise.resolve();
    return this.redis.evictCaller(caller).then((removed) => {
      if (removed) observer?.evict?.('redis', 'refusal', 1);
    });
  }

  /**
   * Runs `fetch` once for concurrent identical misses: same caller, tenant and responseFields.
   * `signal` is the request's; the shared call is cancelled only when every waiter has gone.
   */
  fetchOnce<T>(
    caller: CallerKeys,
    tenantId: number,
    responseFields: string | undefined,
    signal: AbortSignal | undefined,
    fetch: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return this.flights.run(caller.flightName(tenantId, responseFields), signal, fetch) as Promise<T>;
  }

  /** Every key and value held, in memory and in Redis (raw, as stored), for the secrecy tests. */
  async dump(): Promise<{ memory: Array<[string, CachedSet]>; redis: Array<[string, Buffer]> }> {
    return { memory: [...this.memory.dump()], redis: this.redis ? await this.redis.dump() : [] };
  }

  close(): Promise<void> {
    this.memory.close();
    return this.redis?.close() ?? Promise.resolve();
  }
}
