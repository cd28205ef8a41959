// The asynchronous side of the bank: posts accepted payments. Each round takes up to `batchSize` payments
// and, in one transaction and a fixed number of statements, debits the funding accounts, releases their
// blocks, credits the bank's own customers, sends the rest through the settlement account, and returns a
// seeded share of payments to other banks as reversals (RD) with a reason.
import { REVERSAL_REASONS, type ReversalReason } from '../../bank/example/layout.js';
import type { Db } from '../../db/index.js';
import { businessDay } from './common.js';
import { randomFor } from './random.js';

export interface ProcessOptions {
  bankCode: string;
  reversalRate: number;
  seed: string;
  batchSize: number;
  now: Date;
}

export interface ProcessRound {
  processed: number;
  credited: number;
  paidOut: number;
  reversed: number;
  /** Remitting accounts that got entries (their statements are due). */
  fundingAccounts: string[];
  batchesCompleted: number;
}

/** A round that found nothing to do; also the start of a running total of rounds. */
export function emptyRound(): ProcessRound {
  return { processed: 0, credited: 0, paidOut: 0, reversed: 0, fundingAccounts: [], batchesCompleted: 0 };
}

interface Candidate {
  payment_id: number;
  payment_reference: string;
  account_number: string;
  beneficiary_bank_code: string | null;
  beneficiary_account_type: string;
  beneficiary_account: string | null;
  currency: string;
  internal_account: string | null;
  internal_currency: string | null;
  internal_status: string | null;
}

type Outcome = { status: 'CREDITED' | 'PAID_OUT' | 'REVERSED'; reason: ReversalReason | null };

const STATUS_REASON: Record<string, ReversalReason> = {
  CLOSED: 'ACCOUNT_CLOSED',
  DORMANT: 'ACCOUNT_DORMANT',
  DECEASED: 'ACCOUNT_DECEASED',
};

/** What happens to one payment: decided from the bank's own accounts, or by the seeded draw for other banks. */
export function decideOutcome(
  c: Candidate,
  options: Pick<ProcessOptions, 'bankCode' | 'reversalRate' | 'seed'>,
): Outcome {
  const ownCustomer =
    c.beneficiary_bank_code === options.bankCode && c.beneficiary_account_type === 'BANK_ACCOUNT';
  if (ownCustomer) {
    if (!c.internal_account || c.internal_currency !== c.currency)
      return { status: 'REVERSED', reason: 'ACCOUNT_NOT_FOUND' };
    const reason = STATUS_REASON[c.internal_status ?? ''];
    return reason ? { status: 'REVERSED', reason } : { status: 'CREDITED', reason: null };
  }
  const draw = randomFor(options.seed, `${c.account_number}/${c.payment_reference}`);
  if (draw() < options.reversalRate) {
    const reason = REVERSAL_REASONS[Math.floor(draw() * REVERSAL_REASONS.length)]!;
    return { status: 'REVERSED', reason };
  }
  return { status: 'PAID_OUT', reason: null };
}

