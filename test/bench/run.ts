/**
 * `npm run bench`: what the adapter costs, measured against the physical floor in the same run.
 *
 * The cases and the servers they run on are listed in cases.ts. The emulator, every server and the
 * load generator (autocannon) each run in their own process; the gateway and the emulator run as
 * deployed: compiled by `npm run build`, on plain Node, logging at `info` to a pipe.
 *
 * Measured fairly (measure.ts): every case gets an uncounted warm-up, read second by second (the
 * warm-up curve); each run then takes the cases block by block, a block being one case, the cases
 * measured beside it (`measuredBeside`: the silent gateway beside the logging one) and the floor.
 * A block starts with an uncounted lead-in, rounds of one second per member until every case has
 * stopped getting cheaper against the floor (a gateway idle while the others ran is not at steady
 * state when its load comes back), then `--slices` rounds, each measuring every member once, back
 * to back, each slice starting once every server is idle, in an order that turns from round to
 * round, so a case and the floor are compared over the same seconds of this shared machine. A
 * case's ratio to the floor is the median of its slices' ratios to the floor slices of the same
 * rounds, over all runs; its CPU per request is its median slice, and the summary the median
 * across runs, with the run-to-run spread. Heap bytes allocated per request per case are counted
 * after each block's rounds in the last run (the probe's GC profiler, outside the CPU slices); after
 * the runs, the gateway's RSS, and — on a full run — NODE_OPTIONS heap settings side by side
 * (memory.ts).
 *
 * Flags: --duration S (6 measured seconds per case per run) --slices N (6 rounds; 18 for a block with a
 * case measured beside another) --runs N (2)
 * --warmup S (10) --lead-in S (10 rounds at least, never under 6) --lead-in-max S (20 rounds)
 * --connections N (10) --only a,b --out FILE (.bench/latest.json)
 * --memory (the NODE_OPTIONS variants even with --only) --profile (a fresh gateway under
 * gateway-projected with --cpu-prof: its cold-start warm-up curve and where the steady-state CPU
 * goes, written to .bench/profile/) --soak (honest and adversarial traffic instead of the cases,
 * judged on unexpected answers, RSS flatness and the projection cache: soak.ts; --duration sets its
 * length, 90 s by default; --node-options "…" sets its gateway's NODE_OPTIONS) --supergraph (the
 * entity cache under supergraph traffic instead: test/bench/supergraph.ts) --rolling [--rotations N]
 * [--drain-delay MS] (a rolling restart of three replicas behind nginx instead: rolling.ts).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CASES, FLOOR, SERVERS, type BenchCase, type ServerName } from './cases.js';
import {
  allocationPerRequest,
  checkAnswer,
  leadIn,
  SHORTEST_LEAD_IN_SECONDS,
  type Block,
  type LeadIn,
  measureSlice,
  median,
  membersOf,
  warmUp,
  stopLoadGenerator,
  type SliceResult,
  type Target,
  type WarmupCurve,
} from './measure.js';
import { measureMemoryVariants, type VariantResult } from './memory.js';
import { printProfileSummary, summarizeProfile } from './profile-summary.js';
import { measureProjectionCost } from './projection-cost.js';
import { buildProduct, freePort, memoryMiB, ROOT, startServer, type ServerProcess } from './processes.js';
import {
  fixed,
  goals,
  printGoals,
  printMemoryVariants,
  printRun,
  printSummary,
  printWarmup,
  summarize,
  type CaseRun,
} from './report.js';
import { runRollingBench } from './rolling.js';
import { runSoak } from './soak.js';

const { values: flags } = parseArgs({
  options: {
    // Each mode has its own default: 6 measured seconds per case per run, a 90 s soak, a 10 s supergraph case.
    duration: { type: 'string' },
    slices: { type: 'string', default: '6' },
    runs: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '10' },
    'lead-in': { type: 'string', default: '10' },
    'lead-in-max': { type: 'string', default: '20' },
    connections: { type: 'string', default: '10' },
    only: { type: 'string' },
    out: { type: 'string', default: '.bench/latest.json' },
    memory: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    'profile-case': { type: 'string', default: 'gateway-projected' },
    soak: { type: 'boolean', default: false },
    'node-options': { type: 'string' },
    supergraph: { type: 'boolean', default: false },
    rolling: { type: 'boolean', default: false },
    rotations: { type: 'string', default: '3' },
    'drain-delay': { type: 'string', default: '5000' },
  },
});

const DURATION = Number(flags.duration ?? 6);
const SLICES = Math.max(1, Number(flags.slices));
const SLICE_SECONDS = Math.max(1, Math.round(DURATION / SLICES));
const RUNS = Number(flags.runs);
const WARMUP = Number(flags.warmup);
const LEAD_IN = Math.max(SHORTEST_LEAD_IN_SECONDS, Number(flags['lead-in']));
const LEAD_IN_MAX = Math.max(LEAD_IN, Number(flags['lead-in-max']));
const CONNECTIONS = Number(flags.connections);
/**
 * The allocation window: a 2 s one measured the trusted path at 47 and at 55 KB in two runs of the
 * same code; a longer one averages over more collections (the probe reads the heap at each one).
 */
