/**
 * `npm run bench`: what the adapter costs, measured against the physical floor in the same run.
 *
 * Cases (each checked for a correct answer before it is measured):
 *   raw-projected      PUT straight to the emulator with the projection gateway-projected needs
 *   raw-full           the same without responseFields
 *   proxy-floor        a bare node:http server forwarding each POST through the same undici pool
 *   gateway-projected  switchTenant { accessToken tenant { id name sites { id name } } }
 *   gateway-trusted    the same selection sent by id (SwitchTenantTokens from the trusted-documents manifest)
 *   gateway-full       the same with PROJECTION=false
 *   gateway-wide       a ~50-field selection across availableTenants
 * The emulator, the servers and the load generator (autocannon) each run in their own process;
 * the gateway and the emulator run as deployed: compiled by `npm run build`, on plain Node.
 *
 * Flags: --duration S (10) --runs N (2) --connections N (10) --only a,b --out FILE
 * (.bench/latest.json) --profile (CPU profile of the gateway under gateway-projected, written to
 * .bench/profile/) --soak (60 s of mixed traffic instead of the cases; --duration sets its length)
 * --supergraph (the entity cache under supergraph traffic instead: test/bench/supergraph.ts).
 * --rolling [--rotations N] (a rolling restart of three replicas behind nginx instead: rolling.ts).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO } from '../../src/emulator/demo-data.js';
import { STATS_PATH } from '../../src/emulator/server.js';
import { TICKET_PATH } from '../../src/kibo/client.js';
import { DEFAULT_MANIFEST_URL, readManifestFile } from '../../src/trusted-documents/manifest.js';
import { measureProjectionCost, WIDE_SELECTION } from './projection-cost.js';
import {
  buildProduct,
  cpuMs,
  freePort,
  memoryMiB,
  ROOT,
  runLoad,
  startServer,
  type ServerProcess,
} from './processes.js';
import { runRollingBench } from './rolling.js';
import { runSoak } from './soak.js';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    runs: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    only: { type: 'string' },
    out: { type: 'string', default: '.bench/latest.json' },
    profile: { type: 'boolean', default: false },
    soak: { type: 'boolean', default: false },
    supergraph: { type: 'boolean', default: false },
    rolling: { type: 'boolean', default: false },
    rotations: { type: 'string', default: '3' },
  },
});

const DURATION = Number(flags.duration);
const RUNS = Number(flags.runs);
const CONNECTIONS = Number(flags.connections);
const WARMUP_SECONDS = Math.min(3, Math.max(1, DURATION / 5));
const PROJECTED_FIELDS = 'accessToken,tenant(id,name,sites(id,name))';
const PROJECTED_QUERY =
  'mutation { switchTenant(tenantId: 100002) { accessToken tenant { id name sites { id name } } } }';
const WIDE_QUERY = `mutation { switchTenant(tenantId: 100002) ${WIDE_SELECTION} }`;
const TRUSTED_ID = Object.entries(readManifestFile(DEFAULT_MANIFEST_URL)).find(([, text]) =>
  text.startsWith('mutation SwitchTenantTokens('),
)?.[0];
const CREDENTIALS = { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': DEMO.refreshToken };

const CASE_NAMES = [
  'raw-projected',
  'raw-full',
  'proxy-floor',
  'gateway-projected',
  'gateway-trusted',
  'gateway-full',
  'gateway-wide',
] as const;
type CaseName = (typeof CASE_NAMES)[number];

interface CaseResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  upstreamBytesPerRequest: number;
  cpuMsPerRequest: number;
  rssMiB: number;
  errors: number;
}

interface Servers {
  emulator: ServerProcess;
  floor: ServerProcess;
  gateway: ServerProcess;
  gatewayFull: ServerProcess;
}

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: process.platform,
};

async function startServers(): Promise<Servers> {
  const emulatorPort = await freePort();
  const emulator = await startServer(
    'emulator',
    'dist/src/emulator/main.js',
    { EMULATOR_PORT: String(emulatorPort), EMULATOR_STATS: '1', EMULATOR_FAULTS: flags.soak ? '1' : '0' },
    emulatorPort,
  );
  const gatewayEnv = {
    KIBO_BASE_URL: emulator.url,
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    MAX_COST: '1000000',
    TRUSTED_DOCUMENTS: 'allow',
  };
  const [floorPort, gatewayPort, fullPort] = [await freePort(), await freePort(), await freePort()];
  const floor = await startServer(
    'proxy-floor',
    'test/bench/proxy-floor.ts',
    { KIBO_BASE_URL: emulator.url, PORT: String(floorPort), RESPONSE_FIELDS: PROJECTED_FIELDS, TENANT_ID: '100002' },
    floorPort,
  );
  const gateway = await startServer(
    'gateway',
    'dist/src/main.js',
    { ...gatewayEnv, PORT: String(gatewayPort) },
    gatewayPort,
  );
  const gatewayFull = await startServer(
    'gateway-full',
    'dist/src/main.js',
    { ...gatewayEnv, PORT: String(fullPort), PROJECTION: 'false' },
    fullPort,
  );
  return { emulator, floor, gateway, gatewayFull };
}

interface CaseSpec {
  server: ServerProcess;
  request: { url: string; method: 'POST' | 'PUT'; headers: Record<string, string>; body: string };
}

/** What each case sends, which process serves it, and how to tell its answer is right. */
function caseSpec(name: CaseName, servers: Servers): { spec: CaseSpec; correct: (body: any) => boolean } {
  const graphql = (target: ServerProcess, query: string): CaseSpec => ({
    server: target,
    request: {
      url: `${target.url}/graphql`,
      method: 'POST' as const,
      headers: { 'content-type': 'application/json', ...CREDENTIALS },
      body: JSON.stringify({ query }),
    },
  });
  const raw = (responseFields?: string): CaseSpec => ({
    server: servers.emulator,
    request: {
      url: `${servers.emulator.url}${TICKET_PATH}?${new URLSearchParams({ tenantId: '100002', ...(responseFields && { responseFields }) })}`,
      method: 'PUT' as const,
      headers: { 'content-type': 'application/json', authorization: CREDENTIALS.authorization },
      body: JSON.stringify({ refreshToken: DEMO.refreshToken }),
    },
  });
  const tenantOf = (body: any) => body?.data?.switchTenant?.tenant ?? body?.tenant;
  const checks: Record<CaseName, { spec: CaseSpec; correct: (body: any) => boolean }> = {
    'raw-projected': {
      spec: raw(PROJECTED_FIELDS),
      correct: (b) => tenantOf(b)?.id === 100002 && tenantOf(b).sites.length === 5 && !('availableTenants' in b),
    },
    'raw-full': { spec: raw(), correct: (b) => b.availableTenants?.length === 50 },
    'proxy-floor': {
      spec: {
        server: servers.floor,
        request: {
          url: servers.floor.url,
          method: 'POST' as const,
          headers: { 'content-type': 'application/json', ...CREDENTIALS },
          body: JSON.stringify({ query: PROJECTED_QUERY }),
        },
      },
      correct: (b) => tenantOf(b)?.id === 100002,
    },
    'gateway-projected': {
      spec: graphql(servers.gateway, PROJECTED_QUERY),
      correct: (b) => !b.errors && tenantOf(b)?.sites?.length === 5,
    },
    'gateway-trusted': {
      spec: {
        ...graphql(servers.gateway, PROJECTED_QUERY),
        request: {
          ...graphql(servers.gateway, PROJECTED_QUERY).request,
          body: JSON.stringify({ documentId: TRUSTED_ID, variables: { tenantId: 100002 } }),
        },
      },
      correct: (b) => !b.errors && tenantOf(b)?.sites?.length === 5,
    },
    'gateway-full': {
      spec: graphql(servers.gatewayFull, PROJECTED_QUERY),
      correct: (b) => !b.errors && tenantOf(b)?.sites?.length === 5,
    },
    'gateway-wide': {
      spec: graphql(servers.gateway, WIDE_QUERY),
      correct: (b) => !b.errors && b.data?.switchTenant?.availableTenants?.length === 50,
    },
  };
  return checks[name];
}

