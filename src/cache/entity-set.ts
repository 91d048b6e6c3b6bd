/**
 * The unit the cache stores: one entity type's entities from one tenant's ticket, for one caller.
 * Entity data only — it is built from the ticket's entity positions (tenants, sites, catalogs, the
 * user), pruned to what is held, so no token or other property of the ticket itself is read into
 * it. A value held whole (an object folded to fit Kibo's URL budget, a JSON attribute) keeps what Kibo
 * put in it: a set that mentions a credential the gateway knows of is not stored (`mentionsAny`).
 * Encoded as JSON for the shared tier, where it is sealed (seal.ts).
 */
import type { Projection } from '../projection/projection.js';
import { formatHeld, parseHeld } from './held.js';

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

/**
 * What a set weighs, in characters of its entities as JSON (keys included): the in-memory tier's
 * byte bound counts this, since what a query selects, not the entry count, decides an entry's size.
 */
export function setWeight(set: EntitySet): number {
  let weight = 0;
  for (const [key, entity] of set.entities) weight += key.length + jsonCharacters(entity);
  return weight;
}

/** Characters JSON.stringify would escape: a string holding none is its length plus two quotes. */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * `JSON.stringify(value).length` for a value parsed from JSON, counted without building the string:
 * every switchTenant weighs the sets it seeds, and the strings would be garbage at once.
 */
export function jsonCharacters(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return ESCAPED.test(value) ? JSON.stringify(value).length : value.length + 2;
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object': {
      if (value === null) return 4;
      if (Array.isArray(value)) {
        let length = value.length === 0 ? 2 : value.length + 1;
        for (const item of value) length += item === undefined ? 4 : jsonCharacters(item);
        return length;
      }
      const record = value as Record<string, unknown>;
      let length = 1;
      let properties = 0;
      for (const key in record) {
        if (!Object.hasOwn(record, key) || record[key] === undefined) continue;
        length += jsonCharacters(key) + 1 + jsonCharacters(record[key]);
        properties++;
      }
      return length + (properties === 0 ? 1 : properties);
    }
    default:
      return 0;
  }
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

/**
 * Whether any string in `value` (property names included) contains one of `secrets`. Callers leave
 * out secrets shorter than MIN_SECRET_LENGTH: they would match ordinary data.
 */
export function mentionsAny(value: unknown, secrets: readonly string[]): boolean {
  // Plain loops, no callbacks: every switchTenant walks the entities it seeds, and a closure per
  // string and per array was ~2 KB of each trusted request's garbage.
  if (typeof value === 'string') {
    for (const secret of secrets) if (value.includes(secret)) return true;
    return false;
  }
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) {
    for (const item of value) if (mentionsAny(item, secrets)) return true;
    return false;
  }
  for (const key in value as Record<string, unknown>) {
    if (!Object.hasOwn(value, key)) continue;
    if (mentionsAny(key, secrets) || mentionsAny((value as Record<string, unknown>)[key], secrets)) return true;
  }
  return false;
}

/** Credentials shorter than this are not looked for in entity data (they would match ordinary values). */
export const MIN_SECRET_LENGTH = 8;
