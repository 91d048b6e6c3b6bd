/**
 * The cache against a real Redis (Debian's redis-server on a free loopback port, nothing persisted):
 * two cache instances share what one stored; Redis sees only derived names and sealed bytes; a
 * tampered value is a miss; a refusal's eviction reaches Redis; Redis down or paused never fails
 * a read, it degrades — once logged, counted each time.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EntityCache, type EntityCacheObserver } from '../../src/cache/entity-cache.js';
import type { EntitySet } from '../../src/cache/entity-set.js';
import { parseHeld } from '../../src/cache/held.js';
import { redisUnavailableReason, startRedisServer, type RunningRedis } from '../support/redis-server.js';

const skipReason = redisUnavailableReason();
if (skipReason) console.warn(skipReason);

const alice = { authorization: 'Bearer canary-jwt-ALICE-7f3e', refreshToken: 'canary-refresh-ALICE-91ab' };
const mallory = { authorization: 'Bearer canary-jwt-MALLORY-11', refreshToken: 'canary-refresh-MALLORY-22' };
const asked = new Map([['Site', parseHeld('id,name')]]);
const sites = () =>
  new Map<string, EntitySet>([
    [
      'Site',
      {
        held: parseHeld('id,name'),
        complete: true,
        entities: new Map([['201', { id: 201, name: 'Fabrikam Outfitters US' }]]),
      },
    ],
  ]);

function recorder() {
  const events: string[] = [];
  const observer: EntityCacheObserver = {
    hit: (tier) => events.push(`hit:${tier}`),
    miss: (tier) => events.push(`miss:${tier}`),
    store: (tier) => events.push(`store:${tier}`),
    evict: (tier, reason) => events.push(`evict:${tier}:${reason}`),
    redisError: (operation) => events.push(`error:${operation}`),
    redisAvailability: (available) => events.push(available ? 'redis-up' : 'redis-down'),
  };
  return { events, observer };
}

describe.skipIf(skipReason !== undefined)('Redis tier', () => {
  let redis: RunningRedis;
  let admin: Redis;
  beforeAll(async () => {
    redis = await startRedisServer();
    admin = new Redis(redis.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await redis?.stop();
  });

  const cacheOn = (observer?: EntityCacheObserver, timeoutMs = 200) =>
    EntityCache.create({
      ttlSeconds: 60,
      maxEntries: 100,
      maxBytes: 1024 * 1024,
      redis: { url: redis.url, timeoutMs },
      observer,
    });

  it('what one instance stored, another serves — and only to the same credentials', async () => {
    await admin.flushall();
    const one = await cacheOn();
    const { events, observer } = recorder();
    const two = await cacheOn(observer);
    try {
      await one.write(one.caller(alice), 100002, sites(), Date.now() + 3_600_000);
      const found = (await two.read(two.caller(alice), 100002, asked)).answered;
      expect(found.get('Site')?.entities.get('201')).toEqual({ id: 201, name: 'Fabrikam Outfitters US' });
      expect(events).toEqual(['miss:memory', 'hit:redis']);
      // Now in two's memory too.
      await two.read(two.caller(alice), 100002, asked);
      expect(events.at(-1)).toBe('hit:memory');

      expect((await two.read(two.caller(mallory), 100002, asked)).answered.size).toBe(0);
      expect((await two.read(two.caller(alice), 100003, asked)).answered.size).toBe(0);
    } finally {
      await one.close();
      await two.close();
    }
  });

  it('Redis holds derived names and sealed bytes only: no credential, no entity data in the clear', async () => {
    await admin.flushall();
    const cache = await cacheOn();
    try {
      await cache.write(cache.caller(alice), 100002, sites(), Date.now() + 3_600_000);
      const dump = await cache.dump();
      expect(dump.redis.length).toBe(1);
      for (const [key, value] of dump.redis) {
        const text = `${key} ${value.toString('latin1')}`;
        for (const secret of ['canary-jwt-ALICE-7f3e', 'canary-refresh-ALICE-91ab', 'Fabrikam', '100002', 'Site'])
          expect(text).not.toContain(secret);
      }
    } finally {
      await cache.close();
    }
  });

  it('a tampered value is a miss (and counted), not an error', async () => {
    await admin.flushall();
    const writer = await cacheOn();
    const { events, observer } = recorder();
    const reader = await cacheOn(observer);
    try {
      await writer.write(writer.caller(alice), 100002, sites(), Date.now() + 3_600_000);
      const [hashKey] = await admin.keys('*');
      const [field, value] = Object.entries(await admin.hgetallBuffer(hashKey!))[0]!;
      value[value.length - 1]! ^= 0xff;
      await admin.hset(hashKey!, field, value);
      expect((await reader.read(reader.caller(alice), 100002, asked)).answered.size).toBe(0);
      expect(events).toEqual(['miss:memory', 'error:open', 'miss:redis']);
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  it('a refusal evicts the caller’s entries from Redis too, for every tenant', async () => {
    await admin.flushall();
    const cache = await cacheOn();
    const other = await cacheOn();
    try {
      const caller = cache.caller(alice);
      await cache.write(caller, 100002, sites(), Date.now() + 3_600_000);
      await cache.write(caller, 100003, sites(), Date.now() + 3_600_000);
      await cache.write(cache.caller(mallory), 100002, sites(), Date.now() + 3_600_000);
      await cache.evictCaller(caller);
      expect((await other.read(other.caller(alice), 100002, asked)).answered.size).toBe(0);
      expect((await other.read(other.caller(alice), 100003, asked)).answered.size).toBe(0);
      expect((await other.read(other.caller(mallory), 100002, asked)).answered.size).toBe(1);
    } finally {
      await cache.close();
      await other.close();
    }
  });

  it('bounds the life of an entry by the ticket’s expiry, in Redis as in memory', async () => {
    await admin.flushall();
    const cache = await cacheOn();
    try {
      await cache.write(cache.caller(alice), 100002, sites(), Date.now() + 1_500);
      const [hashKey] = await admin.keys('*');
      const ttl = await admin.pttl(hashKey!);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(1_500);
      await cache.write(cache.caller(alice), 100003, sites(), Date.now() - 1);
      expect((await cache.read(cache.caller(alice), 100003, asked)).answered.size).toBe(0);
    } finally {
      await cache.close();
    }
  });

  it('a paused (slow) Redis: reads give up within the timeout, once logged, and resume after', async () => {
    await admin.flushall();
    const { events, observer } = recorder();
    const cache = await cacheOn(observer, 100);
    try {
      await cache.write(cache.caller(alice), 100002, sites(), Date.now() + 3_600_000);
      const fresh = await cacheOn(undefined, 100);
      redis.pause();
      const started = performance.now();
      let reads: number[];
      try {
        const results = await Promise.all([1, 2, 3].map(() => fresh.read(fresh.caller(alice), 100002, asked)));
        reads = results.map((found) => found.answered.size);
        // A second round stands aside without waiting on Redis again.
        await cache.read(cache.caller(mallory), 100002, asked);
        await cache.read(cache.caller(mallory), 100002, asked);
      } finally {
        redis.resume();
      }
      expect(reads).toEqual([0, 0, 0]);
      expect(performance.now() - started).toBeLessThan(1_000);
      await fresh.close();
      const down = events.filter((event) => event === 'redis-down');
      expect(down.length).toBeLessThanOrEqual(1);
      expect(events.filter((event) => event.startsWith('error:')).length).toBeGreaterThanOrEqual(1);
    } finally {
      await cache.close();
    }
  });

  it('Redis down: reads and writes still complete, memory keeps answering; one "down" report', async () => {
    const dead = await startRedisServer();
    const { events, observer } = recorder();
    const cache = await EntityCache.create({
      ttlSeconds: 60,
      maxEntries: 100,
      maxBytes: 1024 * 1024,
      redis: { url: dead.url, timeoutMs: 100 },
      observer,
    });
    try {
      await dead.stop();
      const caller = cache.caller(alice);
      for (let i = 0; i < 5; i++) {
        await cache.write(caller, 100002, sites(), Date.now() + 3_600_000);
        expect((await cache.read(caller, 100002, asked)).answered.size).toBe(1);
        expect((await cache.read(caller, 100003, asked)).answered.size).toBe(0);
      }
      expect(events.filter((event) => event === 'redis-down')).toEqual(['redis-down']);
    } finally {
      await cache.close();
    }
  });
});
