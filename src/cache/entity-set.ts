/**
 * The unit the cache stores: one entity type's entities from one tenant's ticket, for one caller.
 * Entity data only — it is built from the ticket's entity positions (tenants, sites, catalogs, the
 * user), pruned to what is held, so a token or any other property of the ticket itself has no way
 * in. Encoded as JSON for the shared tier, where it is sealed (seal.ts).
 */
import type { Projection } from '../projection/projection.js';
import { formatHeld, parseHeld, prune } from './held.js';

export interface EntitySet {
  /** The properties every entity here carries; the set answers queries asking no more. */
  held: Projection;
  /**
   * Every entity of the type the ticket holds is here, so a key not found is not in the ticket
   * (the reference resolves to null). A set seeded from part of a ticket (switchTenant's own tenant,
   * say) is not complete: a key it lacks is a miss.
   */
  complete: boolean;
  /** Entities by their key, printed as a string. */
  entities: ReadonlyMap<string, object>;
}

export interface CachedSet extends EntitySet {
  /** Epoch ms after which the set must not answer. */
  expiresAt: number;
}

/** A set of the given entities, each pruned to `held`. */
export function entitySet(held: Projection, complete: boolean, entities: Iterable<[string, object]>): EntitySet {
  const pruned = new Map<string, object>();
  for (const [key, entity] of entities) pruned.set(key, prune(entity, held) as object);
  return { held, complete, entities: pruned };
}

/**
 * What a set weighs, in characters of its entities as JSON (keys included): the in-memory tier's
 * byte bound counts this, since what a query selects, not the entry count, decides an entry's size.
 */
export function setWeight(set: EntitySet): number {
  let weight = 0;
  for (const [key, entity] of set.entities) weight += key.length + JSON.stringify(entity).length;
  return weight;
}

interface Encoded {
  h: string;
  c: boolean;
  x: number;
  e: Array<[string, object]>;
}

export function encodeSet(set: CachedSet): Buffer {
  const encoded: Encoded = { h: formatHeld(set.held), c: set.complete, x: set.expiresAt, e: [...set.entities] };
  return Buffer.from(JSON.stringify(encoded));
}

/** The set, or undefined when the bytes are not one (an entry from a future format, say). */
export function decodeSet(bytes: Buffer): CachedSet | undefined {
  try {
    const encoded = JSON.parse(bytes.toString('utf8')) as Partial<Encoded>;
    if (typeof encoded.h !== 'string' || typeof encoded.c !== 'boolean' || typeof encoded.x !== 'number') return;
    if (!Array.isArray(encoded.e)) return;
    return { held: parseHeld(encoded.h), complete: encoded.c, expiresAt: encoded.x, entities: new Map(encoded.e) };
  } catch {
    return undefined;
  }
}
