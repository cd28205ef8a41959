// The per-disbursement status of an envelope as CSV, streamed one bank batch at a time: each chunk is one
// indexed, set-based query, so a million-row envelope never sits in memory and never holds the database.
import { auditRows } from '../audit/index.js';
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

export const AUDIT_CSV_COLUMNS = [
  'id',
  'at',
  'subject',
  'roles',
  'sender_id',
  'request_id',
  'message_id',
  'action',
  'program',
  'envelope_id',
  'target_ids',
  'summary',
] as const;

const AUDIT_CHUNK = 5000;

/**
 * The audit trail (or one envelope's) as CSV, oldest first, read in id-keyed chunks: each chunk is one index
 * range, so an export of any length neither sits in memory nor holds the database. Lists are space-joined,
 * the summary is its JSON.
 */
export async function* auditCsv(db: Queryable, envelopeId?: string): AsyncGenerator<string> {
  yield `${AUDIT_CSV_COLUMNS.join(',')}\r\n`;
  let afterId: number | undefined;
  for (;;) {
    const rows = await auditRows(db, { envelopeId, afterId, limit: AUDIT_CHUNK });
    if (rows.length === 0) return;
    let chunk = '';
    for (const r of rows) {
      const cells = [
        csvCell(r.id, false),
        csvCell(r.at.toISOString(), false),
        csvCell(r.subject),
        csvCell(r.roles.join(' ')),
        csvCell(r.sender_id),
        csvCell(r.request_id),
        csvCell(r.message_id),
        csvCell(r.action),
        csvCell(r.program),
        csvCell(r.envelope_id),
        csvCell(r.target_ids.join(' ')),
        csvCell(JSON.stringify(r.summary)),
      ];
      chunk += `${cells.join(',')}\r\n`;
    }
    yield chunk;
    afterId = rows[rows.length - 1]!.id;
    if (rows.length < AUDIT_CHUNK) return;
  }
}
