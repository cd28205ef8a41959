// Memory breakdown of a process, for the e2e benchmark's `start` child (not part of the bridge):
//   BENCH_NODE_FLAGS="--import ./bench/e2e/memory-sampler.mjs" MEMORY_OUT=/tmp/mem.json npm run bench:e2e -- ...
// Samples process.memoryUsage() every 100 ms and counts garbage collections by kind; on exit writes JSON:
// the sample of the highest RSS with the V8 heap spaces at that moment, the collections, and every sample
// (MiB; `at` is the wall clock in ms, to line up with the benchmark's stage times).
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const out = process.env.MEMORY_OUT ?? `/tmp/g2p-memory-${process.pid}.json`;
const mib = (bytes) => Math.round(bytes / 2 ** 20);
const samples = [];
let peak = null;
setInterval(() => {
  const m = process.memoryUsage();
  const s = {
    at: Date.now(),
    rss: mib(m.rss),
    heapUsed: mib(m.heapUsed),
    heapTotal: mib(m.heapTotal),
    external: mib(m.external),
    arrayBuffers: mib(m.arrayBuffers),
  };
  samples.push(s);
  if (!peak || s.rss > peak.rss)
    peak = {
      ...s,
      other: s.rss - s.heapTotal - s.external,
      spaces: Object.fromEntries(
        v8.getHeapSpaceStatistics().map((x) => [x.space_name, [mib(x.space_used_size), mib(x.space_size)]]),
      ),
    };
}, 100).unref();

const kinds = {
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};
const gc = {};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = kinds[e.detail?.kind] ?? 'other';
    gc[kind] ??= { count: 0, ms: 0 };
    gc[kind].count++;
    gc[kind].ms = Math.round(gc[kind].ms + e.duration);
  }
}).observe({ entryTypes: ['gc'] });

process.on('exit', () => {
  writeFileSync(
    out,
    JSON.stringify({
      pid: process.pid,
      heapLimit: mib(v8.getHeapStatistics().heap_size_limit),
      peak,
      gc,
      samples,
    }),
  );
});
