// Outcomes of wallet payments, applied set-based: one page of completions or rejections is three statements
// whatever its size (verify-and-apply, the envelope counter, the batch's offset), in the caller's transaction.
//
// The rules, stated once. An outcome changes state only when all of these hold, else it is recorded in
// wallet_outcome_error with the reason and nothing else moves:
//   - it names a disbursement (our reference) that exists             else UNKNOWN_DISBURSEMENT / NO_REFERENCE
//   - that disbursement was shipped on this channel in this batch     else NOT_IN_THIS_BATCH
//   - a completion states exactly the amount and currency we sent    else AMOUNT_MISMATCH / CURRENCY_MISMATCH
//     (and, when it names one, the wallet we sent to)                 else CREDIT_PARTY_MISMATCH
//   - the payment has no outcome yet                                  else ALREADY_FINAL (the same outcome
//     seen again is a silent DUPLICATE), and appears once in the page
// A completion is a paid disbursement: a disbursement_recon row (no statement; the provider's transaction
// reference, prefixed with the provider code) and the envelope's reconciled counter, like a statement debit.
// A rejection ends the disbursement `refused` with refused_by WALLET_PROVIDER and the GSMA code; the envelope's
// shipped counter goes down by the rows written, as a bank's pain.002 rejection does.

import type { WalletCompletion, WalletRejection } from '../bank/wallet-connector.js';
import type { Queryable } from '../db/index.js';

const DECIMAL = '^[0-9]{1,20}([.][0-9]{1,10})?$';

// The verdicts both kinds of outcome share, around the kind's own (input `i`, our payment `w`): first whether
// the reference names a disbursement of this batch ...
const NAMES_OUR_PAYMENT = `
                WHEN i.ref IS NULL THEN 'NO_REFERENCE'
                WHEN w.disbursement_id IS NULL AND NOT EXISTS (SELECT 1 FROM disbursement d WHERE d.disbursement_id = i.ref)
                  THEN 'UNKNOWN_DISBURSEMENT'
                WHEN w.disbursement_id IS NULL THEN 'NOT_IN_THIS_BATCH'`;
// ... then, once the kind's checks pass, whether it is the first of the page and the disbursement is not final.
const FIRST_AND_OPEN = `
                WHEN row_number() OVER (PARTITION BY i.ref ORDER BY i.n) > 1 THEN 'DUPLICATE'
                WHEN EXISTS (SELECT 1 FROM disbursement_recon r WHERE r.disbursement_id = i.ref)
                  OR EXISTS (SELECT 1 FROM disbursement_bank_refusal x WHERE x.disbursement_id = i.ref)
                  THEN 'ALREADY_FINAL'`;

/** The CTE that records every outcome of the page that failed verification (kind COMPLETION or REJECTION). */
const errorsCte = (kind: 'COMPLETION' | 'REJECTION') => `
     errors AS (
       INSERT INTO wallet_outcome_error (wallet_batch_id, kind, reference, provider_transaction_reference, error_reason)
       SELECT $1::uuid, '${kind}', left(c.ref, 256), left(c.txref, 256), c.verdict
         FROM checked c WHERE c.verdict NOT IN ('OK', 'DUPLICATE')
       RETURNING id)`;

/** Moves one counter of the envelope by the rows applied (reconciled up, shipped down), when any were. */
async function moveEnvelopeCounter(
  tx: Queryable,
  column: 'number_of_disbursements_reconciled' | 'number_of_disbursements_shipped',
  delta: '+' | '-',
  r: { envelope: string; applied: number },
): Promise<void> {
  if (r.applied === 0) return;
  await tx.query(
    `UPDATE disbursement_envelope_batch_status SET ${column} = ${column} ${delta} $2
      WHERE disbursement_envelope_id = $1`,
    [r.envelope, r.applied],
  );
}

export interface Applied {
  applied: number;
  refused: number;
}

