-- Every disbursement is in exactly one lifecycle state at every moment. The state is derived from the rows
-- the stages write (never stored twice), so it cannot drift from them.
CREATE VIEW disbursement_lifecycle AS
SELECT
  d.disbursement_id,
  d.disbursement_envelope_id,
  CASE
    WHEN r.reversal_found THEN 'reversed'
    WHEN r.disbursement_id IS NOT NULL THEN 'reconciled'
    WHEN d.cancellation_status = 'Cancelled' THEN 'cancelled'
    WHEN m.resolved = false THEN 'unresolved'
    WHEN b.disbursement_status = 'PROCESSED' THEN 'shipped'
    ELSE 'received'
  END AS lifecycle_status,
  CASE
    WHEN r.reversal_found THEN r.reversal_reason
    WHEN r.disbursement_id IS NULL AND d.cancellation_status <> 'Cancelled' AND m.resolved = false THEN m.unresolved_reason
  END AS lifecycle_reason
FROM disbursement d
JOIN bank_disbursement_batch_status b ON b.bank_disbursement_batch_id = d.bank_disbursement_batch_id
LEFT JOIN disbursement_recon r ON r.disbursement_id = d.disbursement_id
LEFT JOIN mapper_resolution_details m ON m.disbursement_id = d.disbursement_id;
