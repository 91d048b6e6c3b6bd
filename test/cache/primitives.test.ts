/** The cache's building blocks on their own: derived keys, sealing, what an entry holds, single-flight. */
import { createHmac, hkdfSync } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { covers, intersect, parseHeld, prune, formatHeld } from '../../src/cache/held.js';
import { CallerKeys, hkdf32 } from '../../src/cache/keys.js';
import { jsonCharacters } from '../../src/cache/entity-set.js';
import { MemoryTier } from '../../src/cache/memory-tier.js';
import type { Projection } from '../../src/projection/projection.js';
import { open, seal } from '../../src/cache/seal.js';
import { SingleFlight } from '../../src/cache/single-flight.js';

const alice = { authorization: 'Bearer alice-jwt-0123456789', refreshToken: 'alice-refresh-0123456789' };
const bob = { authorization: 'Bearer bob-jwt-0123456789', refreshToken: 'bob-refresh-0123456789' };

describe('derived keys', () => {
  it('differ between callers, tenants and types, and name no credential', () => {
    const a = new CallerKeys(alice, true);
    const b = new CallerKeys(bob, true);
    expect(a.id).not.toBe(b.id);
    expect(a.entryName(100002, 'Site')).not.toBe(b.entryName(100002, 'Site'));
    expect(a.entryName(100002, 'Site')).not.toBe(a.entryName(100003, 'Site'));
    expect(a.entryName(100002, 'Site')).not.toBe(a.entryName(100002, 'Tenant'));
    expect(a.sealingKey(100002, 'Site').equals(b.sealingKey(100002, 'Site'))).toBe(false);
    expect(a.sharedId).not.toBe(b.sharedId);
    expect(a.sharedId).not.toBe(a.id);
    expect(a.flightName(100002, 'tenant(id)')).not.toBe(b.flightName(100002, 'tenant(id)'));
    const derived = [a.id, a.sharedId, a.entryName(100002, 'Site'), a.flightName(100002, 'tenant(id)')].join(' ');
    for (const secret of ['alice-jwt-0123456789', 'alice-refresh-0123456789']) expect(derived).not.toContain(secret);
  });

  it('change when only the refresh token changes, and keep apart the two parts', () => {
    const other = new CallerKeys({ ...alice, refreshToken: 'alice-refresh-other' }, true);
    expect(other.id).not.toBe(new CallerKeys(alice, true).id);
    const split1 = new CallerKeys({ authorization: 'Bearer ab', refreshToken: 'c' }, true);
    const split2 = new CallerKeys({ authorization: 'Bearer a', refreshToken: 'bc' }, true);
    expect(split1.id).not.toBe(split2.id);
    expect(split1.sharedId).not.toBe(split2.sharedId);
  });

  it('are the same in the process with or without the shared tier, whose keys only a Redis cache derives', () => {
    const memoryOnly = new CallerKeys(alice, false);
    expect(memoryOnly.id).toBe(new CallerKeys(alice, true).id);
    expect(() => memoryOnly.sealingKey(100002, 'Site')).toThrow(/shared tier/);
  });

  it('come from HKDF-SHA256 exactly as hkdfSync computes it (so entries sealed before stay readable)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.uint8Array().map(Buffer.from)),
        fc.string(),
        fc.string(),
        (ikm, salt, info) => {
          const expected = Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
          expect(hkdf32(ikm, salt, info).equals(expected)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  /**
   * Replicas of the previous release share Redis with this one during a rolling restart: the Redis
   * names and sealing keys must be the bytes the hkdfSync scheme made (caller secret from the JSON of
   * both credentials, its HMAC as the hash name, HMAC entry names, HKDF sealing keys), for any
   * credentials, non-ASCII and lone surrogates included.
   */
  it('name and seal Redis entries exactly as the hkdfSync derivation did, for any credentials', () => {
    const SALT = 'kibo-auth-gateway/entity-cache/v1';
    const mac = (secret: Buffer, label: string) =>
      createHmac('sha256', secret).update(label).digest('base64url').slice(0, 32);
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary' }),
        fc.string({ unit: 'binary' }),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.constantFrom('Tenant', 'Site', 'Catalog'),
        (token, refreshToken, tenantId, typename) => {
          const credentials = { authorization: `Bearer ${token}`, refreshToken };
          const material = JSON.stringify([token.trim(), refreshToken.trim()]);
          const secret = Buffer.from(hkdfSync('sha256', material, SALT, 'caller', 32));
          const keys = new CallerKeys(credentials, true);
          expect(keys.sharedId).toBe(mac(secret, 'caller-id'));
          expect(keys.entryName(tenantId, typename)).toBe(mac(secret, `entry\u0000${tenantId}\u0000${typename}`));
          const sealing = Buffer.from(hkdfSync('sha256', secret, SALT, `seal\u0000${tenantId}\u0000${typename}`, 32));
          expect(keys.sealingKey(tenantId, typename).equals(sealing)).toBe(true);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("in memory, keep one caller's entries apart from another's under the same tenant and type", () => {
    const tier = new MemoryTier({ maxEntries: 10, maxBytes: 10_000 });
    try {
      const [a, b] = [new CallerKeys(alice, true), new CallerKeys(bob, true)];
      const set = {
        held: parseHeld('id'),
        complete: true,
        entities: new Map([['1', { id: 1 }]]),
        expiresAt: Date.now() + 60_000,
      };
      tier.set(a.id, a.memoryName(100002, 'Site'), set);
      expect(tier.get(a.id, a.memoryName(100002, 'Site'))).toBe(set);
      expect(tier.get(b.id, b.memoryName(100002, 'Site'))).toBeUndefined();
      expect(tier.get(a.id, a.memoryName(100003, 'Site'))).toBeUndefined();
      expect(tier.get(a.id, a.memoryName(100002, 'Tenant'))).toBeUndefined();
    } finally {
      tier.close();
    }
  });

  it('do not depend on how the Bearer scheme is spelled', () => {
    const spelled = new CallerKeys({ ...alice, authorization: 'bearer   alice-jwt-0123456789' }, true);
    expect(spelled.id).toBe(new CallerKeys(alice, true).id);
  });

  it("are the same for a ticket's bare token as for a request sending it as Bearer (what switchTenant seeds is found)", () => {
    const fromTicket = new CallerKeys({ bearer: 'alice-jwt-0123456789', refreshToken: alice.refreshToken }, true);
    const fromRequest = new CallerKeys(alice, true);
    expect(fromTicket.id).toBe(fromRequest.id);
    expect(fromTicket.sharedId).toBe(fromRequest.sharedId);
    expect(fromTicket.entryName(100002, 'Site')).toBe(fromRequest.entryName(100002, 'Site'));
  });
});

describe('sealing', () => {
  const key = new CallerKeys(alice, true).sealingKey(100002, 'Site');
  const name = 'entry-name';
  const plaintext = Buffer.from('{"entities":[]}');

  it('opens what it sealed, and hides the plaintext', () => {
    const sealed = seal(key, name, plaintext);
    expect(sealed.includes(plaintext)).toBe(false);
    expect(open(key, name, sealed)?.equals(plaintext)).toBe(true);
  });

  it('refuses a flipped bit anywhere, another key, another name, or a truncated value', () => {
    const sealed = seal(key, name, plaintext);
    for (let index = 0; index < sealed.length; index++) {
      const tampered = Buffer.from(sealed);
      tampered[index]! ^= 0x01;
      expect(open(key, name, tampered), `byte ${index}`).toBeUndefined();
    }
    expect(open(new CallerKeys(bob, true).sealingKey(100002, 'Site'), name, sealed)).toBeUndefined();
    expect(open(key, 'another-entry', sealed)).toBeUndefined();
    expect(open(key, name, sealed.subarray(0, 20))).toBeUndefined();
  });
});

describe('what an entry holds', () => {
  const p = parseHeld;

  it('covers what asks no more than it holds, at every depth', () => {
    expect(covers(p('id,name,sites(id,name)'), p('id,sites(name)'))).toBe(true);
    expect(covers(p('id,name'), p('id,domain'))).toBe(false);
    expect(covers(p('id,sites(id)'), p('sites(id,name)'))).toBe(false);
    // Whole values: held whole covers anything beneath; asked whole needs it whole.
    expect(covers(p('id,sites'), p('sites(id,name)'))).toBe(true);
    expect(covers(p('id,sites(id,name)'), p('sites'))).toBe(false);
  });

  it('intersects and prints back what it parsed', () => {
    expect(formatHeld(intersect(p('id,name,sites(id,name)'), p('id,sites(id,domain)')))).toBe('id,sites(id)');
    expect(formatHeld(intersect(p('id,sites'), p('id,sites(id)')))).toBe('id,sites(id)');
    expect(formatHeld(intersect(p('id,sites(name)'), p('id,sites(domain)')))).toBe('id');
    for (const printed of ['id', 'a,b(c,d(e)),f', 'availableTenants(id,sites(domain,id,name)),user(userId)'])
      expect(formatHeld(p(printed))).toBe(printed);
    expect(() => p('a(b')).toThrow();
    expect(() => p('a,,b')).toThrow();
  });

  it('prunes an entity to what is held, through lists', () => {
    const tenant = { id: 1, name: 'T', secret: 'x', sites: [{ id: 2, name: 'S', domain: 'd' }, null] };
    expect(prune(tenant, p('id,sites(id)'))).toEqual({ id: 1, sites: [{ id: 2 }, null] });
    expect(prune(tenant, p('id,name'))).toEqual({ id: 1, name: 'T' });
  });

  it('prunes exactly as a copy of the held properties would, and keeps a value holding nothing else as it is', () => {
    // The reference: every object copied, only held properties kept.
    const copied = (value: unknown, held: Projection): unknown => {
      if (held.size === 0 || value === null || typeof value !== 'object') return value;
      if (Array.isArray(value)) return value.map((item) => copied(item, held));
      const kept: Record<string, unknown> = {};
      for (const [name, children] of held)
        if (Object.hasOwn(value, name)) kept[name] = copied((value as Record<string, unknown>)[name], children);
      return kept;
    };
    const names = fc.constantFrom('id', 'name', 'sites', 'tenant', 'secret');
    const projection: fc.Arbitrary<Projection> = fc.letrec<{ projection: Projection }>((tie) => ({
      projection: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.constant(new Map()),
        fc
          .uniqueArray(fc.tuple(names, tie('projection')), { selector: ([name]) => name, maxLength: 4 })
          .map((entries) => new Map(entries)),
      ),
    })).projection;
    const value = fc.letrec<{ value: unknown }>((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.oneof(fc.integer(), fc.string(), fc.constant(null)),
        fc.array(tie('value'), { maxLength: 3 }),
        // Objects as JSON.parse makes them (a null prototype is a difference toStrictEqual sees).
        fc.dictionary(names, tie('value'), { maxKeys: 4, noNullPrototype: true }),
      ),
    })).value;
    fc.assert(
      fc.property(value, projection, (input, held) => {
        const pruned = prune(input, held);
        expect(pruned).toStrictEqual(copied(input, held));
        // Kept as it is exactly when the copy would have been equal to it.
        expect(pruned === input).toBe(isDeepStrictEqual(copied(input, held), input));
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('memory tier', () => {
  const set = (expiresAt: number) => ({ held: p('id'), complete: true, entities: new Map(), expiresAt });
  const p = parseHeld;

  it('is bounded by its entry count, and says when the bound evicts', () => {
    let evicted = 0;
    const tier = new MemoryTier({ maxEntries: 3, maxBytes: 1024 * 1024, onCapacityEviction: () => evicted++ });
    for (let i = 0; i < 5; i++) tier.set('caller', `entry-${i}`, set(Date.now() + 60_000));
    expect(tier.size).toBe(3);
    expect(evicted).toBe(2);
    expect(tier.get('caller', 'entry-0')).toBeUndefined();
    expect(tier.get('caller', 'entry-4')).toBeDefined();
  });

  it('weighs entities as the characters of their JSON, counted without building it', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(jsonCharacters(value)).toBe(JSON.stringify(value).length);
      }),
      { numRuns: 2_000 },
    );
    // What JSON escapes, and what it does not: quotes, control characters, a lone surrogate, a pair.
    for (const text of ['a"b', 'a\\b', '\u0000\n\t', '\ud800x', '😀', 'é'])
      expect(jsonCharacters({ [text]: text })).toBe(JSON.stringify({ [text]: text }).length);
  });

  it('is bounded by the weight of what it holds: the oldest go first, a set heavier than the bound is not kept', () => {
    const heavy = (expiresAt: number, characters: number) => ({
      ...set(expiresAt),
      entities: new Map([['1', { id: 1, name: 'x'.repeat(characters) }]]),
    });
    let evicted = 0;
    const tier = new MemoryTier({ maxEntries: 100, maxBytes: 1_000, onCapacityEviction: () => evicted++ });
    for (let i = 0; i < 5; i++) tier.set('caller', `entry-${i}`, heavy(Date.now() + 60_000, 300));
    expect(tier.size).toBe(3);
    expect(evicted).toBe(2);
    expect(tier.get('caller', 'entry-4')).toBeDefined();
    tier.set('other', 'huge', heavy(Date.now() + 60_000, 2_000));
    expect(tier.get('other', 'huge')).toBeUndefined();
    // Nothing of the refused set is remembered for its caller either.
    expect(tier.evictCaller('other')).toBe(0);
  });

  it('drops one caller’s entries and only those', () => {
    const tier = new MemoryTier({ maxEntries: 10, maxBytes: 1024 * 1024 });
    tier.set('a', 'x', set(Date.now() + 60_000));
    tier.set('a', 'y', set(Date.now() + 60_000));
    tier.set('b', 'x', set(Date.now() + 60_000));
    expect(tier.evictCaller('a')).toBe(2);
    expect(tier.get('a', 'x')).toBeUndefined();
    expect(tier.get('b', 'x')).toBeDefined();
    expect(tier.evictCaller('a')).toBe(0);
  });

  it('still drops a caller’s newest entry on refusal when storing it pushed out that caller’s only other one', () => {
    const tier = new MemoryTier({ maxEntries: 1, maxBytes: 1024 * 1024 });
    tier.set('a', 'x', set(Date.now() + 60_000));
    tier.set('a', 'y', set(Date.now() + 60_000));
    expect(tier.get('a', 'x')).toBeUndefined();
    expect(tier.evictCaller('a')).toBe(1);
    expect(tier.get('a', 'y')).toBeUndefined();
  });

  it('drops expired entries on its own, so memory follows what is live rather than the bounds', async () => {
    const tier = new MemoryTier({ maxEntries: 100, maxBytes: 1024 * 1024, sweepEveryMs: 20 });
    try {
      for (let i = 0; i < 10; i++) tier.set('caller', `entry-${i}`, set(Date.now() + 30));
      tier.set('caller', 'lasting', set(Date.now() + 60_000));
      expect(tier.size).toBe(11);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(tier.size).toBe(1);
      expect(tier.evictCaller('caller')).toBe(1);
    } finally {
      tier.close();
    }
  });

  it('does not answer past an entry’s expiry', () => {
    const tier = new MemoryTier({ maxEntries: 10, maxBytes: 1024 * 1024 });
    tier.set('a', 'x', set(Date.now() + 50));
    expect(tier.get('a', 'x')).toBeDefined();
    expect(tier.get('a', 'x', Date.now() + 51)).toBeUndefined();
    tier.set('a', 'gone', set(Date.now() - 1));
    expect(tier.get('a', 'gone')).toBeUndefined();
  });
});

describe('single flight', () => {
  const deferred = <T>() => {
    let resolve!: (value: T) => void;
    const promise = new Promise<T>((r) => (resolve = r));
    return { promise, resolve };
  };

  it('makes one call for concurrent waiters of one name, and a new one after it settles', async () => {
    const flights = new SingleFlight<number>();
    let calls = 0;
    const gate = deferred<number>();
    const call = () => {
      calls++;
      return gate.promise;
    };
    const waiting = Array.from({ length: 100 }, () => flights.run('n', undefined, call));
    gate.resolve(7);
    expect(await Promise.all(waiting)).toEqual(Array(100).fill(7));
    expect(calls).toBe(1);
    await flights.run('n', undefined, async () => (calls++, 8));
    expect(calls).toBe(2);
  });

  it('keeps the call running while one waiter remains, and cancels it when the last leaves', async () => {
    const flights = new SingleFlight<string>();
    let seen: AbortSignal | undefined;
    const call = (signal: AbortSignal) => {
      seen = signal;
      return new Promise<string>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new Error('cancelled')));
        setTimeout(() => resolve('done'), 50);
      });
    };
    const first = new AbortController();
    const leaving = flights.run('n', first.signal, call);
    const staying = flights.run('n', new AbortController().signal, call);
    first.abort();
    expect(seen?.aborted).toBe(false);
    expect(await staying).toBe('done');
    expect(await leaving).toBe('done');

    const only = new AbortController();
    const alone = flights.run('m', only.signal, call);
    only.abort();
    expect(seen?.aborted).toBe(true);
    await expect(alone).rejects.toThrow('cancelled');
    expect(flights.has('m')).toBe(false);
  });
});
