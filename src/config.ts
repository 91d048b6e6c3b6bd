/**
 * Environment → typed, validated configuration. Every problem names the variable that caused it,
 * so a bad deployment fails at start with a message an operator can act on.
 */

export interface GatewayConfig {
  /** Port the GraphQL server listens on (0 picks a free one). */
  port: number;
  /** Host the GraphQL server binds to. */
  host: string;
  /** Kibo base URL (scheme + host, without `/api`); undefined starts the embedded emulator. */
  kiboBaseUrl: string | undefined;
  upstream: UpstreamConfig;
  /** How long clients may take, and how many may be connected at once. */
  http: HttpServerLimits;
  /** Derive `responseFields` from the selection set; off only to measure what it saves. */
  projection: boolean;
  /** Serve Prometheus metrics at /metrics. */
  metrics: boolean;
  /** After SIGTERM, how long the replica keeps serving with /ready at 503 so balancers notice. */
  shutdownDrainDelayMs: number;
  /** Once it stops accepting, how long in-flight requests may take before connections are closed. */
  shutdownGraceMs: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  limits: OperationLimits;
  browser: BrowserConfig;
  /** Cookie name for the refresh token (opt-in cookie mode); undefined leaves cookies alone. */
  refreshTokenCookie: string | undefined;
  trustedDocuments: TrustedDocumentsConfig;
  entityCache: EntityCacheConfig;
  /** OpenTelemetry tracing from the standard OTEL_* variables; undefined (no endpoint) loads no SDK. */
  tracing: TracingConfig | undefined;
}

export interface TrustedDocumentsConfig {
  /** off: full documents only; allow: manifest ids as well; only: manifest documents only. */
  mode: 'off' | 'allow' | 'only';
  /** The manifest file; undefined: the one `npm run codegen` writes (schema/trusted-documents.json). */
  manifest: string | undefined;
  /**
   * `TRUSTED_FAST_PATH` (default on; nothing to do while the mode is off): requests naming a manifest
   * document are served on the Node request directly (`http/trusted-path.ts`) instead of through Yoga.
   */
  fastPath: boolean;
}

/** The private entity cache for `_entities` (src/cache/). */
export interface EntityCacheConfig {
  /** Off: every `_entities` request calls Kibo, as before the cache. */
  enabled: boolean;
  /** Longest life of an entry (shorter when the ticket's access token expires sooner). */
  ttlSeconds: number;
  /** Bound of the in-memory tier, in entries (one entity type of one tenant for one caller). */
  maxEntries: number;
  /** Bound of the in-memory tier, in characters of entity data as JSON: entries are as big as selections make them. */
  maxBytes: number;
  /** The shared Redis tier; undefined: memory only. */
  redisUrl: string | undefined;
  /** How long a Redis command may take before the request goes on without it. */
  redisTimeoutMs: number;
}

/** The OTEL_* variables that decide what is traced and where it goes, validated like the rest. */
export interface TracingConfig {
  /** Full OTLP/HTTP traces URL (…/v1/traces). */
  endpoint: string;
  protocol: 'http/protobuf' | 'http/json';
  serviceName: string;
  /** From OTEL_RESOURCE_ATTRIBUTES, percent-decoded; `service.name` there yields to OTEL_SERVICE_NAME. */
  resourceAttributes: Record<string, string>;
  sampler: TraceSampler;
  /** The ratio of the `*traceidratio` samplers, 0 to 1. */
  samplerRatio: number;
}

export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

export interface OperationLimits {
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  maxBodyBytes: number;
  /** Distinct Kibo calls one operation may make; identical calls count once. */
  maxUpstreamCalls: number;
  /** Bytes one answer may take, counted on Kibo's real values (list lengths included). */
  maxResponseBytes: number;
  /** How long one operation may execute, Kibo calls included. */
  maxExecutionMs: number;
}

export interface BrowserConfig {
  /** Origins allowed cross-origin; empty means same origin only (no CORS headers at all). */
  corsOrigins: string[];
  introspection: boolean;
  /** With introspection off, still answer `_service { sdl }` (routers that compose by querying subgraphs). */
  subgraphSdl: boolean;
  graphiql: boolean;
}

