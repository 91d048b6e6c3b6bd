/**
 * Requests no client library would send — a Host that is not a host, a target that is not a path,
 * GET parameters that are not JSON — are the client's fault: each gets a 4xx with a coded JSON body,
 * one warn-level log line that does not echo the input, and counts as a 4xx (never a 5xx) in /metrics.
 */
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rawRequest } from '../support/raw-http.js';
import { startStack, type Stack } from '../support/stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ env: { LOG_LEVEL: 'info' } });
});
afterAll(() => stack.close());
beforeEach(() => {
  stack.logs.length = 0;
});

const statusClass = async (cls: string) => {
  const text = await (await request(`${stack.gateway.url}/metrics`)).body.text();
  return Number(new RegExp(`^gateway_http_responses_total\\{status="${cls}"\\} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
};

const levelOf = (line: string) => (JSON.parse(line) as { level: number }).level;

/** The marker is a string the request carries; the log must not repeat it. */
async function expectCodedRefusal(text: string, marker: string, status = 400) {
  const fiveBefore = await statusClass('5xx');
  const fourBefore = await statusClass('4xx');
  stack.logs.length = 0;
  const answer = await rawRequest(stack.gateway.port, text);
  expect(answer.status, answer.text.slice(0, 400)).toBe(status);
  expect(answer.headers['content-type']).toMatch(/^application\/(graphql-response\+)?json/);
  expect(answer.text).not.toMatch(/\n\s+at .+:\d+:\d+/);
  const body = JSON.parse(answer.body) as { errors: Array<{ message: string; extensions: { code: string } }> };
  expect(body.errors[0]!.extensions.code).toBe('BAD_REQUEST');
  expect(answer.body).not.toContain(marker);
  // The log line is written when the response closes; give it a tick.
  await new Promise((resolve) => setTimeout(resolve, 20));
  const loud = stack.logs.filter((line) => levelOf(line) >= 40);
  expect(loud, stack.logs.join('')).toHaveLength(1);
  expect(levelOf(loud[0]!)).toBe(40);
  expect(loud[0]).not.toContain(marker);
  expect(await statusClass('5xx')).toBe(fiveBefore);
  expect(await statusClass('4xx')).toBe(fourBefore + 1);
}

describe('a Host header that is not a host[:port]', () => {
  it.each([
    ['evil.example:99999', '99999'],
    ['a b', 'a b'],
    ['[::1', '[::1'],
    ['a@evil.example', '@evil'],
    ['x/evil-path', 'evil-path'],
    ['ex\u00e4mple', 'ex\u00e4mple'],
  ])('Host: %s gets 400 BAD_REQUEST, not a stack', async (host, marker) => {
    await expectCodedRefusal(`GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, marker);
  });

  it('two Host lines get 400', async () => {
    await expectCodedRefusal(
      'GET /health HTTP/1.1\r\nHost: localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
      'evil.example',
    );
  });

  it.each([['*'], ['http://evil.example/graphql']])('the request target %s gets 400', async (target) => {
    await expectCodedRefusal(`OPTIONS ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`, 'evil');
  });

  it('valid hosts still reach the app: names, IPv4, IPv6, with ports, and none at all (HTTP/1.0)', async () => {
    for (const host of ['localhost', 'gateway.example:4000', '127.0.0.1:80', '[::1]:4000', 'GATEWAY.example']) {
      const answer = await rawRequest(
        stack.gateway.port,
        `GET /health HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      expect(answer.status, host).toBe(200);
    }
    expect((await rawRequest(stack.gateway.port, 'GET /health HTTP/1.0\r\n\r\n')).status).toBe(200);
  });
});

describe('GET and form parameters that are not JSON', () => {
  const get = (query: string) =>
    `GET /graphql?${query} HTTP/1.1\r\nHost: localhost\r\nx-graphql-yoga-csrf: 1\r\nConnection: close\r\n\r\n`;

  it.each([
    ['variables', 'query=%7BgatewayVersion%7D&variables=%7B%22secretish'],
    ['extensions', 'query=%7BgatewayVersion%7D&extensions=%7B%22secretish'],
    ['both', 'query=%7BgatewayVersion%7D&variables=secretish&extensions=%5B'],
  ])('malformed %s get 400 BAD_REQUEST and one warn line', async (_which, query) => {
    await expectCodedRefusal(get(query), 'secretish');
  });

  it('the same in an x-www-form-urlencoded body', async () => {
    const form = 'query=%7BgatewayVersion%7D&variables=%7Bsecretish';
    await expectCodedRefusal(
      `POST /graphql HTTP/1.1\r\nHost: localhost\r\nx-graphql-yoga-csrf: 1\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: ${form.length}\r\nConnection: close\r\n\r\n${form}`,
      'secretish',
    );
  });

  it('well-formed GET parameters still run', async () => {
    const answer = await rawRequest(
      stack.gateway.port,
      get(
        `query=${encodeURIComponent('query($x: Boolean!) { gatewayVersion @include(if: $x) }')}&variables=%7B%22x%22%3Atrue%7D&extensions=%7B%7D`,
      ),
    );
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ data: { gatewayVersion: expect.any(String) } });
  });
});

describe('bodies no parser here takes', () => {
  const post = (contentType: string, body: string) =>
    `POST /graphql HTTP/1.1\r\nHost: localhost\r\nx-graphql-yoga-csrf: 1\r\ncontent-type: ${contentType}\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;

  async function expectUnsupported(text: string) {
    const fourBefore = await statusClass('4xx');
    const answer = await rawRequest(stack.gateway.port, text);
    expect(answer.status, answer.text.slice(0, 400)).toBe(415);
    const body = JSON.parse(answer.body) as { data?: unknown; errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(body.data).toBeUndefined();
    expect(await statusClass('4xx')).toBe(fourBefore + 1);
  }

  it('a multipart body (the file-upload format; no field here takes a file) gets a coded 415 and is not run', async () => {
    // A well-formed GraphQL multipart request: with a multipart parser it would run.
    const boundary = 'gateway-test-boundary';
    const form =
      `--${boundary}\r\ncontent-disposition: form-data; name="operations"\r\n\r\n` +
      `${JSON.stringify({ query: '{ gatewayVersion }' })}\r\n` +
      `--${boundary}\r\ncontent-disposition: form-data; name="map"\r\n\r\n{}\r\n--${boundary}--\r\n`;
    await expectUnsupported(post(`multipart/form-data; boundary=${boundary}`, form));
  });

  it('a body of a type no parser takes gets a coded 415', async () => {
    await expectUnsupported(post('application/xml', '<query>{ gatewayVersion }</query>'));
  });
});
