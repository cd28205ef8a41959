-- Payout channels (issue 15): a program pays bank accounts through its sponsor bank, as before, and mobile
-- wallets through the wallet providers it has a channel with. A disbursement goes to a wallet channel when its
-- resolved address is a MOBILE_WALLET of a provider the program has a channel for; everything else stays with
-- the sponsor bank. Ingest (create_disbursements) is untouched: the split happens when a batch is shipped.

-- A program's funding account at one wallet provider: the GSMA account id of the debit party
-- (`accountid@2999`, `msisdn@+254700000001`, up to three `key@value` joined by `$`).
CREATE TABLE program_payout_channel (
  benefit_program_mnemonic text NOT NULL REFERENCES benefit_program,
  provider_code text NOT NULL CHECK (provider_code ~ '^[A-Za-z0-9_.-]{1,64}$'),
  debit_party_account text NOT NULL CHECK (length(debit_party_account) BETWEEN 3 AND 256),
  currency char(3) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (benefit_program_mnemonic, provider_code)
);

-- Funds per channel of an envelope. The bank channel keeps its state on disbursement_envelope_batch_status
-- (check and block, as before); each wallet channel's balance check is recorded here. GSMA has no reservation,
-- so a wallet channel is checked, never blocked.
CREATE TABLE envelope_channel_funds (
  disbursement_envelope_id text NOT NULL REFERENCES disbursement_envelope,
  provider_code text NOT NULL,
  debit_party_account text NOT NULL,
  currency char(3) NOT NULL,
  required_amount numeric NOT NULL CHECK (required_amount >= 0),
  available_amount numeric,
  funds_status text NOT NULL CHECK (funds_status IN ('FUNDS_AVAILABLE', 'FUNDS_NOT_AVAILABLE')),
  checked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (disbursement_envelope_id, provider_code)
);

-- One POST /batchtransactions: the wallet part of one bank batch for one provider. Its key is the client
-- correlation id (X-CorrelationID), derived from the bank batch id and the provider, so a re-sent batch is
-- recognised. The row is the driving row of the wallet-outcomes stage: it is polled (request state, then
-- completions and rejections page by page) until every payment of it has an outcome.
CREATE TABLE wallet_batch (
  wallet_batch_id uuid PRIMARY KEY,
  bank_disbursement_batch_id text NOT NULL REFERENCES bank_disbursement_batch_status,
  disbursement_envelope_id text NOT NULL REFERENCES disbursement_envelope,
  provider_code text NOT NULL,
  debit_party_account text NOT NULL,
  currency char(3) NOT NULL,
  server_correlation_id text,
  provider_batch_id text,
  number_of_payments integer NOT NULL CHECK (number_of_payments >= 0),
  -- Pages already applied; a page is applied in one transaction with its offset, so a crash resumes there.
  completions_offset integer NOT NULL DEFAULT 0,
  rejections_offset integer NOT NULL DEFAULT 0,
  last_callback_at timestamptz,
  outcome_status text NOT NULL DEFAULT 'PENDING' CHECK (outcome_status IN ('PENDING', 'COMPLETED', 'ERROR')),
  outcome_attempts integer NOT NULL DEFAULT 0,
  latest_error_code text,
  latest_error_message text,
  outcome_time_stamp timestamptz,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (bank_disbursement_batch_id, provider_code)
);
CREATE INDEX wallet_batch_pending_idx ON wallet_batch (next_attempt_at) WHERE outcome_status = 'PENDING';
CREATE INDEX wallet_batch_envelope_idx ON wallet_batch (disbursement_envelope_id);
CREATE INDEX wallet_batch_provider_batch_idx ON wallet_batch (provider_code, provider_batch_id);

-- Each payment shipped to a wallet provider, as it was sent: what the outcomes are checked against.
CREATE TABLE wallet_payment (
  disbursement_id text PRIMARY KEY REFERENCES disbursement,
  wallet_batch_id uuid NOT NULL REFERENCES wallet_batch,
  provider_code text NOT NULL,
  credit_party_msisdn text NOT NULL,
  amount numeric NOT NULL CHECK (amount > 0),
  currency char(3) NOT NULL,
  outcome text CHECK (outcome IN ('COMPLETED', 'REJECTED')),
  provider_transaction_reference text,
  error_category text,
  error_code text,
  outcome_at timestamptz
);
CREATE INDEX wallet_payment_batch_idx ON wallet_payment (wallet_batch_id);

-- Outcomes the provider claimed that failed verification (unknown disbursement, another channel or batch,
-- wrong amount or currency, already final): kept for operators, nothing else changes.
CREATE TABLE wallet_outcome_error (
  id bigserial PRIMARY KEY,
  wallet_batch_id uuid NOT NULL REFERENCES wallet_batch,
  kind text NOT NULL CHECK (kind IN ('COMPLETION', 'REJECTION')),
  reference text,
  provider_transaction_reference text,
  error_reason text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wallet_outcome_error_batch_idx ON wallet_outcome_error (wallet_batch_id);

-- A completed wallet payment is reconciled like a statement debit, in disbursement_recon: no statement then,
-- the provider's transaction reference instead (prefixed with the provider code, so it cannot collide with a
-- bank's reference) and the wallet batch it came from.
ALTER TABLE disbursement_recon ALTER COLUMN remittance_statement_id DROP NOT NULL;
ALTER TABLE disbursement_recon ALTER COLUMN remittance_entry_sequence DROP NOT NULL;
ALTER TABLE disbursement_recon ADD COLUMN wallet_batch_id uuid REFERENCES wallet_batch;

-- WALLET_PROVIDER: rejected by the wallet provider after its batch was shipped (wallet_payment has the
-- GSMA error category and code).
ALTER TABLE disbursement_bank_refusal DROP CONSTRAINT disbursement_bank_refusal_refused_by_check;
ALTER TABLE disbursement_bank_refusal ADD CONSTRAINT disbursement_bank_refusal_refused_by_check
  CHECK (refused_by IN ('BANK', 'BRIDGE', 'BANK_STATUS', 'WALLET_PROVIDER'));
