/**
 * One V8 setting the gateway makes for itself, at start, so every way of running it (`npm start`,
 * `npm run serve`, the image) gets it: allocation-site pretenuring off.
 *
 * V8 allocates objects straight into the old generation when most objects from the same allocation
 * site outlived a young collection. Under steady HTTP traffic some request-scoped sites in Node's
 * HTTP server get that treatment; each such object then dies in the old generation, and every young
 * object it still points to is kept alive by it until the next full collection and promoted in turn
 * (nepotism). Measured on the trusted-documents path with one client: 5.5 KB of every request's
 * objects promoted with pretenuring, 0.85 KB without; with ten clients 8.0 against 4.1 KB, and 11 %
 * less CPU per request in alternating rounds. The gateway's long-lived data (the caches) is small
 * beside its request traffic, so nothing it allocates gains from being pretenured.
 *
 * An operator who sets the flag either way on the command line (`node --no-allocation-site-pretenuring …`,
 * in either of V8's spellings) keeps their choice. Node 20 refuses V8 flags like this one in NODE_OPTIONS
 * (it exits at start), so NODE_OPTIONS is read only in case a later Node lets it through.
 */
import { setFlagsFromString } from 'node:v8';

const FLAG = 'allocation-site-pretenuring';

/** Whether the operator set the flag, either way, on the command line (or in NODE_OPTIONS, see above). */
export function setByOperator(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  // V8 reads `_` and `-` in a flag's name alike: `--no-allocation_site_pretenuring` is the same flag.
  return [...execArgv, nodeOptions ?? ''].some((argument) => argument.replaceAll('_', '-').includes(FLAG));
}

if (!setByOperator(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(`--no-${FLAG}`);
