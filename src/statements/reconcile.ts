// Set-based reconciliation of a run of entries of one uploaded statement file (the whole file, or one chunk
// of a large one: see ./process.ts). The connector has already read the entries (disbursement id, beneficiary
// name, reversal reason); here they go into a temporary table in one INSERT ... unnest, and a fixed number of
// statements classify them and write recons, reversals, error recons and envelope counters. The number of
// statements does not depend on the number of entries.
//
// An entry is believed only when it matches what we shipped: the statement's account is the funding account
// of the disbursement's program, the statement's currency is the disbursement's, the amount is the
// disbursement's to the last minor unit, and the disbursement went out in a batch the bank acknowledged and is
// not cancelled. Anything else is an error recon with its own reason, and an error recon never takes the
// place of a true entry arriving later (only reconciled debits count as "seen before").
import type { Queryable } from '../db/index.js';

export type EntryMark = 'D' | 'RD';

/** One debit or reversal-of-debit entry, as the program's connector read it. */
export interface ReconEntry {
  /** 1-based position of the :61: in the file (all statements of the file counted together). */
  seq: number;
  mark: EntryMark;
  /** The program whose funding account the entry's statement is for. */
  program: string;
  statementNumber: string | null;
  statementSequence: string | null;
  disbursementId: string | null;
  bankReference: string | null;
  beneficiaryName: string | null;
  reversalReason: string | null;
  entryDate: string | null;
  valueDate: string | null;
  /**
   * Exact decimal as the bank wrote it ("1000.00"), never a float; null when the bank wrote none (a camt batch
   * transaction without its own amount), which matches no amount.
   */
  amount: string | null;
  /**
   * The entry's currency: MT940 the statement's (its :60F:/:62F: balances; null when it has none, or two
   * different ones), camt the amount's own Ccy.
   */
  currency: string | null;
  /**
   * camt: the entry of a batch none of whose items carries an amount (first item's seq, item count, total).
   * The items take their disbursements' amounts only when the whole batch is in this call, every item names
   * a distinct known disbursement in the entry's currency, and the total is exactly their sum; otherwise
   * their amount stays null (AMOUNT_MISMATCH).
   */
  batch?: { first: number; size: number; total: string } | null;
}

export const RECON_ERRORS = [
  'INVALID_DISBURSEMENT_ID',
  'STATEMENT_ACCOUNT_MISMATCH',
  'CURRENCY_MISMATCH',
  'CANCELLED_DISBURSEMENT',
  'NOT_SHIPPED',
  'AMOUNT_MISMATCH',
  'DUPLICATE_DISBURSEMENT',
  'INVALID_REVERSAL',
  'REVERSAL_AMOUNT_MISMATCH',
] as const;

export type ReconError = (typeof RECON_ERRORS)[number];
export type ReconOutcome = 'RECONCILED' | 'REVERSED' | ReconError;
export type ReconSummary = Record<ReconOutcome, number>;

export function emptySummary(): ReconSummary {
  const s = { RECONCILED: 0, REVERSED: 0 } as ReconSummary;
  for (const e of RECON_ERRORS) s[e] = 0;
  return s;
}

