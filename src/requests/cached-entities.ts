/**
 * `_entities` through the entity cache: the thin layer between the entity loader and src/cache/.
 *
 * Per type asked, a cached set answers when it holds every field asked and knows every reference
 * (or knows the whole type). The other types cost one Kibo call — shared with concurrent requests
 * making the same one — asking for the union of what is asked and what their old entries held, so
 * the new entries answer both. A Kibo refusal drops everything these credentials cached.
 */
import { LRUCache } from 'lru-cache';
import type { EntityCache } from '../cache/entity-cache.js';
import { parseHeld } from '../cache/held.js';
import { mentionsAny, MIN_SECRET_LENGTH, type EntitySet } from '../cache/entity-set.js';
import type { CallerKeys } from '../cache/keys.js';
import type { KiboTicket } from '../kibo/types.js';
import { bearerToken } from '../kibo/bearer.js';
import { KiboError } from '../kibo/errors.js';
import { mergeProjections, WHOLE_VALUE, type Projection } from '../projection/projection.js';
import { PROJECTION_CACHE_MAX_ENTRIES, responseFieldsForProjection } from '../projection/response-fields.js';
import type { GatewayContext } from './context.js';
import type { KiboCredentials } from './credentials.js';
import type { EntityPaths } from './entity-sets.js';
import { toGraphQLError } from './upstream-errors.js';

/** The ticket property that bounds an entry's life; asked for on every cached fetch. */
export const TICKET_EXPIRY = 'accessTokenExpiration';

/**
 * The ticket property a client presents, as its bearer, to use a new ticket: what names the
 * entries switchTenant seeds, and what a switch must have asked for before it seeds any.
 */
export const SEEDING_BEARER = 'jwtAccessToken';

/** Refusals that say these credentials may not read what they cached. */
const REFUSALS = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND']);

export interface EntityFetchPlan {
  paths: EntityPaths;
  /** The projection asking Kibo for each type of `perType` as given, through its holders. */
  projectionFor(perType: ReadonlyMap<string, Projection>): Projection;
  /** Every entity of a ticket by `Type:key`, as the loader finds references without the cache. */
  index(ticket: KiboTicket): Map<string, object>;
  indexKey(typename: string, key: unknown): string;
}

export interface EntityReferenceLike {
  typename: string;
  key: unknown;
}

export async function resolveThroughCache(
  context: GatewayContext,
  cache: EntityCache,
  credentials: KiboCredentials,
  tenantId: number,
  references: readonly EntityReferenceLike[],
  asked: ReadonlyMap<string, Projection>,
  plan: EntityFetchPlan,
): Promise<Array<object | null | Error>> {
  const caller = cache.caller(credentials);
  const { answered, partial } = await cache.read(caller, tenantId, asked);

  // A set that does not know the whole type answers only for the references it holds.
  for (const [typename, set] of answered) {
    if (set.complete) continue;
    const known = references.every(
      (reference) => reference.typename !== typename || set.entities.has(String(reference.key)),
    );
    if (!known) answered.delete(typename);
  }

  let fresh: Map<string, object> | undefined;
  if (answered.size < asked.size) {
    const toFetch = new Map<string, Projection>();
    for (const [typename, projection] of asked) {
      if (answered.has(typename)) continue;
      const held = partial.get(typename);
      toFetch.set(typename, held ? mergeProjections(projection, held) : projection);
    }
    try {
      fresh = plan.index(await fetchAndStore(context, cache, plan, caller, credentials, tenantId, toFetch));
    } catch (error) {
      const failure = toGraphQLError(error);
      return references.map(() => failure);
    }
  }

  return references.map((reference) => {
    const set = answered.get(reference.typename);
    if (set) return set.entities.get(String(reference.key)) ?? null;
    return fresh?.get(plan.indexKey(reference.typename, reference.key)) ?? null;
  });
}

/** One Kibo call for these types (or the one already running), whose entity sets are stored. */
function fetchAndStore(
  context: GatewayContext,
  cache: EntityCache,
  plan: EntityFetchPlan,
  caller: CallerKeys,
  credentials: KiboCredentials,
  tenantId: number,
  toFetch: ReadonlyMap<string, Projection>,
): Promise<KiboTicket> {
  const projection = mergeProjections(plan.projectionFor(toFetch), new Map([[TICKET_EXPIRY, WHOLE_VALUE]]));
  const responseFields = context.projection
    ? responseFieldsForProjection(projection, context.kibo.queryBudget)
    : undefined;
  return cache.fetchOnce(caller, tenantId, responseFields, context.request.signal, async (signal) => {
    let ticket: KiboTicket;
    try {
      // Counted against the credential's concurrency cap, like every other Kibo call.
      ticket = await context.kiboConcurrency.run(credentials, () =>
        context.kibo.refreshAuthTicket({
          tenantId,
          responseFields,
          ...credentials,
          signal,
          onDone: context.onKiboCall,
        }),
      );
    } catch (error) {
      if (error instanceof KiboError && REFUSALS.has(error.code)) await cache.evictCaller(caller);
      throw error;
    }
    // Each type is stored at what was fetched for it — and only that, pruned — never the ticket.
    const sets = plan.paths.setsOf(ticket, projection, toFetch);
    void cache.write(caller, tenantId, withoutCredentials(sets, [credentials, ticket]), expiryOf(ticket));
    return ticket;
  });
}

