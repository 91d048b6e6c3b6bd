/**
 * `npm run bench`: the benchmark suite. So far it measures the projection's CPU cost; the
 * end-to-end load cases against the proxy floor are tracked in their own issue.
 * Flags: --out FILE (default .bench/latest.json).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { measureProjectionCost } from './projection-cost.js';

const { values } = parseArgs({ options: { out: { type: 'string', default: '.bench/latest.json' } } });

const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown' };
const projection = measureProjectionCost();

console.log(`\nProjection cost (${projection.fields} fields selected, ${machine.cpus} × ${machine.cpuModel}, Node ${machine.node})\n`);
console.log('| case | µs per request | target |');
console.log('| --- | ---: | ---: |');
console.log(`| first request of a document (walk + print + fit) | ${projection.uncachedMicros.toFixed(2)} | |`);
console.log(`| later requests (cached on the document) | ${projection.cachedMicros.toFixed(2)} | < 20 |`);
console.log(`\nresponseFields: ${projection.responseFields?.length ?? 0} characters`);

mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, `${JSON.stringify({ machine, projection }, null, 2)}\n`);
console.log(`\nwritten to ${values.out}`);
