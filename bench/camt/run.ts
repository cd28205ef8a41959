// camt.053 parser benchmark (`npm run bench:camt`): our parseCamt vs iso20022.js on the same generated
// 100,000-entry camt.053.001.02 (the version iso20022.js reads: it fails on .08's BICFI and Pty), each parser in its own child process, interleaved over ROUNDS rounds so that
// the load of a shared machine hits both alike; then a 1,000,000-entry file streamed through parseCamtStream
// with its peak RSS. ENTRIES, STREAM_ENTRIES, RUNS and ROUNDS override the defaults.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { camt053Chunks } from './generate.js';

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const STREAM_ENTRIES = Number(process.env.STREAM_ENTRIES ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 3);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const here = dirname(fileURLToPath(import.meta.url));

interface Result {
  parser: string;
  times: number[];
  outcome: { entries: number; check: string };
  peakRssMB: number;
}

async function write(file: string, entries: number, version: '02' | '08'): Promise<number> {
  const out = createWriteStream(file);
  for (const chunk of camt053Chunks(entries, version)) {
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  return statSync(file).size;
}

function measure(parser: string, file: string, runs: number): Result {
  const out = execFileSync(
    process.execPath,
    ['--max-old-space-size=8192', '--import', 'tsx', join(here, 'worker.ts'), parser, file, String(runs)],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

const dir = mkdtempSync(join(tmpdir(), 'bench-camt-'));
try {
  const file = join(dir, 'camt053-100k.xml');
  const size = await write(file, ENTRIES, '02');
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  console.log(`camt.053.001.02, ${ENTRIES} entries, ${mb(size)} MiB; load average before: ${load}`);
  const times: Record<string, number[]> = { ours: [], iso20022js: [] };
  const rss: Record<string, number> = { ours: 0, iso20022js: 0 };
  for (let round = 0; round < ROUNDS; round++) {
    for (const parser of round % 2 ? ['iso20022js', 'ours'] : ['ours', 'iso20022js']) {
      const r = measure(parser, file, RUNS);
      if (r.outcome.entries !== ENTRIES) throw new Error(`${parser} read ${r.outcome.entries} entries`);
      if (parser === 'ours' && r.outcome.check !== 'true') throw new Error('our balance check failed');
      times[parser]!.push(...r.times);
      rss[parser] = Math.max(rss[parser]!, r.peakRssMB);
    }
  }
  const ours = median(times.ours!);
  const theirs = median(times.iso20022js!);
  console.log(
    `  ours, parseCamt           median ${ours.toFixed(0)} ms  (${(size / 2 ** 20 / (ours / 1000)).toFixed(1)} MiB/s)  peak RSS ${rss.ours!.toFixed(0)} MB`,
  );
  console.log(
    `  iso20022.js fromXML       median ${theirs.toFixed(0)} ms  (${(size / 2 ** 20 / (theirs / 1000)).toFixed(1)} MiB/s)  peak RSS ${rss.iso20022js!.toFixed(0)} MB`,
  );
  console.log(
    `  ratio: ours is ${(theirs / ours).toFixed(1)}x faster (goal >= 5x); ${ROUNDS} rounds x ${RUNS} runs each`,
  );
  rmSync(file);

  const big = join(dir, 'camt053-stream.xml');
  const bigSize = await write(big, STREAM_ENTRIES, '08');
  const s = measure('ours-stream', big, 1);
  if (s.outcome.entries !== STREAM_ENTRIES || s.outcome.check !== 'true')
    throw new Error('stream read wrong');
  console.log(
    `streamed ${STREAM_ENTRIES} entries of camt.053.001.08 (${mb(bigSize)} MiB) in ${(s.times[0]! / 1000).toFixed(1)} s, ` +
      `peak RSS ${s.peakRssMB.toFixed(0)} MB (goal < 256 MB); load average after: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
