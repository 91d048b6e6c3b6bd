/**
 * A Kibo that answers 200 with a body of the wrong shape is Kibo failing, not the gateway and not
 * the client: every such ticket gives UPSTREAM_UNAVAILABLE (never INTERNAL_SERVER_ERROR, never
 * BAD_REQUEST), and none of the values it sent reaches a log line or the error.
 */
import { describe, expect, it } from 'vitest';
import { ticketReply, useHostileStack, withHostileStack } from '../support/hostile-kibo.js';

/** Recognisable in any log line or answer it might leak into. */
const MARK = 'HOSTILE-VALUE-7f3a9c';
const NOW = new Date().toISOString();

const hostileStack = useHostileStack();

const SELECTION =
  'accessToken accessTokenExpiresIn createdOn tenant { id name sites { id name } } availableTenants { id isExpired } user { userName }';
const good = () => ({
  accessToken: 'fine',
  accessTokenExpiration: NOW,
  createdOn: NOW,
  tenant: { id: 1, name: 'T', sites: [{ id: 2, name: 'S' }] },
  availableTenants: [{ id: 1, expiry: null }],
  user: { userName: 'u' },
});

describe('a ticket of the wrong shape', () => {
  it('a well-shaped ticket passes (the check refuses only what is wrong)', async () => {
    hostileStack.hostile.respond = () => ticketReply(good());
    const response = await hostileStack.stack.graphql(`mutation { switchTenant(tenantId: 1) { ${SELECTION} } }`);
    expect(response.body.errors).toBeUndefined();
  });

  it('a date without a UTC offset passes, as Kibo writes some (read as UTC)', async () => {
    hostileStack.hostile.respond = () => ticketReply({ ...good(), createdOn: '2026-01-02T03:04:05.123' });
    const response = await hostileStack.stack.graphql('mutation { switchTenant(tenantId: 1) { createdOn } }');
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data).toEqual({ switchTenant: { createdOn: '2026-01-02T03:04:05.123Z' } });
  });

  it.each<[string, (ticket: Record<string, unknown>) => void]>([
    ['a string where the tenant object belongs', (t) => (t.tenant = MARK)],
    ['an object as accessToken', (t) => (t.accessToken = { value: MARK })],
    ['a list as the user', (t) => (t.user = [MARK])],
    ['a date that is not one', (t) => (t.createdOn = MARK)],
    ['an impossible calendar date', (t) => (t.accessTokenExpiration = '2026-02-30T00:00:00Z')],
    ['a date with an unreadable offset', (t) => (t.createdOn = '2026-01-02T03:04:05+0000')],
    ['sites that are not a list', (t) => (t.tenant = { id: 1, name: 'T', sites: { first: MARK } })],
    ['a tenant id that is a string', (t) => (t.tenant = { id: MARK, name: 'T' })],
    ['a tenant id beyond int32', (t) => (t.tenant = { id: 2 ** 40, name: 'T' })],
    ['a null inside availableTenants', (t) => (t.availableTenants = [null])],
    ['a number as the user name', (t) => (t.user = { userName: 42 })],
  ])('%s → UPSTREAM_UNAVAILABLE, nothing of it logged', async (_case, spoil) => {
    hostileStack.hostile.respond = () => {
      const ticket = good();
      spoil(ticket);
      return ticketReply(ticket);
    };
    const response = await hostileStack.stack.graphql(`mutation { switchTenant(tenantId: 1) { ${SELECTION} } }`);
    expect(response.status).toBe(200);
    expect(response.body.data?.switchTenant ?? null).toBeNull();
    expect(response.body.errors).toHaveLength(1);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(JSON.stringify(response.body)).not.toContain(MARK);
    expect(hostileStack.stack.logs.length).toBeGreaterThan(0);
    expect(hostileStack.stack.logs.join('\n')).not.toContain(MARK);
  });
});

