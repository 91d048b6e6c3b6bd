/**
 * The load generator, in its own process so it does not share a CPU budget with what it measures.
 *
 * Two ways to run it:
 * - with one JSON argument (url, method, headers, body, connections, durationSeconds, and optionally
 *   warmupSeconds and tickMs) it runs once and prints one JSON line at the end: requests/s, latency
 *   percentiles at microsecond resolution, errors and non-2xx;
 * - forked without an argument it stays up and runs one load per IPC message, answering each with
 *   that line as a message. The cases' many short slices use this, so no slice waits for a new
 *   process (and tsx) to start.
 * With `tickMs` it also reports progress (`{"progress": requestsSoFar}`) every tick, so the caller
 * can read its server's CPU per request second by second (the warm-up curve).
 */
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  method: 'POST' | 'PUT' | 'GET';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds?: number;
  tickMs?: number;
}

function run(
  options: LoadOptions,
  durationSeconds: number,
  latencies: number[] | undefined,
  report: (line: Record<string, unknown>) => void,
): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        method: options.method,
        headers: options.headers,
        body: options.body,
        connections: options.connections,
        duration: durationSeconds,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    if (!latencies) return;
    // autocannon's own histogram counts whole milliseconds; keep every sample for sub-ms percentiles.
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
    if (options.tickMs) {
      const ticker = setInterval(() => report({ progress: latencies.length }), options.tickMs);
      instance.on('done', () => clearInterval(ticker));
    }
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function load(options: LoadOptions, report: (line: Record<string, unknown>) => void) {
  if (options.warmupSeconds) await run(options, options.warmupSeconds, undefined, report);
  const latencies: number[] = [];
  const started = performance.now();
  const result = await run(options, options.durationSeconds, latencies, report);
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    requests: result.requests.total,
    rps: result.requests.total / elapsedSeconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

if (process.argv[2]) {
  const print = (line: Record<string, unknown>) => console.log(JSON.stringify(line));
  print(await load(JSON.parse(process.argv[2]) as LoadOptions, print));
} else if (process.send) {
  const send = (line: Record<string, unknown>) => process.send!(line);
  process.on('message', (options: LoadOptions) => {
    load(options, send).then(send, (error: Error) => send({ failed: error.message }));
  });
}
