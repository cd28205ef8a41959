-- The G2P Connect disbursement API (src/g2p-connect, docs/api.md). One envelope per disburse request; each
-- disburse transaction item is mapped to the disbursement the bridge created for it, so that status, search
-- and the on-status push can answer in the sender's own terms (transaction_id, reference_id).
CREATE TABLE g2p_connect_item (
  sender_id text NOT NULL,
  transaction_id text NOT NULL,
  reference_id text NOT NULL,
  disbursement_id text NOT NULL UNIQUE REFERENCES disbursement,
  disbursement_envelope_id text NOT NULL REFERENCES disbursement_envelope,
  payer_fa text NOT NULL,
  payee_fa text NOT NULL,
  -- The lifecycle state last pushed as on-status ('received' when the item was accepted).
  pushed_status text NOT NULL DEFAULT 'received',
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sender_id, transaction_id, reference_id)
);
CREATE INDEX g2p_connect_item_envelope_idx ON g2p_connect_item (disbursement_envelope_id);
CREATE INDEX g2p_connect_item_payee_idx ON g2p_connect_item (sender_id, payee_fa);

-- Answers and status pushes waiting for delivery to a sender's configured callback URL (never one taken from
-- a message). A work queue driven by the pipeline's lease-based runner (stage `callbacks`). message_id is the
-- callback's own header.message_id: stable across retries, so the receiver can drop duplicates.
CREATE TABLE g2p_connect_callback (
  message_id text PRIMARY KEY,
  sender_id text NOT NULL,
  action text NOT NULL CHECK (action IN ('on-disburse', 'on-status', 'on-search')),
  path text NOT NULL CHECK (path IN ('/on-disburse', '/disburse/txn/on-status', '/disburse/on-search')),
  transaction_id text,
  body jsonb NOT NULL,
  delivery_status text NOT NULL DEFAULT 'PENDING' CHECK (delivery_status IN ('PENDING', 'DELIVERED', 'ERROR')),
  delivery_attempts integer NOT NULL DEFAULT 0,
  latest_error_code text,
  latest_error_message text,
  status_time_stamp timestamptz,
  delivered_at timestamptz,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_owner text,
  lease_expires_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX g2p_connect_callback_pending_idx ON g2p_connect_callback (next_attempt_at)
  WHERE delivery_status = 'PENDING';
CREATE INDEX g2p_connect_callback_status_idx ON g2p_connect_callback (delivery_status, created_at);
