/**
 * Short names for the REST shapes generated from `schema/kibo-openapi.yaml` (see `npm run codegen`).
 * Generated with every property present, as a full ticket has them; a projected ticket carries only
 * what its `responseFields` asked for, and the GraphQL layer reads nothing else.
 */
import type { components } from '../generated/kibo-rest.js';

type Schemas = components['schemas'];

export type KiboTicket = Schemas['TenantAdminUserAuthTicket'];
export type KiboTenant = Schemas['Tenant'];
export type KiboSite = Schemas['Site'];
export type KiboCatalog = Schemas['Catalog'];
export type KiboMasterCatalog = Schemas['AdminUserMasterCatalog'];
export type KiboUserProfile = Schemas['UserProfile'];
export type KiboTenantAttribute = Schemas['TenantAttribute'];
