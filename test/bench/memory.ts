/**
 * What the gateway's resident set holds, and what V8's heap settings trade for it: each variant is
 * a fresh compiled gateway under the same mix (projected, then wide tickets, then projected again),
 * reporting CPU per request on the projected slices, RSS after the mix and at its peak, and the
 * heap's own breakdown (so the rest of the RSS — code, native allocations — is visible too).
 */
import { CASES, SERVERS } from './cases.js';
import { allocationPerRequest, measureSlice, median, warmUp, type Target } from './measure.js';
import { freePort, memoryMiB, startServer, type ServerProcess } from './processes.js';

export const NODE_OPTION_VARIANTS: Array<{ name: string; nodeArgs: string[] }> = [
  { name: 'default', nodeArgs: [] },
  { name: '--max-semi-space-size=8', nodeArgs: ['--max-semi-space-size=8'] },
  { name: '--max-semi-space-size=4', nodeArgs: ['--max-semi-space-size=4'] },
  { name: '--max-semi-space-size=2', nodeArgs: ['--max-semi-space-size=2'] },
  {
    name: '--max-semi-space-size=4 --max-old-space-size=96',
    nodeArgs: ['--max-semi-space-size=4', '--max-old-space-size=96'],
  },
];

export interface MemoryBreakdown {
  rssMiB: number;
  heapTotalMiB: number;
  heapUsedMiB: number;
  externalMiB: number;
  arrayBuffersMiB: number;
  /** RSS not in V8's heap: compiled code, the runtime, native buffers, malloc. */
  outsideHeapMiB: number;
  spacesMiB: Record<string, number>;
}

export interface VariantResult {
  variant: string;
  cpuMsPerRequest: number;
  rps: number;
  allocatedKBPerRequest: number;
  rssAfterMiB: number;
  rssPeakMiB: number;
  breakdown: MemoryBreakdown;
}

const MiB = 2 ** 20;

export async function breakdownOf(server: ServerProcess): Promise<MemoryBreakdown> {
  const { memory, heapSpaces } = await server.ask<{
    memory: NodeJS.MemoryUsage;
    heapSpaces: Array<{ space: string; sizeBytes: number }>;
  }>('memory');
  return {
    rssMiB: memory.rss / MiB,
    heapTotalMiB: memory.heapTotal / MiB,
    heapUsedMiB: memory.heapUsed / MiB,
    externalMiB: memory.external / MiB,
    arrayBuffersMiB: memory.arrayBuffers / MiB,
    outsideHeapMiB: (memory.rss - memory.heapTotal) / MiB,
    spacesMiB: Object.fromEntries(heapSpaces.map(({ space, sizeBytes }) => [space, sizeBytes / MiB])),
  };
}

export async function measureMemoryVariants(
  emulator: ServerProcess,
  options: { sliceSeconds: number; connections: number; warmupSeconds: number },
): Promise<VariantResult[]> {
  const results: VariantResult[] = [];
  const projected = CASES.find((c) => c.name === 'gateway-projected')!;
  const wide = CASES.find((c) => c.name === 'gateway-wide')!;
  for (const { name, nodeArgs } of NODE_OPTION_VARIANTS) {
    process.stderr.write(`memory: gateway with ${name}…\n`);
    const port = await freePort();
    const server = await startServer(
      `gateway (${name})`,
      SERVERS.gateway.script,
      { ...SERVERS.gateway.env(emulator.url), PORT: String(port) },
      port,
      nodeArgs,
    );
    try {
      const target = (spec: typeof projected): Target => ({ spec, server, emulator, request: spec.request(server) });
      await warmUp(target(projected), options.warmupSeconds, options.connections);
      const slices = [await measureSlice(target(projected), options.sliceSeconds, options.connections)];
      await measureSlice(target(wide), options.sliceSeconds, options.connections);
      slices.push(await measureSlice(target(projected), options.sliceSeconds, options.connections));
      const allocated = await allocationPerRequest(target(projected), options.sliceSeconds, options.connections);
      const rss = memoryMiB(server.pid);
      results.push({
        variant: name,
        cpuMsPerRequest: median(slices.map((slice) => slice.cpuMsPerRequest)),
        rps: median(slices.map((slice) => slice.rps)),
        allocatedKBPerRequest: allocated / 1024,
        rssAfterMiB: rss.rss,
        rssPeakMiB: rss.peak,
        breakdown: await breakdownOf(server),
      });
    } finally {
      await server.stop();
    }
  }
  return results;
}
