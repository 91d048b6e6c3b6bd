/**
 * `npm run bench -- --supergraph`: the entity cache under supergraph traffic. A Hive Gateway CLI
 * (its own process) serves the supergraph of this subgraph and the orders test subgraph; 20 users ×
 * 3 tenants send, at the configured concurrency, a query reading orders and through them the
 * tenant's name and sites, so each request makes the router resolve `Site` and `Tenant` references
 * through our `_entities`. Three cases: the cache off, in memory, and in Redis with two replicas
 * (the router spreads its subgraph calls over both). Reported per case: supergraph req/s, p50/p99,
 * Kibo calls per 1,000 supergraph requests (the emulator's count over the measured window) and the
 * cache's hit ratio (from the replicas' /metrics).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEMO, teamRefreshToken } from '../../src/emulator/demo-data.js';
import { STATS_PATH } from '../../src/emulator/server.js';
import { composeApollo } from '../federation/supergraph.js';
import { startRedisServer, type RunningRedis } from '../support/redis-server.js';
import { buildProduct, freePort, ROOT, runLoad, startServer, type ServerProcess } from './processes.js';

export interface SupergraphBenchOptions {
  durationSeconds: number;
  connections: number;
  out: string;
}

const CASES = ['cache-off', 'cache-memory', 'cache-redis-2-replicas'] as const;
type CaseName = (typeof CASES)[number];

const QUERY =
  'query SupergraphBench { recentOrders { id total site { id name } tenant { id name sites { id name } } } }';
const USERS = 20;
const TENANTS = [100001, 100002, 100003];
const HEADER_SETS = Array.from({ length: USERS }, (_, user) =>
  TENANTS.map((tenant) => ({
    authorization: `Bearer ${DEMO.appToken}`,
    'x-kibo-refresh-token': teamRefreshToken(user + 1),
    'x-vol-tenant': String(tenant),
  })),
).flat();

export interface SupergraphCaseResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  kiboCallsPer1000: number;
  hitRatio: number | null;
  failures: number;
}

export async function runSupergraphBench(options: SupergraphBenchOptions): Promise<void> {
  buildProduct();
  const emulatorPort = await freePort();
  const emulator = await startServer(
    'emulator',
    'dist/src/emulator/main.js',
    { EMULATOR_PORT: String(emulatorPort), EMULATOR_STATS: '1' },
    emulatorPort,
  );
  const ordersPort = await freePort();
  const orders = await startServer('orders', 'test/bench/orders-server.ts', { PORT: String(ordersPort) }, ordersPort);
  const results: Partial<Record<CaseName, SupergraphCaseResult>> = {};
  try {
    for (const name of CASES) {
      results[name] = await runCase(name, emulator, `${orders.url}/graphql`, options);
      print(name, results[name]!);
    }
  } finally {
    await orders.stop();
    await emulator.stop();
  }
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(
    options.out,
    `${JSON.stringify({ users: USERS, tenants: TENANTS.length, connections: options.connections, durationSeconds: options.durationSeconds, cases: results }, null, 2)}\n`,
  );
  console.log(`\nwritten to ${options.out}`);
}

async function runCase(
  name: CaseName,
  emulator: ServerProcess,
  ordersUrl: string,
  options: SupergraphBenchOptions,
): Promise<SupergraphCaseResult> {
  let redis: RunningRedis | undefined;
  const replicas: ServerProcess[] = [];
  let router: Router | undefined;
  try {
    const env: Record<string, string> = {
      KIBO_BASE_URL: emulator.url,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      ENTITY_CACHE: name === 'cache-off' ? 'off' : 'on',
    };
    if (name === 'cache-redis-2-replicas') {
      redis = await startRedisServer();
      env.ENTITY_CACHE_REDIS_URL = redis.url;
    }
    for (let i = 0; i < (redis ? 2 : 1); i++) {
      const port = await freePort();
      replicas.push(await startServer(`gateway-${i + 1}`, 'dist/src/main.js', { ...env, PORT: String(port) }, port));
    }
    router = await startRouter(
      replicas.map((replica) => `${replica.url}/graphql`),
      ordersUrl,
    );
    await checkAnswer(router.url);

    // Warm up (connections, JIT, and — with the cache — the entries), then measure.
    await runLoad(
      loadOptions(router.url, options.connections, Math.min(3, Math.max(1, options.durationSeconds / 5))),
      'test/bench/supergraph-load.ts',
    );
    const kiboBefore = await kiboCalls(emulator);
    const cacheBefore = await cacheCounts(replicas);
    const load = await runLoad(
      loadOptions(router.url, options.connections, options.durationSeconds),
      'test/bench/supergraph-load.ts',
    );
    const kibo = (await kiboCalls(emulator)) - kiboBefore;
    const cacheAfter = await cacheCounts(replicas);
    const lookups = cacheAfter.lookups - cacheBefore.lookups;
    return {
      rps: load.rps,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      requests: load.requests,
      kiboCallsPer1000: load.requests ? (1000 * kibo) / load.requests : NaN,
      hitRatio: name === 'cache-off' || lookups === 0 ? null : (cacheAfter.hits - cacheBefore.hits) / lookups,
      failures: load.errors + load.non2xx + Number(load.graphqlErrors ?? 0),
    };
  } finally {
    await router?.stop();
    for (const replica of replicas) await replica.stop();
    await redis?.stop();
  }
}

function loadOptions(url: string, connections: number, durationSeconds: number) {
  return { url, body: JSON.stringify({ query: QUERY }), headerSets: HEADER_SETS, connections, durationSeconds };
}

/** Every case answers correctly before it is measured: orders with their site and tenant resolved. */
async function checkAnswer(url: string): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...HEADER_SETS[0] },
    body: JSON.stringify({ query: QUERY }),
  });
  const body = (await response.json()) as {
    data?: {
      recentOrders: Array<{ site: { name: string | null }; tenant: { name: string; sites: unknown[] } | null }>;
    };
    errors?: unknown;
  };
  const first = body.data?.recentOrders[0];
  if (body.errors || !first?.site.name || !first.tenant?.name || first.tenant.sites.length !== 5)
    throw new Error(`the supergraph did not answer correctly: ${JSON.stringify(body).slice(0, 500)}`);
}

