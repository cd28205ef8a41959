// One measurement in a fresh process (clean peak RSS): node --expose-gc --import tsx worker.ts <parser> <file> <runs>
// Prints one JSON line: timings, entries, peak RSS, exact/float totals.

import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decimalToMinor, formatMinorUnits } from '../../src/money/index.js';
import type { Mt940Statement } from '../../src/mt940/index.js';
import { parseMt940, parseMt940Stream } from '../../src/mt940/index.js';
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

type TheirStatement = { transactions: Array<{ amount: number }> };

/**
 * One timed parse. Only the parse is timed; the result is returned and checked (entry count, sum of the
 * amounts) after the clock stops, the same way for every parser.
 */
async function parseOnce(text: string): Promise<() => Outcome> {
  if (parser === 'ours') {
    const r = parseMt940(text);
    return () => oursOutcome(r.statements);
  }
  if (parser === 'ours-stream') {
    const stream = createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 16 });
    const statements: Mt940Statement[] = [];
    for await (const s of parseMt940Stream(stream as AsyncIterable<string>)) statements.push(s);
    return () => oursOutcome(statements);
  }
  if (parser === 'objects-only') {
    const entries = buildObjectsOnly(text);
    return () => oursOutcome([{ entries } as Mt940Statement]);
  }
  if (parser === 'mt940js') {
    const require = createRequire(import.meta.url);
    const { Parser } = require('mt940js') as { Parser: new () => { parse(t: string): TheirStatement[] } };
    const statements = new Parser().parse(text);
    return () => {
      let entries = 0;
      let total = 0;
      for (const s of statements) {
        entries += s.transactions.length;
        for (const t of s.transactions) total += t.amount;
      }
      return { entries, total: String(total) };
    };
  }
  if (parser === 'baseline') return () => ({ entries: 0, total: '0' });
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
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let check: (() => Outcome) | undefined;
    try {
      check = await parseOnce(text);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      break;
    }
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    outcome = check();
    // drop this run's result before the next run's gc(): one result alive at a time, as in real use
    check = undefined;
  }
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ parser, bytes, times, cpu, outcome, error, peakRssMB })}\n`);
}

main();
