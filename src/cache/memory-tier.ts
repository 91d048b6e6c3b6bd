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

/** One caller's entries now held: what a refusal drops together. */
interface CallerGroup {
  readonly callerId: string;
  readonly keys: Set<string>;
}

/** An entry as held: the set, and its caller's group (so a dropped entry leaves it without a lookup). */
interface HeldEntry {
  readonly set: CachedSet;
  readonly group: CallerGroup;
}

export class MemoryTier {
  private readonly entries: LRUCache<string, HeldEntry>;
  private readonly maxBytes: number;
  private readonly byCaller = new Map<string, CallerGroup>();
  /**
   * Expired entries answer nothing but, left alone, would stay until the entry or byte bound pushed
   * them out: memory would climb to the bounds under any steady stream of switches, whatever the TTL.
   */
  private readonly sweeper: NodeJS.Timeout;

  constructor(options: MemoryTierOptions) {
    this.maxBytes = options.maxBytes;
    // Each set's weight is given with it (`set` weighs it once to decide whether it fits at all).
    this.entries = new LRUCache<string, HeldEntry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      dispose: (held, key, reason) => {
        if (reason === 'set') return;
        this.forget(held.group, key);
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
    const set = this.entries.get(`${callerId}/${name}`)?.set;
    return set && set.expiresAt > now ? set : undefined;
  }

  set(callerId: string, name: string, set: CachedSet, now = Date.now()): void {
    const ttl = set.expiresAt - now;
    if (ttl <= 0) return;
    const key = `${callerId}/${name}`;
    const weight = Math.max(1, setWeight(set));
    // A set heavier than the whole bound is refused, and any older one under its name dropped.
    if (weight > this.maxBytes) return void this.entries.delete(key);
    const group = this.byCaller.get(callerId) ?? { callerId, keys: new Set<string>() };
    this.entries.set(key, { set, group }, { ttl, size: weight });
    group.keys.add(key);
    // Set after storing: the entries this one pushed out may have emptied (and dropped) the group.
    if (this.byCaller.get(callerId) !== group) this.byCaller.set(callerId, group);
  }

  /** Drops every entry of one caller; returns how many there were. */
  evictCaller(callerId: string): number {
    const group = this.byCaller.get(callerId);
    if (!group) return 0;
    const count = group.keys.size;
    for (const key of [...group.keys]) this.entries.delete(key);
    this.byCaller.delete(callerId);
    return count;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Every stored key and value, for the tests that check nothing secret is kept. */
  *dump(): Generator<[string, CachedSet]> {
    for (const [key, held] of this.entries.entries()) yield [key, held.set];
  }

  private forget(group: CallerGroup, key: string): void {
    group.keys.delete(key);
    if (group.keys.size === 0 && this.byCaller.get(group.callerId) === group) this.byCaller.delete(group.callerId);
  }
}
