/**
 * The soak's adversarial traffic, in its own process, beside soak-load.ts's honest mix: what an
 * attacker sends to grow memory, stall the event loop or draw a 5xx (issue 11). Every answer is
 * checked against the outcome that request must get; every status is counted, so a single 5xx shows.
 *
 * Requests (sent by `workers` loops, each picking a kind at random):
 * - documents whose @skip/@include read random Boolean variables (the projection cache's key), and
 *   documents that are new every time (alias names drawn at random: the parse caches);
 * - alias-heavy queries: 30 `availableTenants` aliases (the limit: answered), 30 deep ones against a
 *   user of 50 tenants (over MAX_RESPONSE_BYTES), 31 aliases (past MAX_ALIASES), one GraphiQL-size
 *   `__schema` (answered) and 30 aliased `__schema` (past MAX_COST);
 * - malformed Host headers and GET parameters, written by hand on a socket;
 * - `_entities` with random representations (odd type names, keys of the wrong type, non-objects);
 * - bodies trickled in over ~1.5 s (answered normally).
 * And two pools held open the whole time, each connection replaced when the gateway drops it:
 * - slowloris: a header line every second, never the end of the headers (408 within HEADERS_TIMEOUT_MS);
 * - stalled bodies: a Content-Length never reached (408 within REQUEST_TIMEOUT_MS).
 *
 * Prints one JSON line: totals by kind, statuses, unexpected answers (with examples) and how each
 * held connection ended.
 */
import type { Socket } from 'node:net';
import { request } from 'undici';
import { DEMO, teamRefreshToken } from '../../src/emulator/demo-data.js';
import { openSocket, rawRequest, readUntilClosed } from '../support/raw-http.js';

const options = JSON.parse(process.argv[2]!) as {
  url: string;
  durationSeconds: number;
  workers: number;
  slowloris: number;
  stalledBodies: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  /** Only fill the caches keyed by client input to their bounds (before the timed soak), then stop. */
  fill?: boolean;
};
const port = Number(new URL(options.url).port);
const deadline = Date.now() + options.durationSeconds * 1000;
/** Node checks its timeouts on a period (a tenth of the headers timeout, at most 1 s) and the machine is shared. */
const TIMEOUT_SLACK_MS = 5_000;

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message?: string; extensions?: { code?: string } }>;
}

const totals: Record<string, number> = {};
const statuses: Record<string, number> = {};
let unexpected = 0;
const examples: string[] = [];

function record(kind: string, status: number | undefined, ok: boolean, detail: string): void {
  totals[kind] = (totals[kind] ?? 0) + 1;
  const key = String(status ?? 'closed');
  statuses[key] = (statuses[key] ?? 0) + 1;
  if (ok && (status === undefined || status < 500)) return;
  unexpected++;
  if (examples.length < 8) examples.push(`${kind}: ${status ?? 'no answer'} ${detail.slice(0, 240)}`);
}

const random = (n: number) => Math.floor(Math.random() * n);
const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;

/** The team's users (tenants 100001–100010) spread the load, as many users would: each worker its own. */
const teamHeaders = (worker: number) => ({
  'content-type': 'application/json',
  authorization: `Bearer ${DEMO.appToken}`,
  'x-kibo-refresh-token': teamRefreshToken((worker % DEMO.teamSize) + 1),
});
/** The demo user holds 50 tenants: its `availableTenants` is the biggest list the emulator has. */
const demoHeaders = {
  'content-type': 'application/json',
  authorization: `Bearer ${DEMO.appToken}`,
  'x-kibo-refresh-token': DEMO.refreshToken,
};