// The lookups of the two checks below are scalar subqueries (LIMIT 1), not EXISTS: PostgreSQL may run an EXISTS as a hashed
// subplan, a hash of every recon row built for each chunk, and did so on stale statistics (PGlite has no
// autovacuum): 0.45-2.2 s a chunk at 885,000 recons. A scalar subquery is always an index probe per entry.
//
// Debits that match: the first one per disbursement and per bank reference wins, if nothing reconciled it
// before. Entries already refused take no part, so a fake never blocks the real debit. "First" counts this
// file's earlier chunks too: their matching debits are recons, or DUPLICATE error recons of this file.
export const DEBIT_CHECK_SQL = `UPDATE recon_entry t
        SET outcome = CASE
              WHEN w.nth_id > 1 OR w.nth_ref > 1 THEN 'DUPLICATE_DISBURSEMENT'
              WHEN (SELECT true FROM disbursement_recon r WHERE r.disbursement_id = t.disbursement_id
                     LIMIT 1) IS NOT NULL
                THEN 'DUPLICATE_DISBURSEMENT'
              WHEN (SELECT true FROM disbursement_recon r
                     WHERE r.remittance_reference_number = t.remittance_reference LIMIT 1) IS NOT NULL
                THEN 'DUPLICATE_DISBURSEMENT'
              WHEN (SELECT true FROM disbursement_error_recon x
                     WHERE x.statement_id = $1 AND x.error_reason = 'DUPLICATE_DISBURSEMENT'
                       AND x.disbursement_id = t.disbursement_id LIMIT 1) IS NOT NULL
                THEN 'DUPLICATE_DISBURSEMENT'
              WHEN t.bank_reference IS NOT NULL
                   AND (SELECT true FROM disbursement_error_recon x
                         WHERE x.statement_id = $1 AND x.error_reason = 'DUPLICATE_DISBURSEMENT'
                           AND x.bank_reference_number = t.bank_reference LIMIT 1) IS NOT NULL
                THEN 'DUPLICATE_DISBURSEMENT'
              ELSE 'RECONCILED' END
       FROM (SELECT seq,
                    row_number() OVER (PARTITION BY disbursement_id ORDER BY seq) AS nth_id,
                    row_number() OVER (PARTITION BY remittance_reference ORDER BY seq) AS nth_ref
               FROM recon_entry
              WHERE mark = 'D' AND outcome IS NULL) w
      WHERE t.seq = w.seq`;

/**
 * What we know of the disbursement each entry names: its program, amount, currency, and whether it went out
 * (acknowledged batch, resolved, not cancelled); all null for an id that names no disbursement. One row
 * subquery per entry, so each entry is an index probe into disbursement (and its envelope, batch and
 * resolution). As a join (UPDATE ... FROM disbursement) PostgreSQL hashed the chunk's entries and scanned the
 * whole disbursement table for every chunk: 885,000 rows scanned per chunk of 2,000 on PGlite, the stage's
 * slowest statement with the recon insert (docs/benchmarks.md).
 */
export const DISBURSEMENT_FACTS_SQL = `UPDATE recon_entry t
        SET (envelope_id, bank_batch_id, due_program, due_amount, due_currency, cancelled, shipped,
             in_doubt) = (
              SELECT d.disbursement_envelope_id, d.bank_disbursement_batch_id, e.benefit_program_mnemonic,
                     d.disbursement_amount, trim(e.disbursement_currency_code),
                     d.cancellation_status = 'Cancelled' OR e.cancellation_status = 'Cancelled',
                     b.disbursement_status = 'PROCESSED' AND coalesce(m.resolved, false)
                       -- a payment the bank (or the connector's limits) refused out of its batch never went out
                       AND NOT EXISTS (SELECT 1 FROM disbursement_bank_refusal x
                                        WHERE x.disbursement_id = d.disbursement_id),
                     -- sent at least once, outcome not known yet (the answer was lost, a retry is due)
                     b.disbursement_status = 'PENDING' AND b.disbursement_attempts > 0
                FROM disbursement d
                JOIN disbursement_envelope e ON e.disbursement_envelope_id = d.disbursement_envelope_id
                JOIN bank_disbursement_batch_status b ON b.bank_disbursement_batch_id = d.bank_disbursement_batch_id
                LEFT JOIN mapper_resolution_details m ON m.disbursement_id = d.disbursement_id
               WHERE d.disbursement_id = t.disbursement_id)
      WHERE t.disbursement_id IS NOT NULL`;

/**
 * Reversals: they need a reconciled debit (this file's included) of the same amount; the first such one per
 * disbursement reverses it if it is not reversed yet. Lookups as in DEBIT_CHECK_SQL.
 */
