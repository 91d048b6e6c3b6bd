/**
 * Federation reference resolution. Another subgraph hands back references (`{ __typename: "Site",
 * id: 101 }`); they are read from the ticket of the tenant named by `X-Vol-Tenant` — its `tenant`,
 * `availableTenants` and what those contain — fetched with the caller's forwarded credentials.
 * All references of one request cost one Kibo call — across every `_entities` field it has, aliased
 * or not — projected to exactly the fields those fields select on each entity type (plus the keys
 * needed to find them). So `MAX_UPSTREAM_CALLS` holds for entities without counting them.
 */
import DataLoader from 'dataloader';
import { Kind, type FieldNode, type GraphQLObjectType, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';
import { ticketsOf, type GatewayContext, type RequestView } from './context.js';
import type { KiboTicket } from '../kibo/types.js';
import { mergeProjections, WHOLE_VALUE, type Projection } from '../projection/projection.js';
import { responseFieldsForProjection } from '../projection/response-fields.js';
import { isIncluded, projectionForType } from '../projection/walker.js';
import { resolveThroughCache } from './cached-entities.js';
import { credentialsFor, type KiboCredentials } from './credentials.js';
import { EntityPaths } from './entity-sets.js';
import { badUserInput, toGraphQLError } from './upstream-errors.js';

export const TENANT_CONTEXT_HEADER = 'x-vol-tenant';

/**
 * One entity type, as the schema's entity table declares it (src/schema/entities.ts): what keys it
 * and where it lives in a ticket. Everything here — the projection asked of Kibo and the index that
 * finds references in the answer — is derived from these rows.
 */
export interface EntityDeclaration {
  /** The GraphQL object type. */
  typename: string;
  /** The REST property that keys it (and its GraphQL key field). */
  key: string;
  /** The type it is found in: the ticket's type at the top, or another entity's type. */
  parent: string;
  /**
   * The parent's properties that hold it, each an object or a list. When one entity appears twice,
   * the earlier property wins: the ticket's own `tenant` over its copy in `availableTenants`.
   */
  holders: readonly string[];
}

interface EntityReference {
  typename: string;
  key: unknown;
}

type Entity = object;

export type EntityLoader = DataLoader<EntityReference, Entity | null, string>;

/** The entity a reference names, or null when the tenant's ticket does not hold it. */
export type ResolveEntity = (
  context: GatewayContext,
  info: GraphQLResolveInfo,
  typename: string,
  key: unknown,
) => Promise<Entity | null>;

/** Reference resolution for the entities of one table, whose top-level rows live in `ticketType`. */
export function createEntityResolver(
  entities: readonly EntityDeclaration[],
  ticketType: string,
): ResolveEntity & { paths: EntityPaths } {
  const table = new EntityTable(entities, ticketType);
  const resolve: ResolveEntity = (context, info, typename, key) =>
    entityLoader(context, info, table)
      .load({ typename, key })
      .then((entity) => {
        // Each reference is its own part of the answer: charged to the budget one by one.
        if (entity) context.answer.charge(info, info.schema.getType(typename) as GraphQLObjectType, entity);
        return entity;
      });
  // The same table tells switchTenant where entities live, to seed the cache from its tickets.
  return Object.assign(resolve, { paths: table.paths });
}

/** The declarations as a tree: each type's child entities, the ticket's type at the root. */
class EntityTable {
  private readonly children = new Map<string, EntityDeclaration[]>();
  /** Every path from the ticket to each type, for the entity cache. */
  readonly paths: EntityPaths;

  constructor(
    entities: readonly EntityDeclaration[],
    readonly ticketType: string,
  ) {
    this.paths = new EntityPaths(entities, ticketType);
    for (const entity of entities) {
      const siblings = this.children.get(entity.parent) ?? [];
      siblings.push(entity);
      this.children.set(entity.parent, siblings);
    }
  }

  childrenOf(typename: string): readonly EntityDeclaration[] {
    return this.children.get(typename) ?? [];
  }

  keyOf(typename: string): string {
    for (const siblings of this.children.values())
      for (const entity of siblings) if (entity.typename === typename) return entity.key;
    throw new Error(`${typename} is not an entity of the table`);
  }
}

/**
 * One loader per request, whichever `_entities` field asks first: graphql-js resolves the root fields
 * of a query together, so every field's references land in the same batch. A later batch (a field
 * resolved after an await) asks for the same projection, which the ticket loader answers from the
 * call already made.
 */
function entityLoader(context: GatewayContext, info: GraphQLResolveInfo, table: EntityTable): EntityLoader {
  return (context.entityLoader ??= new DataLoader(
    (references) => resolveReferences(context, { ...info, fieldNodes: entitiesFieldsOf(info) }, table, references),
    { cacheKeyFn: (reference) => indexKey(reference.typename, reference.key) },
  ));
}

/** Every root field of the operation that is the same field as `info`'s (`_entities`), aliases included. */
function entitiesFieldsOf(info: GraphQLResolveInfo): FieldNode[] {
  const fields: FieldNode[] = [];
  const visited = new Set<string>();
  const collect = (selectionSet: SelectionSetNode) => {
    for (const selection of selectionSet.selections) {
      if (!isIncluded(selection, info.variableValues)) continue;
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === info.fieldName) fields.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!visited.has(selection.name.value)) {
        visited.add(selection.name.value);
        const fragment = info.fragments[selection.name.value];
        if (fragment) collect(fragment.selectionSet);
      }
    }
  };
  collect(info.operation.selectionSet);
  return fields.length > 0 ? fields : [...info.fieldNodes];
}

