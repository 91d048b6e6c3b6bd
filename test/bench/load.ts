/**
 * The load generator, in its own process so it does not share a CPU budget with what it measures.
 * Takes one JSON argument (url, method, headers, body, connections, duration, warmup) and prints
 * one JSON line: requests/s, latency percentiles at microsecond resolution, errors and non-2xx.
 */
import autocannon from 'autocannon';

interface LoadOptions {
  url: string;
  method: 'POST' | 'PUT';
  headers: Record<string, string>;
  body: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds: number;
}

const options = JSON.parse(process.argv[2]!) as LoadOptions;

function run(durationSeconds: number, latencies?: number[]): Promise<autocannon.Result> {
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
    // autocannon's own histogram counts whole milliseconds; keep every sample for sub-ms percentiles.
    if (latencies) instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

await run(options.warmupSeconds);
const latencies: number[] = [];
const started = performance.now();
const result = await run(options.durationSeconds, latencies);
const elapsedSeconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
console.log(
  JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.total / elapsedSeconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  }),
);
