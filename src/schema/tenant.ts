/** Tenants: the Kibo accounts a user can switch between. */
import { builder } from '../builder.js';
import type { KiboTenant } from '../kibo/types.js';
import { AdminUserMasterCatalog } from './catalog.js';
import { secondsUntil } from './scalars.js';
import { Site } from './site.js';
import { TenantAttribute } from './tenant-attribute.js';

export const Tenant = builder.objectRef<KiboTenant>('Tenant').implement({
  description: 'A Kibo tenant: one commerce account with its sites, master catalogs and settings.',
  kiboPlaceholder: 'id',
  fields: (t) => ({
    id: t.exposeInt('id', { description: 'Unique identifier of the tenant (the tenantId of API calls).' }),
    name: t.exposeString('name', { nullable: true, description: 'Display name of the tenant.' }),
    domain: t.exposeString('domain', { nullable: true, description: 'The domain the tenant is served from.' }),
    isDevTenant: t.exposeBoolean('isDevTenant', { description: 'Whether this is a development (sandbox) tenant.' }),
    isUnified: t.exposeBoolean('isUnified', { description: 'Whether the tenant runs on the unified platform.' }),
    expiry: t.expose('expiry', {
      type: 'DateTime',
      nullable: true,
      description: 'When the tenant expires, if it does.',
    }),
    isExpired: t.boolean({
      description:
        'Whether `expiry` has passed, judged by the gateway when the field is read. False for tenants without an expiry.',
      kiboRequires: ['expiry'],
      resolve: (tenant) => tenant.expiry !== null && secondsUntil(tenant.expiry) < 0,
    }),
    lastLoginDate: t.expose('lastLoginDate', {
      type: 'DateTime',
      nullable: true,
      description: 'When the user last logged in to this tenant.',
    }),
    sites: t.expose('sites', {
      type: [Site],
      nullable: { list: true, items: false },
      description: 'The storefronts of the tenant.',
    }),
    masterCatalogs: t.expose('masterCatalogs', {
      type: [AdminUserMasterCatalog],
      nullable: { list: true, items: false },
      description: 'The master catalogs the user can see in the tenant.',
    }),
    attributes: t.expose('attributes', {
      type: [TenantAttribute],
      nullable: { list: true, items: false },
      description: 'Configuration attributes set on the tenant.',
    }),
  }),
});
