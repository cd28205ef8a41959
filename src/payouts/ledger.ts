// The wallet provider's ledger reconciles the day (issue 15, part 3): a second source, independent of the
// completions we were told about, like a bank statement. Once a day per funding account (and on demand) the
// account's posted transactions are staged page by page (one INSERT ... unnest each, idempotent on the
// provider's transaction reference), then reconciled in a fixed number of set-based statements whatever the
// number of transactions (reconcileLedgerDay: six).
//
// The rules, stated once. A completed debit of the funding account is believed only when it names (by our
// disbursement id, requestingOrganisationTransactionReference) a wallet payment we shipped from that very
// account at that provider, for exactly its amount and currency, and is the only debit for it. Then:
//   - the payment has a completion      → CONFIRMED: the payment is marked confirmed by the ledger
//   - no outcome yet                    → AWAITING_COMPLETION, looked at again by every later reconciliation
//   - the provider rejected it          → DEBITED_BUT_REJECTED (money left for a payment reported unpaid)
// Otherwise the debit is an error with its reason, in this order: NO_REFERENCE, UNKNOWN_DISBURSEMENT,
// NOT_SHIPPED (a disbursement we never sent to a wallet), OTHER_CHANNEL (sent from another account or
// provider), AMOUNT_MISMATCH, CURRENCY_MISMATCH, DUPLICATE_DEBIT (a second debit for one payment; a refused
// debit never takes the place of the true one). Credits and transactions not completed are IGNORED.
// A completion we recorded in the day's window whose payment no ledger debit confirms is MISSING_LEDGER_DEBIT;
// that error is resolved when a later reconciliation finds the debit (posted just after midnight, say).
// The ledger never pays anything: no recon row, no counter moves; it only confirms or contradicts.
import type { LedgerTransaction } from '../bank/wallet-connector.js';
import type { Queryable } from '../db/index.js';
import { addDays } from '../g2p/dates.js';

export const LEDGER_ERRORS = [
  'NO_REFERENCE',
  'UNKNOWN_DISBURSEMENT',
  'NOT_SHIPPED',
  'OTHER_CHANNEL',
  'AMOUNT_MISMATCH',
  'CURRENCY_MISMATCH',
  'DUPLICATE_DEBIT',
  'DEBITED_BUT_REJECTED',
  'MISSING_LEDGER_DEBIT',
] as const;
export type LedgerError = (typeof LEDGER_ERRORS)[number];

const DECIMAL = '^[0-9]{1,20}([.][0-9]{1,10})?$';
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface LedgerDay {
  ledgerDayId: string;
  providerCode: string;
  debitPartyAccount: string;
  ledgerDate: string;
  windowStart: Date;
  windowEnd: Date;
  entriesOffset: number;
  status: string;
  debits: number;
  confirmed: number;
  errors: number;
  reconciledAt: Date | null;
  latestErrorCode: string | null;
}

const DAY_COLUMNS = `ledger_day_id AS "ledgerDayId", provider_code AS "providerCode",
  debit_party_account AS "debitPartyAccount", to_char(ledger_date, 'YYYY-MM-DD') AS "ledgerDate",
  window_start AS "windowStart", window_end AS "windowEnd", entries_offset AS "entriesOffset",
  ledger_status AS status, debits, confirmed, errors, reconciled_at AS "reconciledAt",
  latest_error_code AS "latestErrorCode"`;

// The key of a day is derived from what it is, so two workers scheduling the same day make one row.
const DAY_ROWS = `SELECT md5(a.provider_code || '|' || a.debit_party_account || '|' || $1::text)::uuid,
         a.provider_code, a.debit_party_account, $1::date,
         ($1::date)::timestamp AT TIME ZONE $2::text, ($1::date + 1)::timestamp AT TIME ZONE $2::text
    FROM (SELECT DISTINCT provider_code, debit_party_account FROM program_payout_channel
           WHERE upper(provider_code) = ANY($3::text[])
             AND ($4::text IS NULL OR debit_party_account = $4)) a`;

/**
 * Makes the day rows of `date` for every funding account of the given providers that has none (one
 * statement); the daily schedule calls it for yesterday. Returns the number of rows made.
 */
