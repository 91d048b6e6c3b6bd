/**
 * `npm run bench -- --soak`: 60 s (or --duration) of two mixes at once against one compiled gateway
 * with the production defaults for every limit —
 * - honest traffic (soak-load.ts: successes, 401s, 403s, upstream faults), and
 * - adversarial traffic (soak-adversary.ts: random @skip/@include variables, new documents,
 *   alias-heavy and introspection queries at and past the limits, malformed Host and GET
 *   parameters, bad `_entities` representations, trickled bodies, slowloris and stalled bodies) —
 * every answer checked for the outcome its request must get. The caches keyed by client input (Yoga's
 * parse caches, the projection cache) are filled to their bounds first, so the soak watches them
 * full and evicting. Meanwhile the gateway's RSS is sampled
 * every second, its projection cache's size every 5 s (its /metrics gauge), and `/health` timed
 * every half second.
 *
 * It passes when nothing unexpected was answered (no 5xx at all), `/health` always answered, the
 * projection cache stayed within its bound, RSS was flat — after a 20 s warm-up, the highest sample
 * of the last third at most flatMarginMiB above the highest of the first third — and the live heap
 * (after a forced full collection, at the end of the warm-up and of each third) did not grow. The
 * two differ: V8 sized by a machine's whole memory (no --max-old-space-size) lets garbage pile up
 * between full collections, so RSS can climb with a flat live heap; a leak raises both.
 */
import { loadConfig } from '../../src/config.js';
import { PROJECTION_CACHE_MAX_ENTRIES } from '../../src/projection/response-fields.js';
import { median } from './measure.js';
import { memoryMiB, runLoad, type ServerProcess } from './processes.js';

const WARMUP_SECONDS = 20;
/** How far the last third's highest RSS may rise over the first third's: 16 MiB or 10 %, the larger. */
const flatMarginMiB = (firstThirdMax: number) => Math.max(16, firstThirdMax * 0.1);
/** How far the live heap may rise from the warm-up's end to the run's: 8 MiB or 10 %, the larger. */
const LIVE_HEAP_MARGIN_MIB = 8;
const HEALTH_EVERY_MS = 500;
const HEALTH_TIMEOUT_MS = 5_000;

interface MixResult {
  requests: number;
  totals: Record<string, number>;
  unexpected: number;
  examples: string[];
}

export interface SoakReport {
  durationSeconds: number;
  passed: boolean;
  failures: string[];
  fill: MixResult;
  honest: MixResult & { rps: number; fiveXX: number; transportErrors: number };
  adversarial: MixResult & { statuses: Record<string, number>; held: Record<string, unknown> };
  rss: {
    everySecondMiB: number[];
    firstThirdMaxMiB: number;
    lastThirdMaxMiB: number;
    marginMiB: number;
    flat: boolean;
    peakMiB: number;
    /** The heap in use after a full collection: at the end of the warm-up, then of each third. */
    liveHeapMiB: number[];
    /** V8's committed heap just before each of those collections. */
    heapTotalMiB: number[];
    /** The live heap at the end within LIVE_HEAP_MARGIN of the warm-up's: no leak, whatever RSS did. */
    liveHeapFlat: boolean;
  };
  projectionCache: { bound: number; everyFiveSeconds: number[] };
  health: { probes: number; failures: number; p50Ms: number; p99Ms: number; maxMs: number };
}

