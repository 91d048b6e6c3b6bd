/**
 * What the benchmark measures: the servers it starts and the cases it sends them. A new case is one
 * entry in CASES (and, if it needs its own process, one in SERVERS); run.ts measures whatever is
 * listed, the same way as the rest (a lead-in, then rounds with the floor).
 */
import { DEMO } from '../../src/emulator/demo-data.js';
import { TICKET_PATH } from '../../src/kibo/client.js';
import { DEFAULT_MANIFEST_URL, readManifestFile } from '../../src/trusted-documents/manifest.js';
import { WIDE_SELECTION } from './projection-cost.js';
import type { ServerProcess } from './processes.js';

export const PROJECTED_FIELDS = 'accessToken,tenant(id,name,sites(id,name))';
export const PROJECTED_QUERY =
  'mutation { switchTenant(tenantId: 100002) { accessToken tenant { id name sites { id name } } } }';
const WIDE_QUERY = `mutation { switchTenant(tenantId: 100002) ${WIDE_SELECTION} }`;
const trustedId = (operationName: string) =>
  Object.entries(readManifestFile(DEFAULT_MANIFEST_URL)).find(([, text]) =>
    text.startsWith(`mutation ${operationName}(`),
  )?.[0];
const TRUSTED_ID = trustedId('SwitchTenantTokens');
/** Selects the new ticket's JWT, so each switch seeds the entity cache (SwitchTenantTokens does not). */
const SEEDING_ID = trustedId('AdminSwitchTenant');
/** The case every other is measured beside and divided by. */
export const FLOOR = 'proxy-floor';
export const CREDENTIALS = { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': DEMO.refreshToken };

/** A server process: what runs and with which environment (the emulator's URL is filled in). */
export interface ServerSpec {
  script: string;
  env(emulatorUrl: string): Record<string, string>;
}

const gateway =
  (overrides: Record<string, string> = {}) =>
  (emulatorUrl: string): Record<string, string> => ({
    KIBO_BASE_URL: emulatorUrl,
    HOST: '127.0.0.1',
    MAX_COST: '1000000',
    TRUSTED_DOCUMENTS: 'allow',
    // Every case sends one demo credential from --connections clients: at the default cap (8) some
    // requests would be refused RATE_LIMITED — measured, but not the work being measured.
    KIBO_MAX_CONCURRENT_PER_CREDENTIAL: '1000',
    // The production default: one log line per request, to a pipe.
    LOG_LEVEL: 'info',
    // As the image runs it (the Dockerfile sets it): graphql-js then skips its development-mode
    // checks, which cost ~2 % of a projected request's CPU in a profile.
    NODE_ENV: 'production',
    ...overrides,
  });

/** Every process but the emulator (started first, by run.ts). Started only when a selected case needs it. */
export const SERVERS = {
  floor: {
    script: 'test/bench/proxy-floor.ts',
    env: (emulatorUrl) => ({ KIBO_BASE_URL: emulatorUrl, RESPONSE_FIELDS: PROJECTED_FIELDS, TENANT_ID: '100002' }),
  },
  gateway: { script: 'dist/src/main.js', env: gateway() },
  // The pair the info-logging goal compares: twins that serve the same one case and differ only in
  // LOG_LEVEL. Measured on the main gateway instead, the logging side also carried the other cases'
  // history (a larger heap, code optimised for other documents), which moved the comparison by
  // ±10 % from run to run.
  'gateway-logged': { script: 'dist/src/main.js', env: gateway() },
  'gateway-silent': { script: 'dist/src/main.js', env: gateway({ LOG_LEVEL: 'silent' }) },
  'gateway-full': { script: 'dist/src/main.js', env: gateway({ PROJECTION: 'false' }) },
  // gateway-wide allocates ~20 MB per request: served by the main gateway, the old-generation
  // collections it leaves behind landed in whichever case's slice came next (typename slices of one
  // run measured 0.22 or 0.39 ms depending on it). Its own process keeps that cost its own.
  'gateway-wide': { script: 'dist/src/main.js', env: gateway() },
  'gateway-no-cache': { script: 'dist/src/main.js', env: gateway({ ENTITY_CACHE: 'off' }) },
  // The soak's gateway: every limit at its production default (the cases above raise MAX_COST). The
  // entity cache's entries live 10 s instead of 60, so it reaches its steady state (entries expiring
  // as fast as switches seed them) within the soak's warm-up and RSS can be judged after it.
  'gateway-soak': {
    script: 'dist/src/main.js',
    env: (emulatorUrl) => ({
      KIBO_BASE_URL: emulatorUrl,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      NODE_ENV: 'production',
      ENTITY_CACHE_TTL_SECONDS: '10',
    }),
  },
} satisfies Record<string, ServerSpec>;

export type ServerName = keyof typeof SERVERS | 'emulator';

export interface LoadRequest {
  url: string;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  body: string;
}

export interface BenchCase {
  name: string;
  /** One line for the report. */
  what: string;
  server: ServerName;
  request(server: ServerProcess): LoadRequest;
  /** Checked on one answer before the case is measured. */
  correct(body: any): boolean;
  /** Makes a Kibo call per request (upstream bytes are reported per call). */
  upstream: boolean;
  /** Must be served by the trusted documents' fast path (checked on the gateway's metric before measuring). */
  fastPath?: boolean;
  /**
   * Measured in the named case's block, round for round, rather than in a block of its own: for a
   * case that exists to be divided by that one (the silent gateway against the logging one), so the
   * two meet the same seconds of the machine. Their idle time before the block still differs (the
   * main gateway also serves other cases); the block's lead-in evens that out.
   */
  measuredBeside?: string;
}

const graphql =
  (body: Record<string, unknown>) =>
  (server: ServerProcess): LoadRequest => ({
    url: `${server.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...CREDENTIALS },
    body: JSON.stringify(body),
  });

const raw =
  (responseFields?: string) =>
  (server: ServerProcess): LoadRequest => ({
    url: `${server.url}${TICKET_PATH}?${new URLSearchParams({ tenantId: '100002', ...(responseFields && { responseFields }) })}`,
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: CREDENTIALS.authorization },
    body: JSON.stringify({ refreshToken: DEMO.refreshToken }),
  });

const tenantOf = (body: any) => body?.data?.switchTenant?.tenant ?? body?.tenant;
const projectedAnswer = (body: any) => !body.errors && tenantOf(body)?.sites?.length === 5;
const seedingAnswer = (body: any) =>
  !body.errors && typeof body.data?.switchTenant?.jwtAccessToken === 'string' && tenantOf(body)?.id === 100002;

export const CASES: BenchCase[] = [
  {
    name: 'raw-projected',
    what: 'PUT straight to the emulator with the projection gateway-projected needs',
    server: 'emulator',
    request: raw(PROJECTED_FIELDS),
    correct: (b) => tenantOf(b)?.id === 100002 && tenantOf(b).sites.length === 5 && !('availableTenants' in b),
    upstream: true,
  },
  {
    name: 'raw-full',
    what: 'the same without responseFields',
    server: 'emulator',
    request: raw(),
    correct: (b) => b.availableTenants?.length === 50,
    upstream: true,
  },
  {
    name: 'proxy-floor',
    what: 'a bare node:http server forwarding each POST through the same undici pool',
    server: 'floor',
    request: (server) => ({ ...graphql({ query: PROJECTED_QUERY })(server), url: server.url }),
    correct: (b) => tenantOf(b)?.id === 100002,
    upstream: true,
  },
  {
    name: 'gateway-typename',
    what: '`{ __typename }`: the framework alone, no Kibo call',
    server: 'gateway',
    request: graphql({ query: '{ __typename }' }),
    correct: (b) => b.data?.__typename === 'Query',
    upstream: false,
  },
  {
    name: 'gateway-projected',
    what: 'switchTenant { accessToken tenant { id name sites { id name } } }, an ad-hoc document through Yoga',
    server: 'gateway',
    request: graphql({ query: PROJECTED_QUERY }),
    correct: projectedAnswer,
    upstream: true,
  },
  {
    name: 'gateway-projected-logged',
    what: 'gateway-projected on a gateway that serves nothing else (LOG_LEVEL=info)',
    server: 'gateway-logged',
    request: graphql({ query: PROJECTED_QUERY }),
    correct: projectedAnswer,
    upstream: true,
  },
  {
    name: 'gateway-projected-silent',
    what: 'gateway-projected-logged with LOG_LEVEL=silent (the cost of info logging)',
    server: 'gateway-silent',
    request: graphql({ query: PROJECTED_QUERY }),
    correct: projectedAnswer,
    upstream: true,
    measuredBeside: 'gateway-projected-logged',
  },
  {
    name: 'gateway-trusted',
    what: 'the same selection sent by id (SwitchTenantTokens from the trusted-documents manifest), on the precompiled path',
    server: 'gateway',
    request: graphql({ documentId: TRUSTED_ID, variables: { tenantId: 100002 } }),
    correct: projectedAnswer,
    upstream: true,
    fastPath: true,
  },
  {
    name: 'gateway-trusted-seeding',
    what: 'AdminSwitchTenant by id (the new JWT, its expiry, the refresh token, tenant { id name }): every switch seeds the entity cache',
    server: 'gateway',
    request: graphql({ documentId: SEEDING_ID, variables: { tenantId: 100002 } }),
    correct: seedingAnswer,
    upstream: true,
    fastPath: true,
  },
  {
    name: 'gateway-trusted-seeding-no-cache',
    what: 'gateway-trusted-seeding with ENTITY_CACHE=off: what seeding the entity cache costs',
    server: 'gateway-no-cache',
    request: graphql({ documentId: SEEDING_ID, variables: { tenantId: 100002 } }),
    correct: seedingAnswer,
    upstream: true,
    fastPath: true,
  },
  {
    name: 'gateway-full',
    what: 'gateway-projected with PROJECTION=false (whole tickets)',
    server: 'gateway-full',
    request: graphql({ query: PROJECTED_QUERY }),
    correct: projectedAnswer,
    upstream: true,
  },
  {
    name: 'gateway-wide',
    what: 'a ~50-field selection across availableTenants',
    server: 'gateway-wide',
    request: graphql({ query: WIDE_QUERY }),
    correct: (b) => !b.errors && b.data?.switchTenant?.availableTenants?.length === 50,
    upstream: true,
  },
];
