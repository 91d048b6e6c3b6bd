/** Sites: the storefronts a tenant runs. */
import { builder } from '../builder.js';
import type { KiboSite } from '../kibo/types.js';
import { TenantAttribute } from './tenant-attribute.js';

export const Site = builder.objectRef<KiboSite>('Site').implement({
  description: 'A storefront of the tenant, with its locale, currency and domains.',
  kiboPlaceholder: 'id',
  fields: (t) => ({
    id: t.exposeInt('id', { description: 'Unique identifier of the site.' }),
    name: t.exposeString('name', { nullable: true, description: 'Display name of the site.' }),
    tenantId: t.exposeInt('tenantId', { description: 'The tenant the site belongs to.' }),
    catalogId: t.exposeInt('catalogId', { description: 'The catalog the site sells from.' }),
    countryCode: t.exposeString('countryCode', { nullable: true, description: 'ISO 3166 country of the site.' }),
    currencyCode: t.exposeString('currencyCode', { nullable: true, description: 'ISO 4217 currency of the site.' }),
    localeCode: t.exposeString('localeCode', { nullable: true, description: 'Locale of the site, e.g. en-US.' }),
    domain: t.exposeString('domain', { nullable: true, description: 'The Kibo-hosted domain of the site.' }),
    primaryCustomDomain: t.exposeString('primaryCustomDomain', {
      nullable: true,
      description: "The site's own primary domain, if it has one.",
    }),
    attributes: t.expose('attributes', {
      type: [TenantAttribute],
      nullable: { list: true, items: false },
      description: 'Configuration attributes set on the site.',
    }),
  }),
});
