/**
 * Abuse limits and browser safety, tested the way an attacker or a careless client behaves:
 * each refusal comes before any Kibo call, with a code.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { DEMO_HEADERS, startStack, withStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'silent' } });
});
afterAll(() => stack.close());
beforeEach(() => stack.resetRecords());

async function raw(
  target: Stack,
  init: { method?: 'GET' | 'POST' | 'OPTIONS'; path?: string; headers?: Record<string, string>; body?: string },
) {
  const response = await request(`${target.gateway.url}${init.path ?? '/graphql'}`, {
    method: init.method ?? 'POST',
    headers: init.headers,
    body: init.body,
  });
  const text = await response.body.text();
  return {
    status: response.statusCode,
    headers: response.headers,
    text,
    json: () =>
      JSON.parse(text) as { data?: unknown; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> },
  };
}

const aliases = (count: number, tenantOf: (i: number) => number) =>
  `mutation { ${Array.from({ length: count }, (_, i) => `a${i}: switchTenant(tenantId: ${tenantOf(i)}) { tenant { id } }`).join(' ')} }`;

describe('operation limits (defaults)', () => {
  it.each([
    [
      'the deepest legitimate selections pass',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            tenant {
              sites {
                attributes {
                  name
                }
              }
            }
            availableTenants {
              masterCatalogs {
                catalogs {
                  id
                }
              }
            }
          }
        }
      `,
      false,
    ],
    [
      '31 aliases are refused',
      `mutation { switchTenant(tenantId: 100002) { ${Array.from({ length: 31 }, (_, i) => `x${i}: createdOn`).join(' ')} } }`,
      true,
    ],
    ['2,100 tokens are refused', `mutation { switchTenant(tenantId: 100002) { ${'createdOn '.repeat(2100)} } }`, true],
    [
      '51 directives are refused',
      `mutation { switchTenant(tenantId: 100002) { ${'createdOn @skip(if: false) '.repeat(51)} } }`,
      true,
    ],
    [
      'deep selections through fragments pass',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            ...F
          }
        }

        fragment F on TenantAdminUserAuthTicket {
          availableTenants {
            sites {
              attributes {
                value
              }
            }
            masterCatalogs {
              catalogs {
                id
              }
            }
          }
        }
      `,
      false,
    ],
  ])('%s (refusals: OPERATION_LIMIT_EXCEEDED, nothing sent)', async (_case, query, refused) => {
    const response = await stack.graphql(query);
    if (refused) {
      expect(response.body.errors?.[0]?.extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
      expect(stack.received).toHaveLength(0);
    } else {
      expect(response.body.errors).toBeUndefined();
    }
  });

  it.each([
    [
      'MAX_DEPTH',
      '3',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            tenant {
              sites {
                attributes {
                  name
                }
              }
            }
          }
        }
      `,
    ],
    [
      'MAX_COST',
      '50',
      /* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            availableTenants {
              id
              name
              domain
              sites {
                id
                name
                domain
                localeCode
              }
              masterCatalogs {
                id
                catalogs {
                  id
                  name
                }
              }
            }
          }
        }
      `,
    ],
  ])('%s=%s refuses what it would have let through by default', async (variable, value, query) => {
    expect((await stack.graphql(query)).body.errors).toBeUndefined();
    await withStack(
      { env: { [variable]: value, LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (strict) => {
        const response = await strict.graphql(query);
        expect(response.body.errors?.[0]?.extensions?.code).toBe('OPERATION_LIMIT_EXCEEDED');
        expect(strict.received).toHaveLength(0);
      },
    );
  });

  it('a body larger than MAX_BODY_BYTES is refused with 413', async () => {
    const response = await raw(stack, {
      headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify({
        query: `mutation { switchTenant(tenantId: 100002) { createdOn } } # ${'x'.repeat(70_000)}`,
      }),
    });
    expect(response.status).toBe(413);
    expect(response.json().errors?.[0]?.extensions?.code).toBe('REQUEST_ENTITY_TOO_LARGE');
    expect(stack.received).toHaveLength(0);
  });

  it('a chunked body without Content-Length is refused with 411', async () => {
    // A stream body of unknown length goes out with Transfer-Encoding: chunked.
    const body = Readable.from([
      Buffer.from(
        JSON.stringify({
          query: /* GraphQL */ `
            mutation {
              switchTenant(tenantId: 100002) {
                createdOn
              }
            }
          `,
        }),
      ),
    ]);
    const response = await request(stack.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
      body,
    });
    expect(response.statusCode).toBe(411);
    expect(
      ((await response.body.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code,
    ).toBe('LENGTH_REQUIRED');
    expect(stack.received).toHaveLength(0);
  });

  it('batched requests (an array of operations) are refused', async () => {
    const response = await raw(stack, {
      headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify([
        {
          query: /* GraphQL */ `
            mutation {
              switchTenant(tenantId: 100002) {
                createdOn
              }
            }
          `,
        },
        {
          query: /* GraphQL */ `
            mutation {
              switchTenant(tenantId: 100003) {
                createdOn
              }
            }
          `,
        },
      ]),
    });
    expect(response.status).toBe(400);
    expect(response.json().errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    expect(stack.received).toHaveLength(0);
  });
});

