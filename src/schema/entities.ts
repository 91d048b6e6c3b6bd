/**
 * The federation entities this subgraph owns, each keyed as the README documents, and resolved
 * from the `X-Vol-Tenant` tenant's ticket (see entity-loader.ts).
 */
import { builder } from '../builder.js';
import { AdminUserMasterCatalog, Catalog } from './catalog.js';
import { loadEntity } from '../requests/entity-loader.js';
import { Site } from './site.js';
import { Tenant } from './tenant.js';
import { UserProfile } from './user-profile.js';

const byId = builder.selection<{ id: number }>('id');

builder.asEntity(Tenant, { key: byId, resolveReference: (reference, context, info) => loadEntity(context, info, 'Tenant', reference.id) });
builder.asEntity(Site, { key: byId, resolveReference: (reference, context, info) => loadEntity(context, info, 'Site', reference.id) });
builder.asEntity(AdminUserMasterCatalog, { key: byId, resolveReference: (reference, context, info) => loadEntity(context, info, 'AdminUserMasterCatalog', reference.id) });
builder.asEntity(Catalog, { key: byId, resolveReference: (reference, context, info) => loadEntity(context, info, 'Catalog', reference.id) });
builder.asEntity(UserProfile, {
  key: builder.selection<{ userId: string }>('userId'),
  resolveReference: (reference, context, info) => loadEntity(context, info, 'UserProfile', reference.userId),
});