async function post(headers: Record<string, string>, body: unknown): Promise<{ status: number; body: GraphQLBody }> {
  const response = await request(`${options.url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  const text = await response.body.text();
  try {
    return { status: response.statusCode, body: JSON.parse(text) as GraphQLBody };
  } catch {
    return { status: response.statusCode, body: { errors: [{ message: `not JSON: ${text.slice(0, 100)}` }] } };
  }
}

const codeOf = (body: GraphQLBody) => body.errors?.[0]?.extensions?.code;
const everyCode = (body: GraphQLBody) => (body.errors ?? []).map((error) => error.extensions?.code);

// --- documents -------------------------------------------------------------------------------------

const CONDITIONS = 12;
/**
 * Twelve Boolean variables read by @skip/@include at every depth of switchTenant (4,096 projections),
 * and one read only outside it, which must not multiply the projection cache's entries.
 */
const BOOLEAN_DOCUMENT = /* GraphQL */ `
  mutation Conditional(
    ${Array.from({ length: CONDITIONS }, (_, i) => `$b${i}: Boolean!`).join(', ')}
    $unread: Boolean!
  ) {
    __typename @include(if: $unread)
    switchTenant(tenantId: 100003) {
      accessTokenExpiresIn @include(if: $b0)
      tenant {
        id
        name @include(if: $b1)
        isDevTenant @skip(if: $b2)
        sites @include(if: $b3) {
          id
          name @include(if: $b4)
          domain @skip(if: $b5)
        }
        masterCatalogs @include(if: $b6) {
          id
          catalogs @include(if: $b7) {
            id
            name @skip(if: $b8)
          }
        }
      }
      user @include(if: $b9) {
        userName @include(if: $b10)
      }
      availableTenants @include(if: $b11) {
        id
      }
    }
  }
`;

const aliases = (count: number, selection: string) =>
  Array.from({ length: count }, (_, i) => `t${i}: availableTenants ${selection}`).join('\n');
const NEAR_LIMIT = `mutation { switchTenant(tenantId: 100004) { ${aliases(30, '{ id name }')} } }`;
const OVER_BUDGET = `mutation { switchTenant(tenantId: 100002) { ${aliases(
  30,
  '{ id name domain sites { id name domain countryCode attributes { name } } masterCatalogs { id name catalogs { id name } } }',
)} } }`;
const PAST_LIMIT = `mutation { switchTenant(tenantId: 100004) { ${aliases(31, '{ id }')} } }`;
const SCHEMA_SELECTION = '{ types { name kind fields { name type { name kind ofType { name kind } } } } }';
const ONE_SCHEMA = `query { __schema ${SCHEMA_SELECTION} }`;
const MANY_SCHEMAS = `query { ${Array.from({ length: 30 }, (_, i) => `s${i}: __schema ${SCHEMA_SELECTION}`).join(' ')} }`;

const representation = (): unknown =>
  pick([
    () => ({ __typename: 'Tenant', id: 100001 + random(12) }),
    () => ({ __typename: 'Site', id: random(2_000_000) }),
    () => ({ __typename: pick(['Query', '__proto__', 'constructor', '', 'Nope']), id: 1 }),
    () => ({ __typename: 'Site', id: pick(['1', 1.5, null, {}, [], 2 ** 40]) }),
    () => ({ __typename: 'UserProfile', userId: pick([7, null, 'x'.repeat(random(300))]) }),
    () => pick([null, 42, 'Tenant', [], true]),
  ])();

// --- request kinds ---------------------------------------------------------------------------------

type Kind = (worker: number) => Promise<void>;

const KINDS: Array<[name: string, weight: number, send: Kind]> = [
  [
    'random @skip/@include variables',
    10,
    async (worker) => {
      const variables: Record<string, boolean> = { unread: Math.random() < 0.5 };
      for (let i = 0; i < CONDITIONS; i++) variables[`b${i}`] = Math.random() < 0.5;
      const { status, body } = await post(teamHeaders(worker), { query: BOOLEAN_DOCUMENT, variables });
      const tenant = (body.data?.switchTenant as { tenant?: { id?: number } } | undefined)?.tenant;
      record(
        'random @skip/@include variables',
        status,
        status === 200 && !body.errors && tenant?.id === 100003,
        JSON.stringify(body),
      );
    },
  ],
  [
    'a new document every time',
    4,
    async (worker) => {
      const name = `a${Date.now().toString(36)}${random(1e9).toString(36)}`;
      const query = `mutation { switchTenant(tenantId: 100005) { ${name}: tenant { id } } }`;
      const { status, body } = await post(teamHeaders(worker), { query });
      const answer = body.data?.switchTenant as Record<string, { id?: number }> | undefined;
      record('a new document every time', status, !body.errors && answer?.[name]?.id === 100005, JSON.stringify(body));
    },
  ],
  [
    '30 availableTenants aliases (at MAX_ALIASES)',
    2,
    async (worker) => {
      const { status, body } = await post(teamHeaders(worker), { query: NEAR_LIMIT });
      const answer = body.data?.switchTenant as Record<string, unknown[]> | undefined;
      record(
        '30 availableTenants aliases (at MAX_ALIASES)',
        status,
        !body.errors && Object.keys(answer ?? {}).length === 30 && answer!.t29!.length === DEMO_TEAM_TENANTS,
        JSON.stringify(body).slice(0, 300),
      );
    },
  ],
  [
    '30 deep availableTenants aliases (over MAX_RESPONSE_BYTES)',
    1,
    async () => {
      const { status, body } = await post(demoHeaders, { query: OVER_BUDGET });
      record(
        '30 deep availableTenants aliases (over MAX_RESPONSE_BYTES)',
        status,
        codeOf(body) === 'RESPONSE_TOO_LARGE' && body.data?.switchTenant == null,
        JSON.stringify(body).slice(0, 300),
      );
    },
  ],
  [
    '31 aliases (past MAX_ALIASES)',
    1,
    async (worker) => {
      const { status, body } = await post(teamHeaders(worker), { query: PAST_LIMIT });
      record(
        '31 aliases (past MAX_ALIASES)',
        status,
        codeOf(body) === 'OPERATION_LIMIT_EXCEEDED',
        JSON.stringify(body),
      );
    },
  ],
  [
    'one __schema',
    1,
    async () => {
      const { status, body } = await post({ 'content-type': 'application/json' }, { query: ONE_SCHEMA });
      const schema = body.data?.__schema as { types?: unknown[] } | undefined;
      record(
        'one __schema',
        status,
        !body.errors && (schema?.types?.length ?? 0) > 10,
        JSON.stringify(body).slice(0, 300),
      );
    },
  ],
  [
    '30 aliased __schema (past MAX_COST)',
    1,
    async () => {
      const { status, body } = await post({ 'content-type': 'application/json' }, { query: MANY_SCHEMAS });
      record(
        '30 aliased __schema (past MAX_COST)',
        status,
        codeOf(body) === 'OPERATION_LIMIT_EXCEEDED',
        JSON.stringify(body),
      );
    },
  ],
  [
    'malformed Host',
    1,
    async () => {
      const host = pick(['evil.example:99999', 'a b', '[::1', 'a@evil.example', 'x/evil-path', '[', ':', 'exämple']);
      const answer = await rawRequest(
        port,
        `GET /graphql?query=%7BgatewayVersion%7D HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
      record('malformed Host', answer.status, answer.status === 400 && codedRefusal(answer.body), answer.text);
    },
  ],
  [
    'malformed GET parameters',
    1,
    async () => {
      const parameters = pick([
        'query=%7BgatewayVersion%7D&variables=%7B',
        'query=%7BgatewayVersion%7D&extensions=%5B%7B',
        'query=%7BgatewayVersion%7D&variables=nope&extensions=%7B%22a%22',
      ]);
      const answer = await rawRequest(
        port,
        `GET /graphql?${parameters} HTTP/1.1\r\nHost: localhost\r\nx-graphql-yoga-csrf: 1\r\nConnection: close\r\n\r\n`,
      );
      record(
        'malformed GET parameters',
        answer.status,
        answer.status === 400 && codedRefusal(answer.body),
        answer.text,
      );
    },
  ],
  [
    'bad _entities representations',
    2,
    async (worker) => {
      const representations = Array.from({ length: 1 + random(8) }, representation);
      const { status, body } = await post(
        { ...teamHeaders(worker), 'x-vol-tenant': '100001' },
        {
          query:
            'query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Tenant { id name } ... on Site { id } } }',
          variables: { r: representations },
        },
      );
      const entities = body.data?._entities as unknown[] | undefined;
      // A null is refused by the variable's type ([_Any!]!) before anything runs: the whole request is
      // the client's error. Anything else is checked reference by reference, the others resolving.
      const refusedWhole = representations.includes(null);
      record(
        'bad _entities representations',
        status,
        (refusedWhole
          ? status === 400 && body.data == null
          : status === 200 && entities?.length === representations.length) &&
          everyCode(body).every((code) => code === 'BAD_USER_INPUT'),
        JSON.stringify({ representations, body }).slice(0, 400),
      );
    },
  ],
  [
    'trickled body',
    1,
    async (worker) => {
      const body = JSON.stringify({ query: 'mutation { switchTenant(tenantId: 100006) { tenant { id } } }' });
      const headers = teamHeaders(worker);
      const socket = await openSocket(port);
      socket.write(
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\nauthorization: ${headers.authorization}\r\n` +
          `x-kibo-refresh-token: ${headers['x-kibo-refresh-token']}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      );
      const answered = readUntilClosed(socket, 20_000);
      const pieces = 10;
      const size = Math.ceil(body.length / pieces);
      for (let i = 0; i < pieces && !socket.destroyed; i++) {
        socket.write(body.slice(i * size, (i + 1) * size));
        await sleep(150);
      }
      const answer = await answered;
      record('trickled body', answer.status, answer.status === 200 && answer.body.includes('"id":100006'), answer.text);
    },
  ],
];
const DEMO_TEAM_TENANTS = DEMO.teamTenantIds.last - DEMO.teamTenantIds.first + 1;

