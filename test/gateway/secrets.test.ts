/**
 * Credentials never leave through a side door: drive success, refusals and faults with
 * recognisable token values, then search every log line, every response and the metrics for them.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../src/emulator/demo-data.js';
import { AllTokensDocument } from '../generated/operations.js';
import { DEMO_HEADERS, startStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { KIBO_REQUEST_TIMEOUT_MS: '300' } });
});
afterAll(() => stack.close());

describe('no credential reaches a log line or an error', () => {
  it('across success, every refusal and every fault', async () => {
    const seen: string[] = [];
    const secrets = new Set<string>([
      DEMO.refreshToken,
      DEMO.appToken,
      DEMO.narrowRefreshToken,
      DEMO.expiredRefreshToken,
    ]);

    const success = await stack.graphql(AllTokensDocument, { variables: { tenantId: 100002 } });
    secrets.add(success.body.data!.switchTenant!.accessToken!);
    secrets.add(success.body.data!.switchTenant!.jwtAccessToken!);

    const attempts: Array<[Record<string, unknown>, Record<string, string>]> = [
      [{ t: 999999 }, { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': DEMO.refreshToken }],
      [{ t: 100002, r: DEMO.expiredRefreshToken }, { authorization: `Bearer ${DEMO.appToken}` }],
      [{ t: 100002, r: DEMO.narrowRefreshToken }, { authorization: `Bearer ${DEMO.appToken}` }],
      [{ t: 100002, r: 'made-up-refresh-token-0xC0FFEE' }, { authorization: 'Bearer made-up-bearer-0xBADC0DE' }],
      [{ t: -1, r: DEMO.refreshToken }, { authorization: `Bearer ${DEMO.appToken}` }],
      [{ t: 'oops', r: DEMO.refreshToken }, { authorization: `Bearer ${DEMO.appToken}` }],
      [{ t: 100002 }, { 'x-kibo-refresh-token': DEMO.refreshToken }],
      ...[
        'status:500',
        'status-empty:502',
        'rate-limit:5',
        'malformed-json',
        'wrong-content-type',
        'reset',
        'delay:2000',
        'trickle:100',
      ].map((mode): [Record<string, unknown>, Record<string, string>] => [
        { t: 100002 },
        { authorization: `Bearer emulator-fault:${mode}`, 'x-kibo-refresh-token': DEMO.refreshToken },
      ]),
    ];
    secrets.add('made-up-refresh-token-0xC0FFEE');
    secrets.add('made-up-bearer-0xBADC0DE');

    // Kibo quoting the credentials it was sent back in its message (the emulator's `echo` fault):
    // the gateway passes Kibo's message on, so it must scrub them first.
    const echoBearer = 'emulator-fault:echo:bearer-canary-0xE7C0';
    const echoRefreshToken = 'refresh-canary-0xE7C0';
    attempts.push([{ t: 100002, r: echoRefreshToken }, { authorization: `Bearer ${echoBearer}` }]);
    secrets.add('bearer-canary-0xE7C0');
    secrets.add(echoRefreshToken);

    for (const [variables, headers] of attempts) {
      const response = await stack.graphql(
        /* GraphQL */ `
          mutation ($t: Int!, $r: String) {
            switchTenant(tenantId: $t, refreshToken: $r) {
              tenant {
                id
              }
            }
          }
        `,
        { variables, headers },
      );
      expect(response.body.errors?.length ?? 0, JSON.stringify(variables)).toBeGreaterThan(0);
      seen.push(JSON.stringify(response.body));
    }

    // The echo reached the gateway and its message was withheld whole (so the check above is not vacuous:
    // without the scrub the message, quoting both credentials, would be passed on).
    const echoed = JSON.parse(seen.at(-1)!) as { errors: Array<{ extensions: { kibo: { message: string } } }> };
    expect(echoed.errors[0]!.extensions.kibo.message).toBe('[withheld: Kibo quoted the credentials]');

    // A body that is not JSON: the parser's error quotes the text around the fault, here a token.
    const malformedCanary = 'malformed-body-canary-0xB0D7';
    const malformed = await request(stack.gateway.graphqlUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...DEMO_HEADERS },
      body: `{"query":"mutation { switchTenant(tenantId: 100002) { createdOn } }","variables":{"r":"${malformedCanary}"}`,
    });
    const malformedBody = await malformed.body.text();
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(malformedBody).errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    seen.push(malformedBody);
    secrets.add(malformedCanary);

    // The success response carries tokens by design; everything else must not.
    const logText = stack.logs.join('\n');
    expect(stack.logs.length).toBeGreaterThan(attempts.length);
    for (const secret of secrets) {
      expect(logText, 'a log line').not.toContain(secret);
      for (const body of seen) expect(body, 'an error response').not.toContain(secret);
    }
    expect(JSON.stringify(stack.upstreamCalls)).not.toMatch(new RegExp([...secrets].join('|')));
    const metrics = await (await request(`${stack.gateway.url}/metrics`)).body.text();
    expect(metrics).toContain('kibo_upstream_calls_total{outcome="UPSTREAM_UNAVAILABLE"}');
    for (const secret of secrets) expect(metrics, 'the metrics').not.toContain(secret);
  });

  it('redacts sensitive keys even when a log call passes them', async () => {
    const { Writable } = await import('node:stream');
    const { createLogger } = await import('../../src/telemetry/logger.js');
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }),
    );
    logger.info(
      {
        headers: { authorization: 'Bearer leak-1' },
        ticket: { refreshToken: 'leak-2', accessToken: 'leak-3', jwtAccessToken: 'leak-4' },
        variables: { r: 'leak-5' },
      },
      'careless',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('[redacted]');
    expect(lines[0]).not.toMatch(/leak-\d/);
  });

  it('redacts credential keys on the per-request line too, which has fixed paths of its own', async () => {
    const { Writable } = await import('node:stream');
    const { createLogger, requestLineLogger } = await import('../../src/telemetry/logger.js');
    const lines: string[] = [];
    const logger = createLogger(
      'info',
      new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }),
    );
    requestLineLogger(logger).info(
      {
        method: 'POST',
        authorization: 'Bearer leak-1',
        refreshToken: 'leak-2',
        accessToken: 'leak-3',
        jwtAccessToken: 'leak-4',
        cookie: 'leak-5',
        headers: { 'x-kibo-refresh-token': 'leak-6' },
        variables: { r: 'leak-7' },
      },
      'request',
    );
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"method":"POST"');
    expect(lines[0]).not.toMatch(/leak-\d/);
  });
});
