import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type GatewayConfig } from '../src/config.js';
import { emulatorOptionsFromEnv } from '../src/emulator/env.js';
import type { EmulatorOptions } from '../src/emulator/server.js';

/** The variables of the README's Configuration table, in its order. */
function documentedVariables(): string[] {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.split(/^## Configuration$/m)[1]!.split(/^## /m)[0]!;
  // A row may name several variables (`A` / `B`): each is documented.
  return [...section.matchAll(/^\| (`[A-Z][A-Z0-9_]*`(?: \/ `[A-Z][A-Z0-9_]*`)*) \|/gm)].flatMap((match) =>
    [...match[1]!.matchAll(/`([A-Z0-9_]+)`/g)].map((name) => name[1]!),
  );
}

interface Read {
  gateway: GatewayConfig;
  emulator: EmulatorOptions;
}

/**
 * Every documented variable: a value other than its default, and where the value lands. A variable
 * added to the README without a row here fails the first test below.
 */
type ReadRow = [
  value: string,
  landsIn: (read: Read) => unknown,
  expected: unknown,
  /** Variables the setting only matters with (an OTEL_* setting needs an OTLP endpoint). */
  alongside?: Record<string, string>,
];
const TRACED = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
/** Settings that turn a feature off, which would hide the other rows of the all-at-once test. */
const SWITCHES_OFF = new Set(['OTEL_SDK_DISABLED', 'OTEL_TRACES_EXPORTER']);

const READS: Record<string, ReadRow> = {
  PORT: ['8080', (r) => r.gateway.port, 8080],
  HOST: ['127.0.0.1', (r) => r.gateway.host, '127.0.0.1'],
  KIBO_BASE_URL: ['https://home.mozu.com/api/', (r) => r.gateway.kiboBaseUrl, 'https://home.mozu.com'],
  KIBO_CONNECT_TIMEOUT_MS: ['100', (r) => r.gateway.upstream.connectTimeoutMs, 100],
  KIBO_HEADERS_TIMEOUT_MS: ['200', (r) => r.gateway.upstream.headersTimeoutMs, 200],
  KIBO_BODY_TIMEOUT_MS: ['300', (r) => r.gateway.upstream.bodyTimeoutMs, 300],
  KIBO_REQUEST_TIMEOUT_MS: ['400', (r) => r.gateway.upstream.requestTimeoutMs, 400],
  KIBO_MAX_RESPONSE_BYTES: ['2048', (r) => r.gateway.upstream.maxResponseBytes, 2048],
  KIBO_MAX_QUERY_LENGTH: ['512', (r) => r.gateway.upstream.maxQueryLength, 512],
  KIBO_CONNECTIONS: ['4', (r) => r.gateway.upstream.connections, 4],
  KIBO_MAX_CONCURRENT_PER_CREDENTIAL: ['2', (r) => r.gateway.upstream.maxConcurrentPerCredential, 2],
  MAX_DEPTH: ['5', (r) => r.gateway.limits.maxDepth, 5],
  MAX_ALIASES: ['7', (r) => r.gateway.limits.maxAliases, 7],
  MAX_TOKENS: ['900', (r) => r.gateway.limits.maxTokens, 900],
  MAX_DIRECTIVES: ['9', (r) => r.gateway.limits.maxDirectives, 9],
  MAX_COST: ['1000', (r) => r.gateway.limits.maxCost, 1000],
  MAX_BODY_BYTES: ['4096', (r) => r.gateway.limits.maxBodyBytes, 4096],
  MAX_UPSTREAM_CALLS: ['3', (r) => r.gateway.limits.maxUpstreamCalls, 3],
  MAX_RESPONSE_BYTES: ['2048', (r) => r.gateway.limits.maxResponseBytes, 2048],
  MAX_EXECUTION_MS: ['500', (r) => r.gateway.limits.maxExecutionMs, 500],
  CORS_ORIGINS: [
    'https://a.example, https://b.example:8443',
    (r) => r.gateway.browser.corsOrigins,
    ['https://a.example', 'https://b.example:8443'],
  ],
  INTROSPECTION: ['false', (r) => r.gateway.browser.introspection, false],
  SUBGRAPH_SDL: ['true', (r) => r.gateway.browser.subgraphSdl, true],
  GRAPHIQL: ['off', (r) => r.gateway.browser.graphiql, false],
  REFRESH_TOKEN_COOKIE: ['kibo_rt', (r) => r.gateway.refreshTokenCookie, 'kibo_rt'],
  METRICS: ['no', (r) => r.gateway.metrics, false],
  PROJECTION: ['off', (r) => r.gateway.projection, false],
  SHUTDOWN_DRAIN_DELAY_MS: ['25', (r) => r.gateway.shutdownDrainDelayMs, 25],
  SHUTDOWN_GRACE_MS: ['50', (r) => r.gateway.shutdownGraceMs, 50],
  LOG_LEVEL: ['warn', (r) => r.gateway.logLevel, 'warn'],
  TRUSTED_DOCUMENTS: ['only', (r) => r.gateway.trustedDocuments.mode, 'only'],
  TRUSTED_DOCUMENTS_MANIFEST: [
    '/etc/kibo/trusted.json',
    (r) => r.gateway.trustedDocuments.manifest,
    '/etc/kibo/trusted.json',
  ],
  TRUSTED_FAST_PATH: ['off', (r) => r.gateway.trustedDocuments.fastPath, false],
  ENTITY_CACHE: ['off', (r) => r.gateway.entityCache.enabled, false],
  ENTITY_CACHE_TTL_SECONDS: ['30', (r) => r.gateway.entityCache.ttlSeconds, 30],
  ENTITY_CACHE_MAX_ENTRIES: ['500', (r) => r.gateway.entityCache.maxEntries, 500],
  ENTITY_CACHE_MAX_BYTES: ['65536', (r) => r.gateway.entityCache.maxBytes, 65536],
  ENTITY_CACHE_REDIS_URL: ['redis://127.0.0.1:6379', (r) => r.gateway.entityCache.redisUrl, 'redis://127.0.0.1:6379'],
  ENTITY_CACHE_REDIS_TIMEOUT_MS: ['250', (r) => r.gateway.entityCache.redisTimeoutMs, 250],
  HEADERS_TIMEOUT_MS: ['1000', (r) => r.gateway.http.headersTimeoutMs, 1000],
  REQUEST_TIMEOUT_MS: ['20000', (r) => r.gateway.http.requestTimeoutMs, 20000],
  KEEP_ALIVE_TIMEOUT_MS: ['3000', (r) => r.gateway.http.keepAliveTimeoutMs, 3000],
  MAX_CONNECTIONS: ['10', (r) => r.gateway.http.maxConnections, 10],
  OTEL_EXPORTER_OTLP_ENDPOINT: ['http://collector:4318', (r) => r.gateway.tracing !== undefined, true],
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: [
    'https://collector.example/otlp/traces',
    (r) => r.gateway.tracing?.endpoint,
    'https://collector.example/otlp/traces',
  ],
  OTEL_EXPORTER_OTLP_PROTOCOL: ['http/json', (r) => r.gateway.tracing?.protocol, 'http/json', TRACED],
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ['http/json', (r) => r.gateway.tracing?.protocol, 'http/json', TRACED],
  OTEL_SERVICE_NAME: ['auth-edge', (r) => r.gateway.tracing?.serviceName, 'auth-edge', TRACED],
  OTEL_RESOURCE_ATTRIBUTES: [
    'deployment.environment=prod',
    (r) => r.gateway.tracing?.resourceAttributes,
    { 'deployment.environment': 'prod' },
    TRACED,
  ],
  OTEL_TRACES_SAMPLER: ['traceidratio', (r) => r.gateway.tracing?.sampler, 'traceidratio', TRACED],
  OTEL_TRACES_SAMPLER_ARG: [
    '0.25',
    (r) => r.gateway.tracing?.samplerRatio,
    0.25,
    { ...TRACED, OTEL_TRACES_SAMPLER: 'traceidratio' },
  ],
  OTEL_SDK_DISABLED: ['true', (r) => r.gateway.tracing === undefined, true, TRACED],
  OTEL_TRACES_EXPORTER: ['none', (r) => r.gateway.tracing === undefined, true, TRACED],
  EMULATOR_PORT: ['4999', (r) => r.emulator.port, 4999],
  EMULATOR_HOST: ['127.0.0.2', (r) => r.emulator.host, '127.0.0.2'],
  EMULATOR_FAULTS: ['1', (r) => r.emulator.faultInjection, true],
  EMULATOR_STATS: ['1', (r) => r.emulator.exposeStats, true],
};

const read = (env: Record<string, string>): Read => ({
  gateway: loadConfig(env),
  emulator: emulatorOptionsFromEnv(env),
});

describe('loadConfig', () => {
  it('has working defaults: port 4000, the embedded emulator, projection on', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, kiboBaseUrl: undefined, projection: true, logLevel: 'info' });
    expect(config.upstream.requestTimeoutMs).toBeGreaterThanOrEqual(config.upstream.headersTimeoutMs);
    expect(config.trustedDocuments).toEqual({ mode: 'off', manifest: undefined, fastPath: true });
  });

  it('knows a value for exactly the variables the README documents', () => {
    expect(Object.keys(READS).sort()).toEqual(documentedVariables().sort());
  });

  it.each(documentedVariables())('reads %s, as the README documents it', (variable) => {
    const [value, landsIn, expected, alongside = {}] = READS[variable]!;
    const defaults = landsIn(read(alongside));
    expect(defaults, 'the test value must differ from the default').not.toEqual(expected);
    expect(landsIn(read({ ...alongside, [variable]: value }))).toEqual(expected);
  });

  it('reads every documented variable at once, each into its own setting', () => {
    const rows = Object.entries(READS).filter(([variable]) => !SWITCHES_OFF.has(variable));
    const all = read(Object.fromEntries(rows.map(([variable, [value]]) => [variable, value])));
    for (const [variable, [, landsIn, expected]] of rows) expect(landsIn(all), variable).toEqual(expected);
  });

  it.each([
    ['the home pod, as Kibo’s own REST SDK calls it', 'https://home.mozu.com', 'https://home.mozu.com'],
    ['the home pod with /api', 'https://home.mozu.com/api', 'https://home.mozu.com'],
    [
      'a tenant host, the spec’s server form',
      'https://t12345.sb.usc1.gcp.kibocommerce.com',
      'https://t12345.sb.usc1.gcp.kibocommerce.com',
    ],
    [
      'a tenant host with /api/',
      'https://t12345.sb.usc1.gcp.kibocommerce.com/api/',
      'https://t12345.sb.usc1.gcp.kibocommerce.com',
    ],
  ])('accepts KIBO_BASE_URL as %s', (_form, value, expected) => {
    expect(loadConfig({ KIBO_BASE_URL: value }).kiboBaseUrl).toBe(expected);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['KIBO_BASE_URL', 'not a url'],
    ['KIBO_BASE_URL', 'ftp://kibo.example'],
    ['KIBO_BASE_URL', 'https://kibo.example/?tenant=1'],
    ['KIBO_HEADERS_TIMEOUT_MS', '-1'],
    ['KIBO_BODY_TIMEOUT_MS', '0'],
    ['KIBO_MAX_RESPONSE_BYTES', '12'],
    ['SHUTDOWN_DRAIN_DELAY_MS', '5s'],
    ['PROJECTION', 'maybe'],
    ['LOG_LEVEL', 'loud'],
    ['TRUSTED_DOCUMENTS', 'strict'],
    ['TRUSTED_FAST_PATH', 'sometimes'],
    ['EMULATOR_PORT', 'forty'],
    ['MAX_CONNECTIONS', '0'],
    ['KEEP_ALIVE_TIMEOUT_MS', 'forever'],
    ['REFRESH_TOKEN_COOKIE', '__Host-kibo_rt'],
    ['REFRESH_TOKEN_COOKIE', '__host-kibo_rt'],
    ['KIBO_MAX_CONCURRENT_PER_CREDENTIAL', '0'],
  ])('names %s when it is %j', (variable, value) => {
    let thrown: unknown;
    try {
      read({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as Error).message).toContain(variable);
  });

  it('refuses a headers timeout longer than the whole request may take, naming HEADERS_TIMEOUT_MS', () => {
    expect(() => loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '4000' })).toThrow(
      /HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS/,
    );
  });
});

