/**
 * The emulator's demo world: who may log in and which tenants they see. Everything here is derived
 * from ids, so every run and every process serves the same tenants, sites and catalogs.
 */
import type {
  KiboCatalog,
  KiboMasterCatalog,
  KiboSite,
  KiboTenant,
  KiboTenantAttribute,
  KiboUserProfile,
} from '../kibo/types.js';

export interface DemoUser {
  profile: KiboUserProfile;
  /** Tenants this user may switch into, in the order Kibo lists them. */
  tenants: KiboTenant[];
  grantedBehaviors: number[];
}

export interface DemoRefreshToken {
  user: DemoUser;
  expiresAt: Date;
}

/** The identity the README documents; every value here is public demo data, not a secret. */
export const DEMO = {
  appToken: 'demo-app-token',
  refreshToken: 'demo-refresh-token',
  tenantIds: { first: 100001, last: 100050 },
  narrowRefreshToken: 'narrow-refresh-token',
  narrowTenantId: 200001,
  expiredRefreshToken: 'expired-refresh-token',
  /** A team of admins sharing tenants 100001–100010, so load can come from many users. */
  teamSize: 20,
  teamTenantIds: { first: 100001, last: 100010 },
} as const;

/** The refresh token of team member `index` (1 … DEMO.teamSize): `team-refresh-token-01` and on. */
export function teamRefreshToken(index: number): string {
  return `team-refresh-token-${String(index).padStart(2, '0')}`;
}

const SITES_PER_TENANT = 5;
const MASTER_CATALOGS_PER_TENANT = 3;
const CATALOGS_PER_MASTER = 4;
const ATTRIBUTES_PER_TENANT = 10;

const BRANDS = [
  'Northwind',
  'Contoso',
  'Fabrikam',
  'Tailspin',
  'Wingtip',
  'Litware',
  'Adatum',
  'Proseware',
  'Coho',
  'Lucerne',
];
const LINES = ['Outfitters', 'Home', 'Electronics', 'Grocers', 'Sports'];
const LOCALES = [
  { country: 'US', locale: 'en-US', currency: 'USD' },
  { country: 'CA', locale: 'fr-CA', currency: 'CAD' },
  { country: 'GB', locale: 'en-GB', currency: 'GBP' },
  { country: 'DE', locale: 'de-DE', currency: 'EUR' },
  { country: 'JP', locale: 'ja-JP', currency: 'JPY' },
] as const;
const ATTRIBUTE_NAMES = [
  'tenant~fulfillment-mode',
  'tenant~default-warehouse',
  'tenant~tax-provider',
  'tenant~order-routing',
  'tenant~loyalty-enabled',
  'tenant~search-provider',
  'tenant~max-cart-items',
  'tenant~returns-window-days',
  'tenant~brand-colors',
  'tenant~launch-regions',
];
// One value of each JSON kind, since TenantAttribute.value is untyped in the spec.
const ATTRIBUTE_VALUES: unknown[] = [
  'ship-to-home',
  'WH-01',
  'avalara',
  { strategy: 'nearest', fallback: 'WH-01' },
  true,
  'kibo-search',
  250,
  30,
  ['#0a2540', '#f6f9fc'],
  null,
];

const EPOCH = Date.UTC(2024, 0, 15, 9, 30);
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString();

function attribute(index: number, tenantOrdinal: number): KiboTenantAttribute {
  return {
    name: ATTRIBUTE_NAMES[index % ATTRIBUTE_NAMES.length]!,
    value: ATTRIBUTE_VALUES[index % ATTRIBUTE_VALUES.length],
    createBy: 'provisioning',
    createDate: iso(EPOCH + tenantOrdinal * DAY),
    updateBy: index % 3 === 0 ? 'demo.admin@example.com' : null,
    updateDate: iso(EPOCH + (tenantOrdinal + index) * DAY),
  };
}

function site(tenantId: number, ordinal: number, index: number, brand: string): KiboSite {
  const place = LOCALES[index % LOCALES.length]!;
  const id = ordinal * 100 + index + 1;
  return {
    id,
    tenantId,
    name: `${brand} ${place.country}`,
    catalogId: ordinal * 100 + 11 + (index % CATALOGS_PER_MASTER),
    countryCode: place.country,
    currencyCode: place.currency,
    localeCode: place.locale,
    domain: `s${id}-t${tenantId}.sandbox.mozu.com`,
    primaryCustomDomain: index === 0 ? `www.${brand.toLowerCase().replace(/\s+/g, '-')}.example` : null,
    attributes: [attribute(index, ordinal), attribute(index + 5, ordinal)],
  };
}

