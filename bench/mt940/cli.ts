// `g2p-bridge mt940 --compact` as a whole process against mt940js (parse + JSON.stringify, also a whole
// process) on the same generated statement: the yardstick of issue 10 (≥ 4×). The CLI runs as shipped,
// compiled by tsc into a temporary directory (node <dir>/cli/main.js, no tsx); both write their JSON to a
// file. ROUNDS rounds alternate which goes first; the table gives medians and the ratio of this run, with
// the load average before and after. Run with `npm run bench:mt940-cli` (ENTRIES=100000 ROUNDS=7).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decimalToMinor, formatMinorUnits } from '../../src/money/index.js';
import { benchmarkFile } from './generate.js';

const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const ROUNDS = Number(process.env.ROUNDS ?? 7);
const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'mt940-cli-bench-'));
try {
  const file = join(dir, 'bench.sta');
  writeFileSync(file, benchmarkFile(ENTRIES));
  const out = join(dir, 'build');
  // tsc emits even when files others are editing do not type-check; only the mt940 command is run
  spawnSync(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', out],
    {
      cwd: root,
      stdio: 'ignore',
    },
  );
  const yard = join(dir, 'mt940js.cjs');
  writeFileSync(
    yard,
    `const { Parser } = require(${JSON.stringify(join(root, 'node_modules/mt940js'))});
const text = require('node:fs').readFileSync(process.argv[2], 'utf8');
process.stdout.write(JSON.stringify(new Parser().parse(text)) + '\\n');\n`,
  );
  // the shipped entry point; when the tree does not build as a whole (others' work in progress), a
  // two-line entry that runs the compiled mt940 command alone (said in the output)
  let entry = [join(out, 'cli/main.js'), 'mt940'];
  if (spawnSync(process.execPath, [...entry, '--help'], { stdio: 'ignore' }).status !== 0) {
    const direct = join(dir, 'mt940-direct.mjs');
    writeFileSync(
      direct,
      `const { run } = await import(${JSON.stringify(join(out, 'cli/commands/mt940.js'))});\nprocess.exitCode = await run(process.argv.slice(2));\n`,
    );
    entry = [direct];
    console.log(
      'note: dist/cli/main.js does not load in this tree; running the compiled mt940 command directly',
    );
  }
  const usage = join(dir, 'usage.txt');
  type Run = { argv: string[]; out: string; ms: number[]; cpu: number[]; rss: number[] };
  const runs: Record<string, Run> = {
    ours: { argv: [...entry, '--compact', file], out: join(dir, 'ours.json'), ms: [], cpu: [], rss: [] },
    mt940js: { argv: [yard, file], out: join(dir, 'theirs.json'), ms: [], cpu: [], rss: [] },
  };
  const before = load();
  console.log(
    `mt940 --compact vs mt940js + JSON.stringify, whole processes: ${ENTRIES} entries, ` +
      `${(statSync(file).size / 1e6).toFixed(1)} MB, node ${process.version}, ${ROUNDS} rounds; load before ${before}`,
  );
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ['ours', 'mt940js'] : ['mt940js', 'ours'];
    for (const name of order) {
      const r = runs[name]!;
      // GNU time: CPU seconds (user + system) and peak RSS of the child, beside our own wall clock
      const t0 = performance.now();
      execFileSync(
        'sh',
        [
          '-c',
          `exec /usr/bin/time -f "%U %S %M" -o "${usage}" "${process.execPath}" "$@" > "${r.out}"`,
          'sh',
          ...r.argv,
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      r.ms.push(performance.now() - t0);
      const [user, sys, kb] = readFileSync(usage, 'utf8').trim().split(/\s+/).map(Number);
      r.cpu.push((user! + sys!) * 1000);
      r.rss.push(kb! / 1024);
    }
  }
  const after = load();
  // the check, after the clocks: same entry count; our sum exact, theirs a float
  const ours = JSON.parse(readFileSync(runs.ours!.out, 'utf8')) as {
    statements: { entries: { signedAmount: string }[] }[];
  };
  const theirs = JSON.parse(readFileSync(runs.mt940js!.out, 'utf8')) as {
    transactions: { amount: number }[];
  }[];
  let exact = 0n;
  let n = 0;
  for (const s of ours.statements)
    for (const e of s.entries) {
      exact += decimalToMinor(e.signedAmount, 2);
      n++;
    }
  let float = 0;
  let m = 0;
  for (const s of theirs)
    for (const t of s.transactions) {
      float += t.amount;
      m++;
    }
  if (n !== ENTRIES || m !== ENTRIES)
    throw new Error(`entries: ours ${n}, mt940js ${m}, expected ${ENTRIES}`);
  console.log(
    '| process | median wall ms | best wall ms | median CPU ms | peak RSS MB | output MB | entries | sum of signed amounts |',
  );
  console.log('|---|---|---|---|---|---|---|---|');
  for (const [name, r] of Object.entries(runs))
    console.log(
      `| ${name} | ${median(r.ms).toFixed(0)} | ${Math.min(...r.ms).toFixed(0)} | ${median(r.cpu).toFixed(0)} | ${median(r.rss).toFixed(0)} | ${(statSync(r.out).size / 1e6).toFixed(1)} | ${name === 'ours' ? n : m} | ${name === 'ours' ? formatMinorUnits(exact, 2) : float} |`,
    );
  const ratio = (k: 'ms' | 'cpu') => (median(runs.mt940js![k]) / median(runs.ours![k])).toFixed(2);
  console.log(
    `ratio mt940js / ours, medians of this run: ${ratio('ms')}x wall time, ${ratio('cpu')}x CPU time; load after ${after}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
