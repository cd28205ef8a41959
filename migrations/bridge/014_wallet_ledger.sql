-- The wallet provider's own ledger as a second, independent source (issue 15, part 3): once a day per funding
-- account, the account's posted transactions (GSMA /accounts/{id}/transactions) are read page by page into
-- wallet_ledger_entry and reconciled like a bank statement against the wallet payments we shipped from it.

-- One day of one funding account at one provider: the driving row of the wallet_ledger stage. The window is
-- the calendar day in the deployment's time zone, as instants, fixed when the row is made.
CREATE TABLE wallet_ledger_day (
  ledger_day_id uuid PRIMARY KEY,
  provider_code text NOT NULL,
  debit_party_account text NOT NULL,
  ledger_date date NOT NULL,
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL CHECK (window_end > window_start),
  -- Transactions of the window already staged; a page is staged in one transaction with it.
  entries_offset integer NOT NULL DEFAULT 0,
  ledger_status text NOT NULL DEFAULT 'PENDING' CHECK (ledger_status IN ('PENDING', 'COMPLETED', 'ERROR')),
  ledger_attempts integer NOT NULL DEFAULT 0,
  latest_error_code text,
  latest_error_message text,
  ledger_time_stamp timestamptz,
  -- What the last reconciliation of the day found (debits of the window, confirmed, open errors).
  debits integer NOT NULL DEFAULT 0,
  confirmed integer NOT NULL DEFAULT 0,
  errors integer NOT NULL DEFAULT 0,
  reconciled_at timestamptz,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider_code, debit_party_account, ledger_date)
);
CREATE INDEX wallet_ledger_day_pending_idx ON wallet_ledger_day (next_attempt_at) WHERE ledger_status = 'PENDING';

-- One posted transaction of a funding account as the provider listed it. Keyed by the provider's transaction
-- reference, so a page read twice (a retry, an overlapping page, a rerun of the day) stages nothing new.
-- outcome: NULL until reconciled; CONFIRMED; AWAITING_COMPLETION (we shipped it, no completion recorded yet:
-- looked at again by every later reconciliation of the account); IGNORED (not a completed debit); else the
-- error reason, also written to wallet_ledger_error.
CREATE TABLE wallet_ledger_entry (
  provider_code text NOT NULL,
  transaction_reference text NOT NULL,
  ledger_day_id uuid NOT NULL REFERENCES wallet_ledger_day,
  debit_party_account text NOT NULL,
  direction text CHECK (direction IN ('DEBIT', 'CREDIT')),
  transaction_type text,
  transaction_status text,
  reference text,
  amount numeric,
  currency text,
  posted_at timestamptz,
  outcome text,
  disbursement_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (provider_code, transaction_reference)
);
CREATE INDEX wallet_ledger_entry_account_idx ON wallet_ledger_entry (provider_code, debit_party_account, outcome);
CREATE INDEX wallet_ledger_entry_reference_idx ON wallet_ledger_entry (reference);

-- What the ledger contradicts: a debit matching nothing we shipped on that channel (kind LEDGER_DEBIT), or a
-- completion we recorded that the ledger does not show (kind COMPLETION, reason MISSING_LEDGER_DEBIT; resolved
-- when a later reconciliation finds its debit). One row per (kind, transaction or disbursement, reason).
CREATE TABLE wallet_ledger_error (
  id bigserial PRIMARY KEY,
  ledger_day_id uuid NOT NULL REFERENCES wallet_ledger_day,
  provider_code text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('LEDGER_DEBIT', 'COMPLETION')),
  error_reason text NOT NULL,
  disbursement_id text,
  transaction_reference text,
  amount numeric,
  currency text,
  resolved_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX wallet_ledger_error_once ON wallet_ledger_error
  (provider_code, kind, error_reason, coalesce(transaction_reference, ''), coalesce(disbursement_id, ''));
CREATE INDEX wallet_ledger_error_day_idx ON wallet_ledger_error (ledger_day_id);
CREATE INDEX wallet_ledger_error_open_idx ON wallet_ledger_error (created_at) WHERE resolved_at IS NULL;

-- A completion the provider's ledger confirmed: the ledger's transaction reference and when we saw it.
ALTER TABLE wallet_payment ADD COLUMN ledger_transaction_reference text;
ALTER TABLE wallet_payment ADD COLUMN ledger_confirmed_at timestamptz;
