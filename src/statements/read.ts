// A stored statement file read as whichever format it is in (MT940, camt.053 or camt.054), into the
// format-neutral model of ./model.ts.
import { detectStatementFormat } from '../camt/index.js';
import { readCamt } from './from-camt.js';
import { readMt940 } from './from-mt940.js';
import type { StatementFile } from './model.js';

/** Reads a stored statement as whichever format it is in: camt.053 / camt.054 XML, else MT940. */
export async function readStatement(text: string): Promise<StatementFile> {
  // MT940 is text of tags; only what opens like XML goes to the camt reader.
  if (!/^\uFEFF?\s*</.test(text.slice(0, 1024))) return readMt940(text);
  const detected = detectStatementFormat(text.slice(0, 4096));
  if (detected.format === 'camt') return readCamt(text, detected.kind);
  const reason = detected.format === 'unknown' ? detected.reason : 'XML that is not camt';
  return {
    format: 'MT940',
    statements: [],
    errors: [{ message: `not a statement the bridge reads: ${reason}`, where: 'line 1', severity: 'error' }],
    warnings: [],
    counts: { D: 0, RD: 0, notBooked: 0 },
    transactions: async function* () {},
  };
}
