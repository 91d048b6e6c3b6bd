/**
 * The entity cache across replicas, on a real Redis (Debian's redis-server, free loopback port,
 * nothing persisted): what one gateway fetched, another serves; Redis gone never fails a request;
 * and nothing secret is stored anywhere — a canary test fills the cache through every path
 * (`_entities` of every type, switchTenant seeding, the Redis tier) and scans every key and value.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO, teamRefreshToken } from '../../src/emulator/demo-data.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { EntitiesDocument } from '../generated/operations.js';
import { redisUnavailableReason, startRedisServer, type RunningRedis } from '../support/redis-server.js';
import { startStack, withStack, type Stack } from '../support/stack.js';

const skipReason = redisUnavailableReason();
if (skipReason) console.warn(skipReason);

const SITES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Site { id name } } }';
const EVERY_TYPE = [
  { __typename: 'Site', id: 201 },
  { __typename: 'Tenant', id: 100003 },
  { __typename: 'Catalog', id: 211 },
  { __typename: 'AdminUserMasterCatalog', id: 21 },
  { __typename: 'UserProfile', userId: '0d1b6a7c4e2f4c3aa1b2c3d4e5f60718' },
];

describe.skipIf(skipReason !== undefined)('entity cache across replicas', () => {
  let redis: RunningRedis;
  let emulator: RunningEmulator;
  let one: Stack;
  let two: Stack;
  beforeAll(async () => {
    redis = await startRedisServer();
    emulator = await startEmulator({ faultInjection: true });
    const env = { ENTITY_CACHE: 'on', ENTITY_CACHE_REDIS_URL: redis.url, LOG_LEVEL: 'silent' };
    one = await startStack({ env, sharedEmulator: emulator });
    two = await startStack({ env, sharedEmulator: emulator });
  });
  afterAll(async () => {
    await two?.close();
    await one?.close();
    await emulator?.close();
    await redis?.stop();
  });
  // Kibo traffic of the whole deployment: this emulator serves both replicas (and the stacks below).
  const resetKiboCalls = () => (emulator.received.length = 0);
  beforeEach(resetKiboCalls);
  const kiboCalls = () => emulator.received.filter((r) => r.method === 'PUT').length;

  it('what one replica fetched, the other serves without calling Kibo', async () => {
    const headers = {
      authorization: `Bearer ${DEMO.appToken}`,
      'x-kibo-refresh-token': teamRefreshToken(1),
      'x-vol-tenant': '100002',
    };
    const fetched = await one.graphql(EntitiesDocument, { variables: { representations: EVERY_TYPE }, headers });
    expect(kiboCalls()).toBe(1);
    // Redis writes do not hold up the answer: give the one in flight a moment.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const served = await two.graphql(EntitiesDocument, { variables: { representations: EVERY_TYPE }, headers });
    expect(served.body).toEqual(fetched.body);
    expect(kiboCalls()).toBe(1);
  });

  it('a switchTenant on one replica seeds the other', async () => {
    const switched = await one.graphql<{ switchTenant: { jwtAccessToken: string; refreshToken: string } }>(
      'mutation { switchTenant(tenantId: 100004) { jwtAccessToken refreshToken tenant { id sites { id name } } availableTenants { id sites { id name } } } }',
      { headers: { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': teamRefreshToken(2) } },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    resetKiboCalls();
    const { jwtAccessToken, refreshToken } = switched.body.data!.switchTenant;
    const answer = await two.graphql(SITES, {
      variables: { r: [{ __typename: 'Site', id: 401 }] },
      headers: {
        authorization: `Bearer ${jwtAccessToken}`,
        'x-kibo-refresh-token': refreshToken,
        'x-vol-tenant': '100004',
      },
    });
    expect(answer.body.data).toEqual({ _entities: [{ id: 401, name: expect.any(String) }] });
    expect(kiboCalls()).toBe(0);
  });

  it('canary: no token, credential or ticket property in any stored key or value, in memory or Redis', async () => {
    const admin = new Redis(redis.url);
    try {
      await admin.flushall();
      const canaries = new Set<string>([DEMO.appToken, DEMO.refreshToken, teamRefreshToken(3)]);
      // Every path that stores: _entities of every type (both replicas, so Redis hits get copied
      // to memory), and switchTenant seeding with every token selected.
      const switched = await one.graphql<{ switchTenant: Record<string, string | null> }>(
        `mutation { switchTenant(tenantId: 100002) {
            accessToken jwtAccessToken refreshToken ssoNameId ssoSession redirect
            tenant { id name sites { id name } masterCatalogs { id catalogs { id } } }
            availableTenants { id name sites { id name } masterCatalogs { id name catalogs { id name } } }
            user { userId userName }
          } }`,
        { headers: { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': teamRefreshToken(3) } },
      );
      const ticket = switched.body.data!.switchTenant;
      for (const value of [ticket.accessToken, ticket.jwtAccessToken, ticket.refreshToken])
        if (value) canaries.add(value);
      for (const [authorization, refreshToken] of [
        [`Bearer ${DEMO.appToken}`, DEMO.refreshToken],
        [`Bearer ${DEMO.appToken}`, teamRefreshToken(3)],
        [`Bearer ${ticket.jwtAccessToken}`, ticket.refreshToken!],
      ] as const) {
        for (const stack of [one, two]) {
          await stack.graphql(EntitiesDocument, {
            variables: { representations: EVERY_TYPE },
            headers: { authorization, 'x-kibo-refresh-token': refreshToken, 'x-vol-tenant': '100002' },
          });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));

      const stored: string[] = [];
      for (const stack of [one, two]) {
        const dump = await stack.gateway.entityCache!.dump();
        expect(dump.memory.length).toBeGreaterThan(0);
        for (const [key, set] of dump.memory)
          stored.push(key, JSON.stringify([...set.entities]), String(set.held.size));
        for (const [key, value] of dump.redis) stored.push(key, value.toString('latin1'), value.toString('base64'));
      }
      expect(stored.join('').length).toBeGreaterThan(1000);
      const everything = stored.join('\n');
      for (const canary of canaries) {
        expect(everything).not.toContain(canary);
        expect(everything).not.toContain(canary.replace(/^Bearer /, ''));
      }
      // Not even the names of the ticket's own properties: entries hold entity data only.
      for (const property of [
        'accessToken',
        'jwtAccessToken',
        'refreshToken',
        'ssoNameId',
        'ssoSession',
        'Expiration',
        'grantedBehaviors',
      ])
        expect(everything).not.toContain(property);
      // Redis holds sealed bytes: the entity data itself is not readable there either.
      const redisText = (await one.gateway.entityCache!.dump()).redis
        .map(([key, value]) => key + value.toString('latin1'))
        .join('\n');
      expect(redisText).not.toMatch(/Fabrikam|sandbox\.mozu\.com|100002|demo\.admin/);
    } finally {
      admin.disconnect();
    }
  });

  it('Redis gone: requests still succeed from memory and Kibo, with one log line and a metric', async () => {
    const doomed = await startRedisServer();
    await withStack(
      {
        env: { ENTITY_CACHE: 'on', ENTITY_CACHE_REDIS_URL: doomed.url, ENTITY_CACHE_REDIS_TIMEOUT_MS: '50' },
        sharedEmulator: emulator,
      },
      async (stack) => {
        await doomed.stop();
        const headers = {
          authorization: `Bearer ${DEMO.appToken}`,
          'x-kibo-refresh-token': teamRefreshToken(4),
          'x-vol-tenant': '100002',
        };
        for (let i = 0; i < 5; i++) {
          const answer = await stack.graphql(SITES, {
            variables: { r: [{ __typename: 'Site', id: 201 + i }] },
            headers,
          });
          expect(answer.status).toBe(200);
          expect(answer.body).toEqual({ data: { _entities: [{ id: 201 + i, name: expect.any(String) }] } });
        }
        const metrics = await fetch(`${stack.gateway.url}/metrics`).then((response) => response.text());
        expect(metrics).toMatch(/entity_cache_redis_errors_total\{tier="redis",operation="read"\} [1-9]/);
        const warnings = stack.logs.filter((line) => line.includes('Redis is unavailable'));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).not.toContain(doomed.url);
      },
    );
  });

  it('Redis paused (slow): requests go on past the short timeout', async () => {
    const slow = await startRedisServer();
    await withStack(
      {
        env: { ENTITY_CACHE: 'on', ENTITY_CACHE_REDIS_URL: slow.url, ENTITY_CACHE_REDIS_TIMEOUT_MS: '50' },
        sharedEmulator: emulator,
      },
      async (stack) => {
        slow.pause();
        try {
          const headers = {
            authorization: `Bearer ${DEMO.appToken}`,
            'x-kibo-refresh-token': teamRefreshToken(5),
            'x-vol-tenant': '100002',
          };
          const started = performance.now();
          const answer = await stack.graphql(SITES, { variables: { r: [{ __typename: 'Site', id: 201 }] }, headers });
          expect(answer.body).toEqual({ data: { _entities: [{ id: 201, name: expect.any(String) }] } });
          expect(performance.now() - started).toBeLessThan(2_000);
          const metrics = await fetch(`${stack.gateway.url}/metrics`).then((response) => response.text());
          expect(metrics).toMatch(/entity_cache_redis_errors_total\{tier="redis",operation="read"\} [1-9]/);
        } finally {
          slow.resume();
          await slow.stop();
        }
      },
    );
  });
});
