/**
 * How one case is measured, fairly: an uncounted warm-up read second by second (the warm-up curve,
 * so the report shows the JIT reached steady state), a lead-in before each block (run.ts), then
 * short measured slices that run.ts takes in rounds with the floor's, each slice reading the
 * server's CPU from /proc and the emulator's counters before and after.
 */
import { STATS_PATH } from '../../src/emulator/server.js';
import type { BenchCase, LoadRequest } from './cases.js';
import { cpuMs, othersCpuMs, startLoadWorker, untilQuiet, type LoadWorker, type ServerProcess } from './processes.js';

export interface SliceResult {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuMsPerRequest: number;
  upstreamBytesPerRequest: number;
  errors: number;
  /**
   * CPU the other servers used during the slice, in % of one core: work nobody asked of them then
   * (collections after an earlier case's load) competes with the server measured on two cores. The
   * emulator is not counted for a case that calls it.
   */
  othersBusyPercent: number;
}

export interface WarmupCurve {
  /** CPU ms per request of the server, second by second from the first request of the warm-up. */
  cpuMsPerRequest: number[];
  /** The first second from which every later one stays within 15 % of the last three's median. */
  steadyFromSecond: number | null;
}

export interface Target {
  spec: BenchCase;
  server: ServerProcess;
  emulator: ServerProcess;
  request: LoadRequest;
}

let worker: LoadWorker | undefined;
/** The one load generator every case's warm-up, slices and allocation window share. */
const loadGenerator = () => (worker ??= startLoadWorker());
export function stopLoadGenerator(): void {
  worker?.stop();
  worker = undefined;
}

export async function emulatorStats(
  emulator: ServerProcess,
): Promise<{ ticketRequests: number; responseBytes: number }> {
  const response = await fetch(`${emulator.url}${STATS_PATH}`);
  return (await response.json()) as { ticketRequests: number; responseBytes: number };
}

/** One request, checked, before anything is measured: a wrong answer fails the whole run. */
export async function checkAnswer(target: Target): Promise<void> {
  const { url, method, headers, body } = target.request;
  const servedBefore = target.spec.fastPath ? await fastPathServed(url) : 0;
  const response = await fetch(url, { method, headers, body });
  const answer = await response.json();
  if (!target.spec.correct(answer))
    throw new Error(`${target.spec.name}: wrong answer before measuring: ${JSON.stringify(answer).slice(0, 400)}`);
  // A case meant for the trusted documents' fast path must be served by it, not fall through to Yoga.
  if (target.spec.fastPath && (await fastPathServed(url)) !== servedBefore + 1)
    throw new Error(
      `${target.spec.name}: the trusted documents fast path did not serve it (see trusted_fast_path_requests_total)`,
    );
}