function indexKey(typename: string, key: unknown): string {
  return `${typename}:${String(key)}`;
}

async function resolveReferences(
  context: GatewayContext,
  info: GraphQLResolveInfo,
  table: EntityTable,
  references: readonly EntityReference[],
): Promise<Array<Entity | null | Error>> {
  let credentials: KiboCredentials;
  let tenantId: number;
  try {
    credentials = credentialsFor(context.request, undefined, context.refreshTokenCookie);
    tenantId = tenantContext(context.request);
  } catch (error) {
    return references.map(() => error as Error);
  }

  const asked = askedOf(info, table, new Set(references.map((reference) => reference.typename)));
  if (context.entityCache) {
    return resolveThroughCache(context, context.entityCache, credentials, tenantId, references, asked, {
      paths: table.paths,
      projectionFor: (perType) => entityProjection(table, perType),
      index: (ticket) => indexEntities(ticket, table),
      indexKey,
    });
  }
  const projection = entityProjection(table, asked);
  const responseFields = context.projection
    ? responseFieldsForProjection(projection, context.kibo.queryBudget)
    : undefined;

  let ticket: KiboTicket;
  try {
    ticket = await ticketsOf(context).load({ tenantId, responseFields, ...credentials });
  } catch (error) {
    const failure = toGraphQLError(error);
    return references.map(() => failure);
  }
  const index = indexEntities(ticket, table);
  return references.map((reference) => index.get(indexKey(reference.typename, reference.key)) ?? null);
}

function tenantContext(request: RequestView): number {
  const raw = request.headers.get(TENANT_CONTEXT_HEADER)?.trim();
  if (!raw) throw badUserInput('Entities are read in a tenant context: send the tenant id in the X-Vol-Tenant header.');
  const tenantId = Number(raw);
  if (!/^\d+$/.test(raw) || tenantId <= 0 || tenantId >= 2 ** 31)
    // Echoed capped: the header is the client's, and an answer's size is not theirs to choose.
    throw badUserInput(
      `The X-Vol-Tenant header must be a positive tenant id, got "${raw.length > 20 ? `${raw.slice(0, 20)}…` : raw}".`,
    );
  return tenantId;
}

/** What the query selects on each wanted type, with its key (to find each reference). */
function askedOf(info: GraphQLResolveInfo, table: EntityTable, wanted: ReadonlySet<string>): Map<string, Projection> {
  const asked = new Map<string, Projection>();
  for (const typename of wanted) {
    const type = info.schema.getType(typename) as GraphQLObjectType;
    asked.set(
      typename,
      mergeProjections(projectionForType(info, type), new Map([[table.keyOf(typename), WHOLE_VALUE]])),
    );
  }
  return asked;
}

/**
 * What to ask Kibo for: each type of `asked` with its projection, reached through its holders; a
 * type only on the way to an asked one (the tenant above asked sites, say) is asked for its key alone.
 */
function entityProjection(table: EntityTable, asked: ReadonlyMap<string, Projection>): Projection {
  const within = (parent: string): Projection => {
    let projection: Projection = new Map();
    for (const entity of table.childrenOf(parent)) {
      const below = within(entity.typename);
      const own = asked.get(entity.typename);
      if (!own && below.size === 0) continue;
      const here = mergeProjections(own ?? new Map([[entity.key, WHOLE_VALUE]]), below);
      projection = mergeProjections(projection, new Map(entity.holders.map((holder) => [holder, here])));
    }
    return projection;
  };
  return within(table.ticketType);
}

/** Every entity a ticket holds, by `Type:key`; the first one found of each wins (see `holders`). */
function indexEntities(ticket: KiboTicket, table: EntityTable): Map<string, Entity> {
  const index = new Map<string, Entity>();
  const visit = (parentType: string, parent: Record<string, unknown>) => {
    for (const entity of table.childrenOf(parentType)) {
      for (const holder of entity.holders) {
        const held = parent[holder];
        for (const item of Array.isArray(held) ? held : [held]) {
          if (item === null || typeof item !== 'object') continue;
          const key = (item as Record<string, unknown>)[entity.key];
          const at = indexKey(entity.typename, key);
          if (key !== null && key !== undefined && !index.has(at)) index.set(at, item as Entity);
          visit(entity.typename, item as Record<string, unknown>);
        }
      }
    }
  };
  visit(table.ticketType, ticket as unknown as Record<string, unknown>);
  return index;
}