describe('alias amplification and the upstream call cap', () => {
  let roomy: Stack;
  beforeAll(async () => {
    // Alias and token limits raised so the cap itself is what answers.
    roomy = await startStack({
      env: {
        MAX_ALIASES: '1000',
        MAX_TOKENS: '100000',
        MAX_COST: '1000000',
        MAX_BODY_BYTES: '1000000',
        LOG_LEVEL: 'silent',
      },
      sharedEmulator: stack.emulator,
    });
  });
  afterAll(() => roomy.close());
  beforeEach(() => roomy.resetRecords());

  it('500 aliases for 500 tenants: refused whole, not one Kibo call sent', async () => {
    const response = await roomy.graphql(aliases(500, (i) => 100001 + (i % 50)));
    expect(response.body.errors?.[0]?.extensions).toMatchObject({ code: 'UPSTREAM_CALL_LIMIT', limit: 1, calls: 50 });
    expect(response.body.data ?? null).toBeNull();
    expect(roomy.received).toHaveLength(0);
  });

  it('500 identical aliases are one Kibo call', async () => {
    const response = await roomy.graphql<Record<string, { tenant: { id: number } }>>(aliases(500, () => 100002));
    expect(Object.keys(response.body.data ?? {})).toHaveLength(500);
    expect(Object.values(response.body.data ?? {}).every((ticket) => ticket.tenant.id === 100002)).toBe(true);
    expect(roomy.received).toHaveLength(1);
  });

  it('counts calls made through variables and fragments, and skips what @skip drops', async () => {
    const query = /* GraphQL */ `
      mutation ($a: Int!, $b: Int!, $skipB: Boolean!) {
        ...A
        second: switchTenant(tenantId: $b) @skip(if: $skipB) {
          createdOn
        }
      }

      fragment A on Mutation {
        first: switchTenant(tenantId: $a) {
          createdOn
        }
      }
    `;
    const refused = await roomy.graphql(query, { variables: { a: 100002, b: 100003, skipB: false } });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_CALL_LIMIT');
    expect(roomy.received).toHaveLength(0);
    const allowed = await roomy.graphql(query, { variables: { a: 100002, b: 100003, skipB: true } });
    expect(allowed.body.errors).toBeUndefined();
    expect(roomy.received).toHaveLength(1);
  });

  it('MAX_UPSTREAM_CALLS raises the cap', async () => {
    await withStack(
      { env: { MAX_UPSTREAM_CALLS: '2', LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (two) => {
        const response = await two.graphql(aliases(2, (i) => 100002 + i));
        expect(response.body.data).toEqual({ a0: { tenant: { id: 100002 } }, a1: { tenant: { id: 100003 } } });
        expect(two.received.map((r) => r.tenantId).sort()).toEqual(['100002', '100003']);
      },
    );
  });
});

describe('browser safety', () => {
  it('refuses simple (non-preflighted) requests without a CSRF header', async () => {
    const form = await raw(stack, {
      headers: { 'content-type': 'text/plain', ...DEMO_HEADERS },
      body: JSON.stringify({
        query: /* GraphQL */ `
          mutation {
            switchTenant(tenantId: 100002) {
              createdOn
            }
          }
        `,
      }),
    });
    expect(form.status).toBe(403);
    expect(form.json().errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    const get = await raw(stack, { method: 'GET', path: '/graphql?query=%7BgatewayVersion%7D' });
    expect(get.status).toBe(403);
    const withHeader = await raw(stack, {
      method: 'GET',
      path: '/graphql?query=%7BgatewayVersion%7D',
      headers: { 'x-graphql-yoga-csrf': '1' },
    });
    expect(withHeader.json().data).toEqual({ gatewayVersion: expect.any(String) });
    expect(stack.received).toHaveLength(0);
  });

  it('marks every GraphQL answer Cache-Control: no-store, since answers carry tokens', async () => {
    const mutation = await raw(stack, {
      headers: { 'content-type': 'application/json', ...DEMO_HEADERS },
      body: JSON.stringify({
        query: /* GraphQL */ `
          mutation {
            switchTenant(tenantId: 100002) {
              accessToken
            }
          }
        `,
      }),
    });
    expect(mutation.json().data).toEqual({ switchTenant: { accessToken: expect.any(String) } });
    expect(mutation.headers['cache-control']).toBe('no-store');
    const get = await raw(stack, {
      method: 'GET',
      path: '/graphql?query=%7BgatewayVersion%7D',
      headers: { 'x-graphql-yoga-csrf': '1' },
    });
    expect(get.headers['cache-control']).toBe('no-store');
  });

  it('never runs a mutation from GET', async () => {
    const response = await raw(stack, {
      method: 'GET',
      path: `/graphql?query=${encodeURIComponent(/* GraphQL */ `
        mutation {
          switchTenant(tenantId: 100002) {
            createdOn
          }
        }
      `)}`,
      headers: { 'x-graphql-yoga-csrf': '1', ...DEMO_HEADERS },
    });
    expect(response.status).toBe(405);
    expect(stack.received).toHaveLength(0);
  });

  it('sends no CORS headers by default, so browsers allow same origin only', async () => {
    const preflight = await raw(stack, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type,authorization',
      },
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('allows exactly the configured origins with CORS_ORIGINS', async () => {
    await withStack(
      { env: { CORS_ORIGINS: 'https://admin.example.com', LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (cors) => {
        const ask = (origin: string) =>
          raw(cors, {
            method: 'OPTIONS',
            headers: {
              origin,
              'access-control-request-method': 'POST',
              'access-control-request-headers': 'content-type',
            },
          });
        expect((await ask('https://admin.example.com')).headers['access-control-allow-origin']).toBe(
          'https://admin.example.com',
        );
        expect((await ask('https://evil.example')).headers['access-control-allow-origin']).not.toBe(
          'https://evil.example',
        );
      },
    );
  });

  // With two or more origins, Yoga's CORS answers any other origin `Access-Control-Allow-Origin: null`
  // with credentials — and `null` is exactly the origin of a sandboxed iframe or a data: page.
  it('gives an origin not in CORS_ORIGINS, `null` included, no CORS headers when several are listed', async () => {
    await withStack(
      {
        env: { CORS_ORIGINS: 'https://admin.example.com,https://ops.example.com', LOG_LEVEL: 'silent' },
        sharedEmulator: stack.emulator,
      },
      async (cors) => {
        const ask = (origin: string) =>
          raw(cors, {
            method: 'OPTIONS',
            headers: {
              origin,
              'access-control-request-method': 'POST',
              'access-control-request-headers': 'content-type,authorization',
            },
          });
        for (const listed of ['https://admin.example.com', 'https://ops.example.com']) {
          const allowed = await ask(listed);
          expect(allowed.headers['access-control-allow-origin']).toBe(listed);
          expect(allowed.headers['access-control-allow-credentials']).toBe('true');
        }
        for (const other of ['null', 'https://evil.example']) {
          const refused = await ask(other);
          expect(refused.headers['access-control-allow-origin'], other).toBeUndefined();
          expect(refused.headers['access-control-allow-credentials'], other).toBeUndefined();
        }
      },
    );
  });

  it('turns introspection and GraphiQL off when configured', async () => {
    await withStack(
      { env: { INTROSPECTION: 'false', GRAPHIQL: 'false', LOG_LEVEL: 'silent' }, sharedEmulator: stack.emulator },
      async (locked) => {
        const introspection = await locked.graphql(/* GraphQL */ `
          {
            __schema {
              queryType {
                name
              }
            }
          }
        `);
        expect(introspection.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
        expect(introspection.body.data ?? null).toBeNull();
        const page = await raw(locked, { method: 'GET', headers: { accept: 'text/html' } });
        expect(page.text).not.toContain('<title>kibo-auth-gateway</title>');
        // and the defaults keep both on
        expect(
          (
            await stack.graphql(/* GraphQL */ `
              {
                __schema {
                  queryType {
                    name
                  }
                }
              }
            `)
          ).body.data,
        ).toEqual({
          __schema: { queryType: { name: 'Query' } },
        });
        expect((await raw(stack, { method: 'GET', headers: { accept: 'text/html' } })).text).toContain(
          '<title>kibo-auth-gateway</title>',
        );
      },
    );
  });
});

describe('cookie mode (REFRESH_TOKEN_COOKIE)', () => {
  let cookieStack: Stack;
  beforeAll(async () => {
    cookieStack = await startStack({
      env: { REFRESH_TOKEN_COOKIE: 'kibo_rt', LOG_LEVEL: 'silent' },
      sharedEmulator: stack.emulator,
    });
  });
  afterAll(() => cookieStack.close());

  it('reads the refresh token from the cookie and sets the new one HttpOnly, Secure, SameSite=Strict, Path=/graphql, with the ticket’s expiry', async () => {
    const response = await raw(cookieStack, {
      headers: {
        'content-type': 'application/json',
        authorization: DEMO_HEADERS.authorization,
        cookie: `other=1; kibo_rt=${DEMO.refreshToken}`,
      },
      body: JSON.stringify({
        query: /* GraphQL */ `
          mutation {
            switchTenant(tenantId: 100002) {
              tenant {
                id
              }
            }
          }
        `,
      }),
    });
    expect(response.json()).toEqual({ data: { switchTenant: { tenant: { id: 100002 } } } });
    // The gateway asked for what the cookie needs even though the query did not select it.
    expect(cookieStack.received.at(-1)!.responseFields).toBe('refreshToken,refreshTokenExpiration,tenant(id)');

    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(new RegExp(`^kibo_rt=${DEMO.refreshToken};`));
    for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/graphql'])
      expect(setCookie).toContain(attribute);

    const ticket = await cookieStack.graphql<{ switchTenant: { refreshTokenExpiration: string } }>(/* GraphQL */ `
      mutation {
        switchTenant(tenantId: 100002) {
          refreshTokenExpiration
        }
      }
    `);
    const expires = /Expires=([^;]+)/.exec(setCookie)![1]!;
    expect(
      Math.abs(Date.parse(expires) - Date.parse(ticket.body.data!.switchTenant.refreshTokenExpiration)),
    ).toBeLessThan(1000);
  });

  it('never puts the refresh token in the body, even when the query selects it', async () => {
    const response = await raw(cookieStack, {
      headers: {
        'content-type': 'application/json',
        authorization: DEMO_HEADERS.authorization,
        cookie: `kibo_rt=${DEMO.refreshToken}`,
      },
      body: JSON.stringify({
        query: /* GraphQL */ `
          mutation {
            switchTenant(tenantId: 100002) {
              refreshToken
              refreshTokenExpiration
            }
          }
        `,
      }),
    });
    expect(response.json()).toEqual({
      data: { switchTenant: { refreshToken: null, refreshTokenExpiration: expect.any(String) } },
    });
    expect(response.text).not.toContain(DEMO.refreshToken);
    expect(String(response.headers['set-cookie'])).toContain(`kibo_rt=${DEMO.refreshToken}`);
  });

  it.each([
    ['the header', { 'x-kibo-refresh-token': DEMO.expiredRefreshToken }, undefined],
    ['the argument', {}, DEMO.expiredRefreshToken],
  ])('prefers %s to the cookie, and sets no cookie on failure', async (_source, headers, argument) => {
    // The cookie holds a valid token and the preferred source an expired one: Kibo must see the latter.
    const response = await raw(cookieStack, {
      headers: {
        'content-type': 'application/json',
        authorization: DEMO_HEADERS.authorization,
        cookie: `kibo_rt=${DEMO.refreshToken}`,
        ...headers,
      },
      body: JSON.stringify({
        query: /* GraphQL */ `
          mutation ($refreshToken: String) {
            switchTenant(tenantId: 100002, refreshToken: $refreshToken) {
              tenant {
                id
              }
            }
          }
        `,
        variables: { refreshToken: argument },
      }),
    });
    expect(response.json().errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it('ignores the cookie when cookie mode is off', async () => {
    const response = await raw(stack, {
      headers: {
        'content-type': 'application/json',
        authorization: DEMO_HEADERS.authorization,
        cookie: `kibo_rt=${DEMO.refreshToken}`,
      },
      body: JSON.stringify({
        query: /* GraphQL */ `
          mutation {
            switchTenant(tenantId: 100002) {
              tenant {
                id
              }
            }
          }
        `,
      }),
    });
    expect(response.json().errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(response.headers['set-cookie']).toBeUndefined();
  });
});
