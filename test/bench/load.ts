/**
 * The load generator, in its own process so it does not share a CPU budget with what it measures.
 * Takes one JSON argument (url, method, headers, body, connections, durationSeconds, and optionally
 * warmupSeconds and tickMs) and prints one JSON line at the end: requests/s, latency percentiles
 * at microsecond resolution, errors and non-2xx. With `tickMs` it also prints a progress line
 * (`{"progress": requestsSoFar}`) every tick, so the caller can read its server's CPU per request
 * slice by slice (the warm-up curve).
 */
import autocannon from 'autocannon';

interface LoadOptions {
  url: string;
  method: 'POST' | 'PUT' | 'GET';
  headers: Record<string, string>;
  body?: string;
  connections: number;
  durationSeconds: number;
  warmupSeconds?: number;
  tickMs?: number;
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
    if (!latencies) return;
    // autocannon's own histogram counts whole milliseconds; keep every sample for sub-ms percentiles.
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
    if (options.tickMs) {
      const ticker = setInterval(() => console.log(JSON.stringify({ progress: latencies.length })), options.tickMs);
      instance.on('done', () => clearInterval(ticker));
    }
  });
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

if (options.warmupSeconds) await run(options.warmupSeconds);
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