/**
 * Stores the entity data of a ticket `switchTenant` just got, under the credentials that ticket
 * carries (its JWT as bearer and its refresh token) and its tenant, so the client's next supergraph
 * request with that ticket resolves entities without a Kibo call. Only what the selection fetched
 * is stored; a type reached only through the ticket's own tenant is stored as not complete.
 */
export function seedFromTicket(
  cache: EntityCache,
  paths: EntityPaths,
  ticket: KiboTicket,
  tenantId: number,
  responseFields: string,
  /** What the switch was made with: a set that mentions them is not stored either. */
  credentials: KiboCredentials,
): Promise<void> {
  if (!ticket.jwtAccessToken || !ticket.refreshToken) return Promise.resolve();
  let fetched = fetchedProjections.get(responseFields);
  if (!fetched) fetchedProjections.set(responseFields, (fetched = parseHeld(responseFields)));
  // A JWT the switch did not ask for (a Kibo sending more than asked) reached no client.
  if (!fetched.has(SEEDING_BEARER)) return Promise.resolve();
  const sets = withoutCredentials(paths.seedSetsOf(ticket, fetched), [credentials, ticket]);
  if (sets.size === 0) return Promise.resolve();
  const caller = cache.caller({ bearer: ticket.jwtAccessToken, refreshToken: ticket.refreshToken });
  return cache.write(caller, tenantId, sets, expiryOf(ticket));
}

/**
 * The sets that carry none of the credentials of the call or of the ticket it returned. Entities are
 * pruned to what was asked, but a value asked whole (an object folded to fit Kibo's URL budget, a
 * JSON attribute) is kept as Kibo sent it: one where Kibo copied a token is not stored.
 */
function withoutCredentials(
  sets: Map<string, EntitySet>,
  holders: ReadonlyArray<Partial<Record<'authorization' | 'refreshToken' | 'jwtAccessToken' | 'accessToken', unknown>>>,
): Map<string, EntitySet> {
  const secrets: string[] = [];
  for (const holder of holders) {
    for (const value of [holder.authorization, holder.refreshToken, holder.jwtAccessToken, holder.accessToken]) {
      if (typeof value !== 'string') continue;
      const secret = bearerToken(value).trim();
      if (secret.length >= MIN_SECRET_LENGTH) secrets.push(secret);
    }
  }
  for (const [typename, set] of sets) if (mayCarry(set, secrets)) sets.delete(typename);
  return sets;
}

/** Whether a set mentions a credential, or is nested too deep to tell (a hostile Kibo's answer): not stored either way. */
function mayCarry(set: EntitySet, secrets: readonly string[]): boolean {
  try {
    for (const entity of set.entities.values()) if (mentionsAny(entity, secrets)) return true;
    return false;
  } catch (error) {
    if (error instanceof RangeError) return true;
    throw error;
  }
}

/**
 * responseFields read back as projections, one object per string, so the seeding plan made for a
 * projection (EntityPaths.seedSetsOf) is found again. Bounded like the projection cache the strings
 * come from: documents are the client's choice.
 */
const fetchedProjections = new LRUCache<string, Projection>({ max: PROJECTION_CACHE_MAX_ENTRIES });

/** Entries held now; for tests that check the bound. */
export function seedProjectionCacheSize(): number {
  return fetchedProjections.size;
}

/** The ticket's access-token expiry in epoch ms, if it carries a readable one. */
function expiryOf(ticket: KiboTicket): number | undefined {
  const expiry = Date.parse(ticket[TICKET_EXPIRY] ?? '');
  return Number.isNaN(expiry) ? undefined : expiry;
}

/** A Kibo refusal of these credentials (switchTenant's path): forget what they cached. */
export function evictOnRefusal(cache: EntityCache, credentials: KiboCredentials, error: unknown): Promise<void> {
  if (!(error instanceof KiboError) || !REFUSALS.has(error.code)) return Promise.resolve();
  return cache.evictCaller(cache.caller(credentials));
}
