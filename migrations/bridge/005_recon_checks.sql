-- Reconciliation checks the money (docs/pipeline.md): an entry that names a disbursement but does not match it
-- (amount, currency, funding account, not shipped, cancelled, reversal amount) becomes an error recon with its
-- own reason, carrying the amount and currency the bank wrote so an operator can see what was wrong.
ALTER TABLE disbursement_error_recon DROP CONSTRAINT disbursement_error_recon_error_reason_check;
ALTER TABLE disbursement_error_recon ADD CONSTRAINT disbursement_error_recon_error_reason_check
  CHECK (error_reason IN ('INVALID_DISBURSEMENT_ID', 'DUPLICATE_DISBURSEMENT', 'INVALID_REVERSAL',
                          'AMOUNT_MISMATCH', 'CURRENCY_MISMATCH', 'NOT_SHIPPED', 'CANCELLED_DISBURSEMENT',
                          'STATEMENT_ACCOUNT_MISMATCH', 'REVERSAL_AMOUNT_MISMATCH'));
ALTER TABLE disbursement_error_recon ADD COLUMN entry_amount numeric;
ALTER TABLE disbursement_error_recon ADD COLUMN entry_currency text;

-- A large statement is reconciled in chunks, each its own transaction: the number of its debit and reversal
-- entries already applied (debits first, then reversals, each in file order), so a worker that takes over
-- after a crash resumes there instead of counting a chunk twice.
ALTER TABLE account_statement ADD COLUMN reconcile_cursor integer NOT NULL DEFAULT 0
  CHECK (reconcile_cursor >= 0);

-- A later chunk of a statement asks whether an earlier chunk of the same file already had a matching debit for
-- the same disbursement or bank reference (recorded as DUPLICATE_DISBURSEMENT when it did not reconcile).
CREATE INDEX disbursement_error_recon_duplicate_id_idx ON disbursement_error_recon (statement_id, disbursement_id)
  WHERE error_reason = 'DUPLICATE_DISBURSEMENT';
CREATE INDEX disbursement_error_recon_duplicate_ref_idx
  ON disbursement_error_recon (statement_id, bank_reference_number)
  WHERE error_reason = 'DUPLICATE_DISBURSEMENT';
