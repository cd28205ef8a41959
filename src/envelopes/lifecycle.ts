// Disbursements per lifecycle state. The disbursement_lifecycle view is the one place where a disbursement's
// state is decided, so every count of states (the envelope status API, the dashboard) comes from here.
import type { Queryable } from '../db/index.js';

export const LIFECYCLE_STATES = [
  'received',
  'cancelled',
  'unresolved',
  'shipped',
  'refused',
  'reconciled',
  'reversed',
] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export interface StateCount {
  count: number;
  /** Exact sum of the disbursement amounts, as a decimal string. */
  amount: string;
}
export type StateCounts = Record<LifecycleState, StateCount>;

export function emptyCounts(): StateCounts {
  return Object.fromEntries(LIFECYCLE_STATES.map((s) => [s, { count: 0, amount: '0' }])) as StateCounts;
}

/** Disbursements per lifecycle state (count and exact amount) for each of the given envelopes. */
export async function lifecycleCounts(
  db: Queryable,
  envelopeIds: string[],
): Promise<Map<string, StateCounts>> {
  const out = new Map<string, StateCounts>(envelopeIds.map((id) => [id, emptyCounts()]));
  if (envelopeIds.length === 0) return out;
  const { rows } = await db.query<{ envelope: string; state: LifecycleState; count: number; amount: string }>(
    `SELECT l.disbursement_envelope_id AS envelope, l.lifecycle_status AS state, count(*)::int AS count,
            sum(d.disbursement_amount)::text AS amount
       FROM disbursement_lifecycle l
       JOIN disbursement d ON d.disbursement_id = l.disbursement_id
      WHERE l.disbursement_envelope_id = ANY($1::text[])
      GROUP BY 1, 2`,
    [envelopeIds],
  );
  for (const r of rows) {
    const counts = out.get(r.envelope);
    if (counts) counts[r.state] = { count: r.count, amount: r.amount };
  }
  return out;
}