describe('a ticket the entity cache cannot store', () => {
  // A query budget that folds `tenant(id,sites(id,name))` to `tenant(id,sites)`: sites are asked
  // for, and held, whole, so whatever extra property Kibo adds to a site is seeded with it.
  const FOLDING = { ENTITY_CACHE: 'on', KIBO_MAX_QUERY_LENGTH: '120' };
  // The ticket's JWT selected: a switch seeds the cache only when the client gets it.
  const SWITCH = 'mutation { switchTenant(tenantId: 1) { jwtAccessToken tenant { id sites { id name } } } }';
  /** A ticket switchTenant seeds the cache from (it carries the tokens and expiry seeding needs). */
  const seedable = (jwtAccessToken: string, sites: object[]) => ({
    ...good(),
    accessTokenExpiration: new Date(Date.now() + 3_600_000).toISOString(),
    jwtAccessToken,
    refreshToken: 'hostile-refresh-0123456789',
    tenant: { id: 1, name: 'T', sites },
  });

  it('nesting too deep to weigh, in what a coarsened projection holds whole: switchTenant answers all the same', async () => {
    await withHostileStack(FOLDING, async (hostile, stack) => {
      const depth = 100_000;
      const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const ticket = seedable('hostile-jwt-0123456789', [{ id: 2, name: 'S' }]);
      // JSON.stringify cannot write it either: splice the nesting into the body as text.
      const body = JSON.stringify(ticket).replace('"name":"S"', `"name":"S","extra":${deep}`);
      hostile.respond = () => ({ body: Buffer.from(body) });
      const response = await stack.graphql(SWITCH);
      expect(hostile.received[0]?.responseFields).toMatch(/tenant\(id,sites\)/);
      expect(response.status).toBe(200);
      expect(response.body.errors).toBeUndefined();
      expect(response.body.data).toEqual({
        switchTenant: { jwtAccessToken: 'hostile-jwt-0123456789', tenant: { id: 1, sites: [{ id: 2, name: 'S' }] } },
      });
    });
  });

  it('a JWT Kibo sends unasked (the selection left it out) seeds nothing: no client has it', async () => {
    await withHostileStack(FOLDING, async (hostile, stack) => {
      hostile.respond = () => ticketReply(seedable('hostile-jwt-0123456789', [{ id: 2, name: 'S' }]));
      const stored = async () => (await stack.gateway.entityCache!.dump()).memory;
      const unasked = await stack.graphql('mutation { switchTenant(tenantId: 1) { tenant { id sites { id name } } } }');
      expect(unasked.body.errors).toBeUndefined();
      expect(hostile.received[0]?.responseFields).not.toContain('jwtAccessToken');
      expect(await stored()).toHaveLength(0);
      // The same ticket, its JWT selected, is stored.
      expect((await stack.graphql(SWITCH)).body.errors).toBeUndefined();
      expect((await stored()).length).toBeGreaterThan(0);
    });
  });

  // A property held whole is stored as Kibo sent it, so a property Kibo adds inside it reaches the
  // entry: a set where Kibo copied a credential is not stored.
  it('a credential Kibo copies into a value held whole is not stored; the same ticket without it is', async () => {
    await withHostileStack(FOLDING, async (hostile, stack) => {
      const jwt = 'hostile-jwt-CANARY-0123456789';
      hostile.respond = () => ticketReply(seedable(jwt, [{ id: 2, name: 'S', copy: jwt }]));
      const response = await stack.graphql(SWITCH);
      expect(response.body.errors).toBeUndefined();
      const stored = async () => (await stack.gateway.entityCache!.dump()).memory;
      expect(JSON.stringify((await stored()).map(([, set]) => [...set.entities]))).not.toContain('CANARY');
      expect(await stored()).toHaveLength(0);
      // The same folded selection is stored when nothing in it is a credential (so the check above
      // is not passing because nothing folded is ever stored).
      hostile.respond = () => ticketReply(seedable(jwt, [{ id: 2, name: 'S' }]));
      const clean = await stack.graphql(SWITCH);
      expect(clean.body.errors).toBeUndefined();
      expect((await stored()).length).toBeGreaterThan(0);
    });
  });
});