const ALLOCATION_SECONDS = Math.max(6, 2 * SLICE_SECONDS);

const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  platform: process.platform,
};

type Servers = Partial<Record<ServerName, ServerProcess>> & { emulator: ServerProcess };

async function startServers(cases: BenchCase[]): Promise<Servers> {
  const emulatorPort = await freePort();
  const emulator = await startServer(
    'emulator',
    'dist/src/emulator/main.js',
    { EMULATOR_PORT: String(emulatorPort), EMULATOR_STATS: '1', EMULATOR_FAULTS: flags.soak ? '1' : '0' },
    emulatorPort,
  );
  const servers: Servers = { emulator };
  // The soak needs its own gateway only; the cases' servers would sit idle beside it.
  const needed = flags.soak
    ? new Set<ServerName>(['gateway-soak'])
    : new Set(cases.map((c) => c.server).filter((name) => name !== 'emulator'));
  for (const name of needed as Set<keyof typeof SERVERS>) {
    const port = await freePort();
    servers[name] = await startServer(
      name,
      SERVERS[name].script,
      {
        ...SERVERS[name].env(emulator.url),
        PORT: String(port),
        // --node-options: V8 settings for the soak's gateway (a heap cap, say), as a deployment would set them.
        ...(name === 'gateway-soak' && flags['node-options'] && { NODE_OPTIONS: flags['node-options'] }),
      },
      port,
    );
  }
  return servers;
}

function targetOf(spec: BenchCase, servers: Servers): Target {
  const server = servers[spec.server]!;
  return { spec, server, emulator: servers.emulator, request: spec.request(server) };
}

/**
 * The blocks a run measures: each case with the cases measured beside it (`measuredBeside`), and the
 * floor in every block. Without a floor (--only), the cases alone; the floor alone, when it is all.
 */
function blocksOf(targets: Target[]): Block[] {
  const floor = targets.find((t) => t.spec.name === FLOOR);
  const cases = targets.filter((t) => t !== floor);
  const byName = new Map(cases.map((t) => [t.spec.name, t]));
  for (const { spec } of cases) {
    const main = spec.measuredBeside === undefined ? undefined : byName.get(spec.measuredBeside);
    if (spec.measuredBeside === FLOOR || main?.spec.measuredBeside !== undefined)
      throw new Error(`cases.ts: ${spec.name} must be measured beside a case that has a block of its own`);
  }
  // A case whose partner is not selected (--only) gets a block of its own.
  const inAnotherBlock = (t: Target) => t.spec.measuredBeside !== undefined && byName.has(t.spec.measuredBeside);
  const blocks = cases
    .filter((t) => !inAnotherBlock(t))
    .map((main) => ({ floor, cases: [main, ...cases.filter((t) => t.spec.measuredBeside === main.spec.name)] }));
  return blocks.length ? blocks : [{ floor, cases: [] }];
}

