/**
 * The emulator against the spec: every answer it gives, success or error, is checked with a JSON
 * Schema validator compiled from schema/kibo-openapi.yaml, and its rules follow Kibo's behaviour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { DEMO } from '../../src/emulator/demo-data.js';
import { CLIENT_PATH_PREFIX, startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { compileSpecValidators, REFRESH_TICKET_PATH } from '../../src/emulator/spec.js';

const spec = compileSpecValidators();
let emulator: RunningEmulator;

beforeAll(async () => {
  emulator = await startEmulator();
});
afterAll(() => emulator.close());

async function refresh(
  query: Record<string, string>,
  {
    bearer = DEMO.appToken as string | null,
    body = { refreshToken: DEMO.refreshToken } as unknown,
    method = 'PUT',
  } = {},
) {
  const response = await request(`${emulator.url}${REFRESH_TICKET_PATH}?${new URLSearchParams(query)}`, {
    method: method as 'PUT',
    headers: { 'content-type': 'application/json', ...(bearer !== null && { authorization: `Bearer ${bearer}` }) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.statusCode,
    headers: response.headers,
    body: (await response.body.json()) as Record<string, any>,
  };
}

function expectKiboError(body: Record<string, unknown>, errorCode: string) {
  expect(body).toMatchObject({ errorCode, applicationName: 'AdminUser', items: [] });
  expect(typeof body.message).toBe('string');
  expect(Array.isArray(body.additionalErrorData)).toBe(true);
}

describe('successful refresh', () => {
  it('returns a full ticket for the requested tenant that validates against the spec', async () => {
    const { status, headers, body } = await refresh({ tenantId: '100002' });
    expect(status).toBe(200);
    expect(headers['content-type']).toMatch(/^application\/json/);
    expect(spec.ticket(body), JSON.stringify(spec.ticket.errors)).toBe(true);
    expect(body.tenant.id).toBe(100002);
    expect(body.availableTenants).toHaveLength(50);
    expect(body.tenant.sites).toHaveLength(5);
    expect(body.tenant.masterCatalogs).toHaveLength(3);
    expect(body.tenant.masterCatalogs.every((m: { catalogs: unknown[] }) => m.catalogs.length === 4)).toBe(true);
    expect(body.tenant.attributes).toHaveLength(10);
    expect(body.user.userName).toBe('demo.admin@example.com');
    expect(body.grantedBehaviors.length).toBeGreaterThan(0);
  });

  it('validates for every demo tenant and for the narrow user', async () => {
    for (let tenantId = DEMO.tenantIds.first; tenantId <= DEMO.tenantIds.last; tenantId += 7) {
      const { body } = await refresh({ tenantId: String(tenantId) });
      expect(spec.ticket(body), JSON.stringify(spec.ticket.errors)).toBe(true);
    }
    const narrow = await refresh(
      { tenantId: String(DEMO.narrowTenantId) },
      { body: { refreshToken: DEMO.narrowRefreshToken } },
    );
    expect(narrow.status).toBe(200);
    expect(spec.ticket(narrow.body), JSON.stringify(spec.ticket.errors)).toBe(true);
    expect(narrow.body.tenant).toMatchObject({ name: null, masterCatalogs: null, attributes: null });
  });

  it('mints fresh tokens each time but keeps the refresh token until it expires', async () => {
    const first = await refresh({ tenantId: '100001' });
    const second = await refresh({ tenantId: '100003' });
    expect(second.body.accessToken).not.toBe(first.body.accessToken);
    expect(second.body.jwtAccessToken).not.toBe(first.body.jwtAccessToken);
    expect(second.body.jwtAccessToken.split('.')).toHaveLength(3);
    expect(second.body.refreshToken).toBe(DEMO.refreshToken);
    expect(second.body.refreshTokenExpiration).toBe(first.body.refreshTokenExpiration);
    expect(Date.parse(second.body.accessTokenExpiration)).toBeGreaterThan(Date.now());
  });

  it('accepts a minted JWT as the bearer of the next call', async () => {
    const first = await refresh({ tenantId: '100001' });
    const next = await refresh({ tenantId: '100004' }, { bearer: first.body.jwtAccessToken });
    expect(next.status).toBe(200);
    expect(next.body.tenant.id).toBe(100004);
  });

  it('applies responseFields recursively and still validates', async () => {
    const { body } = await refresh({
      tenantId: '100002',
      responseFields: 'accessToken,tenant(id,name,sites(id,name))',
    });
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'tenant']);
    expect(body).toEqual({
      accessToken: expect.any(String),
      tenant: { id: 100002, name: expect.any(String), sites: expect.any(Array) },
    });
    expect(body.tenant.sites.every((site: object) => Object.keys(site).join() === 'id,name')).toBe(true);
    expect(spec.ticket(body)).toBe(true);
  });

  it.each(['text/json', 'text/plain'] as const)('can answer as %s, as the spec allows', async (contentType) => {
    const other = await startEmulator({ contentType });
    try {
      const response = await request(`${other.url}${REFRESH_TICKET_PATH}?tenantId=100002&responseFields=tenant(id)`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${DEMO.appToken}` },
        body: JSON.stringify({ refreshToken: DEMO.refreshToken }),
      });
      expect(response.headers['content-type']).toMatch(new RegExp(`^${contentType}`));
      expect(JSON.parse(await response.body.text())).toEqual({ tenant: { id: 100002 } });
    } finally {
      await other.close();
    }
  });
});

describe('refusals, each with a Kibo-style error body', () => {
  it.each([
    ['no bearer', { tenantId: '100002' }, { bearer: null }, 401, 'UNAUTHORIZED'],
    ['an unknown bearer', { tenantId: '100002' }, { bearer: 'who-knows' }, 401, 'UNAUTHORIZED'],
    [
      'an unknown refresh token',
      { tenantId: '100002' },
      { body: { refreshToken: 'nope' } },
      401,
      'INVALID_REFRESH_TOKEN',
    ],
    [
      'an expired refresh token',
      { tenantId: '100002' },
      { body: { refreshToken: DEMO.expiredRefreshToken } },
      401,
      'INVALID_REFRESH_TOKEN',
    ],
    ['a body without a refresh token', { tenantId: '100002' }, { body: {} }, 401, 'INVALID_REFRESH_TOKEN'],
    ['a tenant the user cannot access', { tenantId: '999999' }, {}, 403, 'TENANT_ACCESS_DENIED'],
    [
      'the narrow user in a demo tenant',
      { tenantId: '100002' },
      { body: { refreshToken: DEMO.narrowRefreshToken } },
      403,
      'TENANT_ACCESS_DENIED',
    ],
    ['a missing tenantId', {}, {}, 400, 'MISSING_OR_INVALID_PARAMETER'],
    ['a non-numeric tenantId', { tenantId: 'abc' }, {}, 400, 'MISSING_OR_INVALID_PARAMETER'],
    ['a fractional tenantId', { tenantId: '1.5' }, {}, 400, 'MISSING_OR_INVALID_PARAMETER'],
    ['a tenantId beyond int32', { tenantId: '2147483648' }, {}, 400, 'MISSING_OR_INVALID_PARAMETER'],
    [
      'a malformed responseFields',
      { tenantId: '100002', responseFields: 'tenant(id' },
      {},
      400,
      'MISSING_OR_INVALID_PARAMETER',
    ],
    [
      'a trailing comma in responseFields',
      { tenantId: '100002', responseFields: 'id,' },
      {},
      400,
      'MISSING_OR_INVALID_PARAMETER',
    ],
    ['a body that is not JSON', { tenantId: '100002' }, { body: 'not json' }, 400, 'MISSING_OR_INVALID_PARAMETER'],
    [
      'a body that is not a ticket',
      { tenantId: '100002' },
      { body: { refreshToken: 42 } },
      400,
      'MISSING_OR_INVALID_PARAMETER',
    ],
  ])('%s → %i', async (_case, query, options, status, errorCode) => {
    const response = await refresh(query as Record<string, string>, options);
    expect(response.status).toBe(status);
    expectKiboError(response.body, errorCode);
  });

  it('answers a body that is not application/json with 415', async () => {
    const response = await request(`${emulator.url}${REFRESH_TICKET_PATH}?tenantId=100002`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${DEMO.appToken}`, 'content-type': 'text/plain' },
      body: JSON.stringify({ refreshToken: DEMO.refreshToken }),
    });
    expect(response.statusCode).toBe(415);
    expectKiboError((await response.body.json()) as Record<string, unknown>, 'UNSUPPORTED_MEDIA_TYPE');
  });

  it('answers other paths with 404 and other methods with 405', async () => {
    const missing = await request(`${emulator.url}/api/platform/nothing`, { method: 'PUT' });
    expect(missing.statusCode).toBe(404);
    expectKiboError((await missing.body.json()) as Record<string, unknown>, 'ITEM_NOT_FOUND');
    const wrongMethod = await request(`${emulator.url}${REFRESH_TICKET_PATH}?tenantId=100002`, { method: 'GET' });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('PUT');
    await wrongMethod.body.dump();
  });

  it('records what it received, without credentials', async () => {
    emulator.received.length = 0;
    await refresh({ tenantId: '100005', responseFields: 'tenant(id)' });
    expect(emulator.received).toEqual([
      {
        method: 'PUT',
        client: null,
        path: REFRESH_TICKET_PATH,
        tenantId: '100005',
        responseFields: 'tenant(id)',
        hadAuthorization: true,
        status: 200,
        clientAborted: false,
        correlationId: expect.stringMatching(/^[0-9a-f]{32}$/),
        traceparent: null,
        baggage: null,
      },
    ]);
  });

  it('serves a client under its own base path and records its name, so clients sharing it tell theirs apart', async () => {
    emulator.received.length = 0;
    const response = await request(
      `${emulator.url}${CLIENT_PATH_PREFIX}stack-a${REFRESH_TICKET_PATH}?tenantId=100005&responseFields=tenant(id)`,
      {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${DEMO.appToken}` },
        body: JSON.stringify({ refreshToken: DEMO.refreshToken }),
      },
    );
    expect(await response.body.json()).toEqual({ tenant: { id: 100005 } });
    expect(emulator.received).toMatchObject([{ client: 'stack-a', path: REFRESH_TICKET_PATH, status: 200 }]);
  });

  it('puts a fresh x-vol-correlation on every answer, errors included, as Kibo does', async () => {
    const answers = await Promise.all([
      refresh({ tenantId: '100005' }),
      refresh({ tenantId: '999999' }),
      refresh({ tenantId: '100005' }, { bearer: 'not-a-token' }),
    ]);
    const ids = answers.map((answer) => answer.headers['x-vol-correlation']);
    expect(ids.every((id) => typeof id === 'string' && /^[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(3);
  });
});
