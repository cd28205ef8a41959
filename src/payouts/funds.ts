// Funds per payout channel. The sponsor bank checks and blocks the envelope total less what the wallet channels
// pay; each wallet channel's provider balance (available, else current) is checked against that channel's total
// of resolved, not-cancelled disbursements. GSMA has no reservation, so a wallet channel is checked and never
// blocked: the balance can still fall before the batch is sent, and the provider then rejects what it cannot
// pay (insufficientFunds), which ends those disbursements refused, never lost. Per-channel totals need
// resolution finished, so the funds of an envelope whose program has wallet channels wait for it
// (WAITS_FOR_RESOLUTION, an eligibility clause of the check-funds stage).

import { isConnectorFailure } from '../bank/wallet-connector.js';
import type { Queryable } from '../db/index.js';
import { WALLET_CHANNEL_DISBURSEMENTS } from './channels.js';
import { type PayoutDeps, type PayoutFailure, payoutFailure } from './deps.js';

/** SQL over q (disbursement_envelope_batch_status): a program without wallet channels, or resolution done. */
export const WAITS_FOR_RESOLUTION = `(NOT EXISTS (
     SELECT 1 FROM disbursement_envelope e2 JOIN program_payout_channel c USING (benefit_program_mnemonic)
      WHERE e2.disbursement_envelope_id = q.disbursement_envelope_id)
   OR NOT EXISTS (
     SELECT 1 FROM mapper_resolution_batch_status m
      WHERE m.disbursement_envelope_id = q.disbursement_envelope_id AND m.resolution_status <> 'PROCESSED'))`;

export interface ChannelTotal {
  providerCode: string;
  debitPartyAccount: string;
  currency: string;
  amount: string;
}

/** What each wallet channel of the envelope pays (one query). */
export async function walletChannelTotals(db: Queryable, envelopeId: string): Promise<ChannelTotal[]> {
  const { rows } = await db.query<ChannelTotal>(
    `SELECT c.provider_code AS "providerCode", c.debit_party_account AS "debitPartyAccount",
            trim(c.currency) AS currency, sum(d.disbursement_amount)::text AS amount
       ${WALLET_CHANNEL_DISBURSEMENTS}
        AND d.disbursement_envelope_id = $1
      GROUP BY 1, 2, 3
      ORDER BY 1`,
    [envelopeId],
  );
  return rows;
}

/** True when the bank's part is nothing (every payable disbursement goes to a wallet): the bank is not asked. */
export const noBankPart = (amount: string): boolean => /^0*([.]0*)?$/.test(amount.trim());

/** The bank's part: the envelope total less the wallet channels' totals, exact, at the currency's decimals. */
export async function bankPart(db: Queryable, total: string, walletTotals: ChannelTotal[], exponent: number) {
  if (walletTotals.length === 0) return total;
  const { rows } = await db.query<{ amount: string }>(
    `SELECT round($1::numeric - coalesce((SELECT sum(x) FROM unnest($2::numeric[]) AS x), 0), $3)::text AS amount`,
    [total, walletTotals.map((t) => t.amount), exponent],
  );
  return rows[0]!.amount;
}

/**
 * Checks every wallet channel's balance and records the result per channel (envelope_channel_funds). Returns
 * true when every channel holds its total, false when one falls short, or the failure to retry.
 */
export async function checkWalletChannels(
  deps: PayoutDeps,
  envelopeId: string,
  totals: ChannelTotal[],
): Promise<boolean | PayoutFailure> {
  if (totals.length === 0) return true;
  const available: string[] = [];
  for (const t of totals) {
    const connector = deps.wallets?.get(t.providerCode);
    if (!connector)
      return payoutFailure('WALLET_PROVIDER_NOT_CONFIGURED', `wallet provider ${t.providerCode}`);
    const b = await connector.balance(t.debitPartyAccount);
    if (isConnectorFailure(b))
      return payoutFailure(b.errorCode, `wallet provider ${t.providerCode}: ${b.message ?? ''}`);
    if (b.currency !== t.currency)
      return payoutFailure('WALLET_BALANCE_CURRENCY', `${b.currency} ≠ ${t.currency}`);
    available.push(b.available);
  }
  const { rows } = await deps.db.query<{ short: number }>(
    `WITH upserted AS (
       INSERT INTO envelope_channel_funds (disbursement_envelope_id, provider_code, debit_party_account, currency,
                                          required_amount, available_amount, funds_status)
       SELECT $1, u.code, u.account, u.currency, u.required, u.available,
              CASE WHEN u.available >= u.required THEN 'FUNDS_AVAILABLE' ELSE 'FUNDS_NOT_AVAILABLE' END
         FROM unnest($2::text[], $3::text[], $4::text[], $5::numeric[], $6::numeric[])
              AS u(code, account, currency, required, available)
       ON CONFLICT (disbursement_envelope_id, provider_code) DO UPDATE
         SET debit_party_account = EXCLUDED.debit_party_account, currency = EXCLUDED.currency,
             required_amount = EXCLUDED.required_amount, available_amount = EXCLUDED.available_amount,
             funds_status = EXCLUDED.funds_status, checked_at = now()
       RETURNING funds_status)
     SELECT count(*) FILTER (WHERE funds_status <> 'FUNDS_AVAILABLE')::int AS short FROM upserted`,
    [
      envelopeId,
      totals.map((t) => t.providerCode),
      totals.map((t) => t.debitPartyAccount),
      totals.map((t) => t.currency),
      totals.map((t) => t.amount),
      available,
    ],
  );
  return rows[0]!.short === 0;
}

/**
 * Wraps the check-funds stage's work: the wallet channels are checked first (and recorded), then the bank
 * part as before. A channel short of funds answers FUNDS_NOT_AVAILABLE, retried like the bank's.
 */
export function withWalletChannels<J extends { key: string }, O>(
  deps: PayoutDeps,
  run: (job: J) => Promise<O>,
): (job: J) => Promise<O | PayoutFailure> {
  return async (job) => {
    const totals = await walletChannelTotals(deps.db, job.key);
    const checked = await checkWalletChannels(deps, job.key, totals);
    if (typeof checked !== 'boolean') return checked;
    if (!checked)
      return {
        ok: false,
        errorCode: 'FUNDS_NOT_AVAILABLE',
        message: 'a wallet channel holds less than its total',
        retryStatus: 'FUNDS_NOT_AVAILABLE',
      };
    return run(job);
  };
}
