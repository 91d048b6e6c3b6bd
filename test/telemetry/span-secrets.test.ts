/**
 * The canary: no credential in any exported span. Success, every refusal and every upstream fault
 * are driven with recognisable credentials — in headers, in variables, inline in the document, in
 * a cookie, in a GET URL, and in the wrong place (a refresh token where the tenant id goes, which
 * GraphQL echoes in its error) — then every OTLP payload the gateway exported is searched for them.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';
import { startStack, type Stack } from '../support/stack.js';

const COOKIE = 'kibo_rt';
const FAULTS = [
  'status:500',
  'status-empty:502',
  'rate-limit:5',
  'malformed-json',
  'wrong-content-type',
  'reset',
  'oversize:200000',
  'delay:2000',
  'trickle:100',
];

let receiver: OtlpReceiver;
let stack: Stack;
let closed = false;
beforeAll(async () => {
  receiver = await startOtlpReceiver();
  stack = await startStack({
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      KIBO_REQUEST_TIMEOUT_MS: '300',
      KIBO_MAX_RESPONSE_BYTES: '65536',
      REFRESH_TOKEN_COOKIE: COOKIE,
    },
  });
});
afterAll(async () => {
  if (!closed) await stack?.close();
  await receiver?.close();
});

describe('no credential in any exported span', () => {
  it('across success, every refusal and every fault', async () => {
    const secrets = new Set<string>([
      DEMO.appToken,
      DEMO.refreshToken,
      DEMO.narrowRefreshToken,
      DEMO.expiredRefreshToken,
      'made-up-bearer-0xBADC0DE',
      'made-up-refresh-token-0xC0FFEE',
      ...FAULTS.map((mode) => `emulator-fault:${mode}`),
    ]);
    const bearer = { authorization: `Bearer ${DEMO.appToken}` };
    const withVariables = /* GraphQL */ `
      mutation ($t: Int!, $r: String) {
        switchTenant(tenantId: $t, refreshToken: $r) {
          tenant {
            id
          }
        }
      }
    `;
    const full = /* GraphQL */ `
      mutation ($t: Int!) {
        switchTenant(tenantId: $t) {
          accessToken
          jwtAccessToken
          refreshToken
        }
      }
    `;

    const success = await stack.graphql<{ switchTenant: { accessToken: string; jwtAccessToken: string } }>(full, {
      variables: { t: 100002 },
    });
    secrets.add(success.body.data!.switchTenant.accessToken);
    secrets.add(success.body.data!.switchTenant.jwtAccessToken);

    const attempts: Array<[string, Record<string, unknown>, Record<string, string>]> = [
      // Successes through each way a refresh token arrives: inline, variable, cookie.
      [
        `mutation { switchTenant(tenantId: 100002, refreshToken: "${DEMO.refreshToken}") { tenant { id } } }`,
        {},
        bearer,
      ],
      [withVariables, { t: 100003, r: DEMO.refreshToken }, bearer],
      [withVariables, { t: 100004 }, { ...bearer, cookie: `${COOKIE}=${DEMO.refreshToken}` }],
      // Refusals: by Kibo, and by the gateway before any call.
      [withVariables, { t: 999999, r: DEMO.refreshToken }, bearer],
      [withVariables, { t: 100002, r: DEMO.expiredRefreshToken }, bearer],
      [withVariables, { t: 200001, r: DEMO.narrowRefreshToken }, { authorization: 'Bearer made-up-bearer-0xBADC0DE' }],
      [withVariables, { t: 100002, r: 'made-up-refresh-token-0xC0FFEE' }, bearer],
      [withVariables, { t: 100002, r: DEMO.refreshToken }, {}],
      [withVariables, { t: -1, r: DEMO.refreshToken }, bearer],
      // A credential in the wrong place: GraphQL's error message quotes the bad value.
      [withVariables, { t: DEMO.refreshToken, r: DEMO.refreshToken }, bearer],
      [`mutation { switchTenant(tenantId: "${DEMO.refreshToken}") { tenant { id } } }`, {}, bearer],
      [`mutation { switchTenant(tenantId: 1, refreshToken: "${DEMO.refreshToken}") { tenant { id } `, {}, bearer],
      [
        /* GraphQL */ `
          {
            _entities(representations: [{ __typename: "Tenant", id: 100002 }]) {
              ... on Tenant {
                name
              }
            }
          }
        `,
        {},
        { ...bearer, 'x-kibo-refresh-token': DEMO.refreshToken, 'x-vol-tenant': '100002' },
      ],
      // Every upstream fault, with its fault bearer as the credential.
      ...FAULTS.map((mode): [string, Record<string, unknown>, Record<string, string>] => [
        withVariables,
        { t: 100002, r: DEMO.refreshToken },
        { authorization: `Bearer emulator-fault:${mode}` },
      ]),
    ];
    for (const [query, variables, headers] of attempts) {
      const response = await stack.graphql(query, { variables, headers });
      expect(response.status, query).toBeLessThan(500);
    }
    // A GET carries its variables in the URL (refused for a mutation, but the URL was sent).
    const get = await request(
      `${stack.gateway.graphqlUrl}?query=${encodeURIComponent(withVariables)}&variables=${encodeURIComponent(
        JSON.stringify({ t: 100002, r: DEMO.refreshToken }),
      )}`,
      { headers: { ...bearer, 'x-graphql-yoga-csrf': '1', accept: 'application/json' } },
    );
    await get.body.dump();
    expect(get.statusCode).toBe(405);

    const kiboCalls = stack.emulator.received.filter((r) => r.method === 'PUT').length;
    await stack.close();
    closed = true;

    // Not vacuous: every request and every Kibo call was exported.
    expect(receiver.spans.filter((span) => span.kind === 2).length).toBeGreaterThanOrEqual(attempts.length + 2);
    expect(receiver.spans.filter((span) => span.kind === 3)).toHaveLength(kiboCalls);
    expect(receiver.spans.some((span) => span.attributes['http.method'] === 'GET')).toBe(true);
    const exported = receiver.payloads.map((payload) => payload.body.toString('utf8')).join('\n');
    for (const secret of secrets) expect(exported.includes(secret), `a span holds ${secret}`).toBe(false);
    expect(exported).not.toMatch(/bearer /i);
  });
});
