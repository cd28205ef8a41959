// The provider's back office: processes one accepted batch at a time, in one transaction and a fixed number
// of statements whatever its size. Rules, in the order they are checked:
//   1. the credit party names a wallet (or account) here, else identification/identifierError;
//   2. the debit party names an account here, else identification/identifierError, and it is a
//      disbursement account, else authorisation/requestingPartyAuthorisationError;
//   3. the parties differ, else businessRule/samePartiesError;
//   4. both accounts are active, else businessRule/incorrectState;
//   5. both hold the transaction's currency, else validation/currencyNotSupported;
//   6. the debit account covers it: transactions are paid in batch order while the running total per debit
//      account stays within its balance; from the first that does not fit, every later one of that account
//      is rejected with businessRule/insufficientFunds (a batch is not reordered to fit more in).
// A completed transaction debits the disbursement account and credits the wallet by the exact amount and is
// posted as a movement; then the batch completes and, when the client gave an X-Callback-URL, a callback
// with the batch's final representation is queued.
import type { Db } from '../../db/index.js';
import { type BatchRow, batchRepresentation } from './batches.js';

export interface ProcessedBatch {
  batchId: string;
  completed: number;
  rejected: number;
}

/** Processes the oldest pending batch; null when none is pending. */
export async function processNextBatch(db: Db, now: Date): Promise<ProcessedBatch | null> {
  return db.transaction(async (tx) => {
    const { rows: claimed } = await tx.query<{ batch_id: string }>(
      `SELECT batch_id FROM example_wallet.batch WHERE request_status = 'pending'
        ORDER BY created_at, batch_id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    );
    const batchId = claimed[0]?.batch_id;
    if (!batchId) return null;

    await tx.query(
      `CREATE TEMP TABLE wallet_round (
         seq integer PRIMARY KEY, amount numeric NOT NULL, currency text NOT NULL,
         credit_id text, debit_id text, category text, code text, description text
       ) ON COMMIT DROP`,
    );
    // Rules 1 to 5, read once from the accounts.
    await tx.query(
      `WITH r AS (
         SELECT t.seq, t.amount, t.currency,
           CASE WHEN t.credit_key = 'msisdn'
             THEN (SELECT a.account_id FROM example_wallet.account a WHERE a.msisdn = t.credit_value)
             ELSE t.credit_value END AS credit_ref,
           CASE WHEN t.debit_key = 'msisdn'
             THEN (SELECT a.account_id FROM example_wallet.account a WHERE a.msisdn = t.debit_value)
             ELSE t.debit_value END AS debit_ref
         FROM example_wallet.txn t WHERE t.batch_id = $1 AND t.status = 'received')
       INSERT INTO wallet_round (seq, amount, currency, credit_id, debit_id, category, code, description)
       SELECT r.seq, r.amount, r.currency, c.account_id, d.account_id, x.category, x.code, x.description
       FROM r
       LEFT JOIN example_wallet.account c ON c.account_id = r.credit_ref
       LEFT JOIN example_wallet.account d ON d.account_id = r.debit_ref
       LEFT JOIN LATERAL (SELECT * FROM (VALUES
           (1, c.account_id IS NULL, 'identification', 'identifierError', 'the credit party names no wallet of this provider'),
           (2, d.account_id IS NULL, 'identification', 'identifierError', 'the debit party names no account of this provider'),
           (3, d.kind <> 'disbursement', 'authorisation', 'requestingPartyAuthorisationError', 'the debit party is not a disbursement account'),
           (4, c.account_id = d.account_id, 'businessRule', 'samePartiesError', 'the credit and debit parties are the same account'),
           (5, d.state = 'suspended', 'businessRule', 'incorrectState', 'the disbursement account is suspended'),
           (6, c.state = 'suspended', 'businessRule', 'incorrectState', 'the wallet is suspended'),
           (7, c.currency <> r.currency, 'validation', 'currencyNotSupported', 'the wallet is held in another currency'),
           (8, d.currency <> r.currency, 'validation', 'currencyNotSupported', 'the disbursement account is held in another currency')
         ) AS rule(n, broken, category, code, description)
         WHERE rule.broken ORDER BY rule.n LIMIT 1) x ON true`,
      [batchId],
    );
    // Rule 6 on locked balances: nobody else moves these accounts until this transaction ends.
    await tx.query(
      `SELECT 1 FROM example_wallet.account
        WHERE account_id IN (SELECT DISTINCT debit_id FROM wallet_round WHERE code IS NULL)
        ORDER BY account_id FOR UPDATE`,
    );
    await tx.query(
      `UPDATE wallet_round w
          SET category = 'businessRule', code = 'insufficientFunds',
              description = 'the disbursement account does not cover this transaction'
         FROM (SELECT r.seq, sum(r.amount) OVER (PARTITION BY r.debit_id ORDER BY r.seq) AS running, a.balance
                 FROM wallet_round r JOIN example_wallet.account a ON a.account_id = r.debit_id
                WHERE r.code IS NULL) s
        WHERE w.seq = s.seq AND s.running > s.balance`,
    );
    await tx.query(
      `UPDATE example_wallet.txn t
          SET status = CASE WHEN w.code IS NULL THEN 'completed' ELSE 'rejected' END,
              error_category = w.category, error_code = w.code, error_description = w.description,
              decided_at = $2
         FROM wallet_round w WHERE t.batch_id = $1 AND t.seq = w.seq`,
      [batchId, now],
    );
    await tx.query(
      `INSERT INTO example_wallet.movement (transaction_reference, org_reference, type, amount, currency,
         debit_account, credit_account, debit_party, credit_party, batch_id, created_at)
       SELECT t.transaction_reference, t.org_reference, 'disbursement', w.amount, w.currency, w.debit_id,
              w.credit_id, t.debit_party, t.credit_party, $1, $2
         FROM wallet_round w JOIN example_wallet.txn t ON t.batch_id = $1 AND t.seq = w.seq
        WHERE w.code IS NULL ORDER BY w.seq`,
      [batchId, now],
    );
    await tx.query(
      `UPDATE example_wallet.account a SET balance = a.balance + m.delta, updated_at = $1
         FROM (SELECT account_id, sum(delta) AS delta FROM (
                 SELECT debit_id AS account_id, -amount AS delta FROM wallet_round WHERE code IS NULL
                 UNION ALL
                 SELECT credit_id, amount FROM wallet_round WHERE code IS NULL) x
               GROUP BY account_id) m
        WHERE a.account_id = m.account_id`,
      [now],
    );
    const { rows } = await tx.query<BatchRow>(
      `UPDATE example_wallet.batch b
          SET request_status = 'completed', batch_status = 'completed', completed_at = $2, modified_at = $2,
              completed_count = c.completed, rejection_count = c.rejected
         FROM (SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed,
                      count(*) FILTER (WHERE status = 'rejected')::int AS rejected
                 FROM example_wallet.txn WHERE batch_id = $1) c
        WHERE b.batch_id = $1
       RETURNING b.batch_id, b.server_correlation_id::text, b.client_correlation_id::text, b.request_hash,
         b.callback_url, b.batch_title, b.batch_description, b.request_date, b.request_status, b.batch_status,
         b.error, b.transaction_count, b.parsing_success_count, b.completed_count, b.rejection_count,
         b.created_at, b.completed_at, b.modified_at`,
      [batchId, now],
    );
    const batch = rows[0]!;
    if (batch.callback_url)
      await tx.query(
        `INSERT INTO example_wallet.callback (batch_id, url, client_correlation_id, body, next_attempt_at)
         VALUES ($1, $2, $3::uuid, $4, $5)`,
        [
          batchId,
          batch.callback_url,
          batch.client_correlation_id,
          JSON.stringify(batchRepresentation(batch)),
          now,
        ],
      );
    return { batchId, completed: batch.completed_count, rejected: batch.rejection_count };
  });
}
