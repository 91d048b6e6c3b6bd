/**
 * The entity cache end to end: a real gateway with ENTITY_CACHE on, a real emulator, `_entities`
 * over HTTP. What is asserted is what Kibo received (the emulator's record) next to the answers.
 */
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO, teamRefreshToken } from '../../src/emulator/demo-data.js';
import { EntitiesDocument } from '../generated/operations.js';
import { DEMO_HEADERS, startStack, withStack, type Stack } from '../support/stack.js';

const CONTEXT = { ...DEMO_HEADERS, 'x-vol-tenant': '100002' };
const teamHeaders = (member: number, tenant: number) => ({
  authorization: `Bearer ${DEMO.appToken}`,
  'x-kibo-refresh-token': teamRefreshToken(member),
  'x-vol-tenant': String(tenant),
});
const SITES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Site { id name } } }';
const SITES_WITH_DOMAIN = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Site { id name domain } } }';
const sites = (...ids: number[]) => ({ r: ids.map((id) => ({ __typename: 'Site', id })) });
const ALL_TYPES = [
  { __typename: 'Site', id: 201 },
  { __typename: 'Tenant', id: 100050 },
  { __typename: 'Catalog', id: 211 },
  { __typename: 'AdminUserMasterCatalog', id: 21 },
  { __typename: 'UserProfile', userId: '0d1b6a7c4e2f4c3aa1b2c3d4e5f60718' },
  { __typename: 'Site', id: 999999 },
];

let stack: Stack;
let uncached: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { ENTITY_CACHE: 'on', LOG_LEVEL: 'silent' } });
  uncached = await startStack({ env: { LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator });
});
afterAll(async () => {
  await uncached?.close();
  await stack?.close();
});
beforeEach(() => {
  stack.resetRecords();
  uncached.resetRecords();
});

const kiboCalls = () => stack.received.filter((r) => r.method === 'PUT').length;

