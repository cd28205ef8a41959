-- The bridge's system of record. Money is numeric (exact); every background stage's driving table carries
-- the work-queue columns: status, attempts, next_attempt_at (backoff), lease_owner / lease_expires_at.

CREATE TABLE benefit_program (
  benefit_program_mnemonic text PRIMARY KEY,
  benefit_program_name text NOT NULL,
  funding_org_code text NOT NULL,
  funding_org_name text NOT NULL,
  sponsor_bank_code text NOT NULL,
  sponsor_bank_branch_code text,
  sponsor_bank_account_number text NOT NULL UNIQUE,
  sponsor_bank_account_currency char(3) NOT NULL,
  id_mapper_resolution_required boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE disbursement_envelope (
  disbursement_envelope_id text PRIMARY KEY,
  benefit_program_mnemonic text NOT NULL REFERENCES benefit_program,
  disbursement_frequency text NOT NULL CHECK (disbursement_frequency IN
    ('Daily', 'Weekly', 'Fortnightly', 'Monthly', 'BiMonthly', 'Quarterly', 'SemiAnnually', 'Annually', 'OnDemand')),
  cycle_code_mnemonic text NOT NULL,
  number_of_beneficiaries integer NOT NULL CHECK (number_of_beneficiaries > 0),
  number_of_disbursements integer NOT NULL CHECK (number_of_disbursements >= number_of_beneficiaries),
  total_disbursement_amount numeric NOT NULL CHECK (total_disbursement_amount > 0),
  disbursement_currency_code char(3) NOT NULL,
  disbursement_schedule_date date NOT NULL,
  receipt_time_stamp timestamptz NOT NULL DEFAULT now(),
  cancellation_status text NOT NULL DEFAULT 'Not_Cancelled' CHECK (cancellation_status IN ('Not_Cancelled', 'Cancelled')),
  cancellation_time_stamp timestamptz
);
CREATE INDEX disbursement_envelope_program_idx ON disbursement_envelope (benefit_program_mnemonic);

-- The envelope's running state, and the driving row of the check-funds and block-funds stages.
CREATE TABLE disbursement_envelope_batch_status (
  disbursement_envelope_id text PRIMARY KEY REFERENCES disbursement_envelope,
  number_of_disbursements_received integer NOT NULL DEFAULT 0 CHECK (number_of_disbursements_received >= 0),
  total_disbursement_amount_received numeric NOT NULL DEFAULT 0 CHECK (total_disbursement_amount_received >= 0),
  funds_available_with_bank text NOT NULL DEFAULT 'PENDING_CHECK'
    CHECK (funds_available_with_bank IN ('PENDING_CHECK', 'FUNDS_AVAILABLE', 'FUNDS_NOT_AVAILABLE', 'ERROR')),
  funds_available_latest_timestamp timestamptz,
  funds_available_latest_error_code text,
  funds_available_attempts integer NOT NULL DEFAULT 0,
  funds_blocked_with_bank text NOT NULL DEFAULT 'PENDING_CHECK'
    CHECK (funds_blocked_with_bank IN ('PENDING_CHECK', 'FUNDS_BLOCK_SUCCESS', 'FUNDS_BLOCK_FAILURE', 'ERROR')),
  funds_blocked_latest_timestamp timestamptz,
  funds_blocked_latest_error_code text,
  funds_blocked_attempts integer NOT NULL DEFAULT 0,
  funds_blocked_reference_number text,
  number_of_disbursements_shipped integer NOT NULL DEFAULT 0,
  number_of_disbursements_reconciled integer NOT NULL DEFAULT 0,
  number_of_disbursements_reversed integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_expires_at timestamptz
);

-- One row per create_disbursements call: the mapper resolves it in one call.
CREATE TABLE mapper_resolution_batch_status (
  mapper_resolution_batch_id text PRIMARY KEY,
  disbursement_envelope_id text NOT NULL REFERENCES disbursement_envelope,
  resolution_status text NOT NULL DEFAULT 'PENDING' CHECK (resolution_status IN ('PENDING', 'PROCESSED', 'ERROR')),
  latest_error_code text,
  resolution_time_stamp timestamptz,
  resolution_attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mapper_resolution_batch_pending_idx ON mapper_resolution_batch_status (next_attempt_at)
  WHERE resolution_status = 'PENDING';
CREATE INDEX mapper_resolution_batch_envelope_idx ON mapper_resolution_batch_status (disbursement_envelope_id);

-- One row per create_disbursements call: shipped to the bank in one initiate_payment call.
CREATE TABLE bank_disbursement_batch_status (
  bank_disbursement_batch_id text PRIMARY KEY,
  disbursement_envelope_id text NOT NULL REFERENCES disbursement_envelope,
  disbursement_status text NOT NULL DEFAULT 'PENDING' CHECK (disbursement_status IN ('PENDING', 'PROCESSED', 'ERROR')),
  latest_error_code text,
  disbursement_time_stamp timestamptz,
  disbursement_attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bank_disbursement_batch_pending_idx ON bank_disbursement_batch_status (next_attempt_at)
  WHERE disbursement_status = 'PENDING';
CREATE INDEX bank_disbursement_batch_envelope_idx ON bank_disbursement_batch_status (disbursement_envelope_id);

CREATE TABLE disbursement (
  disbursement_id text PRIMARY KEY,
  disbursement_envelope_id text NOT NULL REFERENCES disbursement_envelope,
  mapper_resolution_batch_id text NOT NULL REFERENCES mapper_resolution_batch_status,
  bank_disbursement_batch_id text NOT NULL REFERENCES bank_disbursement_batch_status,
  mis_reference_number text,
  beneficiary_id text NOT NULL,
  beneficiary_name text NOT NULL,
  disbursement_amount numeric NOT NULL CHECK (disbursement_amount > 0),
  narrative text NOT NULL,
  receipt_time_stamp timestamptz NOT NULL DEFAULT now(),
  cancellation_status text NOT NULL DEFAULT 'Not_Cancelled' CHECK (cancellation_status IN ('Not_Cancelled', 'Cancelled')),
  cancellation_time_stamp timestamptz
);
CREATE INDEX disbursement_envelope_idx ON disbursement (disbursement_envelope_id);
CREATE INDEX disbursement_mapper_batch_idx ON disbursement (mapper_resolution_batch_id);
CREATE INDEX disbursement_bank_batch_idx ON disbursement (bank_disbursement_batch_id);

-- Ids the bridge assigns when the PBMS sends none: a sequence rendered in base 36 (fits MT940's 16x).
CREATE SEQUENCE disbursement_id_seq;

CREATE TABLE mapper_resolution_details (
  disbursement_id text PRIMARY KEY REFERENCES disbursement,
  mapper_resolution_batch_id text NOT NULL REFERENCES mapper_resolution_batch_status,
  beneficiary_id text NOT NULL,
  resolved boolean NOT NULL,
  unresolved_reason text,
  mapper_resolved_fa text,
  mapper_resolved_name text,
  mapper_resolved_fa_type text CHECK (mapper_resolved_fa_type IN ('BANK_ACCOUNT', 'MOBILE_WALLET', 'EMAIL_WALLET')),
  bank_account_number text,
  bank_code text,
  branch_code text,
  mobile_number text,
  mobile_wallet_provider text,
  email_address text,
  email_wallet_provider text,
  resolved_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mapper_resolution_details_batch_idx ON mapper_resolution_details (mapper_resolution_batch_id);

CREATE TABLE account_statement (
  statement_id text PRIMARY KEY,
  account_number text,
  reference_number text,
  statement_number text,
  sequence_number text,
  statement_date date,
  content_sha256 text NOT NULL,
  size_bytes integer NOT NULL,
  uploaded_by text,
  statement_upload_timestamp timestamptz NOT NULL DEFAULT now(),
  statement_process_status text NOT NULL DEFAULT 'PENDING'
    CHECK (statement_process_status IN ('PENDING', 'PROCESSED', 'ERROR')),
  statement_process_error_code text,
  statement_process_error_message text,
  statement_process_timestamp timestamptz,
  statement_process_attempts integer NOT NULL DEFAULT 0,
  duplicate_of_statement_id text REFERENCES account_statement,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_expires_at timestamptz
);
CREATE INDEX account_statement_sha_idx ON account_statement (content_sha256);
CREATE INDEX account_statement_pending_idx ON account_statement (next_attempt_at)
  WHERE statement_process_status = 'PENDING';

-- The raw statement exactly as uploaded, apart from its header row so listing statements stays cheap.
CREATE TABLE account_statement_lob (
  statement_id text PRIMARY KEY REFERENCES account_statement,
  statement_lob text NOT NULL
);

CREATE TABLE disbursement_recon (
  disbursement_id text PRIMARY KEY REFERENCES disbursement,
  bank_disbursement_batch_id text NOT NULL,
  disbursement_envelope_id text NOT NULL,
  beneficiary_name_from_bank text,
  remittance_reference_number text NOT NULL UNIQUE,
  remittance_statement_id text NOT NULL REFERENCES account_statement,
  remittance_statement_number text,
  remittance_statement_sequence text,
  remittance_entry_sequence integer NOT NULL,
  remittance_entry_date date,
  remittance_value_date date,
  reversal_found boolean NOT NULL DEFAULT false,
  reversal_statement_id text REFERENCES account_statement,
  reversal_statement_number text,
  reversal_statement_sequence text,
  reversal_entry_sequence integer,
  reversal_entry_date date,
  reversal_value_date date,
  reversal_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disbursement_recon_envelope_idx ON disbursement_recon (disbursement_envelope_id);

CREATE TABLE disbursement_error_recon (
  id bigserial PRIMARY KEY,
  statement_id text NOT NULL REFERENCES account_statement,
  statement_number text,
  statement_sequence text,
  entry_sequence integer NOT NULL,
  entry_date date,
  value_date date,
  error_reason text NOT NULL CHECK (error_reason IN ('INVALID_DISBURSEMENT_ID', 'DUPLICATE_DISBURSEMENT', 'INVALID_REVERSAL')),
  disbursement_id text,
  bank_reference_number text,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (statement_id, entry_sequence)
);
CREATE INDEX disbursement_error_recon_disbursement_idx ON disbursement_error_recon (disbursement_id);

-- Idempotency: the first successful answer to (sender, message id), written in the same transaction as its effect.
CREATE TABLE api_request (
  sender_id text NOT NULL,
  message_id text NOT NULL,
  action text NOT NULL,
  request_sha256 text NOT NULL,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sender_id, message_id)
);

-- Small key/value settings the bridge generates for itself (the embedded JWT secret).
CREATE TABLE bridge_setting (
  name text PRIMARY KEY,
  value text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
