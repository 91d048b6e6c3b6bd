/**
 * The in-memory tier: an LRU (lru-cache) bounded by entry count and by the weight of the entity
 * data it holds (an entry is as big as the selection that filled it), each entry living until its
 * own expiry. Keyed by derived names only. Entries are grouped by caller, so a Kibo refusal for one
 * caller's credentials drops all of that caller's entries without scanning the others.
 */
import { LRUCache } from 'lru-cache';
import { setWeight, type CachedSet } from './entity-set.js';

export interface MemoryTierOptions {
  maxEntries: number;
  /** Bound of the entity data held, in characters of JSON (`setWeight`); a heavier set is not kept. */
  maxBytes: number;
  /** Called when the bound pushes an entry out (not on expiry, deletion or replacement). */
  onCapacityEviction?: () => void;
  /** How often expired entries are dropped (5 s): lru-cache otherwise keeps them until a bound pushes them out. */
  sweepEveryMs?: number;
}

export class MemoryTier {
  private readonly entries: LRUCache<string, CachedSet>;
  private readonly maxBytes: number;
  /** caller id → the keys of that caller's entries now in `entries`. */
  private readonly byCaller = new Map<string, Set<string>>();
  /**
   * Expired entries answer nothing but, left alone, would stay until the entry or byte bound pushed
   * them out: memory would climb to the bounds under any steady stream of switches, whatever the TTL.
   */
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryTierOptions) {
    this.maxBytes = options.maxBytes;
    // Each set's weight is given with it (`set` weighs it once to decide whether it fits at all).
    this.entries = new LRUCache<string, CachedSet>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      dispose: (_value, key, reason) => {
        if (reason === 'set') return;
        this.forget(key);
        if (reason === 'evict') options.onCapacityEviction?.();
      },
    });
    this.sweeper = setInterval(() => this.entries.purgeStale(), options.sweepEveryMs ?? 5_000);
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  get(callerId: string, name: string, now = Date.now()): CachedSet | undefined {
    const set = this.entries.get(`${callerId}/${name}`);
    return set && set.expiresAt > now ? set : undefined;
  }

  set(callerId: string, name: string, set: CachedSet, now = Date.now()): void {
    const ttl = set.expiresAt - now;
    if (ttl <= 0) return;
    const key = `${callerId}/${name}`;
    const weight = Math.max(1, setWeight(set));
    // A set heavier than the whole bound is refused, and any older one under its name dropped.
    if (weight > this.maxBytes) return void this.entries.delete(key);
    this.entries.set(key, set, { ttl, size: weight });
    let keys = this.byCaller.get(callerId);
    if (!keys) this.byCaller.set(callerId, (keys = new Set()));
    keys.add(key);
  }

  /** Drops every entry of one caller; returns how many there were. */
  evictCaller(callerId: string): number {
    const keys = this.byCaller.get(callerId);
    if (!keys) return 0;
    const count = keys.size;
    for (const key of [...keys]) this.entries.delete(key);
    this.byCaller.delete(callerId);
    return count;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every stored key and value, for the tests that check nothing secret is kept. */
  *dump(): Generator<[string, CachedSet]> {
    for (const [key, value] of this.entries.entries()) yield [key, value];
  }

  private forget(key: string): void {
    const callerId = key.slice(0, key.indexOf('/'));
    const keys = this.byCaller.get(callerId);
    if (!keys) return;
    keys.delete(key);
    if (keys.size === 0) this.byCaller.delete(callerId);
  }
}
