// Shared by the reconciliation tests: ship seeded batches without running the bank stages, and read back
// everything reconciliation wrote, without the generated statement ids, so two runs can be compared.
import type { Db, Queryable } from '../../src/db/index.js';

/**
 * Marks the given bank batches PROCESSED as the disburse stage would: every not-cancelled disbursement in
 * them resolved (except `unresolved`) and counted shipped on its envelope.
 */
export async function shipBatches(db: Db, batches: string[], unresolved: string[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO mapper_resolution_details (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved,
                                              unresolved_reason)
       SELECT d.disbursement_id, d.mapper_resolution_batch_id, d.beneficiary_id, NOT (d.disbursement_id = ANY($2)),
              CASE WHEN d.disbursement_id = ANY($2) THEN 'succ.id.not_found' END
         FROM disbursement d WHERE d.bank_disbursement_batch_id = ANY($1)
       ON CONFLICT (disbursement_id) DO NOTHING`,
      [batches, unresolved],
    );
    await tx.query(
      `UPDATE bank_disbursement_batch_status SET disbursement_status = 'PROCESSED', disbursement_time_stamp = now()
        WHERE bank_disbursement_batch_id = ANY($1)`,
      [batches],
    );
    await tx.query(
      `UPDATE disbursement_envelope_batch_status s
          SET number_of_disbursements_shipped = s.number_of_disbursements_shipped + c.n
         FROM (SELECT d.disbursement_envelope_id AS envelope, count(*)::int AS n
                 FROM disbursement d
                WHERE d.bank_disbursement_batch_id = ANY($1) AND d.cancellation_status = 'Not_Cancelled'
                  AND NOT (d.disbursement_id = ANY($2))
                GROUP BY 1) c
        WHERE s.disbursement_envelope_id = c.envelope`,
      [batches, unresolved],
    );
  });
}

/** Every row reconciliation writes for one statement, keyed by entry sequence, plus the envelope counters. */
export async function reconSnapshot(db: Queryable, statementId: string) {
  const { rows: debits } = await db.query(
    `SELECT remittance_entry_sequence AS seq, disbursement_id, bank_disbursement_batch_id,
            disbursement_envelope_id, beneficiary_name_from_bank, remittance_reference_number,
            remittance_statement_number, remittance_statement_sequence, remittance_entry_date,
            remittance_value_date
       FROM disbursement_recon WHERE remittance_statement_id = $1 ORDER BY 1`,
    [statementId],
  );
  const { rows: reversals } = await db.query(
    `SELECT reversal_entry_sequence AS seq, disbursement_id, reversal_reason, reversal_statement_number,
            reversal_statement_sequence, reversal_entry_date, reversal_value_date
       FROM disbursement_recon WHERE reversal_statement_id = $1 ORDER BY 1`,
    [statementId],
  );
  const { rows: errors } = await db.query(
    `SELECT entry_sequence AS seq, error_reason, disbursement_id, bank_reference_number, entry_amount::text,
            entry_currency, statement_number, statement_sequence, entry_date, value_date
       FROM disbursement_error_recon WHERE statement_id = $1 ORDER BY 1`,
    [statementId],
  );
  const { rows: envelopes } = await db.query(
    `SELECT disbursement_envelope_id, number_of_disbursements_shipped, number_of_disbursements_reconciled,
            number_of_disbursements_reversed
       FROM disbursement_envelope_batch_status ORDER BY 1`,
  );
  return { debits, reversals, errors, envelopes };
}