describe('entity cache', () => {
  it('answers a repeated request without Kibo, identically', async () => {
    const first = await stack.graphql(EntitiesDocument, {
      variables: { representations: ALL_TYPES },
      headers: CONTEXT,
    });
    const second = await stack.graphql(EntitiesDocument, {
      variables: { representations: ALL_TYPES },
      headers: CONTEXT,
    });
    const reference = await uncached.graphql(EntitiesDocument, {
      variables: { representations: ALL_TYPES },
      headers: CONTEXT,
    });
    expect(first.body.errors).toBeUndefined();
    expect(second.body).toEqual(first.body);
    expect(second.body).toEqual(reference.body);
    // The cached gateway called once (the second answer came from memory); the uncached one once.
    expect(kiboCalls()).toBe(1);
    expect(uncached.received.filter((r) => r.method === 'PUT')).toHaveLength(1);
  });

  it('never serves one caller’s entries to another, even in the same tenant; nor another tenant’s', async () => {
    await stack.graphql(SITES, { variables: sites(201), headers: teamHeaders(1, 100002) });
    expect(kiboCalls()).toBe(1);
    await stack.graphql(SITES, { variables: sites(201), headers: teamHeaders(2, 100002) });
    expect(kiboCalls()).toBe(2);
    await stack.graphql(SITES, { variables: sites(201), headers: teamHeaders(1, 100003) });
    expect(kiboCalls()).toBe(3);
    // Same refresh token, another bearer: another caller.
    await stack.graphql(SITES, {
      variables: sites(201),
      headers: { ...teamHeaders(1, 100002), authorization: 'Bearer emulator-fault:delay:1' },
    });
    expect(kiboCalls()).toBe(4);
    await stack.graphql(SITES, { variables: sites(201), headers: teamHeaders(1, 100002) });
    expect(kiboCalls()).toBe(4);
  });

  it('answers only what an entry holds whole: a new field fetches the union once, then both are served', async () => {
    const headers = teamHeaders(3, 100004);
    const narrow = await stack.graphql(SITES, { variables: sites(401, 402), headers });
    const wide = await stack.graphql(SITES_WITH_DOMAIN, { variables: sites(401, 402), headers });
    expect(stack.receivedResponseFields()).toEqual([
      'accessTokenExpiration,availableTenants(id,sites(id,name)),tenant(id,sites(id,name))',
      'accessTokenExpiration,availableTenants(id,sites(domain,id,name)),tenant(id,sites(domain,id,name))',
    ]);
    expect(await stack.graphql(SITES, { variables: sites(401, 402), headers }).then((r) => r.body)).toEqual(
      narrow.body,
    );
    expect(await stack.graphql(SITES_WITH_DOMAIN, { variables: sites(401, 402), headers }).then((r) => r.body)).toEqual(
      wide.body,
    );
    expect(kiboCalls()).toBe(2);
    expect(wide.body).toEqual(
      (await uncached.graphql(SITES_WITH_DOMAIN, { variables: sites(401, 402), headers })).body,
    );
  });

  it('knows which references the ticket does not hold: null from the cache, no Kibo call', async () => {
    const headers = teamHeaders(4, 100005);
    await stack.graphql(SITES, { variables: sites(501), headers });
    const answer = await stack.graphql(SITES, { variables: sites(999999, 502), headers });
    expect(answer.body.data).toEqual({ _entities: [null, { id: 502, name: expect.any(String) }] });
    expect(kiboCalls()).toBe(1);
  });

  it('100 concurrent identical requests from one user make one Kibo call', async () => {
    // The emulator holds its answer 300 ms, so every request arrives while the first call is out.
    const headers = { ...teamHeaders(5, 100006), authorization: 'Bearer emulator-fault:delay:300' };
    const answers = await Promise.all(
      Array.from({ length: 100 }, () => stack.graphql(SITES, { variables: sites(601), headers })),
    );
    for (const answer of answers)
      expect(answer.body).toEqual({ data: { _entities: [{ id: 601, name: expect.any(String) }] } });
    expect(kiboCalls()).toBe(1);
  });

  it('one request giving up does not fail the others waiting on the same call', async () => {
    const headers = { ...teamHeaders(6, 100007), authorization: 'Bearer emulator-fault:delay:300' };
    const impatient = new AbortController();
    const gone = stack
      .graphql(SITES, { variables: sites(701), headers, signal: impatient.signal })
      .catch(() => 'aborted');
    const patient = stack.graphql(SITES, { variables: sites(701), headers });
    setTimeout(() => impatient.abort(), 50);
    expect(await gone).toBe('aborted');
    expect((await patient).body).toEqual({ data: { _entities: [{ id: 701, name: expect.any(String) }] } });
    expect(kiboCalls()).toBe(1);
  });

  it('never caches a refusal or a failure', async () => {
    for (let i = 0; i < 2; i++) {
      const refused = await stack.graphql(SITES, { variables: sites(201), headers: teamHeaders(7, 100040) });
      expect(refused.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const failed = await stack.graphql(SITES, {
        variables: sites(201),
        headers: { ...teamHeaders(7, 100002), authorization: 'Bearer emulator-fault:status:503' },
      });
      expect(failed.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    }
    expect(kiboCalls()).toBe(4);
  });

  it('a Kibo refusal for the credentials evicts everything they cached, in every tenant', async () => {
    const member = 8;
    await stack.graphql(SITES, { variables: sites(101), headers: teamHeaders(member, 100001) });
    await stack.graphql(SITES, { variables: sites(201), headers: teamHeaders(member, 100002) });
    await stack.graphql(SITES, { variables: sites(201), headers: teamHeaders(member, 100002) });
    expect(kiboCalls()).toBe(2);
    // Team members may not enter 100040: Kibo answers 403.
    await stack.graphql(SITES, { variables: sites(201), headers: teamHeaders(member, 100040) });
    expect(kiboCalls()).toBe(3);
    await stack.graphql(SITES, { variables: sites(101), headers: teamHeaders(member, 100001) });
    await stack.graphql(SITES, { variables: sites(201), headers: teamHeaders(member, 100002) });
    expect(kiboCalls()).toBe(5);
  });

  it('switchTenant always calls Kibo, returns no credential it was not asked for, and seeds the cache', async () => {
    const switchTo = (tenantId: number) =>
      stack.graphql<{ switchTenant: Record<string, unknown> & { jwtAccessToken?: string; refreshToken?: string } }>(
        `mutation { switchTenant(tenantId: ${tenantId}) { jwtAccessToken refreshToken tenant { id name sites { id name } } availableTenants { id name sites { id name } } } }`,
        { headers: { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': teamRefreshToken(9) } },
      );
    const first = await switchTo(100008);
    const again = await switchTo(100008);
    expect(kiboCalls()).toBe(2);
    expect(again.body.data?.switchTenant.jwtAccessToken).not.toBe(first.body.data?.switchTenant.jwtAccessToken);
    expect(stack.receivedResponseFields()[0]).toContain('jwtAccessToken');

    const unselected = await stack.graphql<{ switchTenant: Record<string, unknown> }>(
      'mutation { switchTenant(tenantId: 100008) { tenant { id } } }',
      { headers: { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': teamRefreshToken(9) } },
    );
    expect(unselected.body).toEqual({ data: { switchTenant: { tenant: { id: 100008 } } } });
    expect(JSON.stringify(unselected.body)).not.toMatch(/jwtAccessToken|refreshToken|eyJ/);

    // The client goes on with its new ticket: entities resolve without another Kibo call.
    stack.resetRecords();
    const ticket = first.body.data!.switchTenant;
    const withTicket = {
      authorization: `Bearer ${ticket.jwtAccessToken}`,
      'x-kibo-refresh-token': ticket.refreshToken!,
      'x-vol-tenant': '100008',
    };
    const answer = await stack.graphql(SITES, { variables: sites(801, 101, 999999), headers: withTicket });
    const tenants = await stack.graphql(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Tenant { id name } } }',
      { variables: { r: [{ __typename: 'Tenant', id: 100001 }] }, headers: withTicket },
    );
    expect(kiboCalls()).toBe(0);
    const reference = await uncached.graphql(SITES, { variables: sites(801, 101, 999999), headers: withTicket });
    expect(answer.body).toEqual(reference.body);
    expect(tenants.body).toEqual({ data: { _entities: [{ id: 100001, name: expect.any(String) }] } });
  });

  it('a switch whose answer leaves out the ticket’s JWT asks Kibo for no token and seeds nothing', async () => {
    // Entries are found by the credentials a later request presents; without the new JWT no client
    // can present this ticket's, so its entries could never be read.
    const switchTo100001 = (skipJwt: boolean) =>
      stack.graphql<{ switchTenant: { jwt?: string } }>(
        'mutation($skip: Boolean!) { switchTenant(tenantId: 100001) { accessToken jwt: jwtAccessToken @skip(if: $skip) tenant { id name sites { id name } } } }',
        {
          variables: { skip: skipJwt },
          headers: { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': teamRefreshToken(15) },
        },
      );
    const entries = async () => (await stack.gateway.entityCache!.dump()).memory.length;
    const before = await entries();
    const skipped = await switchTo100001(true);
    expect(skipped.body.errors).toBeUndefined();
    expect(skipped.body.data?.switchTenant).not.toHaveProperty('jwt');
    expect(stack.receivedResponseFields()).toHaveLength(1);
    expect(stack.receivedResponseFields()[0]).not.toMatch(/jwtAccessToken|refreshToken|accessTokenExpiration/);
    expect(await entries()).toBe(before);

    // The same document with the JWT included is seeded (so nothing above passes for want of seeding).
    stack.resetRecords();
    const selected = await switchTo100001(false);
    expect(selected.body.data?.switchTenant.jwt).toEqual(expect.any(String));
    expect(stack.receivedResponseFields()[0]).toMatch(/jwtAccessToken.*refreshToken|refreshToken.*jwtAccessToken/);
    expect(await entries()).toBeGreaterThan(before);
  });

  it('a seed from the ticket’s own tenant only answers for what it holds', async () => {
    const seeded = await stack.graphql<{ switchTenant: { jwtAccessToken: string; refreshToken: string } }>(
      'mutation { switchTenant(tenantId: 100009) { jwtAccessToken refreshToken tenant { id sites { id name } } } }',
      { headers: { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': teamRefreshToken(10) } },
    );
    stack.resetRecords();
    const headers = {
      authorization: `Bearer ${seeded.body.data!.switchTenant.jwtAccessToken}`,
      'x-kibo-refresh-token': seeded.body.data!.switchTenant.refreshToken,
      'x-vol-tenant': '100009',
    };
    await stack.graphql(SITES, { variables: sites(901), headers });
    expect(kiboCalls()).toBe(0);
    // A site of another tenant: the seed cannot know it is absent, so Kibo is asked.
    const other = await stack.graphql(SITES, { variables: sites(101), headers });
    expect(other.body.data).toEqual({ _entities: [{ id: 101, name: expect.any(String) }] });
    expect(kiboCalls()).toBe(1);
  });

  it('lives ENTITY_CACHE_TTL_SECONDS at most', async () => {
    await withStack(
      { env: { ENTITY_CACHE: 'on', ENTITY_CACHE_TTL_SECONDS: '1' }, sharedEmulator: stack.emulator },
      async (short) => {
        const headers = teamHeaders(11, 100002);
        const calls = () => short.received.filter((r) => r.method === 'PUT').length;
        await short.graphql(SITES, { variables: sites(201), headers });
        await short.graphql(SITES, { variables: sites(201), headers });
        expect(calls()).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 1_100));
        await short.graphql(SITES, { variables: sites(201), headers });
        expect(calls()).toBe(2);
      },
    );
  });

  it('never outlives the ticket’s access token', async () => {
    await withStack(
      { env: { ENTITY_CACHE: 'on', ENTITY_CACHE_TTL_SECONDS: '60' }, emulator: { accessTokenLifetimeMs: 600 } },
      async (expiring) => {
        const headers = teamHeaders(12, 100002);
        const calls = () => expiring.received.length;
        await expiring.graphql(SITES, { variables: sites(201), headers });
        await expiring.graphql(SITES, { variables: sites(201), headers });
        expect(calls()).toBe(1);
        await new Promise((resolve) => setTimeout(resolve, 700));
        await expiring.graphql(SITES, { variables: sites(201), headers });
        expect(calls()).toBe(2);
      },
    );
  });

  it('stores entities pruned to what is held, even when Kibo sends whole tickets (PROJECTION=false)', async () => {
    await withStack(
      { env: { ENTITY_CACHE: 'on', PROJECTION: 'false' }, sharedEmulator: stack.emulator },
      async (whole) => {
        const answer = await whole.graphql(SITES, { variables: sites(201), headers: teamHeaders(14, 100002) });
        expect(whole.receivedResponseFields()).toEqual([null]);
        expect(answer.body).toEqual((await uncached.graphql(SITES, { variables: sites(201), headers: CONTEXT })).body);
        const { memory } = await whole.gateway.entityCache!.dump();
        expect(memory).toHaveLength(1);
        for (const [, set] of memory)
          for (const [, site] of set.entities) expect(Object.keys(site).sort()).toEqual(['id', 'name']);
      },
    );
  });

  it('ENTITY_CACHE=off: every request calls Kibo, as before the cache', async () => {
    uncached.resetRecords();
    for (let i = 0; i < 3; i++) await uncached.graphql(SITES, { variables: sites(201), headers: CONTEXT });
    expect(uncached.received.filter((r) => r.method === 'PUT')).toHaveLength(3);
    expect(uncached.gateway.entityCache).toBeUndefined();
  });

  it('counts hits, misses, stores and evictions in /metrics, with no tenant or credential in a label', async () => {
    await stack.graphql(SITES, { variables: sites(1001), headers: teamHeaders(13, 100010) });
    await stack.graphql(SITES, { variables: sites(1001), headers: teamHeaders(13, 100010) });
    const response = await request(`${stack.gateway.url}/metrics`);
    const text = await response.body.text();
    const value = (series: string) =>
      Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\d+)`, 'm').exec(text)?.[1]);
    expect(value('entity_cache_hits_total{tier="memory"}')).toBeGreaterThan(0);
    expect(value('entity_cache_misses_total{tier="memory"}')).toBeGreaterThan(0);
    expect(value('entity_cache_stores_total{tier="memory"}')).toBeGreaterThan(0);
    expect(value('entity_cache_evictions_total{tier="memory",reason="refusal"}')).toBeGreaterThan(0);
    const labels = [...text.matchAll(/^entity_cache_\w+\{([^}]*)\}/gm)].map((match) => match[1]).join(' ');
    expect(labels).not.toMatch(/1000\d\d|team-refresh|demo-|Bearer/);
  });
});