export interface HttpServerLimits {
  /** Longest a client may take to send a request's headers (slowloris); 408 after. */
  headersTimeoutMs: number;
  /** Longest a client may take to send a whole request, body included; 408 after. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept: longer than the load balancer's idle timeout. */
  keepAliveTimeoutMs: number;
  /** Connections held at once; further ones are closed on arrival. */
  maxConnections: number;
}

export interface UpstreamConfig {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Deadline for the whole exchange, so a trickling body cannot outlast it. */
  requestTimeoutMs: number;
  /** Longest query string sent to Kibo; longer projections are coarsened to fit. */
  maxQueryLength: number;
  /** Responses larger than this are refused rather than buffered. */
  maxResponseBytes: number;
  /** Keep-alive connections held open to Kibo. */
  connections: number;
  /** Kibo calls one credential may have in flight at once, so no client holds the whole pool. */
  maxConcurrentPerCredential: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const TRUSTED_DOCUMENTS_MODES = ['off', 'allow', 'only'] as const;

export function loadConfig(env: Env = process.env): GatewayConfig {
  return {
    port: integer(env, 'PORT', 4000, { min: 0, max: 65535 }),
    host: env.HOST?.trim() || '0.0.0.0',
    kiboBaseUrl: baseUrl(env, 'KIBO_BASE_URL'),
    upstream: {
      connectTimeoutMs: integer(env, 'KIBO_CONNECT_TIMEOUT_MS', 2_000, { min: 1 }),
      headersTimeoutMs: integer(env, 'KIBO_HEADERS_TIMEOUT_MS', 5_000, { min: 1 }),
      bodyTimeoutMs: integer(env, 'KIBO_BODY_TIMEOUT_MS', 5_000, { min: 1 }),
      requestTimeoutMs: integer(env, 'KIBO_REQUEST_TIMEOUT_MS', 8_000, { min: 1 }),
      maxQueryLength: integer(env, 'KIBO_MAX_QUERY_LENGTH', 2048, { min: 64 }),
      maxResponseBytes: integer(env, 'KIBO_MAX_RESPONSE_BYTES', 4 * 1024 * 1024, { min: 1024 }),
      connections: integer(env, 'KIBO_CONNECTIONS', 32, { min: 1, max: 1024 }),
      maxConcurrentPerCredential: integer(env, 'KIBO_MAX_CONCURRENT_PER_CREDENTIAL', 8, { min: 1 }),
    },
    http: httpServerLimits(env),
    projection: boolean(env, 'PROJECTION', true),
    metrics: boolean(env, 'METRICS', true),
    shutdownDrainDelayMs: integer(env, 'SHUTDOWN_DRAIN_DELAY_MS', 5_000, { min: 0 }),
    shutdownGraceMs: integer(env, 'SHUTDOWN_GRACE_MS', 10_000, { min: 0 }),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    limits: {
      maxDepth: integer(env, 'MAX_DEPTH', 10, { min: 1 }),
      maxAliases: integer(env, 'MAX_ALIASES', 30, { min: 0 }),
      maxTokens: integer(env, 'MAX_TOKENS', 2_000, { min: 10 }),
      maxDirectives: integer(env, 'MAX_DIRECTIVES', 50, { min: 0 }),
      maxCost: integer(env, 'MAX_COST', 20_000, { min: 1 }),
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 64 * 1024, { min: 256 }),
      maxUpstreamCalls: integer(env, 'MAX_UPSTREAM_CALLS', 1, { min: 1, max: 100 }),
      maxResponseBytes: integer(env, 'MAX_RESPONSE_BYTES', 1024 * 1024, { min: 1024 }),
      maxExecutionMs: integer(env, 'MAX_EXECUTION_MS', 10_000, { min: 1 }),
    },
    browser: {
      corsOrigins: origins(env, 'CORS_ORIGINS'),
      introspection: boolean(env, 'INTROSPECTION', true),
      subgraphSdl: boolean(env, 'SUBGRAPH_SDL', false),
      // On where the embedded emulator runs (development); against a real Kibo only when asked.
      graphiql: boolean(env, 'GRAPHIQL', baseUrl(env, 'KIBO_BASE_URL') === undefined),
    },
    refreshTokenCookie: cookieName(env, 'REFRESH_TOKEN_COOKIE'),
    trustedDocuments: {
      mode: oneOf(env, 'TRUSTED_DOCUMENTS', TRUSTED_DOCUMENTS_MODES, 'off'),
      manifest: env.TRUSTED_DOCUMENTS_MANIFEST?.trim() || undefined,
      fastPath: boolean(env, 'TRUSTED_FAST_PATH', true),
    },
    entityCache: {
      enabled: boolean(env, 'ENTITY_CACHE', true),
      ttlSeconds: integer(env, 'ENTITY_CACHE_TTL_SECONDS', 60, { min: 1, max: 3_600 }),
      maxEntries: integer(env, 'ENTITY_CACHE_MAX_ENTRIES', 10_000, { min: 1, max: 10_000_000 }),
      maxBytes: integer(env, 'ENTITY_CACHE_MAX_BYTES', 16 * 1024 * 1024, { min: 1024 }),
      redisUrl: redisUrl(env, 'ENTITY_CACHE_REDIS_URL'),
      redisTimeoutMs: integer(env, 'ENTITY_CACHE_REDIS_TIMEOUT_MS', 100, { min: 1, max: 10_000 }),
    },
    tracing: tracing(env),
  };
}