describe('entity cache configuration', () => {
  it('is on by default: 60 s, 10,000 entries, 16 MiB of entity data, memory only', () => {
    expect(loadConfig({}).entityCache).toEqual({
      enabled: true,
      ttlSeconds: 60,
      maxEntries: 10_000,
      maxBytes: 16 * 1024 * 1024,
      redisUrl: undefined,
      redisTimeoutMs: 100,
    });
  });

  it('reads its variables', () => {
    expect(
      loadConfig({
        ENTITY_CACHE: 'off',
        ENTITY_CACHE_TTL_SECONDS: '5',
        ENTITY_CACHE_MAX_ENTRIES: '20',
        ENTITY_CACHE_MAX_BYTES: '4096',
        ENTITY_CACHE_REDIS_URL: 'redis://:s3cret@redis.internal:6379/2',
        ENTITY_CACHE_REDIS_TIMEOUT_MS: '25',
      }).entityCache,
    ).toEqual({
      enabled: false,
      ttlSeconds: 5,
      maxEntries: 20,
      maxBytes: 4096,
      redisUrl: 'redis://:s3cret@redis.internal:6379/2',
      redisTimeoutMs: 25,
    });
  });

  it.each([
    ['ENTITY_CACHE', 'sometimes'],
    ['ENTITY_CACHE_TTL_SECONDS', '0'],
    ['ENTITY_CACHE_TTL_SECONDS', '86400'],
    ['ENTITY_CACHE_MAX_ENTRIES', '0'],
    ['ENTITY_CACHE_MAX_BYTES', '100'],
    ['ENTITY_CACHE_REDIS_URL', 'http://:s3cret@redis.internal'],
    ['ENTITY_CACHE_REDIS_TIMEOUT_MS', 'fast'],
  ])('names %s when it is %j, and never repeats a Redis password', (variable, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as Error).message).not.toContain('s3cret');
  });
});

