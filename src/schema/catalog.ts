/** Catalogs: the master catalogs a tenant owns and the catalogs inside them. */
import { builder } from '../builder.js';
import type { KiboCatalog, KiboMasterCatalog } from '../kibo/types.js';

export const Catalog = builder.objectRef<KiboCatalog>('Catalog').implement({
  description: 'A catalog within a master catalog: the products, prices and locale a set of sites sells from.',
  kiboPlaceholder: 'id',
  fields: (t) => ({
    id: t.exposeInt('id', { description: 'Unique identifier of the catalog.' }),
    name: t.exposeString('name', { nullable: true, description: 'Display name of the catalog.' }),
    masterCatalogId: t.exposeInt('masterCatalogId', { description: 'The master catalog this catalog belongs to.' }),
    tenantId: t.exposeInt('tenantId', { description: 'The tenant that owns the catalog.' }),
    defaultCurrencyCode: t.exposeString('defaultCurrencyCode', {
      nullable: true,
      description: 'ISO 4217 currency used when none is specified.',
    }),
    defaultLocaleCode: t.exposeString('defaultLocaleCode', {
      nullable: true,
      description: 'Locale (e.g. en-US) used when none is specified.',
    }),
  }),
});

export const AdminUserMasterCatalog = builder.objectRef<KiboMasterCatalog>('AdminUserMasterCatalog').implement({
  description: 'A master catalog the admin user can see in the tenant, with its child catalogs.',
  kiboPlaceholder: 'id',
  fields: (t) => ({
    id: t.exposeInt('id', { description: 'Unique identifier of the master catalog.' }),
    name: t.exposeString('name', { nullable: true, description: 'Display name of the master catalog.' }),
    tenantId: t.exposeInt('tenantId', { description: 'The tenant that owns the master catalog.' }),
    defaultCurrencyCode: t.exposeString('defaultCurrencyCode', {
      nullable: true,
      description: 'ISO 4217 currency used when none is specified.',
    }),
    defaultLocaleCode: t.exposeString('defaultLocaleCode', {
      nullable: true,
      description: 'Locale (e.g. en-US) used when none is specified.',
    }),
    supportedLocaleCodes: t.exposeStringList('supportedLocaleCodes', {
      nullable: { list: true, items: false },
      description: 'Every locale the master catalog carries content for.',
    }),
    catalogs: t.expose('catalogs', {
      type: [Catalog],
      nullable: { list: true, items: false },
      description: 'The catalogs inside this master catalog.',
    }),
  }),
});
