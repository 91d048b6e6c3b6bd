/**
 * The entity cache's credential check (requests/cached-entities.ts, `withoutCredentials`) on both
 * paths that store: switchTenant's seeding and the entity fetch. A hostile Kibo copies a credential
 * into entity data held whole; each test has a clean counterpart that must be stored, so "nothing
 * stored" is never why it passes. (Written by the reviewer of issue 13's last commits.)
 */
import { describe, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { ticketReply, withHostileStack, type HostileKibo } from '../support/hostile-kibo.js';
import { DEMO_HEADERS, type Stack } from '../support/stack.js';

const later = () => new Date(Date.now() + 3_600_000).toISOString();
const NOW = new Date().toISOString();
// The ticket's JWT selected: a switch seeds the cache only when the client gets it.
const SWITCH = 'mutation { switchTenant(tenantId: 1) { jwtAccessToken tenant { id sites { id name } } } }';
const SITES = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Site { id name } } }';
const CONTEXT = { ...DEMO_HEADERS, 'x-vol-tenant': '100002' };

const withHostile = (env: Record<string, string>, use: (hostile: HostileKibo, stack: Stack) => Promise<void>) =>
  withHostileStack({ ENTITY_CACHE: 'on', LOG_LEVEL: 'silent', ...env }, use);
const storedText = async (stack: Stack) =>
  JSON.stringify((await stack.gateway.entityCache!.dump()).memory.map(([, set]) => [...set.entities]));
const storedCount = async (stack: Stack) => (await stack.gateway.entityCache!.dump()).memory.length;

describe('switchTenant seeding: a credential of the call (not of the ticket) copied by Kibo', () => {
  // The ticket's own tokens differ from the request's (a new JWT; a rotated refresh token).
  const ticket = (copy: string) => ({
    accessTokenExpiration: later(),
    createdOn: NOW,
    jwtAccessToken: 'new-jwt-0123456789abcdef',
    refreshToken: 'new-refresh-0123456789abcdef',
    refreshTokenExpiration: later(),
    tenant: { id: 1, name: 'T', sites: [{ id: 2, name: 'S', copy }] },
  });

  it.each([
    ['the request bearer (Authorization header)', DEMO.appToken],
    ['the request refresh token (X-Kibo-Refresh-Token header)', DEMO.refreshToken],
  ])('%s is not stored; the same ticket without it is', async (_case, secret) => {
    await withHostile({ KIBO_MAX_QUERY_LENGTH: '120' }, async (hostile, stack) => {
      hostile.respond = () => ticketReply(ticket(`x${secret}x`));
      const response = await stack.graphql(SWITCH);
      expect(response.body.errors).toBeUndefined();
      expect(hostile.received[0]?.responseFields).toMatch(/tenant\(id,sites\)/); // sites held whole
      expect(await storedText(stack)).not.toContain(secret);
      hostile.respond = () => ticketReply(ticket('harmless'));
      expect((await stack.graphql(SWITCH)).body.errors).toBeUndefined();
      expect(await storedCount(stack)).toBeGreaterThan(0);
    });
  });

  it('cookie mode: the refresh token read from the cookie is not stored; the same ticket without it is', async () => {
    const cookieToken = 'cookie-refresh-0123456789abcdef';
    // 150: the cookie's ticket properties make the projection longer; at 120 it would not fit even
    // folded (a whole ticket, which is never seeded), at 150 it is folded to tenant(id,sites).
    await withHostile({ KIBO_MAX_QUERY_LENGTH: '150', REFRESH_TOKEN_COOKIE: 'kibo_rt' }, async (hostile, stack) => {
      hostile.respond = () => ticketReply(ticket(cookieToken));
      const { 'x-kibo-refresh-token': _omit, ...headers } = DEMO_HEADERS as Record<string, string>;
      const response = await stack.graphql(SWITCH, { headers: { ...headers, cookie: `kibo_rt=${cookieToken}` } });
      expect(response.body.errors).toBeUndefined();
      expect(hostile.received.at(-1)?.responseFields).toMatch(/tenant\(id,sites\)/); // sites held whole
      expect(await storedText(stack)).not.toContain(cookieToken);
      hostile.respond = () => ticketReply(ticket('harmless'));
      const clean = await stack.graphql(SWITCH, { headers: { ...headers, cookie: `kibo_rt=${cookieToken}` } });
      expect(clean.body.errors).toBeUndefined();
      expect(await storedCount(stack)).toBeGreaterThan(0);
    });
  });
});

describe('_entities: a credential of the call or of the fetched ticket copied by Kibo', () => {
  const ticket = (name: string, extra: Record<string, unknown> = {}) => ({
    accessTokenExpiration: later(),
    createdOn: NOW,
    ...extra,
    tenant: { id: 100002, name: 'T', sites: [{ id: 201, name }] },
    availableTenants: [{ id: 100002, name: 'T', sites: [{ id: 201, name }] }],
  });

  it.each([
    ['the caller bearer', DEMO.appToken, {}],
    ['the caller refresh token', DEMO.refreshToken, {}],
    [
      'the ticket JWT, sent though not asked',
      'fetched-jwt-0123456789abcdef',
      { jwtAccessToken: 'fetched-jwt-0123456789abcdef' },
    ],
  ])('%s is not stored; the same ticket without it is', async (_case, secret, extra) => {
    await withHostile({}, async (hostile, stack) => {
      hostile.respond = () => ticketReply(ticket(`Site ${secret}`, extra));
      const first = await stack.graphql(SITES, {
        variables: { r: [{ __typename: 'Site', id: 201 }] },
        headers: CONTEXT,
      });
      expect(first.body.errors).toBeUndefined();
      expect(await storedText(stack)).not.toContain(secret);
      expect(await storedCount(stack)).toBe(0);
      hostile.respond = () => ticketReply(ticket('Site plain', extra));
      const second = await stack.graphql(SITES, {
        variables: { r: [{ __typename: 'Site', id: 201 }] },
        headers: CONTEXT,
      });
      expect(second.body.errors).toBeUndefined();
      expect(await storedCount(stack)).toBeGreaterThan(0);
    });
  });
});

describe('false positives: a credential too short to look for does not disable caching', () => {
  it('an empty accessToken in the ticket (includes("") is always true) leaves the set stored', async () => {
    await withHostile({}, async (hostile, stack) => {
      hostile.respond = () =>
        ticketReply({
          accessToken: '',
          accessTokenExpiration: later(),
          createdOn: NOW,
          tenant: { id: 100002, name: 'T', sites: [{ id: 201, name: 'Site' }] },
          availableTenants: [{ id: 100002, name: 'T', sites: [{ id: 201, name: 'Site' }] }],
        });
      const response = await stack.graphql(SITES, {
        variables: { r: [{ __typename: 'Site', id: 201 }] },
        headers: CONTEXT,
      });
      expect(response.body.errors).toBeUndefined();
      expect(await storedCount(stack)).toBeGreaterThan(0);
    });
  });
});