export async function scheduleLedgerDays(
  db: Queryable,
  date: string,
  timeZone: string,
  providerCodes: readonly string[],
): Promise<number> {
  if (providerCodes.length === 0) return 0;
  const { rowCount } = await db.query(
    `INSERT INTO wallet_ledger_day
       (ledger_day_id, provider_code, debit_party_account, ledger_date, window_start, window_end)
     ${DAY_ROWS}
     ON CONFLICT (provider_code, debit_party_account, ledger_date) DO NOTHING`,
    [date, timeZone, providerCodes.map((c) => c.toUpperCase()), null],
  );
  return rowCount ?? 0;
}

export class LedgerRequestError extends Error {
  constructor(
    readonly code: 'ledger.date.invalid' | 'ledger.provider.unknown' | 'ledger.account.unknown',
    message: string,
  ) {
    super(message);
    this.name = 'LedgerRequestError';
  }
}

/**
 * On demand: (re)reads and reconciles `date` for one provider's funding accounts (or one of them) as soon as
 * a worker is free. A day already done is read again from its first transaction (staging is idempotent).
 * `today` bounds the date: a day still to come has no ledger.
 */
export async function requestLedgerDays(
  db: Queryable,
  r: { providerCode: string; date: string; account?: string | null; timeZone: string; today: string },
): Promise<LedgerDay[]> {
  if (!DATE.test(r.date) || Number.isNaN(Date.parse(r.date)) || addDays(r.date, 0) !== r.date)
    throw new LedgerRequestError('ledger.date.invalid', 'date must be a calendar date YYYY-MM-DD');
  if (r.date > r.today)
    throw new LedgerRequestError('ledger.date.invalid', `date ${r.date} is after today (${r.today})`);
  const { rows } = await db.query<LedgerDay>(
    `INSERT INTO wallet_ledger_day
       (ledger_day_id, provider_code, debit_party_account, ledger_date, window_start, window_end)
     ${DAY_ROWS}
     ON CONFLICT (provider_code, debit_party_account, ledger_date) DO UPDATE
       SET ledger_status = 'PENDING', entries_offset = 0, ledger_attempts = 0, latest_error_code = NULL,
           latest_error_message = NULL, next_attempt_at = now()
     RETURNING ${DAY_COLUMNS}`,
    [r.date, r.timeZone, [r.providerCode.toUpperCase()], r.account ?? null],
  );
  if (rows.length === 0)
    throw r.account
      ? new LedgerRequestError(
          'ledger.account.unknown',
          `no program pays through ${r.providerCode} from ${r.account}`,
        )
      : new LedgerRequestError('ledger.provider.unknown', `no program has a channel at ${r.providerCode}`);
  return rows;
}

export async function ledgerDay(db: Queryable, ledgerDayId: string): Promise<LedgerDay | null> {
  const { rows } = await db.query<LedgerDay>(
    `SELECT ${DAY_COLUMNS} FROM wallet_ledger_day WHERE ledger_day_id = $1::uuid`,
    [ledgerDayId],
  );
  return rows[0] ?? null;
}

export async function listLedgerDays(
  db: Queryable,
  filter: { providerCode?: string | null; date?: string | null; limit?: number },
): Promise<LedgerDay[]> {
  const { rows } = await db.query<LedgerDay>(
    `SELECT ${DAY_COLUMNS} FROM wallet_ledger_day
      WHERE ($1::text IS NULL OR upper(provider_code) = upper($1)) AND ($2::date IS NULL OR ledger_date = $2::date)
      ORDER BY ledger_date DESC, provider_code, debit_party_account LIMIT $3`,
    [filter.providerCode ?? null, filter.date ?? null, Math.min(Math.max(filter.limit ?? 100, 1), 1000)],
  );
  return rows;
}