/** `list` started at its `by`-th member (modulo its length). */
function rotate<T>(list: readonly T[], by: number): T[] {
  const start = list.length ? by % list.length : 0;
  return [...list.slice(start), ...list.slice(0, start)];
}

/**
 * The order of a block's members in one round: forward and reversed in turn, starting one member
 * later every second round (and every run), so over 2n rounds each member goes first, last and
 * after each other member equally often: whatever a slice leaves behind lands on every member alike.
 */
function roundOrder(members: readonly Target[], round: number, run: number): Target[] {
  return rotate(round % 2 ? [...members].reverse() : members, Math.floor(round / 2) + run);
}

/**
 * One run, block by block (the first block rotates from run to run). Each block first gets a
 * lead-in until every case in it is back at steady state (measure.ts `leadIn`); then `--slices`
 * rounds, each measuring every member of the block once, back to back (`roundOrder`), so a case's
 * ratio to the floor (and the silent gateway's to the logging one) compares the same seconds of this
 * shared machine. A block's rounds follow each other: interleaving all the cases instead left each
 * gateway idle for the ~40 s the others took, and a gateway back from that paid up to twice its
 * steady CPU for several seconds. A case's `slices[i]`, its `floorSlices[i]` and the `slices[i]` of
 * the case it is measured beside come from the same round.
 */
async function measureRun(
  run: number,
  targets: Target[],
  /** Filled, when given, with heap bytes allocated per request per case, counted after each block's rounds. */
  allocation?: Record<string, number>,
): Promise<Record<string, CaseRun>> {
  const slices = new Map(targets.map((t) => [t.spec.name, [] as SliceResult[]]));
  const floorBeside = new Map<string, SliceResult[]>();
  const leadIns = new Map<string, LeadIn>();
  /** Each case measured beside another, and that other: the block's first case. */
  const besideOf = new Map<string, string>();
  for (const block of rotate(blocksOf(targets), run)) {
    for (const t of block.cases.slice(1)) besideOf.set(t.spec.name, block.cases[0]!.spec.name);
    const members = membersOf(block);
    const names = members.map((t) => t.spec.name).join(', ');
    process.stderr.write(`run ${run + 1}/${RUNS}: lead-in of ${names}…\n`);
    const curves = await leadIn(block, LEAD_IN, LEAD_IN_MAX, CONNECTIONS);
    block.cases.forEach((t, i) => leadIns.set(t.spec.name, curves[i]!));
    if (block.floor) for (const { spec } of block.cases) floorBeside.set(spec.name, []);
    // A case measured beside another is there for a finer goal (info logging: < 5 %, where single
    // pairs of slices differ by ±20 % on this machine): three times the rounds.
    const rounds = block.cases.length > 1 ? 3 * SLICES : SLICES;
    for (let round = 0; round < rounds; round++) {
      process.stderr.write(`run ${run + 1}/${RUNS}, round ${round + 1}/${rounds}: ${names}…\n`);
      let floorSlice: SliceResult | undefined;
      for (const target of roundOrder(members, round, run)) {
        const result = await measureSlice(target, SLICE_SECONDS, CONNECTIONS);
        slices.get(target.spec.name)!.push(result);
        if (target === block.floor) floorSlice = result;
      }
      if (floorSlice) for (const { spec } of block.cases) floorBeside.get(spec.name)!.push(floorSlice);
    }
    // Outside the CPU slices, since the probe's GC profiler costs a little CPU, but while the block
    // is at steady state: code not yet optimised again allocates more than steady code does.
    if (allocation)
      for (const target of members) {
        // The floor is in every block; once is enough.
        if (target.spec.server === 'emulator' || target.spec.name in allocation) continue;
        process.stderr.write(`allocation: ${target.spec.name}…\n`);
        allocation[target.spec.name] = await allocationPerRequest(target, ALLOCATION_SECONDS, CONNECTIONS);
      }
  }
  const result: Record<string, CaseRun> = {};
  for (const { spec } of targets) {
    const own = slices.get(spec.name)!;
    const pick = (key: keyof SliceResult) => median(own.map((s) => s[key]));
    const floorSlices = floorBeside.get(spec.name);
    const leadInCurve = leadIns.get(spec.name);
    const beside = besideOf.get(spec.name);
    result[spec.name] = {
      requests: own.reduce((sum, s) => sum + s.requests, 0),
      rps: pick('rps'),
      p50Ms: pick('p50Ms'),
      p99Ms: pick('p99Ms'),
      cpuMsPerRequest: pick('cpuMsPerRequest'),
      upstreamBytesPerRequest: pick('upstreamBytesPerRequest'),
      errors: own.reduce((sum, s) => sum + s.errors, 0),
      othersBusyPercent: pick('othersBusyPercent'),
      slices: own,
      ...(leadInCurve && { leadIn: leadInCurve }),
      ...(floorSlices && { floorSlices }),
      ...(beside && { beside }),
    };
  }
  return result;
}

