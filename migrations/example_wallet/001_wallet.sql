-- The wallet-provider simulator: a mobile money provider speaking the GSMA Mobile Money API 1.2
-- (disbursements). Wallets and the organisation's disbursement accounts, batches and their transactions,
-- the posted movements (what /accounts/{id}/transactions lists) and the callbacks still to deliver.
CREATE SCHEMA IF NOT EXISTS example_wallet;

CREATE TABLE example_wallet.account (
  -- The provider's account id (also its walletid); a wallet is found by msisdn as well.
  account_id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('wallet', 'disbursement')),
  msisdn text UNIQUE,
  name text,
  currency text NOT NULL,
  state text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'suspended')),
  balance numeric NOT NULL DEFAULT 0 CHECK (balance >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (kind = 'disbursement' OR msisdn IS NOT NULL)
);

CREATE TABLE example_wallet.batch (
  batch_id text PRIMARY KEY,
  server_correlation_id uuid NOT NULL UNIQUE,
  -- The client's X-CorrelationID: the same one again is the same request (never a second batch).
  client_correlation_id uuid UNIQUE,
  -- SHA-256 of what the transactions ask for: a reused correlation id with other transactions is refused.
  request_hash text NOT NULL,
  callback_url text,
  batch_title text,
  batch_description text,
  request_date text,
  -- The request's state (requestStateObject.status) and the batch's (batchStatus).
  request_status text NOT NULL DEFAULT 'pending' CHECK (request_status IN ('pending', 'completed', 'failed')),
  batch_status text NOT NULL DEFAULT 'approved' CHECK (batch_status IN ('created', 'approved', 'completed')),
  error jsonb,
  transaction_count integer NOT NULL,
  parsing_success_count integer NOT NULL,
  completed_count integer NOT NULL DEFAULT 0,
  rejection_count integer NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL,
  completed_at timestamptz,
  modified_at timestamptz NOT NULL
);
CREATE INDEX batch_pending ON example_wallet.batch (created_at) WHERE request_status = 'pending';

CREATE TABLE example_wallet.txn (
  batch_id text NOT NULL REFERENCES example_wallet.batch,
  seq integer NOT NULL,
  transaction_reference text NOT NULL UNIQUE,
  org_reference text,
  type text,
  amount_text text,
  -- NULL when the amount did not parse (the item is rejected at intake).
  amount numeric,
  currency text,
  credit_party jsonb NOT NULL,
  debit_party jsonb NOT NULL,
  credit_key text,
  credit_value text,
  debit_key text,
  debit_value text,
  -- received → completed | rejected (at intake when it does not parse, else when processed).
  status text NOT NULL CHECK (status IN ('received', 'completed', 'rejected')),
  error_category text,
  error_code text,
  error_description text,
  decided_at timestamptz,
  PRIMARY KEY (batch_id, seq)
);
CREATE INDEX txn_decided ON example_wallet.txn (batch_id, status, seq);

-- Money that moved: one row per completed disbursement (debit and credit account) or funding deposit.
CREATE TABLE example_wallet.movement (
  movement_id bigserial PRIMARY KEY,
  transaction_reference text NOT NULL UNIQUE,
  org_reference text,
  type text NOT NULL,
  amount numeric NOT NULL CHECK (amount > 0),
  currency text NOT NULL,
  debit_account text REFERENCES example_wallet.account,
  credit_account text NOT NULL REFERENCES example_wallet.account,
  debit_party jsonb NOT NULL,
  credit_party jsonb NOT NULL,
  batch_id text,
  created_at timestamptz NOT NULL
);
CREATE INDEX movement_debit ON example_wallet.movement (debit_account, movement_id);
CREATE INDEX movement_credit ON example_wallet.movement (credit_account, movement_id);

CREATE TABLE example_wallet.callback (
  callback_id bigserial PRIMARY KEY,
  batch_id text NOT NULL REFERENCES example_wallet.batch,
  url text NOT NULL,
  client_correlation_id uuid,
  body text NOT NULL,
  -- due → delivered | lost (a fault dropped it) | abandoned (every attempt failed)
  status text NOT NULL DEFAULT 'due' CHECK (status IN ('due', 'delivered', 'lost', 'abandoned')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL,
  last_error text,
  delivered_at timestamptz
);
CREATE INDEX callback_due ON example_wallet.callback (next_attempt_at) WHERE status = 'due';
