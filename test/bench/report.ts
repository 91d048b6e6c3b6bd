/**
 * The benchmark's report: per-run tables, the summary the README's table is filled from (medians
 * across runs, with their spread; ratios to the floor as the median of every slice's ratio to the
 * floor slice of its round), and the goals of issue 13, misses stated as misses.
 */
import { FLOOR } from './cases.js';
import type { LeadIn, SliceResult, WarmupCurve } from './measure.js';
import { median, spread } from './measure.js';
import type { VariantResult } from './memory.js';

export interface CaseRun extends SliceResult {
  /** Every slice of the run, one per round, in the order measured. */
  slices: SliceResult[];
  /** The floor slice of each of the rounds of `slices` (absent for the floor itself, or without a floor). */
  floorSlices?: SliceResult[];
  /** The case's uncounted lead-in in this run (absent for the floor, which is in every block). */
  leadIn?: LeadIn;
  /**
   * The case this one was measured beside (`measuredBeside`), round for round: that case's
   * `slices[i]` and this one's come from the same round.
   */
  beside?: string;
}

/** The rounds' pairs `[over[i], under[i]]`, leaving out a round where either answered nothing (no CPU per request). */
function answeredRounds(over: SliceResult[], under: SliceResult[]): Array<[SliceResult, SliceResult]> {
  return under.flatMap((below, i) => {
    const above = over[i]!;
    return above.requests > 0 && below.requests > 0 ? [[above, below] as [SliceResult, SliceResult]] : [];
  });
}

/** Round by round, `over[i][key] / under[i][key]`, over the rounds where both answered. */
function roundRatios(over: SliceResult[], under: SliceResult[], key: 'cpuMsPerRequest' | 'rps'): number[] {
  return answeredRounds(over, under).map(([above, below]) => above[key] / below[key]);
}

/** Each slice's value over the floor slice of its round. */
const pairedRatios = (run: CaseRun, key: 'cpuMsPerRequest' | 'rps') =>
  roundRatios(run.slices, run.floorSlices ?? [], key);

/** For each round, the CPU per request of the case measured beside over this one's. */
function besideOverOwn(run: Record<string, CaseRun>, name: string): number[] {
  const own = run[name];
  const other = own?.beside === undefined ? undefined : run[own.beside];
  return own && other ? roundRatios(other.slices, own.slices, 'cpuMsPerRequest') : [];
}

/** CPU per request over all of a case's slices together, against all the floor slices of their rounds. */
function pooledCpuRatio(runs: CaseRun[]): number {
  let own = 0;
  let ownRequests = 0;
  let floor = 0;
  let floorRequests = 0;
  for (const run of runs)
    for (const [slice, floorSlice] of answeredRounds(run.slices, run.floorSlices ?? [])) {
      own += slice.cpuMsPerRequest * slice.requests;
      ownRequests += slice.requests;
      floor += floorSlice.cpuMsPerRequest * floorSlice.requests;
      floorRequests += floorSlice.requests;
    }
  return floorRequests ? own / ownRequests / (floor / floorRequests) : NaN;
}

export interface CaseSummary {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  upstreamBytesPerRequest: number;
  cpuMsPerRequest: number;
  /** (max − min) / median of the runs' CPU per request. */
  cpuSpread: number;
  /** The median, over every run's slices, of the slice's CPU per request over the floor slice's beside it. */
  cpuVsFloor: number | null;
  /**
   * All the case's slices against all the floor slices beside them, as totals: unlike the median it
   * keeps the rare expensive slice (an old-generation collection) in, so the two side by side show
   * whether the median hides a tail.
   */
  cpuVsFloorPooled: number | null;
  rpsVsFloor: number | null;
  /**
   * For a case measured beside another: the median, over every round, of the other's CPU per request
   * over this one's. For gateway-projected-silent: what info logging multiplies a request's CPU by.
   */
  besideOverOwnCpu: number | null;
  allocatedKBPerRequest: number | null;
  /** Errors and non-2xx answers over every slice of every run. */
  errors: number;
}

export const fixed = (value: number | null | undefined, digits = 2) =>
  value === null || value === undefined || Number.isNaN(value) ? '—' : value.toFixed(digits);