/** The gateway's count of requests its trusted documents fast path served, from /metrics. */
async function fastPathServed(graphqlUrl: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', graphqlUrl))).text();
  return Number(/^trusted_fast_path_requests_total\{outcome="served"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

export async function warmUp(target: Target, seconds: number, connections: number): Promise<WarmupCurve> {
  const curve: number[] = [];
  let lastCpu = cpuMs(target.server.pid);
  let lastRequests = 0;
  await loadGenerator().run({ ...target.request, connections, durationSeconds: seconds, tickMs: 1000 }, (requests) => {
    const cpu = cpuMs(target.server.pid);
    if (requests > lastRequests) curve.push((cpu - lastCpu) / (requests - lastRequests));
    lastCpu = cpu;
    lastRequests = requests;
  });
  return { cpuMsPerRequest: curve, steadyFromSecond: steadyFrom(curve) };
}

function steadyFrom(curve: number[]): number | null {
  if (curve.length < 4) return null;
  const reference = median(curve.slice(-3));
  let from = curve.length - 3;
  while (from > 0 && Math.abs(curve[from - 1]! - reference) <= 0.15 * reference) from--;
  return from + 1;
}

/** What run.ts measures together: a case, the cases measured beside it, and the floor (when selected). */
export interface Block {
  floor: Target | undefined;
  /** The block's case first, then those measured beside it (`measuredBeside`). */
  cases: Target[];
}

/** Everything a block measures: the floor first (when selected), then its cases. */
export function membersOf(block: Block): Target[] {
  return [...(block.floor ? [block.floor] : []), ...block.cases];
}

/** A case's lead-in: the block's uncounted load, second by second, until its CPU per request stops falling. */
export interface LeadIn {
  /** The case's CPU ms per request, one value per second of load. */
  cpuMsPerRequest: number[];
  /** The floor's, in the same rounds (absent without a floor). */
  floorCpuMsPerRequest?: number[];
  /** Whether it had levelled off (`levelledOff`) at its last second; false: measured anyway, and so reported. */
  steady: boolean;
}

/** The shortest lead-in `levelledOff` can judge: two medians of three seconds. */
export const SHORTEST_LEAD_IN_SECONDS = 6;

/**
 * Uncounted load of a block before its slices, in rounds of one second per member, until every case
 * of the block has stopped getting cheaper (at least `minSeconds`, at most `maxSeconds`). A server
 * that sat idle while other blocks were measured pays up to twice its steady CPU per request for its
 * first seconds back under load: V8 shrinks an idle heap's young generation (a gateway idle for 35 s
 * made four times the scavenges over its next 15,000 requests, back to normal only after about 8 s
 * of load), and the silent gateway sits idle through every other block, so no fixed lead-in fits
 * every idle time and case. A case is judged by its CPU per request over the floor's in the same
 * round: the floor is in every block, so it stays warm, and the ratio takes out the machine's own
 * drift, most of the noise from one second to the next. Without a floor, by its own CPU.
 */
export async function leadIn(
  block: Block,
  minSeconds: number,
  maxSeconds: number,
  connections: number,
): Promise<LeadIn[]> {
  const members = membersOf(block);
  const curves = new Map(members.map((target) => [target, [] as number[]]));
  const floorCurve = block.floor && curves.get(block.floor)!;
  const judged = (target: Target) => {
    const own = curves.get(target)!;
    return floorCurve ? own.map((cpu, second) => cpu / floorCurve[second]!) : own;
  };
  const steady = () => block.cases.every((target) => levelledOff(judged(target)));
  for (let second = 0; second < maxSeconds && (second < minSeconds || !steady()); second++)
    for (const target of members)
      curves.get(target)!.push((await measureSlice(target, 1, connections)).cpuMsPerRequest);
  return block.cases.map((target) => ({
    cpuMsPerRequest: curves.get(target)!,
    ...(floorCurve && { floorCpuMsPerRequest: floorCurve }),
    steady: levelledOff(judged(target)),
  }));
}

/**
 * Whether a lead-in curve has stopped falling: the median of its last three seconds is at most 5 %
 * below the median of the three before. Medians of three, since single seconds on this shared
 * machine move ±30 % from one to the next; a curve still coming back from idle falls by more. A
 * second without requests (NaN) counts as not yet steady.
 */
export function levelledOff(curve: readonly number[]): boolean {
  if (curve.length < SHORTEST_LEAD_IN_SECONDS || curve.slice(-SHORTEST_LEAD_IN_SECONDS).some(Number.isNaN))
    return false;
  return median(curve.slice(-3)) >= 0.95 * median(curve.slice(-6, -3));
}

export async function measureSlice(target: Target, seconds: number, connections: number): Promise<SliceResult> {
  // The previous slice's last in-flight requests, and what they leave behind, finish first.
  await untilQuiet();
  const statsBefore = await emulatorStats(target.emulator);
  const working = new Set([target.server.pid, ...(target.spec.upstream ? [target.emulator.pid] : [])]);
  const othersBefore = othersCpuMs(working);
  const cpuBefore = cpuMs(target.server.pid);
  const started = performance.now();
  const load = await loadGenerator().run({ ...target.request, connections, durationSeconds: seconds });
  const cpuAfter = cpuMs(target.server.pid);
  const othersBusyPercent = ((othersCpuMs(working) - othersBefore) / (performance.now() - started)) * 100;
  const statsAfter = await emulatorStats(target.emulator);
  const upstreamRequests = statsAfter.ticketRequests - statsBefore.ticketRequests;
  return {
    requests: load.requests,
    rps: load.rps,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    cpuMsPerRequest: load.requests ? (cpuAfter - cpuBefore) / load.requests : NaN,
    upstreamBytesPerRequest: upstreamRequests
      ? (statsAfter.responseBytes - statsBefore.responseBytes) / upstreamRequests
      : 0,
    errors: load.errors + load.non2xx,
    othersBusyPercent,
  };
}

/** Bytes the server's V8 heap allocated per request over `seconds` of this case's load (the probe counts). */
export async function allocationPerRequest(target: Target, seconds: number, connections: number): Promise<number> {
  await target.server.ask('alloc-begin');
  const load = await loadGenerator().run({ ...target.request, connections, durationSeconds: seconds });
  const { allocatedBytes } = await target.server.ask<{ allocatedBytes: number }>('alloc-end');
  // Requests still in flight when the load stopped are counted in bytes but not in requests: with
  // thousands of requests per window that is well under 1 %.
  return load.requests ? allocatedBytes / load.requests : NaN;
}

export function median(values: number[]): number {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** (max − min) / median, the spread a reader should allow for. */
export function spread(values: number[]): number {
  const present = values.filter((value) => !Number.isNaN(value));
  if (present.length < 2) return 0;
  return (Math.max(...present) - Math.min(...present)) / median(present);
}