function codedRefusal(body: string): boolean {
  try {
    const parsed = JSON.parse(body) as GraphQLBody;
    return (parsed.errors?.length ?? 0) > 0 && everyCode(parsed).every((code) => code === 'BAD_REQUEST');
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const WEIGHTED = KINDS.flatMap(([, weight, send]) => Array<Kind>(weight).fill(send));

async function worker(index: number): Promise<void> {
  while (Date.now() < deadline) {
    const send = pick(WEIGHTED);
    try {
      await send(index);
    } catch (error) {
      record('transport', undefined, false, String(error));
    }
  }
}

// --- held connections ------------------------------------------------------------------------------

interface Held {
  opened: number;
  /** Dropped by the gateway within its limit (with 408 or without an answer). */
  droppedInTime: number;
  late: number;
  stillOpenAtEnd: number;
  longestHeldMs: number;
}

/** Keeps `count` connections doing `start`, each replaced when the gateway drops it; `limitMs` is how long the gateway may hold one. */
async function holdPool(name: string, count: number, limitMs: number, start: (socket: Socket) => void): Promise<Held> {
  const held: Held = { opened: 0, droppedInTime: 0, late: 0, stillOpenAtEnd: 0, longestHeldMs: 0 };
  const one = async (): Promise<void> => {
    while (Date.now() < deadline) {
      const socket = await openSocket(port);
      held.opened++;
      start(socket);
      const answer = await readUntilClosed(socket, Math.max(0, deadline - Date.now()));
      if (!answer.closedByServer) {
        held.stillOpenAtEnd++;
        if (answer.closedAfterMs > limitMs + TIMEOUT_SLACK_MS) {
          held.late++;
          record(name, answer.status, false, `held ${Math.round(answer.closedAfterMs)} ms, past ${limitMs} ms`);
        }
        return;
      }
      held.longestHeldMs = Math.max(held.longestHeldMs, Math.round(answer.closedAfterMs));
      const inTime = answer.closedAfterMs <= limitMs + TIMEOUT_SLACK_MS;
      if (inTime) held.droppedInTime++;
      else held.late++;
      record(
        name,
        answer.status,
        inTime && (answer.status === undefined || answer.status === 408),
        `${Math.round(answer.closedAfterMs)} ms: ${answer.text}`,
      );
    }
  };
  await Promise.all(Array.from({ length: count }, one));
  return held;
}

/** Writes `line` every second until the socket closes. */
function dribble(socket: Socket, line: () => string): void {
  const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write(line())), 1_000);
  socket.once('close', () => clearInterval(timer));
}