export function summarize(
  runs: Array<Record<string, CaseRun>>,
  allocation: Record<string, number>,
): Record<string, CaseSummary> {
  const names = Object.keys(runs[0] ?? {});
  const across = (name: string, pick: (run: CaseRun) => number) =>
    median(
      runs
        .map((run) => run[name])
        .filter(Boolean)
        .map((run) => pick(run!)),
    );
  const summary: Record<string, CaseSummary> = {};
  for (const name of names) {
    const own = runs.flatMap((run) => (run[name] ? [run[name]!] : []));
    // The floor is 1 × itself; a case measured without floor slices beside it has no ratio.
    const vsFloor = (ratio: () => number) => (name === FLOOR ? 1 : own.some((run) => run.floorSlices) ? ratio() : null);
    const paired = (key: 'cpuMsPerRequest' | 'rps') =>
      vsFloor(() => median(own.flatMap((run) => pairedRatios(run, key))));
    summary[name] = {
      rps: across(name, (r) => r.rps),
      p50Ms: across(name, (r) => r.p50Ms),
      p99Ms: across(name, (r) => r.p99Ms),
      upstreamBytesPerRequest: across(name, (r) => r.upstreamBytesPerRequest),
      cpuMsPerRequest: across(name, (r) => r.cpuMsPerRequest),
      cpuSpread: spread(runs.map((run) => run[name]?.cpuMsPerRequest ?? NaN)),
      cpuVsFloor: paired('cpuMsPerRequest'),
      cpuVsFloorPooled: vsFloor(() => pooledCpuRatio(own)),
      rpsVsFloor: paired('rps'),
      besideOverOwnCpu: own.some((run) => run.beside) ? median(runs.flatMap((run) => besideOverOwn(run, name))) : null,
      allocatedKBPerRequest: allocation[name] === undefined ? null : allocation[name]! / 1024,
      errors: own.reduce((sum, run) => sum + run.errors, 0),
    };
  }
  return summary;
}

export function printRun(index: number, cases: Record<string, CaseRun>, settings: string) {
  console.log(`\n### Run ${index + 1} (${settings}; medians of the slices)\n`);
  console.log(
    '| case | req/s | p50 ms | p99 ms | upstream B/req | CPU ms/req | CPU spread of slices | CPU × floor beside | lead-in CPU ms/req, first → last second | other servers busy, own / floor slices | errors |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, r] of Object.entries(cases)) {
    const floorBusy = r.floorSlices ? ` / ${fixed(median(r.floorSlices.map((s) => s.othersBusyPercent)), 1)} %` : '';
    console.log(
      `| ${name} | ${fixed(r.rps, 0)} | ${fixed(r.p50Ms, 3)} | ${fixed(r.p99Ms, 3)} | ${fixed(r.upstreamBytesPerRequest, 0)} | ${fixed(r.cpuMsPerRequest, 3)} | ±${fixed((spread(r.slices.map((s) => s.cpuMsPerRequest)) * 100) / 2, 0)} % | ${r.floorSlices ? fixed(median(pairedRatios(r, 'cpuMsPerRequest'))) : '—'} | ${describeLeadIn(r.leadIn)} | ${fixed(r.othersBusyPercent, 1)} %${floorBusy} | ${r.errors} |`,
    );
  }
}

/** `0.540 → 0.361 (12 s)`, marked when it reached --lead-in-max still falling; the floor: in every block. */
function describeLeadIn(leadIn: LeadIn | undefined): string {
  if (!leadIn) return 'in every block';
  const curve = leadIn.cpuMsPerRequest;
  return `${fixed(curve[0], 3)} → ${fixed(curve.at(-1), 3)} (${curve.length} s${leadIn.steady ? '' : ', not steady'})`;
}