export async function runSoak(
  gateway: ServerProcess,
  _emulator: ServerProcess,
  options: { durationSeconds: number; connections: number },
): Promise<SoakReport> {
  const { http } = loadConfig({});
  const adversaryOptions = {
    url: gateway.url,
    durationSeconds: options.durationSeconds,
    workers: 8,
    slowloris: 50,
    stalledBodies: 10,
    headersTimeoutMs: http.headersTimeoutMs,
    requestTimeoutMs: http.requestTimeoutMs,
  };
  process.stderr.write('soak: filling the caches keyed by client input to their bounds…\n');
  const fill = (await runLoad(
    { ...adversaryOptions, fill: true },
    'test/bench/soak-adversary.ts',
  )) as unknown as MixResult;
  const rss: number[] = [];
  const sampler = setInterval(() => rss.push(memoryMiB(gateway.pid).rss), 1_000);
  const cacheSizes: number[] = [];
  // Read from the gateway's own gauge: the compiled gateway is one bundle, so no module of it can be
  // reached from outside to ask.
  const cacheSampler = setInterval(async () => {
    const text = await fetch(`${gateway.url}/metrics`)
      .then((response) => response.text())
      .catch(() => '');
    cacheSizes.push(Number(/^gateway_projection_cache_entries (\S+)$/m.exec(text)?.[1] ?? NaN));
  }, 5_000);
  // The heap still in use after a full collection, at the end of the warm-up and of each third after
  // it: a leak shows there even when RSS has room to hide it. Only three forced collections, so the
  // RSS trajectory stays the gateway's own.
  const liveHeap: number[] = [];
  /** What the process held just before each forced collection: V8's committed heap beside RSS. */
  const heapTotal: number[] = [];
  const thirdSeconds = (options.durationSeconds - WARMUP_SECONDS) / 3;
  const liveHeapTimers = [0, 1, 2, 2.9].map((k) =>
    setTimeout(
      async () => {
        const { memory } = await gateway.ask<{ memory: NodeJS.MemoryUsage }>('memory');
        heapTotal.push(Math.round((memory.heapTotal / 2 ** 20) * 10) / 10);
        const { liveHeapBytes } = await gateway.ask<{ liveHeapBytes: number }>('live-heap');
        liveHeap.push(Math.round((liveHeapBytes / 2 ** 20) * 10) / 10);
      },
      (WARMUP_SECONDS + k * thirdSeconds) * 1000,
    ),
  );
  const health = { latencies: [] as number[], failures: 0 };
  const healthProbe = setInterval(async () => {
    const started = performance.now();
    try {
      const response = await fetch(`${gateway.url}/health`, { signal: AbortSignal.timeout(HEALTH_TIMEOUT_MS) });
      await response.arrayBuffer();
      if (response.status !== 200) health.failures++;
    } catch {
      health.failures++;
    }
    health.latencies.push(performance.now() - started);
  }, HEALTH_EVERY_MS);

  process.stderr.write(
    `soak: ${options.durationSeconds} s of honest traffic at ${options.connections} connections and adversarial traffic beside it…\n`,
  );
  const [honest, adversarial] = (await Promise.all([
    runLoad(
      { url: gateway.url, durationSeconds: options.durationSeconds, connections: options.connections },
      'test/bench/soak-load.ts',
    ),
    runLoad(adversaryOptions, 'test/bench/soak-adversary.ts'),
  ])) as unknown as [SoakReport['honest'] & { errors: number }, SoakReport['adversarial']];
  clearInterval(sampler);
  clearInterval(cacheSampler);
  clearInterval(healthProbe);
  for (const timer of liveHeapTimers) clearTimeout(timer);

  const measured = rss.slice(WARMUP_SECONDS);
  const third = Math.max(1, Math.floor(measured.length / 3));
  const firstThirdMaxMiB = Math.max(...measured.slice(0, third));
  const lastThirdMaxMiB = Math.max(...measured.slice(-third));
  const marginMiB = flatMarginMiB(firstThirdMaxMiB);
  const flat = lastThirdMaxMiB <= firstThirdMaxMiB + marginMiB;
  const sorted = [...health.latencies].sort((a, b) => a - b);
  const liveHeapFlat =
    liveHeap.length >= 2 && liveHeap.at(-1)! <= liveHeap[0]! + Math.max(LIVE_HEAP_MARGIN_MIB, liveHeap[0]! * 0.1);

  const failures: string[] = [];
  if (fill.unexpected > 0) failures.push(`${fill.unexpected} unexpected answers while filling the caches`);
  if (honest.unexpected > 0) failures.push(`${honest.unexpected} unexpected answers to honest traffic`);
  if (honest.fiveXX > 0) failures.push(`${honest.fiveXX} 5xx answers to honest traffic`);
  if (adversarial.unexpected > 0) failures.push(`${adversarial.unexpected} unexpected answers to adversarial traffic`);
  if (!flat)
    failures.push(
      `RSS not flat: ${lastThirdMaxMiB.toFixed(1)} MiB in the last third, over ${firstThirdMaxMiB.toFixed(1)} + ${marginMiB.toFixed(1)} MiB`,
    );
  if (!liveHeapFlat) failures.push(`live heap grew: ${liveHeap.join(' → ')} MiB after full collections`);
  if (cacheSizes.some((size) => !(size <= PROJECTION_CACHE_MAX_ENTRIES)))
    failures.push(
      `projection cache over ${PROJECTION_CACHE_MAX_ENTRIES} entries (or unreadable): ${cacheSizes.join(', ')}`,
    );
  if (health.failures > 0)
    failures.push(`/health failed ${health.failures} times (non-200 or over ${HEALTH_TIMEOUT_MS} ms)`);

  const report: SoakReport = {
    durationSeconds: options.durationSeconds,
    passed: failures.length === 0,
    failures,
    fill,
    honest: {
      requests: honest.requests,
      rps: honest.rps,
      totals: honest.totals,
      unexpected: honest.unexpected,
      fiveXX: honest.fiveXX,
      transportErrors: honest.errors,
      examples: honest.examples,
    },
    adversarial,
    rss: {
      everySecondMiB: rss.map((v) => Math.round(v * 10) / 10),
      firstThirdMaxMiB,
      lastThirdMaxMiB,
      marginMiB,
      flat,
      peakMiB: memoryMiB(gateway.pid).peak,
      liveHeapMiB: liveHeap,
      heapTotalMiB: heapTotal,
      liveHeapFlat,
    },
    projectionCache: { bound: PROJECTION_CACHE_MAX_ENTRIES, everyFiveSeconds: cacheSizes },
    health: {
      probes: sorted.length,
      failures: health.failures,
      p50Ms: median(sorted),
      p99Ms: sorted[Math.floor(sorted.length * 0.99)] ?? NaN,
      maxMs: sorted.at(-1) ?? NaN,
    },
  };
  printSoak(report);
  return report;
}