/** Runs `send(slot)` `count` times, `parallel` at a time; each slot is one client (its own team member). */
async function inParallel(count: number, parallel: number, send: (slot: number) => Promise<void>): Promise<void> {
  let started = 0;
  await Promise.all(
    Array.from({ length: parallel }, async (_, slot) => {
      while (started++ < count) await send(slot);
    }),
  );
}

/**
 * The bounded caches keyed by client input, filled to their bounds before the timed soak, so it
 * watches them at their steady state (full, evicting) rather than filling: Yoga's parse caches
 * (1,000,000 characters each: 200 distinct ~12 KB documents, parsed, cached and refused by
 * MAX_ALIASES) and the projection cache (1,000 entries: 1,500 random @skip/@include combinations).
 */
async function fill(): Promise<void> {
  const run = Date.now().toString(36);
  await inParallel(200, 8, async (slot) => {
    const fields = Array.from({ length: 400 }, (_, k) => `a${k}_${run}_${random(1e9)}: createdOn`).join(' ');
    const { status, body } = await post(teamHeaders(slot), {
      query: `mutation { switchTenant(tenantId: 100003) { ${fields} } }`,
    });
    record(
      'fill: distinct 12 KB documents (past MAX_ALIASES)',
      status,
      codeOf(body) === 'OPERATION_LIMIT_EXCEEDED',
      JSON.stringify(body),
    );
  });
  const [, , conditional] = KINDS[0]!;
  await inParallel(1_500, 8, conditional);
}

if (options.fill) {
  await fill();
  console.log(
    JSON.stringify({ requests: Object.values(totals).reduce((sum, n) => sum + n, 0), totals, unexpected, examples }),
  );
  process.exit(0);
}

const [slowloris, stalledBodies] = await Promise.all([
  holdPool('slowloris', options.slowloris, options.headersTimeoutMs, (socket) => {
    socket.write('POST /graphql HTTP/1.1\r\nHost: localhost\r\n');
    dribble(socket, () => `x-slow-${random(1e6)}: ${random(1e6)}\r\n`);
  }),
  holdPool('stalled body', options.stalledBodies, options.requestTimeoutMs, (socket) => {
    socket.write(
      'POST /graphql HTTP/1.1\r\nHost: localhost\r\ncontent-type: application/json\r\ncontent-length: 4000\r\n\r\n{"query":"',
    );
    dribble(socket, () => ' ');
  }),
  ...Array.from({ length: options.workers }, (_, i) => worker(i)),
]);

console.log(
  JSON.stringify({
    requests: Object.values(totals).reduce((sum, n) => sum + n, 0),
    totals,
    statuses,
    unexpected,
    examples,
    held: { slowloris, stalledBodies },
  }),
);
