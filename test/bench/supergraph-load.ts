/**
 * The supergraph bench's load generator, in its own process: autocannon POSTs one query, each
 * request carrying the next of the given header sets (users × tenants) in turn. Takes one JSON
 * argument; prints one JSON line (requests/s, latency percentiles at microsecond resolution,
 * errors, non-2xx, and answers that carried GraphQL errors).
 */
import autocannon from 'autocannon';

interface SupergraphLoadOptions {
  url: string;
  body: string;
  headerSets: Array<Record<string, string>>;
  connections: number;
  durationSeconds: number;
}

const options = JSON.parse(process.argv[2]!) as SupergraphLoadOptions;
let next = 0;
let graphqlErrors = 0;
const latencies: number[] = [];

const started = performance.now();
const result = await new Promise<autocannon.Result>((resolve, reject) => {
  const instance = autocannon(
    {
      url: options.url,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: options.body,
      connections: options.connections,
      duration: options.durationSeconds,
      requests: [
        {
          setupRequest: (request) => ({
            ...request,
            headers: { ...request.headers, ...options.headerSets[next++ % options.headerSets.length] },
          }),
          onResponse: (_status, body) => {
            if (body.includes('"errors"')) graphqlErrors++;
          },
        },
      ],
    },
    (error, finished) => (error ? reject(error) : resolve(finished)),
  );
  instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
});
const elapsedSeconds = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const percentile = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
console.log(
  JSON.stringify({
    requests: result.requests.total,
    rps: result.requests.total / elapsedSeconds,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    graphqlErrors,
  }),
);