export async function applyCompletions(
  tx: Queryable,
  walletBatchId: string,
  items: WalletCompletion[],
): Promise<Applied> {
  if (items.length === 0) return { applied: 0, refused: 0 };
  const { rows } = await tx.query<{ applied: number; refused: number; envelope: string }>(
    `WITH input AS (
       SELECT u.ref, u.txref, u.msisdn, u.amount, u.currency, u.n
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
              WITH ORDINALITY AS u(ref, txref, msisdn, amount, currency, n)),
     batch AS (
       SELECT wallet_batch_id, bank_disbursement_batch_id, disbursement_envelope_id, provider_code
         FROM wallet_batch WHERE wallet_batch_id = $1::uuid),
     checked AS (
       SELECT i.*, w.disbursement_id,
              CASE${NAMES_OUR_PAYMENT}
                WHEN w.outcome = 'COMPLETED' AND w.provider_transaction_reference = i.txref THEN 'DUPLICATE'
                WHEN w.outcome IS NOT NULL THEN 'ALREADY_FINAL'
                WHEN i.amount IS NULL OR i.amount !~ '${DECIMAL}' OR i.amount::numeric <> w.amount THEN 'AMOUNT_MISMATCH'
                WHEN i.currency IS DISTINCT FROM trim(w.currency) THEN 'CURRENCY_MISMATCH'
                WHEN i.msisdn IS NOT NULL AND i.msisdn <> w.credit_party_msisdn THEN 'CREDIT_PARTY_MISMATCH'${FIRST_AND_OPEN}
                WHEN EXISTS (SELECT 1 FROM disbursement_recon r, batch b
                              WHERE r.remittance_reference_number = b.provider_code || ':' || i.txref)
                  THEN 'DUPLICATE_TRANSACTION_REFERENCE'
                ELSE 'OK' END AS verdict
         FROM input i
         LEFT JOIN wallet_payment w ON w.disbursement_id = i.ref AND w.wallet_batch_id = $1::uuid),
     paid AS (
       UPDATE wallet_payment w
          SET outcome = 'COMPLETED', provider_transaction_reference = c.txref, outcome_at = now()
         FROM checked c
        WHERE c.verdict = 'OK' AND w.disbursement_id = c.disbursement_id
       RETURNING w.disbursement_id, c.txref),
     recon AS (
       INSERT INTO disbursement_recon
         (disbursement_id, bank_disbursement_batch_id, disbursement_envelope_id, remittance_reference_number,
          remittance_entry_date, remittance_value_date, wallet_batch_id)
       SELECT p.disbursement_id, b.bank_disbursement_batch_id, b.disbursement_envelope_id,
              b.provider_code || ':' || p.txref, current_date, current_date, b.wallet_batch_id
         FROM paid p, batch b
       RETURNING disbursement_id),
${errorsCte('COMPLETION')}
     SELECT (SELECT count(*) FROM recon)::int AS applied, (SELECT count(*) FROM errors)::int AS refused,
            (SELECT disbursement_envelope_id FROM batch) AS envelope`,
    [
      walletBatchId,
      items.map((i) => i.disbursementId),
      items.map((i) => i.providerTransactionReference),
      items.map((i) => i.msisdn),
      items.map((i) => i.amount),
      items.map((i) => i.currency),
    ],
  );
  const r = rows[0]!;
  await moveEnvelopeCounter(tx, 'number_of_disbursements_reconciled', '+', r);
  return { applied: r.applied, refused: r.refused };
}

/**
 * Rejections of one page, or (`items` null) of every payment of the batch still without an outcome: the
 * provider failed the whole request (`whole` gives the error).
 */
export async function applyRejections(
  tx: Queryable,
  walletBatchId: string,
  items: WalletRejection[] | null,
  whole?: { errorCategory: string | null; errorCode: string },
): Promise<Applied> {
  if (items !== null && items.length === 0) return { applied: 0, refused: 0 };
  const input =
    items === null
      ? `SELECT w.disbursement_id AS ref, NULL::text AS txref, $2::text AS category, $3::text AS code,
                row_number() OVER (ORDER BY w.disbursement_id) AS n
           FROM wallet_payment w WHERE w.wallet_batch_id = $1::uuid AND w.outcome IS NULL`
      : `SELECT u.ref, u.txref, u.category, u.code, u.n
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS u(ref, txref, category, code, n)`;
  const params =
    items === null
      ? [walletBatchId, whole?.errorCategory ?? null, whole?.errorCode ?? 'genericError']
      : [
          walletBatchId,
          items.map((i) => i.disbursementId),
          items.map((i) => i.providerTransactionReference),
          items.map((i) => i.errorCategory),
          items.map((i) => i.errorCode),
        ];
  const { rows } = await tx.query<{ applied: number; refused: number; envelope: string }>(
    `WITH input AS (${input}),
     batch AS (
       SELECT wallet_batch_id, bank_disbursement_batch_id, disbursement_envelope_id
         FROM wallet_batch WHERE wallet_batch_id = $1::uuid),
     checked AS (
       SELECT i.*, w.disbursement_id,
              CASE${NAMES_OUR_PAYMENT}
                WHEN w.outcome = 'REJECTED' AND w.error_code IS NOT DISTINCT FROM i.code THEN 'DUPLICATE'
                WHEN w.outcome IS NOT NULL THEN 'ALREADY_FINAL'${FIRST_AND_OPEN}
                ELSE 'OK' END AS verdict
         FROM input i
         LEFT JOIN wallet_payment w ON w.disbursement_id = i.ref AND w.wallet_batch_id = $1::uuid),
     rejected AS (
       UPDATE wallet_payment w
          SET outcome = 'REJECTED', provider_transaction_reference = c.txref, error_category = c.category,
              error_code = c.code, outcome_at = now()
         FROM checked c
        WHERE c.verdict = 'OK' AND w.disbursement_id = c.disbursement_id
       RETURNING w.disbursement_id, c.code),
     refusals AS (
       INSERT INTO disbursement_bank_refusal (disbursement_id, bank_disbursement_batch_id, error_code, refused_by)
       SELECT r.disbursement_id, b.bank_disbursement_batch_id, left(r.code, 64), 'WALLET_PROVIDER'
         FROM rejected r, batch b
       ON CONFLICT (disbursement_id) DO NOTHING
       RETURNING disbursement_id),
${errorsCte('REJECTION')}
     SELECT (SELECT count(*) FROM refusals)::int AS applied, (SELECT count(*) FROM errors)::int AS refused,
            (SELECT disbursement_envelope_id FROM batch) AS envelope`,
    params,
  );
  const r = rows[0]!;
  await moveEnvelopeCounter(tx, 'number_of_disbursements_shipped', '-', r);
  return { applied: r.applied, refused: r.refused };
}
