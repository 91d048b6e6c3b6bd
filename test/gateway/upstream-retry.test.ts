/**
 * The one retry the Kibo client makes (kibo/client.ts): a request lost with its kept-alive connection
 * before any byte of an answer — a server closing an idle connection just as the request arrives — is
 * sent once more; a request lost on a fresh connection, or after part of an answer, is not.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RESET, startHostileKibo, ticketReply, type HostileKibo } from '../support/hostile-kibo.js';
import { startStack, type Stack } from '../support/stack.js';

let hostile: HostileKibo;
let stack: Stack;
beforeAll(async () => {
  hostile = await startHostileKibo();
});
afterAll(() => hostile.close());
// A gateway per test, so each starts with no kept-alive connection to Kibo; one connection in its
// pool, so a second call reuses the first one's.
beforeEach(async () => {
  hostile.received.length = 0;
  stack = await startStack({ sharedEmulator: hostile, env: { KIBO_CONNECTIONS: '1' } });
});
afterEach(() => stack.close());

const SWITCH = 'mutation { switchTenant(tenantId: 7) { tenant { id } } }';
const ticket = () => ticketReply({ tenant: { id: 7 } });

describe('a Kibo call whose connection is lost', () => {
  it('on a kept-alive connection before any answer: sent again on another connection, and answered', async () => {
    // The first request of every connection is answered; the second one on the same connection is
    // reset unanswered, as a server closing an idle kept-alive connection would.
    hostile.respond = (call) => (call.connectionRequest === 1 ? ticket() : RESET);
    expect((await stack.graphql(SWITCH)).body).toEqual({ data: { switchTenant: { tenant: { id: 7 } } } });
    const second = await stack.graphql(SWITCH);
    expect(second.body).toEqual({ data: { switchTenant: { tenant: { id: 7 } } } });
    // Three requests reached Kibo: the first call's, the lost one, and the lost one sent again.
    expect(hostile.received).toHaveLength(3);
    expect(stack.upstreamCalls.at(-1)).toMatchObject({ status: 200, retried: true });
  });

  it('on a fresh connection: not sent again (Kibo may have worked on it), UPSTREAM_UNAVAILABLE', async () => {
    hostile.respond = () => RESET;
    const response = await stack.graphql(SWITCH);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(hostile.received).toHaveLength(1);
  });

  it('after the first bytes of an answer: not sent again, UPSTREAM_UNAVAILABLE', async () => {
    hostile.respond = () => ticket();
    await stack.graphql(SWITCH);
    // The next request on the kept-alive connection gets a status line and headers, then a reset.
    hostile.respond = () => ({ headers: { 'content-length': '1000' }, body: '{"tenant":', resetAfter: true });
    hostile.received.length = 0;
    const response = await stack.graphql(SWITCH);
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UPSTREAM_UNAVAILABLE');
    expect(hostile.received).toHaveLength(1);
  });
});