/** Stages one page of the day's transactions (one statement). Returns the number of new transactions. */
export async function stageLedgerPage(
  tx: Queryable,
  day: Pick<LedgerDay, 'ledgerDayId' | 'providerCode' | 'debitPartyAccount'>,
  items: readonly LedgerTransaction[],
): Promise<number> {
  if (items.length === 0) return 0;
  const col = <K extends keyof LedgerTransaction>(k: K) => items.map((i) => i[k]);
  // The amount goes in as text and is cast by the database (exact); one that is no decimal is kept as NULL,
  // which matches no amount.
  const { rowCount } = await tx.query(
    `INSERT INTO wallet_ledger_entry
       (provider_code, transaction_reference, ledger_day_id, debit_party_account, direction, transaction_type,
        transaction_status, reference, amount, currency, posted_at)
     SELECT DISTINCT ON (u.txref) $2, left(u.txref, 256), $1::uuid, $3, u.direction, left(u.type, 64),
            left(u.status, 64), left(u.ref, 256), CASE WHEN u.amount ~ '${DECIMAL}' THEN u.amount::numeric END,
            left(u.currency, 8), u.posted_at::timestamptz
       FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[],
                   $11::text[]) AS u(txref, ref, direction, type, status, amount, currency, posted_at)
      ORDER BY u.txref
     ON CONFLICT (provider_code, transaction_reference) DO NOTHING`,
    [
      day.ledgerDayId,
      day.providerCode,
      day.debitPartyAccount,
      col('providerTransactionReference'),
      col('disbursementId'),
      col('direction'),
      col('type'),
      col('status'),
      col('amount'),
      col('currency'),
      col('postedAt'),
    ],
  );
  return rowCount ?? 0;
}

export interface LedgerSummary {
  debits: number;
  confirmed: number;
  /** Errors of the day still open (ledger debits refused, completions without a debit). */
  errors: number;
  /** Errors this reconciliation wrote, by reason. */
  newErrors: Partial<Record<LedgerError, number>>;
}

/**
 * Reconciles the staged transactions of the day's account against the wallet payments we shipped from it, in
 * six statements whatever their number. Runs in the caller's transaction.
 */