async function emulatorStats(emulator: ServerProcess): Promise<{ ticketRequests: number; responseBytes: number }> {
  const response = await fetch(`${emulator.url}${STATS_PATH}`);
  return (await response.json()) as { ticketRequests: number; responseBytes: number };
}

async function measureCase(name: CaseName, servers: Servers): Promise<CaseResult> {
  const { spec, correct } = caseSpec(name, servers);
  const sample = await fetch(spec.request.url, {
    method: spec.request.method,
    headers: spec.request.headers,
    body: spec.request.body,
  });
  const sampleBody = await sample.json();
  if (!correct(sampleBody))
    throw new Error(`${name}: wrong answer before measuring: ${JSON.stringify(sampleBody).slice(0, 400)}`);

  // Let the previous case's last in-flight requests land before counting this one's.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const statsBefore = await emulatorStats(servers.emulator);
  const cpuBefore = cpuMs(spec.server.pid);
  const load = await runLoad({
    ...spec.request,
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    warmupSeconds: WARMUP_SECONDS,
  });
  const cpuAfter = cpuMs(spec.server.pid);
  const statsAfter = await emulatorStats(servers.emulator);
  // CPU and upstream bytes include the warm-up, so they are divided by every request the emulator saw.
  const upstreamRequests = statsAfter.ticketRequests - statsBefore.ticketRequests;
  return {
    rps: load.rps,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    upstreamBytesPerRequest: upstreamRequests
      ? (statsAfter.responseBytes - statsBefore.responseBytes) / upstreamRequests
      : 0,
    cpuMsPerRequest: upstreamRequests ? (cpuAfter - cpuBefore) / upstreamRequests : NaN,
    rssMiB: memoryMiB(spec.server.pid).rss,
    errors: load.errors + load.non2xx,
  };
}