export async function processRound(db: Db, options: ProcessOptions): Promise<ProcessRound> {
  const today = businessDay(options.now);
  return db.transaction(async (tx) => {
    // The next payments in id order, read through the partial index of accepted payments so that the LIMIT
    // stops the scan. With statistics that lag behind a fast-filling table (autoanalyze runs later) the planner
    // otherwise took every accepted payment in a bitmap scan and sorted them all, each round: quadratic in the
    // backlog (most of the bank's time at 10^6 payments). Set for this statement only.
    await tx.query('SET LOCAL enable_bitmapscan = off');
    await tx.query('SET LOCAL enable_seqscan = off');
    const { rows } = await tx.query<Candidate>(
      `SELECT p.payment_id, p.payment_reference, p.account_number, p.beneficiary_bank_code,
         p.beneficiary_account_type, p.beneficiary_account, p.currency,
         b.account_number AS internal_account, b.currency AS internal_currency, b.status AS internal_status
       FROM example_bank.payment p
       LEFT JOIN example_bank.account b
         ON b.account_number = p.beneficiary_account AND b.kind = 'CUSTOMER'
         AND p.beneficiary_bank_code = $1 AND p.beneficiary_account_type = 'BANK_ACCOUNT'
       WHERE p.status = 'ACCEPTED'
       ORDER BY p.payment_id
       LIMIT $2
       FOR UPDATE OF p SKIP LOCKED`,
      [options.bankCode, options.batchSize],
    );
    await tx.query('SET LOCAL enable_bitmapscan TO DEFAULT');
    await tx.query('SET LOCAL enable_seqscan TO DEFAULT');
    if (rows.length === 0) return emptyRound();

    const ids: number[] = [];
    const statuses: string[] = [];
    const reasons: (string | null)[] = [];
    for (const c of rows) {
      const outcome = decideOutcome(c, options);
      ids.push(c.payment_id);
      statuses.push(outcome.status);
      reasons.push(outcome.reason);
    }
    // The round's payments, read once: every statement below works on this small table, not on `payment`.
    await tx.query(
      `CREATE TEMP TABLE bank_round (
         payment_id bigint PRIMARY KEY, account_number text NOT NULL, beneficiary_account text,
         currency text NOT NULL, amount numeric NOT NULL, status text NOT NULL, block_reference text NOT NULL,
         batch_id text NOT NULL
       ) ON COMMIT DROP`,
    );
    await tx.query(
      `WITH u AS (
         UPDATE example_bank.payment p SET status = o.status, reversal_reason = o.reason, processed_at = now()
         FROM unnest($1::bigint[], $2::text[], $3::text[]) AS o(id, status, reason)
         WHERE p.payment_id = o.id
         RETURNING p.payment_id, p.account_number, p.beneficiary_account, p.currency, p.amount, p.status,
                   p.block_reference, p.batch_id)
       INSERT INTO bank_round SELECT * FROM u`,
      [ids, statuses, reasons],
    );
    // The clearing system's side of payments that leave the bank (and of those that come back).
    await tx.query(
      `INSERT INTO example_bank.account (account_number, currency, holder_name, kind)
       SELECT DISTINCT 'SETTLEMENT-' || currency, currency, 'Clearing settlement', 'SETTLEMENT'
       FROM bank_round WHERE status <> 'CREDITED'
       ON CONFLICT (account_number) DO NOTHING`,
    );
    // Entries in reading order: every debit of the round, then the credits, then the returns.
    await tx.query(
      `INSERT INTO example_bank.ledger_entry (account_number, mark, amount, value_date, transaction_type, payment_id, description)
       SELECT account_number, mark, amount, $1::date, 'NTRF', payment_id, description FROM (
         SELECT 1 AS step, payment_id AS ord, account_number, 'D' AS mark, amount, payment_id, NULL AS description
           FROM bank_round
         UNION ALL
         SELECT 2, payment_id, beneficiary_account, 'C', amount, payment_id, NULL
           FROM bank_round WHERE status = 'CREDITED'
         UNION ALL
         SELECT 3, min(payment_id), 'SETTLEMENT-' || currency, 'C', sum(amount), NULL, 'OUTGOING PAYMENTS'
           FROM bank_round WHERE status <> 'CREDITED'
           GROUP BY currency
         UNION ALL
         SELECT 4, min(payment_id), 'SETTLEMENT-' || currency, 'D', sum(amount), NULL, 'RETURNED PAYMENTS'
           FROM bank_round WHERE status = 'REVERSED'
           GROUP BY currency
         UNION ALL
         SELECT 5, payment_id, account_number, 'RD', amount, payment_id, NULL
           FROM bank_round WHERE status = 'REVERSED'
       ) e ORDER BY step, ord`,
      [today],
    );
    // Balances follow the entries: book by every movement, blocked down by what the debits released.
    await tx.query(
      `UPDATE example_bank.account a
       SET book_balance = a.book_balance + d.book, blocked_amount = a.blocked_amount - d.released
       FROM (
         SELECT account_number, sum(book) AS book, sum(released) AS released FROM (
           SELECT account_number, -amount AS book, amount AS released FROM bank_round
           UNION ALL
           SELECT beneficiary_account, amount, 0 FROM bank_round WHERE status = 'CREDITED'
           UNION ALL
           SELECT 'SETTLEMENT-' || currency, amount, 0 FROM bank_round WHERE status = 'PAID_OUT'
           UNION ALL
           SELECT account_number, amount, 0 FROM bank_round WHERE status = 'REVERSED'
         ) m GROUP BY account_number
       ) d
       WHERE a.account_number = d.account_number`,
    );
    await tx.query(
      `UPDATE example_bank.fund_block b SET amount_released = b.amount_released + r.amount
       FROM (SELECT block_reference, sum(amount) AS amount FROM bank_round GROUP BY block_reference) r
       WHERE b.block_reference = r.block_reference`,
    );
    const completed = await tx.query(
      `UPDATE example_bank.payment_batch pb SET status = 'PROCESSED', processed_at = now()
       WHERE pb.batch_id IN (SELECT DISTINCT batch_id FROM bank_round)
         AND NOT EXISTS (SELECT 1 FROM example_bank.payment q WHERE q.batch_id = pb.batch_id AND q.status = 'ACCEPTED')`,
    );
    const count = (s: string) => statuses.filter((x) => x === s).length;
    return {
      processed: rows.length,
      credited: count('CREDITED'),
      paidOut: count('PAID_OUT'),
      reversed: count('REVERSED'),
      fundingAccounts: [...new Set(rows.map((r) => r.account_number))].sort(),
      batchesCompleted: completed.rowCount,
    };
  });
}
