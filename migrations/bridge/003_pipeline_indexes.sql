-- Indexes for the background stages: the funds stages poll the envelope status table for rows still
-- waiting on the bank, and statement processing looks for an earlier copy of a statement by its header.

CREATE INDEX disbursement_envelope_batch_status_funds_pending_idx
  ON disbursement_envelope_batch_status (next_attempt_at)
  WHERE funds_available_with_bank IN ('PENDING_CHECK', 'FUNDS_NOT_AVAILABLE')
     OR funds_blocked_with_bank IN ('PENDING_CHECK', 'FUNDS_BLOCK_FAILURE');

CREATE INDEX account_statement_header_idx
  ON account_statement (account_number, reference_number, statement_number)
  WHERE statement_process_status = 'PROCESSED' AND duplicate_of_statement_id IS NULL;