describe('tracing configuration (OTEL_*)', () => {
  it('is off without an OTLP endpoint, whatever else is set', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on' }).tracing).toBeUndefined();
  });

  it('is on with the base endpoint: /v1/traces appended, the spec’s defaults', () => {
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).tracing).toEqual({
      endpoint: 'http://collector:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'kibo-auth-gateway',
      resourceAttributes: {},
      sampler: 'parentbased_always_on',
      samplerRatio: 1,
    });
  });

  it('takes the traces endpoint as given and reads every variable it documents', () => {
    expect(
      loadConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/otlp/traces',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'auth-edge',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,team=a%2Cb%3Dc',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
      }).tracing,
    ).toEqual({
      endpoint: 'https://collector.example/otlp/traces',
      protocol: 'http/json',
      serviceName: 'auth-edge',
      resourceAttributes: { 'deployment.environment': 'prod', team: 'a,b=c' },
      sampler: 'parentbased_traceidratio',
      samplerRatio: 0.25,
    });
  });

  it.each([[{ OTEL_SDK_DISABLED: 'true' }], [{ OTEL_TRACES_EXPORTER: 'none' }]])(
    'stays off when %j says so',
    (extra) => {
      expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', ...extra }).tracing).toBeUndefined();
    },
  );

  it.each([
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'collector:4318'],
    ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://collector:4317'],
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ['OTEL_TRACES_SAMPLER', 'jaeger_remote'],
    ['OTEL_TRACES_SAMPLER_ARG', '1.5'],
    ['OTEL_TRACES_SAMPLER_ARG', 'half'],
    ['OTEL_RESOURCE_ATTRIBUTES', 'novalue'],
    ['OTEL_RESOURCE_ATTRIBUTES', 'bad=%zz'],
    ['OTEL_TRACES_EXPORTER', 'zipkin'],
  ])('names %s when it is %j', (variable, value) => {
    const env = {
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_TRACES_SAMPLER: 'traceidratio',
      [variable]: value,
    };
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(variable);
  });
});
