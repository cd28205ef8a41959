// One measurement in a fresh process (clean peak RSS): node --expose-gc --import tsx worker.ts <parser> <file> <runs>
// Prints one JSON line: timings, entries, peak RSS, exact/float totals.

import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decimalToMinor, formatMinorUnits } from '../../src/money/index.js';
import type { Mt940ColumnsStatement, Mt940Statement } from '../../src/mt940/index.js';
import { parseMt940, parseMt940Columns, parseMt940Stream } from '../../src/mt940/index.js';
import { buildObjectsOnly } from './objects-only.js';

const [parser = 'ours', file = '', runsText = '3'] = process.argv.slice(2);
const runs = Number(runsText);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

interface Outcome {
  entries: number;
  total: string;
}

/** Exact sum of our signed amounts (outside the timed part). */
function oursOutcome(statements: Mt940Statement[]): Outcome {
  let entries = 0;
  let total = 0n;
  for (const s of statements) {
    entries += s.entries.length;
    for (const e of s.entries) total += decimalToMinor(e.signedAmount, 2);
  }
  return { entries, total: formatMinorUnits(total, 2) };
}

/** The same check for the columnar result, read from its columns (exact minor units). */
function columnsOutcome(statements: Mt940ColumnsStatement[]): Outcome {
  let entries = 0;
  let total = 0n;
  for (const s of statements) {
    const e = s.entries;
    entries += e.count;
    for (let i = 0; i < e.count; i++) {
      const m = e.mark(i);
      total += m === 'D' || m === 'RC' ? -e.amountMinor(i) : e.amountMinor(i);
    }
  }
  return { entries, total: formatMinorUnits(total, 2) };
}

type TheirStatement = { transactions: Array<{ amount: number }> };

interface Timed {
  ms: number;
  cpuMs: number;
}

/** Starts the clocks (wall and CPU); the returned function reads them. */
function clock(): () => Timed {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  return () => {
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const c = process.cpuUsage(c0);
    return { ms, cpuMs: (c.user + c.system) / 1000 };
  };
}

/**
 * One timed run. Only the parse is timed; the result is checked (entry count, sum of the amounts) after
 * the clock stops, the same way for every parser, and is gone when the function returns (one result
 * alive at a time, as in real use).
 */
async function timedRun(text: string): Promise<Timed & { outcome: Outcome }> {
  if (parser === 'ours') {
    const stop = clock();
    const r = parseMt940(text);
    const t = stop();
    return { ...t, outcome: oursOutcome(r.statements) };
  }
  if (parser === 'ours-columns') {
    const stop = clock();
    const r = parseMt940Columns(text);
    const t = stop();
    if (!r.columnar) throw new Error('the benchmark file was not read in columns');
    return { ...t, outcome: columnsOutcome(r.statements) };
  }
  if (parser === 'ours-columns-all') {
    // the columnar parse, then every entry materialised as parseMt940's objects (all kept until the clock stops)
    const stop = clock();
    const r = parseMt940Columns(text);
    const statements = r.statements.map((s) => ({ ...s, entries: s.entries.toEntries() }));
    const t = stop();
    return { ...t, outcome: oursOutcome(statements) };
  }
  if (parser === 'ours-stream') {
    const stop = clock();
    const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 });
    const statements: Mt940Statement[] = [];
    for await (const s of parseMt940Stream(stream as AsyncIterable<string>)) statements.push(s);
    const t = stop();
    return { ...t, outcome: oursOutcome(statements) };
  }
  if (parser === 'objects-only') {
    const stop = clock();
    const entries = buildObjectsOnly(text);
    const t = stop();
    return { ...t, outcome: oursOutcome([{ entries } as Mt940Statement]) };
  }
  if (parser === 'mt940js') {
    const require = createRequire(import.meta.url);
    const { Parser } = require('mt940js') as { Parser: new () => { parse(t: string): TheirStatement[] } };
    const stop = clock();
    const statements = new Parser().parse(text);
    const t = stop();
    let entries = 0;
    let total = 0;
    for (const s of statements) {
      entries += s.transactions.length;
      for (const tx of s.transactions) total += tx.amount;
    }
    return { ...t, outcome: { entries, total: String(total) } };
  }
  if (parser === 'baseline') return { ms: 0, cpuMs: 0, outcome: { entries: 0, total: '0' } };
  throw new Error(`unknown parser ${parser}`);
}

async function main() {
  const bytes = readFileSync(file).length;
  // the streaming parser reads the file itself; the others get the whole text, read before timing
  const text = parser === 'ours-stream' ? '' : readFileSync(file, 'utf8');
  const times: number[] = [];
  const cpu: number[] = [];
  let outcome: Outcome | undefined;
  let error: string | undefined;
  for (let i = 0; i < runs; i++) {
    gc();
    try {
      const r = await timedRun(text);
      times.push(r.ms);
      cpu.push(r.cpuMs);
      outcome = r.outcome;
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      break;
    }
  }
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ parser, bytes, times, cpu, outcome, error, peakRssMB })}
`);
}

main();
