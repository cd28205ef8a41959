// One benchmark child: parses FILE RUNS times with one parser and prints timings and peak RSS as JSON.
//   ours        parseCamt on the whole text (every entry and transaction as objects, checks included)
//   ours-stream parseCamtStream over a 64 KiB file stream, entries counted and dropped
//   iso20022js  CashManagementEndOfDayReport.fromXML of the npm package iso20022.js (fast-xml-parser + walk)
import { createReadStream, readFileSync } from 'node:fs';
import { CashManagementEndOfDayReport } from 'iso20022.js';
import { parseCamt, parseCamtStream } from '../../src/camt/index.js';

const [parser, file, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 1);

async function once(): Promise<{ entries: number; check: string }> {
  if (parser === 'ours-stream') {
    let entries = 0;
    let check = '';
    for await (const e of parseCamtStream(createReadStream(file!, { highWaterMark: 1 << 16 }))) {
      if (e.type === 'entry') entries++;
      else if (e.type === 'statement') check = String(e.statement.balanceCheck?.ok);
    }
    return { entries, check };
  }
  const text = readFileSync(file!, 'utf8');
  if (parser === 'ours') {
    const doc = parseCamt(text);
    return { entries: doc.statements[0]!.entries.length, check: String(doc.statements[0]!.balanceCheck?.ok) };
  }
  const report = CashManagementEndOfDayReport.fromXML(text);
  return { entries: report.statements[0]!.entries.length, check: 'n/a' };
}

const times: number[] = [];
let outcome = { entries: 0, check: '' };
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  outcome = await once();
  times.push(performance.now() - t0);
}
process.stdout.write(
  `${JSON.stringify({ parser, times, outcome, peakRssMB: process.resourceUsage().maxRSS / 1024 })}\n`,
);
