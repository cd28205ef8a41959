// MT940 parser benchmark: our parsers (parseMt940 on the whole text, parseMt940Stream, parseMt940Columns alone
// and with every entry materialised) vs mt940js on the same generated file, each in
// its own child process (same Node flags) for a clean peak RSS. The children run in ROUNDS rounds, the
// parsers interleaved within each round, so that a change in the load of a shared machine hits them alike;
// each child times RUNS parses (only the parse; the result is checked after the clock stops).
// "objects-only" is a reference, not a parser: it builds the same result objects knowing the file's layout.
// Run with `npm run bench:mt940` (ENTRIES=100000 RUNS=5 ROUNDS=3 by default). BENCH_NODE_FLAGS adds V8/Node
// flags to every child alike (e.g. BENCH_NODE_FLAGS=--max-semi-space-size=64 to see the effect of a larger
// young generation); the default is none beyond those below.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchmarkFile } from './generate.js';

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const RUNS = Number(process.env.RUNS ?? 5);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PARSERS = ['ours', 'ours-stream', 'ours-columns', 'ours-columns-all', 'mt940js', 'objects-only'];
/** Row names printed in the table. */
const LABELS: Record<string, string> = {
  ours: 'ours, parseMt940 (objects)',
  'ours-stream': 'ours, parseMt940Stream (64 KiB chunks)',
  'ours-columns': 'ours, columnar parse',
  'ours-columns-all': 'ours, columnar parse + materialise all entries',
  mt940js: 'mt940js',
  'objects-only': 'objects-only (yardstick)',
};
const EXTRA_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter((f) => f !== '');
const here = dirname(fileURLToPath(import.meta.url));

interface Result {
  parser: string;
  bytes: number;
  times: number[];
  /** CPU time (user + system, all threads incl. GC) per run, ms */
  cpu: number[];
  outcome?: { entries: number; total: string };
  error?: string;
  peakRssMB: number;
}

function measure(parser: string, file: string, runs: number): Result {
  const out = execFileSync(
    process.execPath,
    [
      ...EXTRA_FLAGS,
      '--expose-gc',
      '--max-old-space-size=8192',
      '--import',
      'tsx',
      join(here, 'worker.ts'),
      parser,
      file,
      String(runs),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const dir = mkdtempSync(join(tmpdir(), 'mt940-bench-'));
try {
  const t0 = performance.now();
  const text = benchmarkFile(ENTRIES);
  const genMs = performance.now() - t0;
  const file = join(dir, 'bench.sta');
  writeFileSync(file, text);
  const mb = Buffer.byteLength(text) / 1e6;
  console.log(
    `MT940 benchmark: ${ENTRIES} entries with six-line narratives, ${mb.toFixed(1)} MB (written in ${genMs.toFixed(0)} ms)`,
  );
  console.log(
    `node ${process.version}, ${ROUNDS} rounds x ${RUNS} runs each: median wall time, median CPU time ` +
      '(all threads, GC included), median peak RSS of the whole child process',
  );
  const load = () =>
    loadavg()
      .map((l) => l.toFixed(1))
      .join(' ');
  console.log(`child flags: ${[...EXTRA_FLAGS, '--expose-gc', '--max-old-space-size=8192'].join(' ')}`);
  console.log(`load average before: ${load()}\n`);
  const baseline = measure('baseline', file, 1);
  const all = new Map<string, Result[]>(PARSERS.map((p) => [p, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const p of PARSERS) all.get(p)!.push(measure(p, file, RUNS));
  }
  const rows: Result[] = PARSERS.map((p) => {
    const rs = all.get(p)!;
    const failed = rs.find((r) => r.error || !r.outcome);
    if (failed) return failed;
    return {
      parser: p,
      bytes: rs[0]!.bytes,
      times: rs.flatMap((r) => r.times),
      cpu: rs.flatMap((r) => r.cpu),
      outcome: rs[0]!.outcome,
      peakRssMB: median(rs.map((r) => r.peakRssMB)),
    };
  });
  const header = [
    'parser',
    'median ms',
    'best ms',
    'MB/s',
    'entries/s',
    'CPU ms',
    'peak RSS MB',
    'over baseline',
    'entries',
    'sum of signed amounts',
  ];
  const table = rows.map((r) => {
    const label = LABELS[r.parser] ?? r.parser;
    if (r.error || !r.outcome) return [label, `failed: ${r.error}`];
    const ms = median(r.times);
    return [
      label,
      ms.toFixed(0),
      Math.min(...r.times).toFixed(0),
      (mb / (ms / 1000)).toFixed(1),
      Math.round(r.outcome.entries / (ms / 1000)).toLocaleString('en-US'),
      median(r.cpu).toFixed(0),
      r.peakRssMB.toFixed(0),
      (r.peakRssMB - baseline.peakRssMB).toFixed(0),
      String(r.outcome.entries),
      r.outcome.total,
    ];
  });
  console.log(`load average after: ${load()}`);
  console.log(`baseline (node + tsx + file read as a string): peak RSS ${baseline.peakRssMB.toFixed(0)} MB`);
  console.log([header, ...table].map((row) => row.join(' | ')).join('\n'));
  const ours = rows.find((r) => r.parser === 'ours');
  const theirs = rows.find((r) => r.parser === 'mt940js');
  const floor = rows.find((r) => r.parser === 'objects-only');
  if (ours?.outcome && theirs?.outcome && !theirs.error) {
    console.log(
      `\nspeed-up vs mt940js (whole text): ${(median(theirs.times) / median(ours.times)).toFixed(1)}x wall time, ` +
        `${(median(theirs.cpu) / median(ours.cpu)).toFixed(1)}x CPU time`,
    );
    if (floor?.outcome && !floor.error) {
      console.log(
        `objects-only vs mt940js (the most any parser building these objects could show): ` +
          `${(median(theirs.times) / median(floor.times)).toFixed(1)}x wall time, ` +
          `${(median(theirs.cpu) / median(floor.cpu)).toFixed(1)}x CPU time`,
      );
    }
    for (const name of ['ours-columns', 'ours-columns-all']) {
      const c = rows.find((r) => r.parser === name);
      if (!c?.outcome || c.error) continue;
      console.log(
        `${LABELS[name]} vs mt940js: ${(median(theirs.times) / median(c.times)).toFixed(1)}x wall time, ` +
          `${(median(theirs.cpu) / median(c.cpu)).toFixed(1)}x CPU time` +
          (c.outcome.total === ours.outcome.total
            ? ''
            : ` (SUM DIFFERS from parseMt940: ${c.outcome.total})`),
      );
    }
    const exact = ours.outcome.total;
    const float = theirs.outcome.total;
    console.log(
      `exact sum ${exact}; mt940js float sum ${float}${Number(exact) === Number(float) && float === exact ? '' : ' (not exact)'}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
