// Disbursement ids the bridge assigns when the PBMS sends none. The id is the end-to-end reference that
// comes back on the bank statement, normally in MT940 :61: "reference for the account owner" (16x), so it
// must stay short: 'B' + the sequence value in base 36, at least 7 digits (B0000001 ... at most 14
// characters for any bigint). A value some PBMS already used as its own id is skipped.
import type { Queryable } from '../db/index.js';

export function renderDisbursementId(value: number | bigint): string {
  return `B${value.toString(36).toUpperCase().padStart(7, '0')}`;
}

/** `count` sequence values as ids, not yet checked against ids a PBMS sent (see assignDisbursementIds). */
export async function drawDisbursementIds(tx: Queryable, count: number): Promise<string[]> {
  if (count <= 0) return [];
  const { rows } = await tx.query<{ v: number }>(
    `SELECT nextval('disbursement_id_seq') AS v FROM generate_series(1, $1)`,
    [count],
  );
  return rows.map((r) => renderDisbursementId(r.v));
}

/**
 * `count` fresh ids, none equal to an existing disbursement id nor to one in `taken`. `drawn`: the first
 * draw, when the caller made it early (the database draws while the caller checks its items).
 */
export async function assignDisbursementIds(
  tx: Queryable,
  count: number,
  taken: Set<string>,
  drawn?: string[],
): Promise<string[]> {
  const ids: string[] = [];
  let draw = drawn ?? (await drawDisbursementIds(tx, count));
  while (ids.length < count) {
    const candidates = draw.filter((id) => !taken.has(id)).slice(0, count - ids.length);
    // Fresh sequence values are new, so only an id some PBMS sent can equal one: read the index range from
    // the smallest to the largest candidate (in the database's collation) instead of probing 10,000 times.
    const { rows: inRange } = await tx.query<{ disbursement_id: string }>(
      `SELECT d.disbursement_id FROM (SELECT min(c) AS lo, max(c) AS hi FROM unnest($1::text[]) c) r
       JOIN disbursement d ON d.disbursement_id BETWEEN r.lo AND r.hi`,
      [candidates],
    );
    const used = new Set(inRange.map((r) => r.disbursement_id));
    for (const id of candidates) if (!used.has(id)) ids.push(id);
    if (ids.length < count) draw = await drawDisbursementIds(tx, count - ids.length);
  }
  return ids;
}
