// Set-based reconciliation of one uploaded statement file. The connector has already read every entry in
// memory (disbursement id, beneficiary name, reversal reason); here the entries go into a temporary table in
// one INSERT ... unnest, and a handful of statements classify them and write recons, reversals, error recons
// and envelope counters. The number of statements does not depend on the number of entries.
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
}

export type ReconOutcome =
  | 'RECONCILED'
  | 'REVERSED'
  | 'INVALID_DISBURSEMENT_ID'
  | 'DUPLICATE_DISBURSEMENT'
  | 'INVALID_REVERSAL';

export type ReconSummary = Record<ReconOutcome, number>;

const ERROR_OUTCOMES = ['INVALID_DISBURSEMENT_ID', 'DUPLICATE_DISBURSEMENT', 'INVALID_REVERSAL'];

/**
 * Applies the entries of statement `statementId`. Must run inside a transaction (the temporary table lives
 * until commit) that holds the reconciliation lock, so two statements never classify against each other's
 * half-written rows.
 *
 * Rules: a D for an id of the statement's program becomes the disbursement's recon, unless the disbursement
 * is already reconciled, an earlier D of this file reconciled it, or its bank reference was already used
 * (DUPLICATE_DISBURSEMENT). An RD marks the recon reversed with the bank's reason when there is a debit not
 * yet reversed (after this file's debits), else INVALID_REVERSAL. An id the program does not know is
 * INVALID_DISBURSEMENT_ID.
 */
export async function reconcileEntries(
  tx: Queryable,
  statementId: string,
  entries: readonly ReconEntry[],
): Promise<ReconSummary> {
  const summary: ReconSummary = {
    RECONCILED: 0,
    REVERSED: 0,
    INVALID_DISBURSEMENT_ID: 0,
    DUPLICATE_DISBURSEMENT: 0,
    INVALID_REVERSAL: 0,
  };
  if (entries.length === 0) return summary;
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
      envelope_id text,
      bank_batch_id text,
      outcome text
    ) ON COMMIT DROP`);
  const col = <K extends keyof ReconEntry>(k: K) => entries.map((e) => e[k]);
  // Without a bank reference the debit is still unique by its place in this statement.
  await tx.query(
    `INSERT INTO recon_entry (seq, mark, program, statement_number, statement_sequence, disbursement_id,
                              bank_reference, remittance_reference, beneficiary_name, reversal_reason,
                              entry_date, value_date)
     SELECT u.seq, u.mark, u.program, u.stmt_number, u.stmt_sequence, u.disbursement_id, u.bank_reference,
            coalesce(u.bank_reference, $1 || '/' || u.seq), u.name, u.reason, u.entry_date, u.value_date
       FROM unnest($2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                   $10::text[], $11::date[], $12::date[])
            AS u(seq, mark, program, stmt_number, stmt_sequence, disbursement_id, bank_reference, name, reason,
                 entry_date, value_date)`,
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
    ],
  );
  // Temporary tables get no statistics by themselves; the joins below need them at 100,000 entries.
  await tx.query('ANALYZE recon_entry');
  // Which disbursement (of the statement's own program) each entry is about.
  await tx.query(
    `UPDATE recon_entry t
        SET envelope_id = d.disbursement_envelope_id, bank_batch_id = d.bank_disbursement_batch_id
       FROM disbursement d
       JOIN disbursement_envelope e ON e.disbursement_envelope_id = d.disbursement_envelope_id
      WHERE d.disbursement_id = t.disbursement_id AND e.benefit_program_mnemonic = t.program`,
  );
  await tx.query(`UPDATE recon_entry SET outcome = 'INVALID_DISBURSEMENT_ID' WHERE envelope_id IS NULL`);
  // Debits: the first one per disbursement and per bank reference wins, if nothing reconciled it before.
  await tx.query(
    `UPDATE recon_entry t
        SET outcome = CASE
              WHEN w.nth_id > 1 OR w.nth_ref > 1 THEN 'DUPLICATE_DISBURSEMENT'
              WHEN EXISTS (SELECT 1 FROM disbursement_recon r WHERE r.disbursement_id = t.disbursement_id)
                THEN 'DUPLICATE_DISBURSEMENT'
              WHEN EXISTS (SELECT 1 FROM disbursement_recon r
                            WHERE r.remittance_reference_number = t.remittance_reference)
                THEN 'DUPLICATE_DISBURSEMENT'
              ELSE 'RECONCILED' END
       FROM (SELECT seq,
                    row_number() OVER (PARTITION BY disbursement_id ORDER BY seq) AS nth_id,
                    row_number() OVER (PARTITION BY remittance_reference ORDER BY seq) AS nth_ref
               FROM recon_entry
              WHERE mark = 'D' AND outcome IS NULL) w
      WHERE t.seq = w.seq`,
  );
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
  // Reversals: the first one per disbursement reverses a debit not yet reversed (this file's debits included).
  await tx.query(
    `UPDATE recon_entry t
        SET outcome = CASE
              WHEN w.nth = 1 AND EXISTS (SELECT 1 FROM disbursement_recon r
                                          WHERE r.disbursement_id = t.disbursement_id AND NOT r.reversal_found)
                THEN 'REVERSED'
              ELSE 'INVALID_REVERSAL' END
       FROM (SELECT seq, row_number() OVER (PARTITION BY disbursement_id ORDER BY seq) AS nth
               FROM recon_entry
              WHERE mark = 'RD' AND outcome IS NULL) w
      WHERE t.seq = w.seq`,
  );
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
        disbursement_id, bank_reference_number)
     SELECT $1, statement_number, statement_sequence, seq, entry_date, value_date, outcome, disbursement_id,
            bank_reference
       FROM recon_entry
      WHERE outcome = ANY($2::text[])
     ON CONFLICT (statement_id, entry_sequence) DO NOTHING`,
    [statementId, ERROR_OUTCOMES],
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