export const REVERSAL_CHECK_SQL = `UPDATE recon_entry t
        SET outcome = CASE
              WHEN (SELECT true FROM disbursement_recon r WHERE r.disbursement_id = t.disbursement_id
                     LIMIT 1) IS NULL
                THEN 'INVALID_REVERSAL'
              WHEN t.amount IS DISTINCT FROM t.due_amount THEN 'REVERSAL_AMOUNT_MISMATCH'
              WHEN w.nth = 1 AND (SELECT true FROM disbursement_recon r
                                   WHERE r.disbursement_id = t.disbursement_id AND NOT r.reversal_found
                                   LIMIT 1) IS NOT NULL
                THEN 'REVERSED'
              ELSE 'INVALID_REVERSAL' END
       FROM (SELECT seq,
                    row_number() OVER (PARTITION BY disbursement_id, amount IS NOT DISTINCT FROM due_amount ORDER BY seq) AS nth
               FROM recon_entry
              WHERE mark = 'RD' AND outcome IS NULL) w
      WHERE t.seq = w.seq`;

/**
 * A chunk names debits of bank batches that were sent but whose outcome the bridge does not know yet (a lost
 * answer, a retry due). Thrown inside the chunk's transaction, so nothing of the chunk is written; the
 * statement waits until the disburse stage knows (shipped: the debits reconcile; failed: NOT_SHIPPED).
 */
export class BatchOutcomePending extends Error {
  readonly code = 'BATCH_OUTCOME_PENDING';
  constructor(
    readonly entries: number,
    readonly batches: readonly string[],
  ) {
    super(
      `${entries} debit(s) name bank batches sent but not yet known to be shipped (${batches.slice(0, 5).join(', ')}${batches.length > 5 ? ', …' : ''}); the statement waits for their outcome`,
    );
    this.name = 'BatchOutcomePending';
  }
}

/**
 * Applies `entries` of statement `statementId`. Must run inside a transaction (the temporary table lives
 * until commit) that holds the reconciliation lock, so two statements never classify against each other's
 * half-written rows. Entries of one file may be applied in several calls (chunks) when every debit comes
 * before every reversal across the calls: the outcome is then the same as in one call.
 *
 * Rules, in this order (the first that applies is the outcome):
 * - the id is no disbursement at all: INVALID_DISBURSEMENT_ID; a disbursement of another program than the
 *   one whose account the statement is for: STATEMENT_ACCOUNT_MISMATCH; the statement's currency is not the
 *   disbursement's: CURRENCY_MISMATCH;
 * - a D for a cancelled disbursement: CANCELLED_DISBURSEMENT; for one not shipped in a batch the bank
 *   acknowledged (or left out of it, unresolved): NOT_SHIPPED; another amount: AMOUNT_MISMATCH; for one of a
 *   batch sent but whose outcome is not known yet: nothing, the chunk throws BatchOutcomePending;
 * - a D that passes those becomes the disbursement's recon unless it is already reconciled, an earlier
 *   passing D of this file reconciled it, or its bank reference was already used: DUPLICATE_DISBURSEMENT;
 * - an RD without a reconciled debit (after this file's debits): INVALID_REVERSAL; of another amount than the
 *   debit: REVERSAL_AMOUNT_MISMATCH; the first RD of the right amount reverses the debit if not yet
 *   reversed (REVERSED), any further one is INVALID_REVERSAL.
 */