function redisUrl(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    // reported below
  }
  // The message never repeats the value: a Redis URL may carry a password.
  if (!url || (url.protocol !== 'redis:' && url.protocol !== 'rediss:'))
    throw new ConfigError(name, 'must be a redis:// or rediss:// URL such as redis://redis.internal:6379/0');
  return raw;
}

function httpServerLimits(env: Env): HttpServerLimits {
  const limits = {
    headersTimeoutMs: integer(env, 'HEADERS_TIMEOUT_MS', 10_000, { min: 100 }),
    requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 30_000, { min: 100 }),
    keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 65_000, { min: 100 }),
    maxConnections: integer(env, 'MAX_CONNECTIONS', 900, { min: 1 }),
  };
  // Node refuses a headers timeout longer than the request's: the headers are part of the request.
  if (limits.headersTimeoutMs > limits.requestTimeoutMs)
    throw new ConfigError(
      'HEADERS_TIMEOUT_MS',
      `must not exceed REQUEST_TIMEOUT_MS (${limits.requestTimeoutMs}), got ${limits.headersTimeoutMs}`,
    );
  return limits;
}

function integer(env: Env, name: string, fallback: number, range: { min?: number; max?: number }): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw);
  if (range.min !== undefined && value < range.min)
    throw new ConfigError(name, `must be at least ${range.min}, got ${value}`);
  if (range.max !== undefined && value > range.max)
    throw new ConfigError(name, `must be at most ${range.max}, got ${value}`);
  return value;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (['1', 'true', 'on', 'yes'].includes(raw)) return true;
  if (['0', 'false', 'off', 'no'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function baseUrl(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(
      name,
      `must be an absolute URL such as https://home.mozu.com (or a tenant host), got "${raw}"`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `must use http or https, got "${url.protocol}"`);
  }
  if (url.search || url.hash) throw new ConfigError(name, 'must not carry a query string or fragment');
  // The spec's server URL is `{baseUrl}/api`; accept either form and keep the bare origin + path prefix.
  return url.href.replace(/\/+$/, '').replace(/\/api$/, '');
}

function origins(env: Env, name: string): string[] {
  const raw = env[name]?.trim();
  if (!raw) return [];
  return raw.split(',').map((entry) => {
    const candidate = entry.trim();
    let url: URL;
    try {
      url = new URL(candidate);
    } catch {
      throw new ConfigError(
        name,
        `must be a comma-separated list of origins such as https://admin.example.com, got "${candidate}"`,
      );
    }
    if (url.origin !== candidate.replace(/\/$/, ''))
      throw new ConfigError(name, `entries must be bare origins (scheme://host[:port]), got "${candidate}"`);
    return url.origin;
  });
}

function cookieName(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  // RFC 6265 token characters only, so the name can never break the Set-Cookie header.
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(raw))
    throw new ConfigError(name, `must be a cookie name (letters, digits, !#$%&'*+-.^_\`|~), got "${raw}"`);
  // Browsers accept a __Host- cookie only with Path=/, and the gateway scopes its cookie to /graphql:
  // such a name would never be stored, and every refresh would silently fail.
  if (/^__host-/i.test(raw))
    throw new ConfigError(
      name,
      `must not start with __Host- (browsers require Path=/ for it; the cookie is Path=/graphql), got "${raw}"`,
    );
  return raw;
}

