-- One bad payment must not hold back its bank batch (docs/pipeline.md, "Payments a bank refuses"). The disburse
-- stage records here each disbursement of a batch that was not paid: refused by the bank with its own code, or
-- by the bridge before sending because it breaks the connector's declared limits. Written in the same
-- transaction that marks the batch PROCESSED, so a batch is either pending with no refusals or done with all.
CREATE TABLE disbursement_bank_refusal (
  disbursement_id text PRIMARY KEY REFERENCES disbursement,
  bank_disbursement_batch_id text NOT NULL REFERENCES bank_disbursement_batch_status,
  error_code text NOT NULL,
  -- BANK: the bank answered the code; BRIDGE: never sent, the connector's limits refuse it.
  refused_by text NOT NULL CHECK (refused_by IN ('BANK', 'BRIDGE')),
  refused_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disbursement_bank_refusal_batch_idx ON disbursement_bank_refusal (bank_disbursement_batch_id);

-- A refused disbursement is in its own lifecycle state, `refused`, with the code as its reason.
CREATE OR REPLACE VIEW disbursement_lifecycle AS
SELECT
  d.disbursement_id,
  d.disbursement_envelope_id,
  CASE
    WHEN r.reversal_found THEN 'reversed'
    WHEN r.disbursement_id IS NOT NULL THEN 'reconciled'
    WHEN d.cancellation_status = 'Cancelled' THEN 'cancelled'
    WHEN m.resolved = false THEN 'unresolved'
    WHEN x.disbursement_id IS NOT NULL THEN 'refused'
    WHEN b.disbursement_status = 'PROCESSED' THEN 'shipped'
    ELSE 'received'
  END AS lifecycle_status,
  CASE
    WHEN r.reversal_found THEN r.reversal_reason
    WHEN r.disbursement_id IS NULL AND d.cancellation_status <> 'Cancelled' AND m.resolved = false THEN m.unresolved_reason
    WHEN r.disbursement_id IS NULL AND d.cancellation_status <> 'Cancelled' AND x.disbursement_id IS NOT NULL THEN x.error_code
  END AS lifecycle_reason
FROM disbursement d
JOIN bank_disbursement_batch_status b ON b.bank_disbursement_batch_id = d.bank_disbursement_batch_id
LEFT JOIN disbursement_recon r ON r.disbursement_id = d.disbursement_id
LEFT JOIN mapper_resolution_details m ON m.disbursement_id = d.disbursement_id
LEFT JOIN disbursement_bank_refusal x ON x.disbursement_id = d.disbursement_id;