export async function reconcileLedgerDay(tx: Queryable, ledgerDayId: string): Promise<LedgerSummary> {
  const DAY = `SELECT provider_code, debit_party_account, window_start, window_end
                 FROM wallet_ledger_day WHERE ledger_day_id = $1::uuid`;
  // 1. Classify every debit of the account not yet final (this day's, and earlier ones awaiting a completion).
  // The duplicate check ranks only debits that passed the others, so a forged debit never hides the true one.
  await tx.query(
    `WITH day AS (${DAY}),
     open AS (
       SELECT t.provider_code, t.transaction_reference, t.reference, t.amount, t.currency, t.posted_at,
              w.disbursement_id AS paid_id, w.outcome, w.ledger_transaction_reference AS confirmed_by,
              CASE
                WHEN t.direction IS DISTINCT FROM 'DEBIT'
                  OR lower(coalesce(t.transaction_status, 'completed')) <> 'completed' THEN 'IGNORED'
                WHEN t.reference IS NULL OR t.reference = '' THEN 'NO_REFERENCE'
                WHEN NOT EXISTS (SELECT 1 FROM disbursement d WHERE d.disbursement_id = t.reference)
                  THEN 'UNKNOWN_DISBURSEMENT'
                WHEN w.disbursement_id IS NULL THEN 'NOT_SHIPPED'
                WHEN upper(w.provider_code) <> upper(t.provider_code)
                  OR b.debit_party_account <> t.debit_party_account THEN 'OTHER_CHANNEL'
                WHEN t.amount IS DISTINCT FROM w.amount THEN 'AMOUNT_MISMATCH'
                WHEN t.currency IS DISTINCT FROM trim(w.currency) THEN 'CURRENCY_MISMATCH'
              END AS refused
         FROM wallet_ledger_entry t
         JOIN day ON t.provider_code = day.provider_code AND t.debit_party_account = day.debit_party_account
         LEFT JOIN wallet_payment w ON w.disbursement_id = t.reference
         LEFT JOIN wallet_batch b ON b.wallet_batch_id = w.wallet_batch_id
        WHERE t.outcome IS NULL OR t.outcome = 'AWAITING_COMPLETION'),
     ranked AS (
       SELECT o.*, row_number() OVER (PARTITION BY o.reference ORDER BY o.posted_at, o.transaction_reference) AS nth
         FROM open o WHERE o.refused IS NULL),
     verdict AS (
       SELECT provider_code, transaction_reference, refused AS outcome FROM open WHERE refused IS NOT NULL
       UNION ALL
       SELECT provider_code, transaction_reference,
              CASE
                WHEN confirmed_by IS NOT NULL AND confirmed_by <> transaction_reference THEN 'DUPLICATE_DEBIT'
                WHEN confirmed_by IS NULL AND nth > 1 THEN 'DUPLICATE_DEBIT'
                WHEN outcome = 'REJECTED' THEN 'DEBITED_BUT_REJECTED'
                WHEN outcome IS NULL THEN 'AWAITING_COMPLETION'
                ELSE 'CONFIRMED'
              END
         FROM ranked)
     UPDATE wallet_ledger_entry t
        SET outcome = v.outcome,
            disbursement_id = CASE WHEN v.outcome IN ('NO_REFERENCE', 'UNKNOWN_DISBURSEMENT', 'IGNORED')
                                   THEN NULL ELSE t.reference END
       FROM verdict v
      WHERE t.provider_code = v.provider_code AND t.transaction_reference = v.transaction_reference`,
    [ledgerDayId],
  );
  // 2. A confirming debit marks its payment confirmed by the ledger (nothing else moves).
  await tx.query(
    `UPDATE wallet_payment w
        SET ledger_transaction_reference = t.transaction_reference, ledger_confirmed_at = now()
       FROM wallet_ledger_entry t, (${DAY}) day
      WHERE t.provider_code = day.provider_code AND t.debit_party_account = day.debit_party_account
        AND t.outcome = 'CONFIRMED' AND w.disbursement_id = t.disbursement_id
        AND w.ledger_transaction_reference IS NULL`,
    [ledgerDayId],
  );
  // 3. Refused debits become errors (once each, whichever reconciliation met them first).
  const written = await tx.query<{ reason: LedgerError; n: number }>(
    `WITH day AS (${DAY}),
     ins AS (
       INSERT INTO wallet_ledger_error
         (ledger_day_id, provider_code, kind, error_reason, disbursement_id, transaction_reference, amount, currency)
       SELECT t.ledger_day_id, t.provider_code, 'LEDGER_DEBIT', t.outcome, t.reference, t.transaction_reference,
              t.amount, t.currency
         FROM wallet_ledger_entry t
         JOIN day ON t.provider_code = day.provider_code AND t.debit_party_account = day.debit_party_account
        WHERE t.outcome NOT IN ('CONFIRMED', 'AWAITING_COMPLETION', 'IGNORED')
       UNION ALL
       -- 4. Completions we recorded in the day's window that no ledger debit confirms.
       SELECT $1::uuid, day.provider_code, 'COMPLETION', 'MISSING_LEDGER_DEBIT', w.disbursement_id,
              w.provider_transaction_reference, w.amount, trim(w.currency)
         FROM day
         JOIN wallet_batch b ON upper(b.provider_code) = upper(day.provider_code)
                            AND b.debit_party_account = day.debit_party_account
         JOIN wallet_payment w ON w.wallet_batch_id = b.wallet_batch_id
        WHERE w.outcome = 'COMPLETED' AND w.ledger_transaction_reference IS NULL
          AND w.outcome_at >= day.window_start AND w.outcome_at < day.window_end
       ON CONFLICT (provider_code, kind, error_reason, coalesce(transaction_reference, ''),
                    coalesce(disbursement_id, '')) DO NOTHING
       RETURNING error_reason)
     SELECT error_reason AS reason, count(*)::int AS n FROM ins GROUP BY error_reason`,
    [ledgerDayId],
  );
  // 5. A missing debit found since (a later day's ledger) resolves its error.
  await tx.query(
    `UPDATE wallet_ledger_error x SET resolved_at = now()
       FROM wallet_payment w, (${DAY}) day
      WHERE x.kind = 'COMPLETION' AND x.resolved_at IS NULL AND x.provider_code = day.provider_code
        AND w.disbursement_id = x.disbursement_id AND w.ledger_transaction_reference IS NOT NULL`,
    [ledgerDayId],
  );
  // 6. The day's figures.
  const { rows } = await tx.query<{ debits: number; confirmed: number; errors: number }>(
    `UPDATE wallet_ledger_day d
        SET debits = c.debits, confirmed = c.confirmed, errors = c.errors, reconciled_at = now()
       FROM (SELECT
               (SELECT count(*) FROM wallet_ledger_entry t
                 WHERE t.ledger_day_id = $1::uuid AND t.direction = 'DEBIT')::int AS debits,
               (SELECT count(*) FROM wallet_ledger_entry t
                 WHERE t.ledger_day_id = $1::uuid AND t.outcome = 'CONFIRMED')::int AS confirmed,
               (SELECT count(*) FROM wallet_ledger_error x
                 WHERE x.ledger_day_id = $1::uuid AND x.resolved_at IS NULL)::int AS errors) c
      WHERE d.ledger_day_id = $1::uuid
     RETURNING d.debits, d.confirmed, d.errors`,
    [ledgerDayId],
  );
  const r = rows[0] ?? { debits: 0, confirmed: 0, errors: 0 };
  return {
    ...r,
    newErrors: Object.fromEntries(written.rows.map((w) => [w.reason, w.n])),
  };
}

