import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

describe('loadConfig', () => {
  it('has working defaults: port 4000, the embedded emulator, projection on', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 4000, kiboBaseUrl: undefined, projection: true, logLevel: 'info' });
    expect(config.trustedDocuments).toEqual({ mode: 'off', manifest: undefined });
    expect(config.upstream.requestTimeoutMs).toBeGreaterThanOrEqual(config.upstream.headersTimeoutMs);
  });

  it('reads every variable it documents', () => {
    const config = loadConfig({
      PORT: '8080',
      KIBO_BASE_URL: 'https://t100.sb.usc1.gcp.kibocommerce.com/api/',
      KIBO_CONNECT_TIMEOUT_MS: '100',
      KIBO_HEADERS_TIMEOUT_MS: '200',
      KIBO_BODY_TIMEOUT_MS: '300',
      KIBO_REQUEST_TIMEOUT_MS: '400',
      KIBO_MAX_RESPONSE_BYTES: '2048',
      KIBO_CONNECTIONS: '4',
      PROJECTION: 'off',
      SHUTDOWN_DRAIN_DELAY_MS: '25',
      SHUTDOWN_GRACE_MS: '50',
      LOG_LEVEL: 'warn',
      TRUSTED_DOCUMENTS: 'only',
      TRUSTED_DOCUMENTS_MANIFEST: '/etc/kibo/trusted-documents.json',
    });
    expect(config).toMatchObject({
      port: 8080,
      kiboBaseUrl: 'https://t100.sb.usc1.gcp.kibocommerce.com',
      projection: false,
      shutdownDrainDelayMs: 25,
      shutdownGraceMs: 50,
      logLevel: 'warn',
      trustedDocuments: { mode: 'only', manifest: '/etc/kibo/trusted-documents.json' },
      upstream: {
        connectTimeoutMs: 100,
        headersTimeoutMs: 200,
        bodyTimeoutMs: 300,
        requestTimeoutMs: 400,
        maxResponseBytes: 2048,
        connections: 4,
      },
    });
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
  ])('names %s when it is %j', (variable, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).variable).toBe(variable);
    expect((thrown as Error).message).toContain(variable);
  });
});

describe('entity cache configuration', () => {
  it('is on by default: 60 s, 10,000 entries, memory only', () => {
    expect(loadConfig({}).entityCache).toEqual({
      enabled: true,
      ttlSeconds: 60,
      maxEntries: 10_000,
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
        ENTITY_CACHE_REDIS_URL: 'redis://:s3cret@redis.internal:6379/2',
        ENTITY_CACHE_REDIS_TIMEOUT_MS: '25',
      }).entityCache,
    ).toEqual({
      enabled: false,
      ttlSeconds: 5,
      maxEntries: 20,
      redisUrl: 'redis://:s3cret@redis.internal:6379/2',
      redisTimeoutMs: 25,
    });
  });

  it.each([
    ['ENTITY_CACHE', 'sometimes'],
    ['ENTITY_CACHE_TTL_SECONDS', '0'],
    ['ENTITY_CACHE_TTL_SECONDS', '86400'],
    ['ENTITY_CACHE_MAX_ENTRIES', '0'],
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
