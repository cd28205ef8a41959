import type { Db } from '../../src/db/index.js';

export async function lifecycle(db: Db, envelope: string) {
  const { rows } = await db.query<{ id: string; status: string; reason: string | null }>(
    `SELECT disbursement_id AS id, lifecycle_status AS status, lifecycle_reason AS reason
       FROM disbursement_lifecycle WHERE disbursement_envelope_id = $1 ORDER BY disbursement_id`,
    [envelope],
  );
  return rows;
}

export async function statusCounts(db: Db, envelope: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of await lifecycle(db, envelope)) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

export async function envelopeStatus(db: Db, envelope: string) {
  const { rows } = await db.query<{
    funds_available_with_bank: string;
    funds_blocked_with_bank: string;
    funds_blocked_reference_number: string | null;
    number_of_disbursements_shipped: number;
    number_of_disbursements_reconciled: number;
    number_of_disbursements_reversed: number;
  }>(
    `SELECT funds_available_with_bank, funds_blocked_with_bank, funds_blocked_reference_number,
            number_of_disbursements_shipped, number_of_disbursements_reconciled, number_of_disbursements_reversed
       FROM disbursement_envelope_batch_status WHERE disbursement_envelope_id = $1`,
    [envelope],
  );
  return rows[0]!;
}

export async function errorRecons(db: Db, statementId?: string) {
  const { rows } = await db.query<{ reason: string; id: string | null; seq: number }>(
    `SELECT error_reason AS reason, disbursement_id AS id, entry_sequence AS seq
       FROM disbursement_error_recon WHERE $1::text IS NULL OR statement_id = $1 ORDER BY statement_id, entry_sequence`,
    [statementId ?? null],
  );
  return rows;
}

export async function statementRow(db: Db, id: string) {
  const { rows } = await db.query<{
    status: string;
    code: string | null;
    message: string | null;
    duplicate_of: string | null;
    account: string | null;
    text: string;
  }>(
    `SELECT s.statement_process_status AS status, s.statement_process_error_code AS code,
            s.statement_process_error_message AS message, s.duplicate_of_statement_id AS duplicate_of,
            s.account_number AS account, l.statement_lob AS text
       FROM account_statement s JOIN account_statement_lob l USING (statement_id) WHERE s.statement_id = $1`,
    [id],
  );
  return rows[0]!;
}

/** Cancels one disbursement the way the API does, and lowers the envelope's control figures to match. */
export async function cancelAndAmend(db: Db, envelope: string, disbursementId: string) {
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ amount: string }>(
      `UPDATE disbursement SET cancellation_status = 'Cancelled', cancellation_time_stamp = now()
        WHERE disbursement_id = $1 RETURNING disbursement_amount AS amount`,
      [disbursementId],
    );
    const amount = rows[0]!.amount;
    await tx.query(
      `UPDATE disbursement_envelope SET number_of_disbursements = number_of_disbursements - 1,
              number_of_beneficiaries = number_of_beneficiaries - 1, total_disbursement_amount = total_disbursement_amount - $2
        WHERE disbursement_envelope_id = $1`,
      [envelope, amount],
    );
    await tx.query(
      `UPDATE disbursement_envelope_batch_status SET number_of_disbursements_received = number_of_disbursements_received - 1,
              total_disbursement_amount_received = total_disbursement_amount_received - $2
        WHERE disbursement_envelope_id = $1`,
      [envelope, amount],
    );
  });
}
