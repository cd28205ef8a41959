-- The example bank: a simulated sponsor bank with its own ledger, in its own schema so that it can share a
-- PostgreSQL database with the bridge without touching the bridge's tables. Money is numeric (exact).

CREATE SCHEMA IF NOT EXISTS example_bank;

-- Customer accounts, and one internal settlement account per currency that stands for the clearing system:
-- payments to other banks go there, reversals come back from there, so every movement has two sides.
CREATE TABLE example_bank.account (
  account_number text PRIMARY KEY,
  currency char(3) NOT NULL,
  holder_name text NOT NULL DEFAULT '',
  kind text NOT NULL DEFAULT 'CUSTOMER' CHECK (kind IN ('CUSTOMER', 'SETTLEMENT')),
  status text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DORMANT', 'CLOSED', 'DECEASED')),
  book_balance numeric NOT NULL DEFAULT 0,
  blocked_amount numeric NOT NULL DEFAULT 0 CHECK (blocked_amount >= 0),
  -- Derived, so that available = book - blocked holds by construction.
  available_balance numeric GENERATED ALWAYS AS (book_balance - blocked_amount) STORED,
  -- Statements are generated and delivered to the bridge for accounts that fund programs.
  statements_enabled boolean NOT NULL DEFAULT false,
  last_statement_number integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (kind = 'SETTLEMENT' OR book_balance - blocked_amount >= 0)
);

CREATE SEQUENCE example_bank.reference_seq;

-- A block on an envelope's total. Payments commit against it when accepted and release it when processed:
-- released <= committed <= amount.
CREATE TABLE example_bank.fund_block (
  block_reference text PRIMARY KEY,
  account_number text NOT NULL REFERENCES example_bank.account,
  currency char(3) NOT NULL,
  amount numeric NOT NULL CHECK (amount > 0),
  amount_committed numeric NOT NULL DEFAULT 0,
  amount_released numeric NOT NULL DEFAULT 0,
  idempotency_key text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (amount_released >= 0 AND amount_released <= amount_committed AND amount_committed <= amount)
);
CREATE INDEX fund_block_account_idx ON example_bank.fund_block (account_number);

CREATE TABLE example_bank.payment_batch (
  batch_id text PRIMARY KEY,
  payment_count integer NOT NULL,
  duplicate_count integer NOT NULL DEFAULT 0,
  total_amount numeric NOT NULL,
  status text NOT NULL DEFAULT 'ACCEPTED' CHECK (status IN ('ACCEPTED', 'PROCESSED')),
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz
);

-- One payment; its reference (the bridge's disbursement id) is unique per remitting account, so a payment
-- sent twice is stored, debited and reported once.
CREATE TABLE example_bank.payment (
  payment_id bigserial PRIMARY KEY,
  batch_id text NOT NULL REFERENCES example_bank.payment_batch,
  account_number text NOT NULL REFERENCES example_bank.account,
  payment_reference text NOT NULL,
  block_reference text NOT NULL REFERENCES example_bank.fund_block,
  currency char(3) NOT NULL,
  amount numeric NOT NULL CHECK (amount > 0),
  beneficiary_id text NOT NULL,
  beneficiary_name text NOT NULL,
  beneficiary_account_type text NOT NULL,
  beneficiary_account text,
  beneficiary_bank_code text,
  beneficiary_branch_code text,
  beneficiary_phone_no text,
  beneficiary_email text,
  beneficiary_wallet_provider text,
  narrative text NOT NULL,
  program_mnemonic text NOT NULL,
  cycle_code text NOT NULL,
  payment_date date,
  status text NOT NULL DEFAULT 'ACCEPTED' CHECK (status IN ('ACCEPTED', 'CREDITED', 'PAID_OUT', 'REVERSED')),
  reversal_reason text,
  processed_at timestamptz,
  UNIQUE (account_number, payment_reference)
);
CREATE INDEX payment_accepted_idx ON example_bank.payment (payment_id) WHERE status = 'ACCEPTED';
CREATE INDEX payment_batch_idx ON example_bank.payment (batch_id);

CREATE TABLE example_bank.statement (
  statement_id bigserial PRIMARY KEY,
  account_number text NOT NULL REFERENCES example_bank.account,
  statement_number integer NOT NULL,
  reference text NOT NULL,
  statement_date date NOT NULL,
  currency char(3) NOT NULL,
  opening_balance numeric NOT NULL,
  closing_balance numeric NOT NULL,
  entry_count integer NOT NULL,
  file_name text NOT NULL,
  mt940 text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  delivery_attempts integer NOT NULL DEFAULT 0,
  delivery_error text,
  UNIQUE (account_number, statement_number)
);
CREATE INDEX statement_undelivered_idx ON example_bank.statement (statement_id) WHERE delivered_at IS NULL;

-- Every movement of money. An entry is reported once: statement_id is set when a statement includes it.
CREATE TABLE example_bank.ledger_entry (
  entry_id bigserial PRIMARY KEY,
  account_number text NOT NULL REFERENCES example_bank.account,
  mark text NOT NULL CHECK (mark IN ('D', 'C', 'RD', 'RC')),
  amount numeric NOT NULL CHECK (amount > 0),
  value_date date NOT NULL,
  transaction_type text NOT NULL,
  description text,
  payment_id bigint REFERENCES example_bank.payment,
  statement_id bigint REFERENCES example_bank.statement,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entry_unreported_idx ON example_bank.ledger_entry (account_number, entry_id)
  WHERE statement_id IS NULL;
CREATE INDEX ledger_entry_payment_idx ON example_bank.ledger_entry (payment_id);