function ratios(cases: Partial<Record<CaseName, CaseResult>>) {
  const gw = cases['gateway-projected'];
  const floor = cases['proxy-floor'];
  const full = cases['gateway-full'];
  return {
    throughput: gw && floor ? gw.rps / floor.rps : null,
    p99: gw && floor ? gw.p99Ms / floor.p99Ms : null,
    cpuPerRequest: gw && floor ? gw.cpuMsPerRequest / floor.cpuMsPerRequest : null,
    upstreamBytes: gw && full ? gw.upstreamBytesPerRequest / full.upstreamBytesPerRequest : null,
  };
}

const fixed = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);

function printRun(index: number, cases: Partial<Record<CaseName, CaseResult>>, runRatios: ReturnType<typeof ratios>) {
  console.log(`\n### Run ${index + 1} (${CONNECTIONS} connections, ${DURATION} s per case)\n`);
  console.log('| case | req/s | p50 ms | p99 ms | upstream B/req | CPU ms/req | RSS MiB | errors |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, r] of Object.entries(cases)) {
    console.log(
      `| ${name} | ${fixed(r.rps, 0)} | ${fixed(r.p50Ms, 3)} | ${fixed(r.p99Ms, 3)} | ${fixed(r.upstreamBytesPerRequest, 0)} | ${fixed(r.cpuMsPerRequest, 3)} | ${fixed(r.rssMiB, 1)} | ${r.errors} |`,
    );
  }
  console.log(
    `\nratios: throughput ${fixed(runRatios.throughput)} × floor, p99 ${fixed(runRatios.p99)} × floor, CPU/request ${fixed(runRatios.cpuPerRequest)} × floor, upstream bytes ${fixed((runRatios.upstreamBytes ?? NaN) * 100, 3)} % of full`,
  );
}

function printGoals(
  runs: Array<{ cases: Partial<Record<CaseName, CaseResult>>; ratios: ReturnType<typeof ratios> }>,
  memory: { startMiB: number; afterMiB: number; peakMiB: number },
) {
  const worst = (pick: (run: (typeof runs)[number]) => number | null | undefined, higherIsWorse = true) => {
    const values = runs.map(pick).filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
    return values.length ? (higherIsWorse ? Math.max(...values) : Math.min(...values)) : NaN;
  };
  const goals = [
    [
      'gateway-projected CPU/request ≤ 2 × proxy-floor',
      worst((r) => r.ratios.cpuPerRequest),
      (v: number) => v <= 2,
      (v: number) => `${fixed(v)} ×`,
    ],
    [
      'gateway-projected throughput ≥ 0.5 × proxy-floor',
      worst((r) => r.ratios.throughput, false),
      (v: number) => v >= 0.5,
      (v: number) => `${fixed(v)} ×`,
    ],
    [
      'gateway-projected p99 < 5 ms at concurrency 10',
      worst((r) => r.cases['gateway-projected']?.p99Ms),
      (v: number) => v < 5,
      (v: number) => `${fixed(v, 3)} ms`,
    ],
    [
      'projected upstream bytes ≤ 0.5 % of the full ticket',
      worst((r) => r.ratios.upstreamBytes),
      (v: number) => v <= 0.005,
      (v: number) => `${fixed(v * 100, 3)} %`,
    ],
    [
      'gateway RSS after all cases ≤ 120 MiB',
      memory.afterMiB,
      (v: number) => v <= 120,
      (v: number) => `${fixed(v, 1)} MiB`,
    ],
    ['gateway RSS peak ≤ 150 MiB', memory.peakMiB, (v: number) => v <= 150, (v: number) => `${fixed(v, 1)} MiB`],
  ] as const;
  console.log('\n### Goals (worst run)\n\n| goal | measured | |\n| --- | ---: | --- |');
  for (const [goal, value, met, format] of goals)
    console.log(
      `| ${goal} | ${format(value)} | ${Number.isNaN(value) ? 'not measured' : met(value) ? 'met' : 'MISSED'} |`,
    );
  console.log(
    `\ngateway RSS: ${fixed(memory.startMiB, 1)} MiB at start, ${fixed(memory.afterMiB, 1)} MiB after all cases, ${fixed(memory.peakMiB, 1)} MiB at peak`,
  );
}