function masterCatalog(tenantId: number, ordinal: number, index: number, brand: string): KiboMasterCatalog {
  const id = ordinal * 10 + index + 1;
  const place = LOCALES[index % LOCALES.length]!;
  const catalogs: KiboCatalog[] = Array.from({ length: CATALOGS_PER_MASTER }, (_, c) => {
    const catalogPlace = LOCALES[(index + c) % LOCALES.length]!;
    return {
      id: ordinal * 100 + (index + 1) * 10 + c + 1,
      masterCatalogId: id,
      tenantId,
      name: `${brand} ${catalogPlace.country} catalog ${c + 1}`,
      defaultCurrencyCode: catalogPlace.currency,
      defaultLocaleCode: catalogPlace.locale,
    };
  });
  return {
    id,
    tenantId,
    name: `${brand} master catalog ${index + 1}`,
    defaultCurrencyCode: place.currency,
    defaultLocaleCode: place.locale,
    supportedLocaleCodes: LOCALES.slice(0, index + 2).map((l) => l.locale),
    catalogs,
  };
}

/** A tenant with realistic breadth: 5 sites, 3 master catalogs of 4 catalogs, 10 attributes. */
export function demoTenant(tenantId: number): KiboTenant {
  const ordinal = tenantId % 100_000;
  const brand = `${BRANDS[ordinal % BRANDS.length]} ${LINES[Math.floor(ordinal / BRANDS.length) % LINES.length]}`;
  return {
    id: tenantId,
    name: brand,
    domain: `t${tenantId}.sandbox.mozu.com`,
    isDevTenant: ordinal % 10 === 0,
    isUnified: ordinal % 2 === 1,
    // The last demo tenant has lapsed, so expiry handling has something real to show.
    expiry: ordinal === 50 ? iso(EPOCH - 30 * DAY) : iso(EPOCH + 3 * 365 * DAY),
    lastLoginDate: ordinal % 7 === 0 ? null : iso(EPOCH + ordinal * DAY),
    sites: Array.from({ length: SITES_PER_TENANT }, (_, i) => site(tenantId, ordinal, i, brand)),
    masterCatalogs: Array.from({ length: MASTER_CATALOGS_PER_TENANT }, (_, i) =>
      masterCatalog(tenantId, ordinal, i, brand),
    ),
    attributes: Array.from({ length: ATTRIBUTES_PER_TENANT }, (_, i) => attribute(i, ordinal)),
  };
}

/** A bare tenant: nulls where the spec allows them, for the narrow cases. */
function narrowTenant(tenantId: number): KiboTenant {
  return {
    id: tenantId,
    name: null,
    domain: null,
    isDevTenant: true,
    isUnified: false,
    expiry: null,
    lastLoginDate: null,
    sites: [],
    masterCatalogs: null,
    attributes: null,
  };
}

export interface DemoDirectory {
  users: DemoUser[];
  /** Refresh token → its owner and expiry; tokens are never rotated, only expire. */
  refreshTokens: Map<string, DemoRefreshToken>;
  /** Long-lived application tokens accepted as bearer (Kibo's app-auth tokens). */
  appTokens: Set<string>;
}

export function createDemoDirectory(now: Date): DemoDirectory {
  const demoUser: DemoUser = {
    profile: {
      userId: '0d1b6a7c4e2f4c3aa1b2c3d4e5f60718',
      userName: 'demo.admin@example.com',
      emailAddress: 'demo.admin@example.com',
      firstName: 'Dana',
      lastName: 'Demo',
    },
    tenants: Array.from({ length: DEMO.tenantIds.last - DEMO.tenantIds.first + 1 }, (_, i) =>
      demoTenant(DEMO.tenantIds.first + i),
    ),
    grantedBehaviors: Array.from({ length: 24 }, (_, i) => 1000 + i * 7),
  };
  const narrowUser: DemoUser = {
    profile: { userId: null, userName: 'narrow.user', emailAddress: null, firstName: null, lastName: null },
    tenants: [narrowTenant(DEMO.narrowTenantId)],
    grantedBehaviors: [],
  };
  const teamTenants = demoUser.tenants.filter(
    (tenant) => tenant.id! >= DEMO.teamTenantIds.first && tenant.id! <= DEMO.teamTenantIds.last,
  );
  const team: DemoUser[] = Array.from({ length: DEMO.teamSize }, (_, i) => {
    const number = String(i + 1).padStart(2, '0');
    return {
      profile: {
        userId: `7e4a${number}00c0ffee00000000000000${number}`,
        userName: `team.admin${number}@example.com`,
        emailAddress: `team.admin${number}@example.com`,
        firstName: 'Team',
        lastName: `Admin ${number}`,
      },
      tenants: teamTenants,
      grantedBehaviors: [1000, 1007, 1014],
    };
  });
  const inThirtyDays = new Date(now.getTime() + 30 * DAY);
  return {
    users: [demoUser, narrowUser, ...team],
    appTokens: new Set([DEMO.appToken]),
    refreshTokens: new Map([
      [DEMO.refreshToken, { user: demoUser, expiresAt: inThirtyDays }],
      [DEMO.narrowRefreshToken, { user: narrowUser, expiresAt: inThirtyDays }],
      [DEMO.expiredRefreshToken, { user: demoUser, expiresAt: new Date(now.getTime() - DAY) }],
      ...team.map((user, i) => [teamRefreshToken(i + 1), { user, expiresAt: inThirtyDays }] as const),
    ]),
  };
}
