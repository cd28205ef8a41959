// The per-disbursement status of an envelope as CSV, streamed one bank batch at a time: each chunk is one
// indexed, set-based query, so a million-row envelope never sits in memory and never holds the database.
import type { Queryable } from '../db/index.js';
import { CSV_COLUMNS, type CsvRow, csvRowsOfBatch, envelopeBankBatchIds } from './queries.js';

// Spreadsheets run cells that start with these as formulas; ids and references come from outside, so such a
// cell gets a leading apostrophe (OWASP "CSV injection"). Amounts are numbers we wrote and are left alone.
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | null | undefined, guard = true): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (guard && FORMULA_START.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(row: CsvRow): string {
  return `${CSV_COLUMNS.map((c) => csvCell(row[c], c !== 'disbursement_amount')).join(',')}\r\n`;
}

export async function* envelopeCsv(db: Queryable, envelopeId: string): AsyncGenerator<string> {
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  for (const batchId of await envelopeBankBatchIds(db, envelopeId)) {
    const rows = await csvRowsOfBatch(db, batchId);
    let chunk = '';
    for (const row of rows) chunk += csvLine(row);
    if (chunk) yield chunk;
  }
}
