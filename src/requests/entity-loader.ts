/**
 * Federation reference resolution. Another subgraph hands back references (`{ __typename: "Site",
 * id: 101 }`); they are read from the ticket of the tenant named by `X-Vol-Tenant` — its `tenant`,
 * `availableTenants` and what those contain — fetched with the caller's forwarded credentials.
 * All references of one `_entities` field cost one Kibo call, projected to exactly the fields the
 * query selects on each entity type (plus the keys needed to find them).
 */
import DataLoader from 'dataloader';
import type { GraphQLObjectType, GraphQLResolveInfo } from 'graphql';
import type { GatewayContext } from './context.js';
import type {
  KiboCatalog,
  KiboMasterCatalog,
  KiboSite,
  KiboTenant,
  KiboTicket,
  KiboUserProfile,
} from '../kibo/types.js';
import { mergeProjections, WHOLE_VALUE, type Projection } from '../projection/projection.js';
import { responseFieldsForProjection } from '../projection/response-fields.js';
import { projectionForType } from '../projection/walker.js';
import { credentialsFor, type KiboCredentials } from './credentials.js';
import { badUserInput, toGraphQLError } from './upstream-errors.js';

export const TENANT_CONTEXT_HEADER = 'x-vol-tenant';

/** Each entity type and the property that keys it. */
export const ENTITY_KEYS = {
  Tenant: 'id',
  Site: 'id',
  AdminUserMasterCatalog: 'id',
  Catalog: 'id',
  UserProfile: 'userId',
} as const;

export type EntityTypeName = keyof typeof ENTITY_KEYS;

export interface EntityReference {
  typename: EntityTypeName;
  key: number | string;
}

interface EntityShapes {
  Tenant: KiboTenant;
  Site: KiboSite;
  AdminUserMasterCatalog: KiboMasterCatalog;
  Catalog: KiboCatalog;
  UserProfile: KiboUserProfile;
}

type Entity = EntityShapes[EntityTypeName];

export type EntityLoader = DataLoader<EntityReference, Entity | null, string>;

/** The entity a reference names, or null when the tenant's ticket does not hold it. */
export function loadEntity<Name extends EntityTypeName>(
  context: GatewayContext,
  info: GraphQLResolveInfo,
  typename: Name,
  key: number | string,
): Promise<EntityShapes[Name] | null> {
  return entityLoader(context, info).load({ typename, key }) as Promise<EntityShapes[Name] | null>;
}

/** One loader per `_entities` field of a request: its batch is one Kibo call. */
function entityLoader(context: GatewayContext, info: GraphQLResolveInfo): EntityLoader {
  const fieldNode = info.fieldNodes[0]!;
  let loader = context.entityLoaders.get(fieldNode);
  if (!loader) {
    loader = new DataLoader((references) => resolveReferences(context, info, references), {
      cacheKeyFn: (reference) => `${reference.typename}:${reference.key}`,
    });
    context.entityLoaders.set(fieldNode, loader);
  }
  return loader;
}

async function resolveReferences(
  context: GatewayContext,
  info: GraphQLResolveInfo,
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

  const wanted = new Set(references.map((reference) => reference.typename));
  const projection = entityProjection(info, wanted);
  const responseFields = context.projection
    ? responseFieldsForProjection(projection, context.kibo.queryBudget)
    : undefined;

  let ticket: KiboTicket;
  try {
    ticket = await context.tickets.load({ tenantId, responseFields, ...credentials });
  } catch (error) {
    const failure = toGraphQLError(error);
    return references.map(() => failure);
  }
  const index = indexEntities(ticket);
  return references.map((reference) => index.get(`${reference.typename}:${reference.key}`) ?? null);
}

function tenantContext(request: Request): number {
  const raw = request.headers.get(TENANT_CONTEXT_HEADER)?.trim();
  if (!raw) throw badUserInput('Entities are read in a tenant context: send the tenant id in the X-Vol-Tenant header.');
  const tenantId = Number(raw);
  if (!/^\d+$/.test(raw) || tenantId <= 0 || tenantId >= 2 ** 31)
    throw badUserInput(`The X-Vol-Tenant header must be a positive tenant id, got "${raw}".`);
  return tenantId;
}

/**
 * Where each entity type lives in a ticket, asked for with what the query selects on it:
 * tenants in `tenant` and `availableTenants`, sites and master catalogs inside tenants, catalogs
 * inside master catalogs, the user as `user`. Keys are always asked for, to find each reference.
 */
function entityProjection(info: GraphQLResolveInfo, wanted: ReadonlySet<EntityTypeName>): Projection {
  const select = (typename: EntityTypeName): Projection => {
    const type = info.schema.getType(typename) as GraphQLObjectType;
    return mergeProjections(projectionForType(info, type), new Map([[ENTITY_KEYS[typename], WHOLE_VALUE]]));
  };
  const keyOnly = (typename: EntityTypeName): Projection => new Map([[ENTITY_KEYS[typename], WHOLE_VALUE]]);

  let masterCatalog: Projection | undefined;
  if (wanted.has('AdminUserMasterCatalog') || wanted.has('Catalog')) {
    masterCatalog = wanted.has('AdminUserMasterCatalog')
      ? select('AdminUserMasterCatalog')
      : keyOnly('AdminUserMasterCatalog');
    if (wanted.has('Catalog'))
      masterCatalog = mergeProjections(masterCatalog, new Map([['catalogs', select('Catalog')]]));
  }
  let tenant: Projection | undefined;
  if (wanted.has('Tenant') || wanted.has('Site') || masterCatalog) {
    tenant = wanted.has('Tenant') ? select('Tenant') : keyOnly('Tenant');
    if (wanted.has('Site')) tenant = mergeProjections(tenant, new Map([['sites', select('Site')]]));
    if (masterCatalog) tenant = mergeProjections(tenant, new Map([['masterCatalogs', masterCatalog]]));
  }

  const projection = new Map<string, Projection>();
  if (tenant) {
    projection.set('tenant', tenant);
    projection.set('availableTenants', tenant);
  }
  if (wanted.has('UserProfile')) projection.set('user', select('UserProfile'));
  return projection;
}

/** Every entity a ticket holds, by `Type:key`. The ticket's own tenant wins over its copy in the list. */
function indexEntities(ticket: KiboTicket): Map<string, Entity> {
  const index = new Map<string, Entity>();
  const add = (typename: EntityTypeName, key: unknown, entity: Entity) => {
    if (key !== null && key !== undefined && !index.has(`${typename}:${key}`)) index.set(`${typename}:${key}`, entity);
  };
  for (const tenant of [ticket.tenant, ...(ticket.availableTenants ?? [])]) {
    if (!tenant) continue;
    add('Tenant', tenant.id, tenant);
    for (const site of tenant.sites ?? []) add('Site', site.id, site);
    for (const masterCatalog of tenant.masterCatalogs ?? []) {
      add('AdminUserMasterCatalog', masterCatalog.id, masterCatalog);
      for (const catalog of masterCatalog.catalogs ?? []) add('Catalog', catalog.id, catalog);
    }
  }
  if (ticket.user) add('UserProfile', ticket.user.userId, ticket.user);
  return index;
}
