// The mapper simulator's CSV bulk load: our streaming reader (src/simulators/mapper/csv.ts) against csv-parse on
// the same input, fed in the same 64 KiB chunks. Prints rows read and the median time of five runs each.
// The figures and the decision: docs/decisions.md, record 029.
// Usage: npx tsx bench/csv/run.ts [rows]   (default 200,000 rows; ~1 in 10 names quoted, some with "" inside)
import { Readable } from 'node:stream';
import { parse } from 'csv-parse';
import { parseCsv } from '../../src/simulators/mapper/csv.js';

const ROWS = Number(process.argv[2] ?? 200_000);
const CHUNK = 64 * 1024;

function input(rows: number): string {
  const lines = ['id,fa,name,active'];
  for (let i = 0; i < rows; i++) {
    const fa = `account_number:${1_000_000 + i}.branch_code:B${i % 97}.bank_code:NB.mobile_number:.email_address:.fa_type:BANK_ACCOUNT`;
    const name = i % 10 === 0 ? `"Doe, ""J${i}"" Jr."` : `Beneficiary ${i}`;
    lines.push(`BEN-${i},${fa},${name},${i % 50 === 0 ? 'false' : 'true'}`);
  }
  return `${lines.join('\r\n')}\r\n`;
}

function* chunks(text: string): Generator<string> {
  for (let i = 0; i < text.length; i += CHUNK) yield text.slice(i, i + CHUNK);
}

async function ours(text: string): Promise<number> {
  let rows = 0;
  for await (const row of parseCsv(chunks(text))) rows += row.fields.length > 0 ? 1 : 0;
  return rows;
}

async function library(text: string): Promise<number> {
  let rows = 0;
  // The options that give our reader's behaviour: a BOM dropped, blank lines skipped, rows of any length
  // (the loader checks the header), the line of each record kept for error messages.
  const parser = Readable.from(chunks(text)).pipe(
    parse({ bom: true, skip_empty_lines: true, relax_column_count: true, info: true }),
  );
  for await (const record of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
    rows += record.record.length > 0 ? 1 : 0;
  }
  return rows;
}

/** The same without `info` (the record's line), which our loader needs for its own messages: a lower bound. */
async function libraryBare(text: string): Promise<number> {
  let rows = 0;
  const parser = Readable.from(chunks(text)).pipe(
    parse({ bom: true, skip_empty_lines: true, relax_column_count: true }),
  );
  for await (const record of parser as AsyncIterable<string[]>) rows += record.length > 0 ? 1 : 0;
  return rows;
}

async function time(
  run: (text: string) => Promise<number>,
  text: string,
): Promise<{ ms: number; rows: number }> {
  const started = process.hrtime.bigint();
  const rows = await run(text);
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, rows };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const text = input(ROWS);
console.log(
  `input: ${ROWS.toLocaleString('en')} rows, ${(text.length / 1e6).toFixed(1)} MB, ${CHUNK / 1024} KiB chunks`,
);
const results: Record<string, number[]> = { ours: [], 'csv-parse': [], 'csv-parse (no info)': [] };
let counts: Record<string, number> = {};
for (let round = 0; round < 5; round++) {
  for (const [name, run] of [
    ['ours', ours],
    ['csv-parse', library],
    ['csv-parse (no info)', libraryBare],
  ] as const) {
    const r = await time(run, text);
    results[name]!.push(r.ms);
    counts = { ...counts, [name]: r.rows };
  }
}
for (const [name, times] of Object.entries(results)) {
  const ms = median(times);
  console.log(
    `${name.padEnd(20)} ${counts[name]!.toLocaleString('en')} rows  median ${ms.toFixed(0)} ms  ` +
      `${((text.length / 1e6 / ms) * 1000).toFixed(0)} MB/s`,
  );
}