function printSoak(report: SoakReport): void {
  const { honest, adversarial, rss, health } = report;
  const byKind = (totals: Record<string, number>) =>
    Object.entries(totals)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ');
  console.log('\n### Soak\n');
  console.log('| mix | requests | unexpected | 5xx |');
  console.log('| --- | ---: | ---: | ---: |');
  console.log(
    `| honest (${honest.rps.toFixed(0)} req/s) | ${honest.requests} | ${honest.unexpected} | ${honest.fiveXX} |`,
  );
  const adversarialFiveXX = Object.entries(adversarial.statuses)
    .filter(([status]) => Number(status) >= 500)
    .reduce((sum, [, count]) => sum + count, 0);
  console.log(`| adversarial | ${adversarial.requests} | ${adversarial.unexpected} | ${adversarialFiveXX} |`);
  console.log(`\nfill (before the timed soak), by kind: ${byKind(report.fill.totals)}`);
  console.log(`honest, by kind: ${byKind(honest.totals)}`);
  console.log(`adversarial, by kind: ${byKind(adversarial.totals)}`);
  console.log(`adversarial, by status: ${byKind(adversarial.statuses)}`);
  console.log(`held connections: ${JSON.stringify(adversarial.held)}`);
  const everyFive = rss.everySecondMiB.filter((_, i) => i % 5 === 4).map((v) => v.toFixed(0));
  console.log(`\nRSS every 5 s (MiB): ${everyFive.join(' → ')}`);
  console.log(
    `live heap after a full GC, at the end of the warm-up and of each third (MiB): ${rss.liveHeapMiB.join(' → ')} (flat: ${rss.liveHeapFlat ? 'yes' : 'NO'}); V8's committed heap just before: ${rss.heapTotalMiB.join(' → ')}`,
  );
  console.log(
    `RSS flat: ${rss.flat ? 'yes' : 'NO'} — highest in the last third ${rss.lastThirdMaxMiB.toFixed(1)} MiB, in the first ${rss.firstThirdMaxMiB.toFixed(1)} MiB (margin ${rss.marginMiB.toFixed(1)} MiB; first ${WARMUP_SECONDS} s left out); peak ${rss.peakMiB.toFixed(1)} MiB`,
  );
  console.log(
    `projection cache entries every 5 s (bound ${report.projectionCache.bound}): ${report.projectionCache.everyFiveSeconds.join(' → ')}`,
  );
  console.log(
    `/health: ${health.probes} probes, p50 ${health.p50Ms.toFixed(1)} ms, p99 ${health.p99Ms.toFixed(1)} ms, max ${health.maxMs.toFixed(1)} ms, ${health.failures} failed`,
  );
  for (const example of [...report.fill.examples, ...honest.examples, ...adversarial.examples])
    console.log(`unexpected: ${example}`);
  console.log(report.passed ? '\nsoak passed' : `\nsoak FAILED: ${report.failures.join('; ')}`);
}
