/**
 * `npm run bench -- --soak`: mixed traffic (successes, 401s, 403s, upstream faults) for 60 s,
 * reporting unexpected answers and how the gateway's memory moved while it ran.
 */
import { memoryMiB, runLoad, type ServerProcess } from './processes.js';

export interface SoakReport {
  durationSeconds: number;
  requests: number;
  rps: number;
  unexpected: number;
  transportErrors: number;
  totals: Record<string, number>;
  examples: string[];
  rssMiB: { afterWarmup: number; end: number; growth: number; peak: number; everyTenSeconds: number[] };
}

export async function runSoak(
  gateway: ServerProcess,
  _emulator: ServerProcess,
  options: { durationSeconds: number; connections: number },
): Promise<SoakReport> {
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(memoryMiB(gateway.pid).rss), 1_000);
  process.stderr.write(`soak: ${options.durationSeconds} s of mixed traffic at ${options.connections} connections…\n`);
  const load = (await runLoad(
    { url: gateway.url, durationSeconds: options.durationSeconds, connections: options.connections },
    'test/bench/soak-load.ts',
  )) as Awaited<ReturnType<typeof runLoad>> & {
    totals: Record<string, number>;
    unexpected: number;
    examples: string[];
  };
  clearInterval(sampler);
  // The first seconds fill caches and pools; growth is judged from there to the end.
  const afterWarmup = samples[Math.min(5, samples.length - 1)] ?? NaN;
  const end = memoryMiB(gateway.pid);
  const report: SoakReport = {
    durationSeconds: options.durationSeconds,
    requests: load.requests,
    rps: load.rps,
    unexpected: load.unexpected,
    transportErrors: load.errors,
    totals: load.totals,
    examples: load.examples,
    rssMiB: {
      afterWarmup,
      end: end.rss,
      growth: end.rss - afterWarmup,
      peak: end.peak,
      everyTenSeconds: samples.filter((_, i) => i % 10 === 9).map((v) => Math.round(v)),
    },
  };
  console.log('\n### Soak\n');
  console.log(
    '| requests | req/s | unexpected answers | transport errors | RSS after warm-up | RSS at end | growth | peak |',
  );
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  console.log(
    `| ${report.requests} | ${report.rps.toFixed(0)} | ${report.unexpected} | ${report.transportErrors} | ${afterWarmup.toFixed(1)} MiB | ${end.rss.toFixed(1)} MiB | ${report.rssMiB.growth.toFixed(1)} MiB | ${end.peak.toFixed(1)} MiB |`,
  );
  console.log(`\nRSS every 10 s (MiB): ${report.rssMiB.everyTenSeconds.join(' → ')}`);
  console.log(
    `\nby kind: ${Object.entries(report.totals)
      .map(([kind, count]) => `${kind} ${count}`)
      .join(', ')}`,
  );
  for (const example of report.examples) console.log(`unexpected: ${example}`);
  return report;
}
