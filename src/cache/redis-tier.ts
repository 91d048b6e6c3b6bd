/**
 * The shared tier: Redis (ioredis), behind the in-memory one, so replicas serve what another
 * fetched. Each caller's entries live in one hash under a derived name, each field a sealed set
 * (seal.ts) — Redis learns neither whose data it holds nor what it is, and cannot forge any. One
 * hash per caller lets a refusal drop everything the caller cached with a single DEL.
 *
 * Redis is an optimisation, never a dependency of an answer: commands time out quickly, nothing is
 * queued while it is unreachable, and after a failure the tier stands aside for a moment so a slow
 * Redis does not tax every request with its timeout. Requests then go to memory and Kibo.
 */
import type { Redis } from 'ioredis';
import { decodeSet, encodeSet, type CachedSet } from './entity-set.js';
import type { CallerKeys } from './keys.js';
import { open, seal } from './seal.js';

export type RedisOperation = 'read' | 'write' | 'evict';

export interface RedisTierOptions {
  url: string;
  /** How long one command may take before the request goes on without Redis. */
  timeoutMs: number;
  /** After a failure, how long the tier is skipped before Redis is tried again. */
  standAsideMs?: number;
  /** Prefix of every key, so one Redis can serve other things too. */
  keyPrefix?: string;
  onError?: (operation: RedisOperation) => void;
  /** A sealed value that did not open: tampered with, or written under other credentials. */
  onRejectedValue?: () => void;
  /** Redis became unusable (`false`, with why) or usable again (`true`). Called on changes only. */
  onAvailability?: (available: boolean, reason: 'timeout' | 'unreachable' | 'error' | 'connected') => void;
}

export interface StoredEntry {
  name: string;
  key: Buffer;
}

export class RedisTier {
  private available = true;
  private skipUntil = 0;

  private constructor(
    private readonly client: Redis,
    private readonly options: RedisTierOptions,
  ) {
    // Connection errors arrive as events, repeatedly while Redis is away; they change the state
    // (one log line), never the request's outcome.
    client.on('error', (error: Error) => this.unavailable(reasonOf(error)));
    client.on('ready', () => this.becameAvailable());
  }

  /** Loads ioredis only when a Redis URL is configured: without one nothing but Node is needed. */
  static async connect(options: RedisTierOptions): Promise<RedisTier> {
    const { Redis } = await import('ioredis');
    const client = new Redis(options.url, {
      commandTimeout: options.timeoutMs,
      connectTimeout: Math.max(options.timeoutMs, 1_000),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
      lazyConnect: true,
    });
    const tier = new RedisTier(client, options);
    // A Redis that is down at start is the same as one that goes down later: degrade, keep trying.
    await client.connect().catch((error: Error) => tier.unavailable(reasonOf(error)));
    return tier;
  }

  /** The sets found (and opened) of the given entries; missing, expired or unopenable ones are left out. */
  async read(caller: CallerKeys, entries: readonly StoredEntry[], now = Date.now()): Promise<Map<string, CachedSet>> {
    const found = new Map<string, CachedSet>();
    if (entries.length === 0 || this.standingAside(now)) return found;
    let values: Array<Buffer | null>;
    try {
      values = await this.client.hmgetBuffer(this.hashKey(caller), ...entries.map((entry) => entry.name));
    } catch (error) {
      this.failed('read', error);
      return found;
    }
    this.becameAvailable();
    entries.forEach((entry, index) => {
      const sealed = values[index];
      if (!sealed) return;
      const plaintext = open(entry.key, entry.name, sealed);
      const set = plaintext && decodeSet(plaintext);
      if (!set) return this.options.onRejectedValue?.();
      if (set.expiresAt > now) found.set(entry.name, set);
    });
    return found;
  }

  /** Stores without making the request wait; a failure only counts. */
  write(caller: CallerKeys, entry: StoredEntry, set: CachedSet, now = Date.now()): Promise<boolean> {
    const ttl = set.expiresAt - now;
    if (ttl <= 0 || this.standingAside(now)) return Promise.resolve(false);
    const hash = this.hashKey(caller);
    return (
      this.client
        .multi()
        .hset(hash, entry.name, seal(entry.key, entry.name, encodeSet(set)))
        // The hash lives as long as its longest-lived field: NX sets a first expiry, GT only extends.
        .pexpire(hash, ttl, 'NX')
        .pexpire(hash, ttl, 'GT')
        .exec()
        .then(
          () => {
            this.becameAvailable();
            return true;
          },
          (error: unknown) => {
            this.failed('write', error);
            return false;
          },
        )
    );
  }

  /** Drops every entry of the caller (all tenants and types). */
  evictCaller(caller: CallerKeys): Promise<boolean> {
    return this.client.del(this.hashKey(caller)).then(
      (removed) => removed > 0,
      (error: unknown) => {
        this.failed('evict', error);
        return false;
      },
    );
  }

  /** Every key and raw value in the tier's keyspace, for the tests that check nothing secret is kept. */
  async dump(): Promise<Array<[string, Buffer]>> {
    const dumped: Array<[string, Buffer]> = [];
    for (const key of await this.client.keys(`${this.prefix}*`)) {
      for (const [field, value] of Object.entries(await this.client.hgetallBuffer(key)))
        dumped.push([`${key} ${field}`, value]);
    }
    return dumped;
  }

  close(): Promise<void> {
    return this.client.quit().then(
      () => undefined,
      () => this.client.disconnect(),
    );
  }

  private get prefix(): string {
    return this.options.keyPrefix ?? 'kibo-auth-gateway:entities:';
  }

  private hashKey(caller: CallerKeys): string {
    return `${this.prefix}${caller.sharedId}`;
  }

  private standingAside(now: number): boolean {
    return now < this.skipUntil;
  }

  private failed(operation: RedisOperation, error: unknown): void {
    this.options.onError?.(operation);
    this.skipUntil = Date.now() + (this.options.standAsideMs ?? 1_000);
    this.unavailable(reasonOf(error));
  }

  private unavailable(reason: 'timeout' | 'unreachable' | 'error'): void {
    if (!this.available) return;
    this.available = false;
    this.options.onAvailability?.(false, reason);
  }

  private becameAvailable(): void {
    this.skipUntil = 0;
    if (this.available) return;
    this.available = true;
    this.options.onAvailability?.(true, 'connected');
  }
}

/** Why Redis failed, as a closed set: an error's own message might carry the URL and its password. */
function reasonOf(error: unknown): 'timeout' | 'unreachable' | 'error' {
  const message = error instanceof Error ? error.message : '';
  if (/timed? ?out/i.test(message)) return 'timeout';
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ECONNRESET|closed|writeable|offline/i.test(message)) return 'unreachable';
  return 'error';
}
