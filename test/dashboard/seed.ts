// Rows in every lifecycle state, written straight into the tables the stages write (set-based), so the
// dashboard and metrics can be checked without running the pipeline.
import type { Queryable } from '../../src/db/index.js';

export interface Seeded {
  envelopeId: string;
  program: string;
  account: string;
  statementId: string;
  mapperBatches: string[];
  bankBatches: string[];
  /** Disbursement ids by the state the seed puts them in. */
  ids: Record<'reconciled' | 'reversed' | 'shipped' | 'unresolved' | 'cancelled' | 'received', string[]>;
}

/**
 * Envelope `id` with `2 * perBatch` disbursements of 10.25 each, in two batches:
 * batch 1 shipped (of which: 60% reconciled, 20% reversed, the rest shipped only, 2 unresolved, 1 cancelled);
 * batch 2 pending at the bank after a failed attempt.
 */
export async function seedEnvelope(db: Queryable, id = 'ENV-1', perBatch = 10): Promise<Seeded> {
  const program = `PRG-${id}`;
  const account = `ACC-${id}`;
  const statementId = `ST-${id}`;
  const m = [`${id}-M1`, `${id}-M2`];
  const b = [`${id}-B1`, `${id}-B2`];
  const n = perBatch * 2;
  await db.query(
    `INSERT INTO benefit_program (benefit_program_mnemonic, benefit_program_name, funding_org_code, funding_org_name,
       sponsor_bank_code, sponsor_bank_account_number, sponsor_bank_account_currency, id_mapper_resolution_required)
     VALUES ($1, $1 || ' <Cash & Care>', 'ORG', 'Funding org', 'EXAMPLE', $2, 'USD', true)`,
    [program, account],
  );
  await db.query(
    `INSERT INTO disbursement_envelope (disbursement_envelope_id, benefit_program_mnemonic, disbursement_frequency,
       cycle_code_mnemonic, number_of_beneficiaries, number_of_disbursements, total_disbursement_amount,
       disbursement_currency_code, disbursement_schedule_date)
     VALUES ($1, $2, 'Monthly', 'MAR-2025', $3, $3, $4, 'USD', '2025-03-01')`,
    [id, program, n, (n * 10.25).toFixed(2)],
  );
  const ids = Array.from({ length: n }, (_, i) => `${id}-D${String(i + 1).padStart(4, '0')}`);
  const batch1 = ids.slice(0, perBatch);
  const cancelled = [batch1[perBatch - 1]!];
  const unresolved = batch1.slice(perBatch - 3, perBatch - 1);
  const payable = batch1.slice(0, perBatch - 3);
  const reconciledCount = Math.round(payable.length * 0.6);
  const reversedCount = Math.round(payable.length * 0.2);
  const reconciled = payable.slice(0, reconciledCount);
  const reversed = payable.slice(reconciledCount, reconciledCount + reversedCount);
  const shipped = payable.slice(reconciledCount + reversedCount);
  const received = ids.slice(perBatch);

  await db.query(
    `INSERT INTO disbursement_envelope_batch_status (disbursement_envelope_id, number_of_disbursements_received,
       total_disbursement_amount_received, funds_available_with_bank, funds_available_attempts,
       funds_blocked_with_bank, funds_blocked_attempts, funds_blocked_reference_number,
       number_of_disbursements_shipped, number_of_disbursements_reconciled, number_of_disbursements_reversed)
     VALUES ($1, $2, $3, 'FUNDS_AVAILABLE', 1, 'FUNDS_BLOCK_SUCCESS', 2, 'BLK-1', $4, $5, $6)`,
    [
      id,
      n - 1,
      ((n - 1) * 10.25).toFixed(2),
      perBatch - 1 - unresolved.length,
      reconciled.length + reversed.length,
      reversed.length,
    ],
  );
  await db.query(
    `INSERT INTO mapper_resolution_batch_status (mapper_resolution_batch_id, disbursement_envelope_id, resolution_status,
       resolution_attempts, resolution_time_stamp)
     VALUES ($1, $3, 'PROCESSED', 1, now()), ($2, $3, 'PENDING', 2, NULL)`,
    [m[0], m[1], id],
  );
  await db.query(
    `INSERT INTO bank_disbursement_batch_status (bank_disbursement_batch_id, disbursement_envelope_id,
       disbursement_status, disbursement_attempts, latest_error_code, disbursement_time_stamp, created_at)
     VALUES ($1, $3, 'PROCESSED', 1, NULL, now(), now() - interval '1 minute'),
            ($2, $3, 'PENDING', 3, 'BANK_TIMEOUT', NULL, now())`,
    [b[0], b[1], id],
  );
  await db.query(
    `INSERT INTO disbursement (disbursement_id, disbursement_envelope_id, mapper_resolution_batch_id,
       bank_disbursement_batch_id, mis_reference_number, beneficiary_id, beneficiary_name, disbursement_amount, narrative,
       cancellation_status, cancellation_time_stamp)
     SELECT d, $2, CASE WHEN i <= $3 THEN $4 ELSE $5 END, CASE WHEN i <= $3 THEN $6 ELSE $7 END,
            'MIS-' || i, 'BEN-' || i, 'Name <' || i || '>', 10.25, 'March payment',
            CASE WHEN d = ANY($8::text[]) THEN 'Cancelled' ELSE 'Not_Cancelled' END,
            CASE WHEN d = ANY($8::text[]) THEN now() END
       FROM unnest($1::text[]) WITH ORDINALITY AS t(d, i)`,
    [ids, id, perBatch, m[0], m[1], b[0], b[1], cancelled],
  );
  await db.query(
    `INSERT INTO mapper_resolution_details (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved,
       unresolved_reason, mapper_resolved_fa, mapper_resolved_fa_type, bank_account_number, bank_code)
     SELECT d.disbursement_id, d.mapper_resolution_batch_id, d.beneficiary_id, NOT (d.disbursement_id = ANY($2::text[])),
            CASE WHEN d.disbursement_id = ANY($2::text[]) THEN 'BENEFICIARY_NOT_FOUND' END,
            CASE WHEN d.disbursement_id = ANY($2::text[]) THEN NULL ELSE 'account_number:1.bank_code:B.fa_type:BANK_ACCOUNT' END,
            CASE WHEN d.disbursement_id = ANY($2::text[]) THEN NULL ELSE 'BANK_ACCOUNT' END,
            CASE WHEN d.disbursement_id = ANY($2::text[]) THEN NULL ELSE '1' END,
            CASE WHEN d.disbursement_id = ANY($2::text[]) THEN NULL ELSE 'B' END
       FROM disbursement d WHERE d.disbursement_id = ANY($1::text[])`,
    [batch1.filter((x) => !cancelled.includes(x)), unresolved],
  );
  await db.query(
    `INSERT INTO account_statement (statement_id, account_number, reference_number, statement_number, sequence_number,
       statement_date, content_sha256, size_bytes, uploaded_by, statement_process_status, statement_process_attempts,
       statement_process_timestamp)
     VALUES ($1, $2, 'REF<1>', '7', '1', '2025-03-02', 'abc123', 512, 'bank', 'PROCESSED', 1, now())`,
    [statementId, account],
  );
  await db.query('INSERT INTO account_statement_lob (statement_id, statement_lob) VALUES ($1, $2)', [
    statementId,
    ':20:REF1\r\n:25:ACC\r\n',
  ]);
  const settled = [...reconciled, ...reversed];
  await db.query(
    `INSERT INTO disbursement_recon (disbursement_id, bank_disbursement_batch_id, disbursement_envelope_id,
       beneficiary_name_from_bank, remittance_reference_number, remittance_statement_id, remittance_statement_number,
       remittance_statement_sequence, remittance_entry_sequence, remittance_entry_date, remittance_value_date,
       reversal_found, reversal_statement_id, reversal_entry_sequence, reversal_entry_date, reversal_reason)
     SELECT d, $2, $3, 'NAME', 'BREF-' || d, $4, '7', '1', i, '2025-03-02', '2025-03-02',
            d = ANY($5::text[]), CASE WHEN d = ANY($5::text[]) THEN $4 END,
            CASE WHEN d = ANY($5::text[]) THEN 1000 + i END,
            CASE WHEN d = ANY($5::text[]) THEN '2025-03-02'::date END,
            CASE WHEN d = ANY($5::text[]) THEN
              CASE WHEN i % 2 = 0 THEN 'ACCOUNT_CLOSED' ELSE 'ACCOUNT_NOT_FOUND' END END
       FROM unnest($1::text[]) WITH ORDINALITY AS t(d, i)`,
    [settled, b[0], id, statementId, reversed],
  );
  await db.query(
    `INSERT INTO disbursement_error_recon (statement_id, statement_number, statement_sequence, entry_sequence,
       entry_date, value_date, error_reason, disbursement_id, bank_reference_number)
     VALUES ($1, '7', '1', 900, '2025-03-02', '2025-03-02', 'DUPLICATE_DISBURSEMENT', $2, 'DUP-1'),
            ($1, '7', '1', 901, '2025-03-02', '2025-03-02', 'INVALID_DISBURSEMENT_ID', '<script>x</script>', 'BAD-1')`,
    [statementId, reconciled[0]],
  );
  return {
    envelopeId: id,
    program,
    account,
    statementId,
    mapperBatches: m,
    bankBatches: b,
    ids: { reconciled, reversed, shipped, unresolved, cancelled, received },
  };
}
