/**
 * Preloaded into the benchmark's servers (`node --import ./test/bench/alloc-probe.mjs`): answers
 * the benchmark over the IPC channel, so nothing is measured from inside unless asked.
 *   'alloc-begin' → starts counting bytes allocated on the V8 heap (a GC profiler runs meanwhile);
 *   'alloc-end'   → { allocatedBytes } since 'alloc-begin': heap growth plus what every GC freed;
 *   'memory'      → process.memoryUsage() and V8's heap spaces: what the resident set holds;
 *   'live-heap'   → { liveHeapBytes }: the heap in use right after a full garbage collection.
 * Plain JavaScript so it loads in compiled servers without a TypeScript loader.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';

let profiler;
let usedAtBegin = 0;

process.on('message', (message) => {
  if (message === 'alloc-begin') {
    profiler = new v8.GCProfiler();
    profiler.start();
    usedAtBegin = v8.getHeapStatistics().used_heap_size;
    process.send({ begun: true });
  } else if (message === 'alloc-end') {
    const usedAtEnd = v8.getHeapStatistics().used_heap_size;
    const { statistics } = profiler.stop();
    let freed = 0;
    for (const gc of statistics)
      freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    process.send({ allocatedBytes: usedAtEnd - usedAtBegin + freed, gcs: statistics.length });
  } else if (message === 'live-heap') {
    // A full collection first, so what is left is what the process still holds.
    v8.setFlagsFromString('--expose-gc');
    runInNewContext('gc')();
    process.send({ liveHeapBytes: v8.getHeapStatistics().used_heap_size });
  } else if (message === 'memory') {
    process.send({
      memory: process.memoryUsage(),
      heapSpaces: v8.getHeapSpaceStatistics().map((space) => ({
        space: space.space_name,
        sizeBytes: space.space_size,
        usedBytes: space.space_used_size,
      })),
    });
  }
});
// Listening refs the channel; the probe must never keep a server alive on its own.
process.channel?.unref();
