/**
 * `npm run bench:tracing`: what tracing costs. The gateway-projected request (the same operation
 * as `npm run bench`) against two compiled gateways: tracing off, and tracing on with every trace
 * sampled (OTEL_TRACES_SAMPLER=parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=1.0) exporting
 * OTLP/HTTP protobuf to a sink that accepts and counts. Cases alternate for --runs rounds so drift
 * on a shared machine hits both alike.
 *
 * Flags: --duration S (10) --runs N (2) --connections N (10) --out FILE (.bench/tracing.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEMO } from '../../src/emulator/demo-data.js';
import { STATS_PATH } from '../../src/emulator/server.js';
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

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    runs: { type: 'string', default: '2' },
    connections: { type: 'string', default: '10' },
    out: { type: 'string', default: '.bench/tracing.json' },
  },
});
const DURATION = Number(flags.duration);
const QUERY = 'mutation { switchTenant(tenantId: 100002) { accessToken tenant { id name sites { id name } } } }';
const CREDENTIALS = { authorization: `Bearer ${DEMO.appToken}`, 'x-kibo-refresh-token': DEMO.refreshToken };

interface Measured {
  rps: number;
  p99Ms: number;
  cpuMsPerRequest: number;
  rssMiB: number;
}

/** Where the traced gateway exports: accepts every batch, keeps only a count. */
async function startSink(): Promise<{ url: string; requests: () => number; close(): void }> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests++;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => server.close(),
  };
}

async function ticketRequests(emulator: ServerProcess): Promise<number> {
  return ((await (await fetch(`${emulator.url}${STATS_PATH}`)).json()) as { ticketRequests: number }).ticketRequests;
}

async function measure(gateway: ServerProcess, emulator: ServerProcess): Promise<Measured> {
  const request = {
    url: `${gateway.url}/graphql`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...CREDENTIALS },
    body: JSON.stringify({ query: QUERY }),
  };
  const sample = (await (await fetch(request.url, request)).json()) as { data?: { switchTenant?: unknown } };
  if (!sample.data?.switchTenant) throw new Error(`wrong answer before measuring: ${JSON.stringify(sample)}`);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const [cpuBefore, callsBefore] = [cpuMs(gateway.pid), await ticketRequests(emulator)];
  const load = await runLoad({
    ...request,
    connections: Number(flags.connections),
    durationSeconds: DURATION,
    warmupSeconds: Math.min(3, Math.max(1, DURATION / 5)),
  });
  const calls = (await ticketRequests(emulator)) - callsBefore;
  if (load.errors + load.non2xx) throw new Error(`${load.errors + load.non2xx} failed requests`);
  return {
    rps: load.rps,
    p99Ms: load.p99Ms,
    cpuMsPerRequest: (cpuMs(gateway.pid) - cpuBefore) / calls,
    rssMiB: memoryMiB(gateway.pid).rss,
  };
}

buildProduct();
const sink = await startSink();
const emulatorPort = await freePort();
const emulator = await startServer(
  'emulator',
  'dist/src/emulator/main.js',
  { EMULATOR_PORT: String(emulatorPort), EMULATOR_STATS: '1' },
  emulatorPort,
);
const base = { KIBO_BASE_URL: emulator.url, LOG_LEVEL: 'warn', HOST: '127.0.0.1' };
const [offPort, onPort] = [await freePort(), await freePort()];
const off = await startServer('tracing-off', 'dist/src/main.js', { ...base, PORT: String(offPort) }, offPort);
const on = await startServer(
  'tracing-on',
  'dist/src/main.js',
  {
    ...base,
    PORT: String(onPort),
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
    OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
    OTEL_TRACES_SAMPLER_ARG: '1.0',
  },
  onPort,
);

const rounds: Array<{ off: Measured; on: Measured }> = [];
try {
  for (let run = 1; run <= Number(flags.runs); run++) {
    const round = { off: await measure(off, emulator), on: await measure(on, emulator) };
    rounds.push(round);
    console.log(
      `run ${run}: CPU ms/request off ${round.off.cpuMsPerRequest.toFixed(3)}, on ${round.on.cpuMsPerRequest.toFixed(3)} ` +
        `(+${((round.on.cpuMsPerRequest / round.off.cpuMsPerRequest - 1) * 100).toFixed(1)} %); ` +
        `req/s ${round.off.rps.toFixed(0)} vs ${round.on.rps.toFixed(0)}; p99 ${round.off.p99Ms} vs ${round.on.p99Ms} ms; ` +
        `RSS ${round.off.rssMiB.toFixed(1)} vs ${round.on.rssMiB.toFixed(1)} MiB`,
    );
  }
} finally {
  await Promise.all([off.stop(), on.stop()]);
  await emulator.stop();
}
if (sink.requests() === 0) throw new Error('the traced gateway exported nothing');
console.log(`exports received by the sink: ${sink.requests()}`);
sink.close();
const out = join(ROOT, flags.out!);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ duration: DURATION, rounds }, null, 2)}\n`);
console.log(`written to ${flags.out}`);
