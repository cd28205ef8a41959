-- Files a bank leaves in a host-to-host inbound folder (issue 12): pain.002 status reports and statements.
-- The bank-files stage collects each file once (same bank, name and content: the same row), acknowledges it
-- to the bank only after this row is committed, then works the row like any other driving table (lease,
-- attempts, backoff). A pain.002 that rejects payments after their batch was shipped moves them to `refused`
-- through disbursement_bank_refusal with refused_by = 'BANK_STATUS' and the bank's reason code.
CREATE TABLE bank_inbound_file (
  file_id text PRIMARY KEY,
  bank_code text NOT NULL,
  file_name text NOT NULL,
  content_sha256 text NOT NULL,
  size_bytes integer NOT NULL,
  content text NOT NULL,
  -- PAIN002, STATEMENT (handed to account_statement), UNKNOWN (kept, an ERROR for operators)
  file_kind text NOT NULL CHECK (file_kind IN ('PAIN002', 'STATEMENT', 'UNKNOWN')),
  received_at timestamptz NOT NULL DEFAULT now(),
  file_process_status text NOT NULL DEFAULT 'PENDING'
    CHECK (file_process_status IN ('PENDING', 'PROCESSED', 'ERROR')),
  file_process_attempts integer NOT NULL DEFAULT 0,
  file_process_error_code text,
  file_process_error_message text,
  file_process_timestamp timestamptz,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_expires_at timestamptz,
  -- What the file was about and what it did: the original MsgId, the batch, the outcome, counts per status.
  original_msg_id text,
  bank_disbursement_batch_id text,
  -- APPLIED, DUPLICATE (DU01: a re-sent file the bank refused; the first one stands), UNKNOWN_MESSAGE
  outcome text,
  summary jsonb,
  UNIQUE (bank_code, file_name, content_sha256)
);
CREATE INDEX bank_inbound_file_pending_idx ON bank_inbound_file (next_attempt_at)
  WHERE file_process_status = 'PENDING';

ALTER TABLE disbursement_bank_refusal DROP CONSTRAINT disbursement_bank_refusal_refused_by_check;
-- BANK_STATUS: rejected by the bank in a pain.002 after the batch was shipped.
ALTER TABLE disbursement_bank_refusal ADD CONSTRAINT disbursement_bank_refusal_refused_by_check
  CHECK (refused_by IN ('BANK', 'BRIDGE', 'BANK_STATUS'));
