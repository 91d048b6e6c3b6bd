/**
 * `npm run bench -- --rolling [--rotations N]`: three compiled replicas behind Debian's nginx,
 * switchTenant at concurrency 20 throughout, every replica replaced N times (default 3) the way an
 * orchestrator does it, then one replica killed with SIGKILL. `--drain-delay MS` (default 5000, the
 * default SHUTDOWN_DRAIN_DELAY_MS) sets the replicas' drain delay. Prints the figures the README quotes
 * and writes them to `--out` (default .bench/rolling.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { findNginx } from '../support/nginx.js';
import { runRollingRestart, type PhaseCounts } from '../support/rolling-restart.js';
import { ROOT } from './processes.js';

export async function runRollingBench(options: {
  rotations: number;
  drainDelayMs: number;
  out: string;
}): Promise<boolean> {
  const nginx = findNginx();
  if (!nginx) throw new Error('--rolling needs nginx (apt-get install nginx-light)');
  const report = await runRollingRestart({
    appDir: ROOT,
    nginxBinary: nginx,
    replicas: 3,
    rotations: options.rotations,
    concurrency: 20,
    probeIntervalMs: 250,
    // The default SHUTDOWN_DRAIN_DELAY_MS; --drain-delay shortens it to see what a balancer slower
    // than the delay costs.
    drainDelayMs: options.drainDelayMs,
    graceMs: 5_000,
    settleMs: 2_000,
    killOne: true,
    progress: (line) => process.stderr.write(`${line}\n`),
  });
  const failed = (counts: PhaseCounts) => counts.requests - counts.ok;
  const kinds = (counts: PhaseCounts) =>
    Object.entries(counts.failures)
      .map(([kind, count]) => `${count} × ${kind}`)
      .join(', ') || '—';
  const readyMs = report.replacementsDetail.map((detail) => detail.readyMs).sort((a, b) => a - b);
  const exitMs = report.replacementsDetail.map((detail) => detail.exitMs).sort((a, b) => a - b);
  const outMs = report.replacementsDetail.map((detail) => detail.outOfRotationMs).sort((a, b) => a - b);
  console.log(`\n### Rolling restart (${report.replicas} replicas behind nginx, concurrency ${report.concurrency})\n`);
  console.log('| phase | requests | failed | failures | retried by nginx |');
  console.log('| --- | ---: | ---: | --- | ---: |');
  console.log(
    `| ${report.rotations} rotations, ${report.replacements} replacements, ${report.durationS.toFixed(0)} s | ${report.rolling.requests} | ${failed(report.rolling)} | ${kinds(report.rolling)} | ${report.rolling.retriedByBalancer} |`,
  );
  if (report.kill)
    console.log(
      `| kill -9 of one replica (reported, not gated), next ${(report.kill.windowMs / 1000).toFixed(1)} s | ${report.kill.requests} | ${failed(report.kill)} | ${kinds(report.kill)} | ${report.kill.retriedByBalancer} |`,
    );
  console.log(
    `\n${report.requestsPerSecond.toFixed(0)} req/s through nginx; drain delay ${report.drainDelayMs} ms, grace ${report.graceMs} ms, /ready polled every ${report.probeIntervalMs} ms (${report.balancerReloads} nginx reloads); ` +
      `new replica ready in ${readyMs[0]}–${readyMs.at(-1)} ms, old one exited (code ${[...new Set(report.replacementsDetail.map((d) => d.exitCode))].join('/')}) ${exitMs[0]}–${exitMs.at(-1)} ms after SIGTERM, out of nginx's rotation ${outMs[0]}–${outMs.at(-1)} ms after SIGTERM`,
  );
  if (report.kill)
    console.log(
      `\nkill -9 of one replica, reported and not gated: ${failed(report.kill)} of ${report.kill.requests} requests failed (${kinds(report.kill)}) — ` +
        `the requests it had in flight, and any nginx sent it before the controller took it out of rotation ${report.kill.outOfRotationMs} ms after the kill.`,
    );
  if (report.rolling.samples.length)
    console.log(`\nfirst failures during the rotations:\n${report.rolling.samples.join('\n')}`);
  if (report.kill?.samples.length)
    console.log(`\nfirst failures after the kill -9:\n${report.kill.samples.join('\n')}`);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, `${JSON.stringify(report, null, 2)}\n`);
  return failed(report.rolling) === 0;
}
