/**
 * Soak traffic, in its own process: autocannon cycles every connection through successes,
 * refusals and upstream faults, and checks each answer carries the outcome that request must get.
 * Prints one JSON line: totals by kind and the count of unexpected answers.
 */
import autocannon from 'autocannon';
import { DEMO, teamRefreshToken } from '../../src/emulator/demo-data.js';

const { url, durationSeconds, connections } = JSON.parse(process.argv[2]!) as {
  url: string;
  durationSeconds: number;
  connections: number;
};

const query = (tenantId: number) =>
  JSON.stringify({ query: `mutation { switchTenant(tenantId: ${tenantId}) { accessToken tenant { id name } } }` });
// Every request carries the next team member's refresh token in turn: one credential (bearer and
// refresh token) may have only KIBO_MAX_CONCURRENT_PER_CREDENTIAL Kibo calls in flight, and a soak is
// many users, not one client flooding. Members 7–20 (the adversarial mix uses the first ones).
let nextMember = 0;
const nextTeamToken = () => teamRefreshToken(7 + (nextMember++ % (DEMO.teamSize - 6)));
const headers = (authorization: string | undefined) => ({
  'content-type': 'application/json',
  ...(authorization && { authorization }),
});

/** Each kind of request and the code its answer must carry (null: a ticket). */
const MIX: Array<{
  kind: string;
  authorization: string | undefined;
  tenantId: number;
  expected: string | null;
}> = [
  {
    kind: 'success',
    authorization: `Bearer ${DEMO.appToken}`,
    tenantId: 100002,
    expected: null,
  },
  { kind: 'unknown bearer', authorization: 'Bearer not-a-token', tenantId: 100002, expected: 'UNAUTHENTICATED' },
  {
    kind: 'forbidden tenant',
    authorization: `Bearer ${DEMO.appToken}`,
    tenantId: 100017,
    expected: 'FORBIDDEN',
  },
  {
    kind: 'success',
    authorization: `Bearer ${DEMO.appToken}`,
    tenantId: 100009,
    expected: null,
  },
  { kind: 'no bearer', authorization: undefined, tenantId: 100002, expected: 'UNAUTHENTICATED' },
  {
    kind: 'upstream 500',
    authorization: 'Bearer emulator-fault:status:500',
    tenantId: 100002,
    expected: 'UPSTREAM_UNAVAILABLE',
  },
  {
    kind: 'upstream 429',
    authorization: 'Bearer emulator-fault:rate-limit:1',
    tenantId: 100002,
    expected: 'RATE_LIMITED',
  },
  {
    kind: 'malformed JSON',
    authorization: 'Bearer emulator-fault:malformed-json',
    tenantId: 100002,
    expected: 'UPSTREAM_UNAVAILABLE',
  },
  {
    kind: 'connection reset',
    authorization: 'Bearer emulator-fault:reset',
    tenantId: 100002,
    expected: 'UPSTREAM_UNAVAILABLE',
  },
];

const totals: Record<string, number> = {};
let unexpected = 0;
let fiveXX = 0;
const examples: string[] = [];

const requests = MIX.map((entry) => ({
  method: 'POST' as const,
  path: '/graphql',
  headers: headers(entry.authorization),
  setupRequest: (request: autocannon.Request): autocannon.Request => ({
    ...request,
    headers: { ...request.headers, 'x-kibo-refresh-token': nextTeamToken() },
  }),
  body: query(entry.tenantId),
  onResponse: (status: number, body: string) => {
    totals[entry.kind] = (totals[entry.kind] ?? 0) + 1;
    if (status >= 500) fiveXX++;
    let ok = false;
    try {
      const parsed = JSON.parse(body) as {
        data?: { switchTenant?: { tenant?: { id?: number } } | null };
        errors?: Array<{ extensions?: { code?: string } }>;
      };
      ok =
        entry.expected === null
          ? status === 200 && parsed.data?.switchTenant?.tenant?.id === entry.tenantId && !parsed.errors
          : parsed.errors?.[0]?.extensions?.code === entry.expected;
    } catch {
      ok = false;
    }
    if (!ok) {
      unexpected++;
      if (examples.length < 5) examples.push(`${entry.kind}: ${status} ${body.slice(0, 200)}`);
    }
  },
}));

const result = await new Promise<autocannon.Result>((resolve, reject) =>
  autocannon({ url, connections, duration: durationSeconds, requests }, (error, outcome) =>
    error ? reject(error) : resolve(outcome),
  ),
);
console.log(
  JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    totals,
    unexpected,
    fiveXX,
    examples,
  }),
);
