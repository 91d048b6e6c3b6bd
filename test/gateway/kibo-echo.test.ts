/**
 * Kibo's error bodies are passed on (`extensions.kibo`), so a Kibo that quotes the caller's
 * credentials must not get them to the client — in cookie mode that would hand the HttpOnly refresh
 * token to browser script. A hostile Kibo echoes them in every form we could think of; none may
 * reach the answer or a log line, while an honest message and a known code pass untouched.
 */
import { describe, expect, it } from 'vitest';
import { MAX_KIBO_MESSAGE_LENGTH } from '../../src/kibo/scrub.js';
import { errorReply, useHostileStack, type HostileCall } from '../support/hostile-kibo.js';

const BEARER = 'hostile-Bearer+Tok/9Qx7=';
const REFRESH = 'rt+Secret/Echo=4f8e2a1b9c';
const HEADERS = { authorization: `Bearer ${BEARER}`, 'x-kibo-refresh-token': REFRESH };

const b64 = (text: string) => Buffer.from(text).toString('base64');
const b64url = (text: string) => Buffer.from(text).toString('base64url');
const jsonEscaped = (text: string) =>
  [...text].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

/** Each way a service might quote what it was sent, as a function of the credential. */
const FORMS: Array<[string, (secret: string, call: HostileCall) => string]> = [
  ['as is', (secret) => secret],
  ['upper-cased', (secret) => secret.toUpperCase()],
  ['lower-cased', (secret) => secret.toLowerCase()],
  ['URL-encoded', (secret) => encodeURIComponent(secret)],
  [
    'URL-encoded twice as a whole header',
    (_secret, call) => encodeURIComponent(encodeURIComponent(call.authorization)),
  ],
  ['JSON-escaped', (secret) => jsonEscaped(secret)],
  ['base64', (secret) => b64(secret)],
  ['base64url', (secret) => b64url(secret)],
  ['base64 inside a larger encoded body', (secret) => b64(`{"note":"x","refreshToken":"${secret}"}`)],
  ['hex', (secret) => Buffer.from(secret).toString('hex')],
  ['a prefix', (secret) => `${secret.slice(0, 10)}...`],
  ['cut at the length limit', (secret) => `${'x'.repeat(MAX_KIBO_MESSAGE_LENGTH - 5)}${secret}`],
];

const hostileStack = useHostileStack();

async function kiboDetails() {
  const response = await hostileStack.stack.graphql('mutation { switchTenant(tenantId: 1) { createdOn } }', {
    headers: HEADERS,
  });
  expect(response.body.errors).toHaveLength(1);
  return { response, kibo: response.body.errors![0]!.extensions?.kibo as Record<string, unknown> };
}

describe("Kibo's echoes", () => {
  it('an honest message and a known code pass untouched', async () => {
    hostileStack.hostile.respond = () => errorReply(403, 'TENANT_ACCESS_DENIED', 'The user has no access to tenant 1');
    const { kibo } = await kiboDetails();
    expect(kibo).toEqual({
      status: 403,
      errorCode: 'TENANT_ACCESS_DENIED',
      message: 'The user has no access to tenant 1',
      correlationId: hostileStack.hostile.received.at(-1)!.correlationId,
    });
  });

  it.each(
    FORMS.flatMap(([form, encode]) => [
      [`the refresh token ${form}`, (call: HostileCall) => encode(REFRESH, call)] as const,
      [`the bearer token ${form}`, (call: HostileCall) => encode(BEARER, call)] as const,
    ]),
  )('%s is withheld, in the answer and the logs', async (_case, echo) => {
    let quoted = '';
    hostileStack.hostile.respond = (call) => {
      quoted = echo(call);
      return errorReply(401, 'INVALID_REFRESH_TOKEN', `Rejected credentials: ${quoted}`);
    };
    const { response, kibo } = await kiboDetails();
    expect(kibo.errorCode).toBe('INVALID_REFRESH_TOKEN');
    expect(kibo.message).not.toContain(quoted.slice(-12));
    const text = JSON.stringify(response.body);
    const logs = hostileStack.stack.logs.join('\n');
    for (const leak of [quoted, quoted.slice(0, 12), quoted.slice(-12), REFRESH, BEARER]) {
      expect(text).not.toContain(leak);
      expect(logs).not.toContain(leak);
    }
  });

  it('an errorCode that is not a known Kibo code reads as null (it may carry anything)', async () => {
    hostileStack.hostile.respond = (call) => errorReply(400, call.refreshToken, 'Bad request');
    const { response, kibo } = await kiboDetails();
    expect(kibo.errorCode).toBeNull();
    expect(JSON.stringify(response.body)).not.toContain(REFRESH);
  });

  it(`a message is cut to ${MAX_KIBO_MESSAGE_LENGTH} characters, without control characters`, async () => {
    hostileStack.hostile.respond = () => errorReply(500, 'INTERNAL_ERROR', `line one\r\nline two ${'y'.repeat(5_000)}`);
    const { kibo } = await kiboDetails();
    const message = String(kibo.message);
    expect(message.length).toBeLessThanOrEqual(MAX_KIBO_MESSAGE_LENGTH + 1);
    expect(message).toMatch(/^line one {2}line two y+…$/);
  });
});