export async function reconcileEntries(
  tx: Queryable,
  statementId: string,
  entries: readonly ReconEntry[],
): Promise<ReconSummary> {
  const summary = emptySummary();
  if (entries.length === 0) return summary;
  // The checks below plan hashed subqueries over every recon row, which puts their estimated cost above
  // jit_above_cost: JIT then compiled on every chunk, for tens of milliseconds each (docs/benchmarks.md).
  await tx.query('SET LOCAL jit = off');
  await tx.query(`CREATE TEMP TABLE recon_entry (
      seq integer PRIMARY KEY,
      mark text NOT NULL,
      program text NOT NULL,
      statement_number text,
      statement_sequence text,
      disbursement_id text,
      bank_reference text,
      remittance_reference text NOT NULL,
      beneficiary_name text,
      reversal_reason text,
      entry_date date,
      value_date date,
      amount numeric,
      currency text,
      batch_first integer,
      batch_size integer,
      batch_total numeric,
      envelope_id text,
      bank_batch_id text,
      due_program text,
      due_amount numeric,
      due_currency text,
      cancelled boolean,
      shipped boolean,
      in_doubt boolean,
      outcome text
    ) ON COMMIT DROP`);
  const col = <K extends keyof ReconEntry>(k: K) => entries.map((e) => e[k]);
  // Without a bank reference the debit is still unique by its place in this statement. The amount goes in
  // as text and is cast to numeric by the database: exact, whatever the driver.
  await tx.query(
    `INSERT INTO recon_entry (seq, mark, program, statement_number, statement_sequence, disbursement_id,
                              bank_reference, remittance_reference, beneficiary_name, reversal_reason,
                              entry_date, value_date, amount, currency, batch_first, batch_size, batch_total)
     SELECT u.seq, u.mark, u.program, u.stmt_number, u.stmt_sequence, u.disbursement_id, u.bank_reference,
            coalesce(u.bank_reference, $1 || '/' || u.seq), u.name, u.reason, u.entry_date, u.value_date,
            u.amount::numeric, u.currency, u.batch_first, u.batch_size, u.batch_total::numeric
       FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::text[], $11::date[], $12::date[], $13::text[], $14::text[], $15::int[], $16::int[],
                   $17::text[])
            AS u(seq, mark, program, stmt_number, stmt_sequence, disbursement_id, bank_reference, name, reason,
                 entry_date, value_date, amount, currency, batch_first, batch_size, batch_total)`,
    [
      statementId,
      col('seq'),
      col('mark'),
      col('program'),
      col('statementNumber'),
      col('statementSequence'),
      col('disbursementId'),
      col('bankReference'),
      col('beneficiaryName'),
      col('reversalReason'),
      col('entryDate'),
      col('valueDate'),
      col('amount'),
      col('currency'),
      entries.map((e) => e.batch?.first ?? null),
      entries.map((e) => e.batch?.size ?? null),
      entries.map((e) => e.batch?.total ?? null),
    ],
  );
  // Temporary tables get no statistics by themselves; the joins below need them at 100,000 entries.
  await tx.query('ANALYZE recon_entry');
  // What we know of the disbursement each entry names (DISBURSEMENT_FACTS_SQL, above).
  await tx.query(DISBURSEMENT_FACTS_SQL);
  // A batch entry without item amounts: each item takes its disbursement's amount only when the whole batch
  // is here, every item names a distinct known disbursement in the entry's currency, and the entry's total is
  // exactly their sum. Otherwise the amounts stay null and every item is an AMOUNT_MISMATCH.
  await tx.query(
    `UPDATE recon_entry t
        SET amount = t.due_amount
       FROM (SELECT batch_first
               FROM recon_entry
              WHERE batch_first IS NOT NULL
              GROUP BY batch_first
             HAVING count(*) = max(batch_size)
                AND count(envelope_id) = count(*)
                AND count(DISTINCT disbursement_id) = count(*)
                AND bool_and(currency = due_currency)
                AND sum(due_amount) = max(batch_total)) g
      WHERE t.batch_first = g.batch_first`,
  );
  await tx.query(
    `UPDATE recon_entry
        SET outcome = CASE
              WHEN envelope_id IS NULL THEN 'INVALID_DISBURSEMENT_ID'
              WHEN due_program <> program THEN 'STATEMENT_ACCOUNT_MISMATCH'
              WHEN currency IS DISTINCT FROM due_currency THEN 'CURRENCY_MISMATCH'
              WHEN mark = 'D' AND cancelled THEN 'CANCELLED_DISBURSEMENT'
              WHEN mark = 'D' AND NOT shipped THEN 'NOT_SHIPPED'
              WHEN mark = 'D' AND amount IS DISTINCT FROM due_amount THEN 'AMOUNT_MISMATCH'
            END`,
  );
  // A debit of a batch whose shipping outcome is not known yet (the bank may have taken the batch and lost
  // its answer) is neither believed nor refused: the whole chunk rolls back and waits for the batch.
  const { rows: doubt } = await tx.query<{ entries: number; batches: string[] }>(
    `SELECT count(*)::int AS entries, array_agg(DISTINCT bank_batch_id ORDER BY bank_batch_id) AS batches
       FROM recon_entry WHERE outcome = 'NOT_SHIPPED' AND in_doubt`,
  );
  if ((doubt[0]?.entries ?? 0) > 0) throw new BatchOutcomePending(doubt[0]!.entries, doubt[0]!.batches);
  // Debits that match (DEBIT_CHECK_SQL, above).
  await tx.query(DEBIT_CHECK_SQL, [statementId]);
  await tx.query(
    `INSERT INTO disbursement_recon
       (disbursement_id, bank_disbursement_batch_id, disbursement_envelope_id, beneficiary_name_from_bank,
        remittance_reference_number, remittance_statement_id, remittance_statement_number,
        remittance_statement_sequence, remittance_entry_sequence, remittance_entry_date, remittance_value_date)
     SELECT disbursement_id, bank_batch_id, envelope_id, beneficiary_name, remittance_reference, $1,
            statement_number, statement_sequence, seq, entry_date, value_date
       FROM recon_entry
      WHERE outcome = 'RECONCILED'`,
    [statementId],
  );
  // Reversals: they need a reconciled debit (this file's included) of the same amount; the first such one per
  // disbursement reverses it if it is not reversed yet. A debit only reconciles at the disbursement's amount,
  // so that is the amount compared.
  await tx.query(REVERSAL_CHECK_SQL);
  await tx.query(
    `UPDATE disbursement_recon r
        SET reversal_found = true, reversal_statement_id = $1, reversal_statement_number = t.statement_number,
            reversal_statement_sequence = t.statement_sequence, reversal_entry_sequence = t.seq,
            reversal_entry_date = t.entry_date, reversal_value_date = t.value_date,
            reversal_reason = t.reversal_reason, updated_at = now()
       FROM recon_entry t
      WHERE t.outcome = 'REVERSED' AND r.disbursement_id = t.disbursement_id`,
    [statementId],
  );
  await tx.query(
    `INSERT INTO disbursement_error_recon
       (statement_id, statement_number, statement_sequence, entry_sequence, entry_date, value_date, error_reason,
        disbursement_id, bank_reference_number, entry_amount, entry_currency)
     SELECT $1, statement_number, statement_sequence, seq, entry_date, value_date, outcome, disbursement_id,
            bank_reference, amount, currency
       FROM recon_entry
      WHERE outcome NOT IN ('RECONCILED', 'REVERSED')
     ON CONFLICT (statement_id, entry_sequence) DO NOTHING`,
    [statementId],
  );
  await tx.query(
    `UPDATE disbursement_envelope_batch_status s
        SET number_of_disbursements_reconciled = s.number_of_disbursements_reconciled + c.reconciled,
            number_of_disbursements_reversed = s.number_of_disbursements_reversed + c.reversed
       FROM (SELECT envelope_id,
                    count(*) FILTER (WHERE outcome = 'RECONCILED') AS reconciled,
                    count(*) FILTER (WHERE outcome = 'REVERSED') AS reversed
               FROM recon_entry
              WHERE outcome IN ('RECONCILED', 'REVERSED')
              GROUP BY envelope_id) c
      WHERE s.disbursement_envelope_id = c.envelope_id`,
  );
  const { rows } = await tx.query<{ outcome: ReconOutcome; n: number }>(
    `SELECT outcome, count(*)::int AS n FROM recon_entry GROUP BY outcome`,
  );
  for (const r of rows) summary[r.outcome] = r.n;
  return summary;
}
