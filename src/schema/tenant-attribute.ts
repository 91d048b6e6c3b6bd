/** Attributes: named configuration values on tenants and sites. */
import { builder } from '../builder.js';
import type { KiboTenantAttribute } from '../kibo/types.js';

export const TenantAttribute = builder.objectRef<KiboTenantAttribute>('TenantAttribute').implement({
  description: 'A named configuration value, with who set it and when.',
  kiboPlaceholder: 'name',
  fields: (t) => ({
    name: t.exposeString('name', { nullable: true, description: 'Name of the attribute, e.g. tenant~tax-provider.' }),
    value: t.expose('value', {
      type: 'JSON',
      nullable: true,
      description: 'The value, of whatever JSON type the attribute holds.',
    }),
    createBy: t.exposeString('createBy', { nullable: true, description: 'Who created the attribute.' }),
    createDate: t.expose('createDate', { type: 'DateTime', description: 'When the attribute was created.' }),
    updateBy: t.exposeString('updateBy', { nullable: true, description: 'Who last changed the attribute.' }),
    updateDate: t.expose('updateDate', { type: 'DateTime', description: 'When the attribute last changed.' }),
  }),
});