async function kiboCalls(emulator: ServerProcess): Promise<number> {
  const stats = (await (await fetch(`${emulator.url}${STATS_PATH}`)).json()) as { ticketRequests: number };
  return stats.ticketRequests;
}

/** Entity-type lookups and hits over all replicas (every lookup starts in memory). */
async function cacheCounts(replicas: ServerProcess[]): Promise<{ lookups: number; hits: number }> {
  let lookups = 0;
  let hits = 0;
  for (const replica of replicas) {
    const text = await (await fetch(`${replica.url}/metrics`)).text();
    const sum = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((total, match) => total + Number(match[1]), 0);
    const memoryHits = sum(/^entity_cache_hits_total\{tier="memory"\} (\S+)/gm);
    hits += sum(/^entity_cache_hits_total\{[^}]*\} (\S+)/gm);
    lookups += memoryHits + sum(/^entity_cache_misses_total\{tier="memory"\} (\S+)/gm);
  }
  return { lookups, hits };
}

interface Router {
  url: string;
  stop(): Promise<void>;
}

/** The Hive Gateway CLI serving the supergraph, spreading calls to this subgraph over `replicas`. */
async function startRouter(replicas: string[], ordersUrl: string): Promise<Router> {
  const composed = composeApollo({ kibo: replicas[0]!, orders: ordersUrl });
  if (composed.errors?.length) throw new Error(`composition failed: ${composed.errors.map(String).join('; ')}`);
  const supergraphPath = join(ROOT, '.bench', 'supergraph.graphql');
  mkdirSync(dirname(supergraphPath), { recursive: true });
  writeFileSync(supergraphPath, composed.supergraphSdl!);
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'node_modules/@graphql-hive/gateway/dist/bin.js'),
      'supergraph',
      supergraphPath,
      '--config-path',
      join(ROOT, 'test/bench/hive-gateway.config.ts'),
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        SUPERGRAPH_PATH: supergraphPath,
        KIBO_REPLICAS: replicas.join(','),
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const url = `http://127.0.0.1:${port}/graphql`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Hive Gateway exited during start:\n${stderr}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readiness`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`Hive Gateway did not become ready:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function print(name: CaseName, result: SupergraphCaseResult): void {
  const ratio = result.hitRatio === null ? '—' : `${(100 * result.hitRatio).toFixed(1)} %`;
  console.log(
    `${name.padEnd(24)} ${result.rps.toFixed(0).padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)} ms  p99 ${result.p99Ms.toFixed(2)} ms  ` +
      `Kibo calls/1000 ${result.kiboCallsPer1000.toFixed(1)}  hit ratio ${ratio}  failures ${result.failures}`,
  );
}