/**
 * Tracing as the OpenTelemetry SDK environment specification defines its variables: on when an OTLP
 * endpoint is set (and neither OTEL_SDK_DISABLED nor OTEL_TRACES_EXPORTER=none says otherwise).
 * Exporter details (headers, timeout, compression) and OTEL_BSP_* are read by the SDK itself.
 */
function tracing(env: Env): TracingConfig | undefined {
  const tracesEndpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const baseEndpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (!tracesEndpoint && !baseEndpoint) return undefined;
  if (boolean(env, 'OTEL_SDK_DISABLED', false)) return undefined;
  const exporter = oneOf(env, 'OTEL_TRACES_EXPORTER', ['otlp', 'none'] as const, 'otlp');
  if (exporter === 'none') return undefined;

  // The signal-specific URL is used as given; the base one gets the signal's path appended.
  const endpoint = tracesEndpoint
    ? httpUrl(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')
    : `${httpUrl(env, 'OTEL_EXPORTER_OTLP_ENDPOINT').replace(/\/+$/, '')}/v1/traces`;
  const protocolVariable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?.trim()
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const sampler = oneOf(env, 'OTEL_TRACES_SAMPLER', TRACE_SAMPLERS, 'parentbased_always_on');
  return {
    endpoint,
    protocol: oneOf(env, protocolVariable, ['http/protobuf', 'http/json'] as const, 'http/protobuf'),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'kibo-auth-gateway',
    resourceAttributes: keyValueList(env, 'OTEL_RESOURCE_ATTRIBUTES'),
    sampler,
    samplerRatio: sampler.endsWith('traceidratio') ? ratio(env, 'OTEL_TRACES_SAMPLER_ARG') : 1,
  };
}

function httpUrl(env: Env, name: string): string {
  const raw = env[name]!.trim();
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `must be an absolute URL such as http://localhost:4318, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(name, `must use http or https (OTLP over HTTP), got "${url.protocol}"`);
  return raw;
}

/** OTEL_TRACES_SAMPLER_ARG for the ratio samplers: a number from 0 to 1, 1 when unset. */
function ratio(env: Env, name: string): number {
  const raw = env[name]?.trim();
  if (!raw) return 1;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw) || value > 1) throw new ConfigError(name, `must be a number from 0 to 1, got "${raw}"`);
  return value;
}

/** `key1=value1,key2=value2`, values percent-encoded (W3C Baggage octets), as the spec writes them. */
function keyValueList(env: Env, name: string): Record<string, string> {
  const raw = env[name]?.trim();
  const result: Record<string, string> = {};
  if (!raw) return result;
  for (const entry of raw.split(',')) {
    const separator = entry.indexOf('=');
    const key = entry.slice(0, separator).trim();
    if (separator < 1 || !key) throw new ConfigError(name, `entries must be key=value, got "${entry.trim()}"`);
    try {
      result[key] = decodeURIComponent(entry.slice(separator + 1).trim());
    } catch {
      throw new ConfigError(name, `the value of "${key}" is not valid percent-encoding`);
    }
  }
  return result;
}
