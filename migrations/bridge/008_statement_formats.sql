-- Statements in ISO 20022 camt.053 / camt.054 beside MT940 (docs/pipeline.md, "Statement formats").
-- The format a statement was read as: set at upload (detected from the text) and again by the statement stage.
-- A camt statement is recognised as a copy of another by account, Stmt/Id and ElctrncSeqNb, never by an MT940's
-- :20: and :28C: that happen to be spelled the same, so the duplicate check compares the format too.
ALTER TABLE account_statement ADD COLUMN statement_format text
  CHECK (statement_format IN ('MT940', 'CAMT053', 'CAMT054'));
UPDATE account_statement SET statement_format = 'MT940';

-- What a camt return's reason code (RtrInf/Rsn/Cd, ExternalReturnReason1Code) means for the bridge: the reversal
-- reason recorded on the reversed recon (disbursement_recon.reversal_reason, shown to the PBMS). Operators
-- change it with the admin API (/admin/return_reasons) or `g2p-bridge return-reason`; a code without a row
-- passes through as it is.
CREATE TABLE statement_return_reason (
  return_code text PRIMARY KEY CHECK (return_code ~ '^[A-Za-z0-9]{1,35}$'),
  reversal_reason text NOT NULL CHECK (length(reversal_reason) BETWEEN 1 AND 100),
  description text CHECK (length(description) <= 200),
  updated_by text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO statement_return_reason (return_code, reversal_reason, description) VALUES
  ('AC01', 'ACCOUNT_NOT_FOUND', 'Incorrect account number'),
  ('AC04', 'ACCOUNT_CLOSED', 'Closed account number'),
  ('AC06', 'ACCOUNT_DORMANT', 'Blocked account (dormant or frozen)'),
  ('AG01', 'TRANSACTION_FORBIDDEN', 'Transaction forbidden on this type of account'),
  ('AM04', 'INSUFFICIENT_FUNDS', 'Insufficient funds'),
  ('BE04', 'MISSING_CREDITOR_ADDRESS', 'Missing creditor address'),
  ('MD07', 'ACCOUNT_DECEASED', 'End customer deceased'),
  ('MS02', 'NOT_SPECIFIED_BY_CUSTOMER', 'Reason not specified, by the customer'),
  ('MS03', 'NOT_SPECIFIED_BY_AGENT', 'Reason not specified, by the agent'),
  ('RR01', 'REGULATORY_REASON', 'Missing debtor account or identification'),
  ('RR02', 'REGULATORY_REASON', 'Missing debtor name or address'),
  ('RR03', 'REGULATORY_REASON', 'Missing creditor name or address'),
  ('RR04', 'REGULATORY_REASON', 'Regulatory reason');