export function printSummary(summary: Record<string, CaseSummary>, runs: number) {
  console.log(
    `\n### Summary: medians of ${runs} run(s), CPU spread = (max − min) / median across runs; CPU × floor = median of every slice over the floor slice beside it\n`,
  );
  console.log(
    '| case | req/s | p50 ms | p99 ms | upstream B/req | CPU ms/req | CPU × floor | CPU × floor, pooled | req/s × floor | case beside ÷ this, CPU | heap KB/req | CPU spread | errors |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, s] of Object.entries(summary))
    console.log(
      `| ${name} | ${fixed(s.rps, 0)} | ${fixed(s.p50Ms, 3)} | ${fixed(s.p99Ms, 3)} | ${fixed(s.upstreamBytesPerRequest, 0)} | ${fixed(s.cpuMsPerRequest, 3)} | ${fixed(s.cpuVsFloor)} | ${fixed(s.cpuVsFloorPooled)} | ${fixed(s.rpsVsFloor)} | ${fixed(s.besideOverOwnCpu)} | ${fixed(s.allocatedKBPerRequest, 1)} | ${fixed(s.cpuSpread * 100, 0)} % | ${s.errors} |`,
    );
}

export function printWarmup(curves: Record<string, WarmupCurve>) {
  console.log('\n### Warm-up (uncounted): CPU ms per request, second by second\n');
  for (const [name, curve] of Object.entries(curves))
    console.log(
      `${name.padEnd(26)} ${curve.cpuMsPerRequest.map((v) => fixed(v, 3)).join(' ')}  → steady from second ${curve.steadyFromSecond ?? '— (not steady: lengthen --warmup)'}`,
    );
}

export interface Memory {
  startMiB: number;
  afterMiB: number;
  peakMiB: number;
}

export interface Goal {
  goal: string;
  measured: string;
  met: boolean | null;
}

export function goals(summary: Record<string, CaseSummary>, memory: Memory | undefined): Goal[] {
  const ratio = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);
  const rows: Array<[string, number, (v: number) => boolean, (v: number) => string]> = [
    [
      'gateway-trusted CPU/request ≤ 2 × proxy-floor',
      ratio(summary['gateway-trusted']?.cpuVsFloor),
      (v) => v <= 2,
      (v) => `${fixed(v)} ×`,
    ],
    [
      'gateway-trusted throughput ≥ 0.5 × proxy-floor',
      ratio(summary['gateway-trusted']?.rpsVsFloor),
      (v) => v >= 0.5,
      (v) => `${fixed(v)} ×`,
    ],
    [
      'gateway-projected CPU/request ≤ 3 × proxy-floor',
      ratio(summary['gateway-projected']?.cpuVsFloor),
      (v) => v <= 3,
      (v) => `${fixed(v)} ×`,
    ],
    [
      'gateway-typename CPU/request ≤ 1.5 × proxy-floor',
      ratio(summary['gateway-typename']?.cpuVsFloor),
      (v) => v <= 1.5,
      (v) => `${fixed(v)} ×`,
    ],
    [
      'info logging < 5 % of CPU/request against silent',
      // Round for round against the silent gateway measured beside it (cases.ts `measuredBeside`).
      ratio(summary['gateway-projected-silent']?.besideOverOwnCpu) - 1,
      (v) => v < 0.05,
      (v) => `${fixed(v * 100, 1)} %`,
    ],
    [
      'gateway-trusted heap allocated ≤ 50 KB/request',
      summary['gateway-trusted']?.allocatedKBPerRequest ?? NaN,
      (v) => v <= 50,
      (v) => `${fixed(v, 1)} KB`,
    ],
    [
      'gateway-projected p99 < 5 ms at concurrency 10',
      summary['gateway-projected']?.p99Ms ?? NaN,
      (v) => v < 5,
      (v) => `${fixed(v, 3)} ms`,
    ],
    [
      'projected upstream bytes ≤ 0.5 % of the full ticket',
      summary['gateway-projected'] && summary['gateway-full']
        ? summary['gateway-projected'].upstreamBytesPerRequest / summary['gateway-full'].upstreamBytesPerRequest
        : NaN,
      (v) => v <= 0.005,
      (v) => `${fixed(v * 100, 3)} %`,
    ],
    ['gateway RSS after all cases ≤ 120 MiB', memory?.afterMiB ?? NaN, (v) => v <= 120, (v) => `${fixed(v, 1)} MiB`],
    ['gateway RSS peak ≤ 150 MiB', memory?.peakMiB ?? NaN, (v) => v <= 150, (v) => `${fixed(v, 1)} MiB`],
  ];
  // A goal is not met on answers that were not all right: the cases it is computed from (named in
  // it, or listed here) must have answered every request of their slices without an error.
  const computedFrom: Record<string, string[]> = {
    'info logging < 5 % of CPU/request against silent': ['gateway-projected-logged', 'gateway-projected-silent'],
    'projected upstream bytes ≤ 0.5 % of the full ticket': ['gateway-projected', 'gateway-full'],
  };
  const names = Object.keys(summary).sort((a, b) => b.length - a.length);
  return rows.map(([goal, value, met, format]) => {
    const cases = computedFrom[goal] ?? names.filter((name) => goal.includes(name));
    const errors = cases.reduce((sum, name) => sum + (summary[name]?.errors ?? 0), 0);
    if (Number.isNaN(value)) return { goal, measured: 'not measured', met: null };
    return errors > 0
      ? { goal, measured: `${format(value)} (${errors} errors)`, met: false }
      : { goal, measured: format(value), met: met(value) };
  });
}

export function printGoals(rows: Goal[], memory: Memory | undefined) {
  console.log('\n### Goals (medians across runs)\n\n| goal | measured | |\n| --- | ---: | --- |');
  for (const { goal, measured, met } of rows)
    console.log(`| ${goal} | ${measured} | ${met === null ? '' : met ? 'met' : 'MISSED'} |`);
  if (memory)
    console.log(
      `\ngateway RSS: ${fixed(memory.startMiB, 1)} MiB at start, ${fixed(memory.afterMiB, 1)} MiB after all cases, ${fixed(memory.peakMiB, 1)} MiB at peak`,
    );
}

export function printMemoryVariants(variants: VariantResult[]) {
  console.log(
    '\n### Memory: V8 heap settings (NODE_OPTIONS) side by side, each a fresh gateway under projected → wide → projected\n',
  );
  console.log(
    '| NODE_OPTIONS | CPU ms/req | req/s | heap KB/req | RSS after MiB | RSS peak MiB | heap total MiB | new space MiB | old space MiB | code MiB | outside the heap MiB |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const v of variants) {
    const spaces = v.breakdown.spacesMiB;
    console.log(
      `| ${v.variant} | ${fixed(v.cpuMsPerRequest, 3)} | ${fixed(v.rps, 0)} | ${fixed(v.allocatedKBPerRequest, 1)} | ${fixed(v.rssAfterMiB, 1)} | ${fixed(v.rssPeakMiB, 1)} | ${fixed(v.breakdown.heapTotalMiB, 1)} | ${fixed(spaces.new_space, 1)} | ${fixed(spaces.old_space, 1)} | ${fixed(spaces.code_space, 1)} | ${fixed(v.breakdown.outsideHeapMiB, 1)} |`,
    );
  }
}