/** A fresh gateway under gateway-projected with --cpu-prof: its cold warm-up curve, then where steady-state CPU goes. */
async function profileGateway(emulator: ServerProcess): Promise<{ files: string[]; curve: WarmupCurve }> {
  const directory = join(ROOT, '.bench/profile');
  mkdirSync(directory, { recursive: true });
  const port = await freePort();
  const spawned = Date.now();
  const profiled = await startServer(
    'gateway (profiled)',
    SERVERS.gateway.script,
    { ...SERVERS.gateway.env(emulator.url), PORT: String(port) },
    port,
    ['--cpu-prof', `--cpu-prof-dir=${directory}`],
  );
  const before = new Set(readdirSync(directory));
  const profiledCase = CASES.find((c) => c.name === flags['profile-case'] && c.server === 'gateway');
  if (!profiledCase) throw new Error(`--profile-case: "${flags['profile-case']}" is not a case of the default gateway`);
  const target: Target = { spec: profiledCase, server: profiled, emulator, request: profiledCase.request(profiled) };
  await checkAnswer(target);
  const curve = await warmUp(target, WARMUP, CONNECTIONS);
  const warmedAfterMs = Date.now() - spawned;
  await measureSlice(target, DURATION, CONNECTIONS);
  await profiled.stop();
  const files = readdirSync(directory)
    .filter((file) => !before.has(file) && file.endsWith('.cpuprofile'))
    .map((file) => join('.bench/profile', file));
  printWarmup({ [`${profiledCase.name} (cold)`]: curve });
  console.log(
    `\nWhere the gateway's CPU goes after the warm-up (the first ${fixed(warmedAfterMs / 1000, 1)} s skipped):`,
  );
  for (const file of files) printProfileSummary(join(ROOT, file), warmedAfterMs);
  return { files, curve, ...(files[0] && { shares: summarizeProfile(join(ROOT, files[0]), warmedAfterMs).shares }) };
}