export interface LedgerErrorView {
  id: string;
  ledgerDayId: string;
  ledgerDate: string;
  providerCode: string;
  debitPartyAccount: string;
  kind: 'LEDGER_DEBIT' | 'COMPLETION';
  reason: LedgerError;
  disbursementId: string | null;
  transactionReference: string | null;
  amount: string | null;
  currency: string | null;
  resolvedAt: Date | null;
  createdAt: Date;
}

/** The ledger's errors, newest first; `open`: only those not resolved. */
export async function listLedgerErrors(
  db: Queryable,
  filter: { providerCode?: string | null; date?: string | null; open?: boolean; limit?: number },
): Promise<LedgerErrorView[]> {
  const { rows } = await db.query<LedgerErrorView>(
    `SELECT x.id::text AS id, x.ledger_day_id AS "ledgerDayId", to_char(d.ledger_date, 'YYYY-MM-DD') AS "ledgerDate",
            x.provider_code AS "providerCode", d.debit_party_account AS "debitPartyAccount", x.kind,
            x.error_reason AS reason, x.disbursement_id AS "disbursementId",
            x.transaction_reference AS "transactionReference", x.amount::text AS amount, x.currency,
            x.resolved_at AS "resolvedAt", x.created_at AS "createdAt"
       FROM wallet_ledger_error x JOIN wallet_ledger_day d ON d.ledger_day_id = x.ledger_day_id
      WHERE ($1::text IS NULL OR upper(x.provider_code) = upper($1))
        AND ($2::date IS NULL OR d.ledger_date = $2::date)
        AND (NOT $3::boolean OR x.resolved_at IS NULL)
      ORDER BY x.id DESC LIMIT $4`,
    [
      filter.providerCode ?? null,
      filter.date ?? null,
      filter.open ?? false,
      Math.min(Math.max(filter.limit ?? 500, 1), 5000),
    ],
  );
  return rows;
}

export interface LedgerErrorCount {
  /** ENVELOPE: the error names one of the envelope's disbursements; PROGRAM: it names none of ours and is on a
   * funding account of the envelope's program (a forged or unreferenced debit). */
  scope: 'ENVELOPE' | 'PROGRAM';
  providerCode: string;
  reason: LedgerError;
  count: number;
  open: number;
  /** Sum of the amounts the errors state, per currency (null currency: errors stating none). */
  amount: string;
  currency: string | null;
}

/**
 * The wallet ledger's errors that concern one envelope, counted by reason (one query): those naming its
 * disbursements, and those on its program's funding accounts that name no disbursement we know.
 */
export async function envelopeLedgerErrors(db: Queryable, envelopeId: string): Promise<LedgerErrorCount[]> {
  const { rows } = await db.query<LedgerErrorCount>(
    `WITH scoped AS (
       SELECT 'ENVELOPE' AS scope, x.*
         FROM wallet_ledger_error x JOIN disbursement d ON d.disbursement_id = x.disbursement_id
        WHERE d.disbursement_envelope_id = $1
       UNION ALL
       SELECT 'PROGRAM', x.*
         FROM wallet_ledger_error x
         JOIN wallet_ledger_day day ON day.ledger_day_id = x.ledger_day_id
         JOIN program_payout_channel c ON upper(c.provider_code) = upper(day.provider_code)
                                      AND c.debit_party_account = day.debit_party_account
         JOIN disbursement_envelope e ON e.benefit_program_mnemonic = c.benefit_program_mnemonic
        WHERE e.disbursement_envelope_id = $1
          AND NOT EXISTS (SELECT 1 FROM disbursement d WHERE d.disbursement_id = x.disbursement_id))
     SELECT scope, provider_code AS "providerCode", error_reason AS reason, count(*)::int AS count,
            (count(*) FILTER (WHERE resolved_at IS NULL))::int AS open,
            coalesce(sum(amount), 0)::text AS amount, currency
       FROM scoped
      GROUP BY scope, provider_code, error_reason, currency
      ORDER BY scope, count(*) DESC, provider_code, error_reason, currency`,
    [envelopeId],
  );
  return rows;
}