async function profileGateway(emulator: ServerProcess): Promise<string> {
  const directory = join(ROOT, '.bench/profile');
  mkdirSync(directory, { recursive: true });
  const port = await freePort();
  const profiled = await startServer(
    'gateway (profiled)',
    'dist/src/main.js',
    { KIBO_BASE_URL: emulator.url, LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1' },
    port,
    ['--cpu-prof', `--cpu-prof-dir=${directory}`],
  );
  const before = new Set(readdirSync(directory));
  await runLoad({
    url: `${profiled.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...CREDENTIALS },
    body: JSON.stringify({ query: PROJECTED_QUERY }),
    connections: CONNECTIONS,
    durationSeconds: DURATION,
    warmupSeconds: 1,
  });
  await profiled.stop();
  const written = readdirSync(directory).filter((file) => !before.has(file) && file.endsWith('.cpuprofile'));
  return written.map((file) => join('.bench/profile', file)).join(', ') || '(no profile written)';
}

async function main() {
  const only = flags.only ? (flags.only.split(',').map((name) => name.trim()) as CaseName[]) : [...CASE_NAMES];
  for (const name of only)
    if (!CASE_NAMES.includes(name)) throw new Error(`--only: unknown case "${name}"; known: ${CASE_NAMES.join(', ')}`);

  buildProduct();
  if (flags.rolling) {
    const out = flags.out === '.bench/latest.json' ? '.bench/rolling.json' : flags.out!;
    if (!(await runRollingBench({ rotations: Number(flags.rotations), out }))) process.exitCode = 1;
    return;
  }
  const servers = await startServers();
  try {
    if (flags.soak) {
      const soak = await runSoak(servers.gateway, servers.emulator, {
        durationSeconds: Number(flags.duration === '10' ? 60 : flags.duration),
        connections: CONNECTIONS,
      });
      mkdirSync(dirname(flags.out!), { recursive: true });
      writeFileSync(flags.out!, `${JSON.stringify({ machine, soak }, null, 2)}\n`);
      if (soak.unexpected > 0) process.exitCode = 1;
      return;
    }

    const memoryAtStart = memoryMiB(servers.gateway.pid).rss;
    const runs: Array<{ cases: Partial<Record<CaseName, CaseResult>>; ratios: ReturnType<typeof ratios> }> = [];
    for (let run = 0; run < RUNS; run++) {
      const cases: Partial<Record<CaseName, CaseResult>> = {};
      for (const name of only) {
        process.stderr.write(`run ${run + 1}/${RUNS}: ${name}…\n`);
        cases[name] = await measureCase(name, servers);
      }
      runs.push({ cases, ratios: ratios(cases) });
      printRun(run, cases, runs.at(-1)!.ratios);
    }
    const gatewayMemory = memoryMiB(servers.gateway.pid);
    const memory = { startMiB: memoryAtStart, afterMiB: gatewayMemory.rss, peakMiB: gatewayMemory.peak };
    printGoals(runs, memory);

    const projection = measureProjectionCost();
    console.log(
      `\nprojection cost, ${projection.fields}-field operation: ${fixed(projection.uncachedMicros)} µs first request of a document, ${fixed(projection.cachedMicros)} µs cached (target < 20 µs)`,
    );

    const profile = flags.profile ? await profileGateway(servers.emulator) : undefined;
    if (profile)
      console.log(
        `\nCPU profile of the gateway under gateway-projected: ${profile} (open in Chrome DevTools → Performance, or speedscope)`,
      );

    mkdirSync(dirname(flags.out!), { recursive: true });
    writeFileSync(
      flags.out!,
      `${JSON.stringify({ machine: { ...machine, connections: CONNECTIONS, durationSeconds: DURATION }, runs, memory, projection, ...(profile && { profile }) }, null, 2)}\n`,
    );
    console.log(
      `\nmachine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; report written to ${flags.out}`,
    );
  } finally {
    for (const server of Object.values(servers)) await server.stop();
  }
}

if (flags.supergraph) {
  // Its own bench (test/bench/supergraph.ts): the entity cache under supergraph traffic.
  const { runSupergraphBench } = await import('./supergraph.js');
  await runSupergraphBench({
    durationSeconds: Number(flags.duration),
    connections: Number(flags.connections),
    out: flags.out === '.bench/latest.json' ? '.bench/supergraph.json' : flags.out!,
  });
} else {
  await main();
}
