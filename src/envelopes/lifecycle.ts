// Disbursements per lifecycle state. The disbursement_lifecycle view is the one place where a disbursement's
// state is decided, so every count of states (the envelope status API, the dashboard) comes from here.
import type { Queryable } from '../db/index.js';
import { PAYOUT_CHANNEL, PAYOUT_CHANNEL_JOINS } from '../payouts/channels.js';

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

/** One payout channel's disbursements per state; `channel` null: not decided yet (unresolved or pending). */
export interface ChannelCounts {
  /** 'BANK' (the sponsor bank) or a wallet provider code. */
  channel: string | null;
  counts: StateCounts;
}

/**
 * Disbursements per payout channel and lifecycle state for each of the given envelopes (one query): the
 * channels, added up, hold exactly what lifecycleCounts holds. Channels in order: BANK, providers, undecided.
 */
export async function channelCounts(
  db: Queryable,
  envelopeIds: string[],
): Promise<Map<string, ChannelCounts[]>> {
  const out = new Map<string, ChannelCounts[]>(envelopeIds.map((id) => [id, []]));
  if (envelopeIds.length === 0) return out;
  const { rows } = await db.query<{
    envelope: string;
    channel: string | null;
    state: LifecycleState;
    count: number;
    amount: string;
  }>(
    `SELECT envelope, channel, state, count(*)::int AS count, sum(amount)::text AS amount
       FROM (SELECT l.disbursement_envelope_id AS envelope, ${PAYOUT_CHANNEL} AS channel,
                    l.lifecycle_status AS state, d.disbursement_amount AS amount
               FROM disbursement_lifecycle l
               JOIN disbursement d ON d.disbursement_id = l.disbursement_id
               ${PAYOUT_CHANNEL_JOINS}
              WHERE l.disbursement_envelope_id = ANY($1::text[])) x
      GROUP BY 1, 2, 3
      ORDER BY envelope, channel IS NULL, channel <> 'BANK', channel`,
    [envelopeIds],
  );
  for (const r of rows) {
    const list = out.get(r.envelope);
    if (!list) continue;
    let entry = list.find((c) => c.channel === r.channel);
    if (!entry) {
      entry = { channel: r.channel, counts: emptyCounts() };
      list.push(entry);
    }
    entry.counts[r.state] = { count: r.count, amount: r.amount };
  }
  return out;
}