async function main() {
  const only = flags.only ? flags.only.split(',').map((name) => name.trim()) : CASES.map((c) => c.name);
  for (const name of only)
    if (!CASES.some((c) => c.name === name))
      throw new Error(`--only: unknown case "${name}"; known: ${CASES.map((c) => c.name).join(', ')}`);
  const selected = CASES.filter((c) => only.includes(c.name));

  buildProduct();
  if (flags.rolling) {
    const out = flags.out === '.bench/latest.json' ? '.bench/rolling.json' : flags.out!;
    if (
      !(await runRollingBench({ rotations: Number(flags.rotations), drainDelayMs: Number(flags['drain-delay']), out }))
    )
      process.exitCode = 1;
    return;
  }
  const servers = await startServers(selected);
  const write = (report: Record<string, unknown>) => {
    mkdirSync(dirname(flags.out!), { recursive: true });
    writeFileSync(flags.out!, `${JSON.stringify({ machine, ...report }, null, 2)}\n`);
  };
  try {
    if (flags.soak) {
      const soak = await runSoak(servers['gateway-soak']!, servers.emulator, {
        durationSeconds: Number(flags.duration ?? 90),
        connections: CONNECTIONS,
      });
      write({ soak });
      if (!soak.passed) process.exitCode = 1;
      return;
    }

    const targets = selected.map((spec) => targetOf(spec, servers));
    for (const target of targets) await checkAnswer(target);
    const memoryAtStart = servers.gateway ? memoryMiB(servers.gateway.pid).rss : NaN;

    const warmup: Record<string, WarmupCurve> = {};
    for (const target of targets) {
      process.stderr.write(`warm-up: ${target.spec.name} (${WARMUP} s)…\n`);
      warmup[target.spec.name] = await warmUp(target, WARMUP, CONNECTIONS);
    }
    printWarmup(warmup);

    const settings = `${CONNECTIONS} connections; per block a lead-in of ${LEAD_IN}–${LEAD_IN_MAX} rounds of 1 s per member until steady, then ${SLICES} rounds (${3 * SLICES} with a case measured beside another) of ${SLICE_SECONDS} s per member, the floor in each`;
    const runs: Array<Record<string, CaseRun>> = [];
    const allocation: Record<string, number> = {};
    for (let run = 0; run < RUNS; run++) {
      runs.push(await measureRun(run, targets, run === RUNS - 1 ? allocation : undefined));
      printRun(run, runs.at(-1)!, settings);
    }
    // The main gateway's RSS, or gateway-wide's where larger: moving that case to its own process
    // must not take its memory out of the goal.
    const gatewayMemories = [servers.gateway, servers['gateway-wide']].flatMap((server) =>
      server ? [memoryMiB(server.pid)] : [],
    );
    const memory =
      gatewayMemories.length === 0
        ? undefined
        : {
            startMiB: memoryAtStart,
            afterMiB: Math.max(...gatewayMemories.map(({ rss }) => rss)),
            peakMiB: Math.max(...gatewayMemories.map(({ peak }) => peak)),
          };

    const summary = summarize(runs, allocation);
    printSummary(summary, RUNS);
    const goalRows = goals(summary, memory);
    printGoals(goalRows, memory);

    let memoryVariants: VariantResult[] | undefined;
    if (flags.memory || !flags.only) {
      memoryVariants = await measureMemoryVariants(servers.emulator, {
        sliceSeconds: SLICE_SECONDS,
        connections: CONNECTIONS,
        warmupSeconds: WARMUP,
      });
      printMemoryVariants(memoryVariants);
    }

    const projection = measureProjectionCost();
    console.log(
      `\nprojection cost, ${projection.fields}-field operation: ${fixed(projection.uncachedMicros)} µs first request of a document, ${fixed(projection.cachedMicros)} µs cached (target < 20 µs)`,
    );

    const profile = flags.profile ? await profileGateway(servers.emulator) : undefined;

    write({
      settings: {
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        slices: SLICES,
        sliceSeconds: SLICE_SECONDS,
        leadInSeconds: { min: LEAD_IN, max: LEAD_IN_MAX },
        warmupSeconds: WARMUP,
        runs: RUNS,
      },
      warmup,
      runs,
      allocationBytesPerRequest: allocation,
      summary,
      goals: goalRows,
      memory,
      memoryVariants,
      projection,
      profile,
    });
    console.log(
      `\nmachine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Node ${machine.node}; report written to ${flags.out}`,
    );
  } finally {
    stopLoadGenerator();
    for (const server of Object.values(servers)) await server?.stop();
  }
}

if (flags.supergraph) {
  // Its own bench (test/bench/supergraph.ts): the entity cache under supergraph traffic.
  const { runSupergraphBench } = await import('./supergraph.js');
  await runSupergraphBench({
    durationSeconds: Number(flags.duration ?? 10),
    connections: Number(flags.connections),
    out: flags.out === '.bench/latest.json' ? '.bench/supergraph.json' : flags.out!,
  });
} else {
  await main();
}
