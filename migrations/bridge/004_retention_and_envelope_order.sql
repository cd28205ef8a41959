-- Stored idempotent answers are purged by age (IDEMPOTENCY_RETENTION_DAYS).
CREATE INDEX api_request_created_idx ON api_request (created_at);

-- Per-envelope scans in disbursement id order (dashboard CSV, status pages at a million rows) read the index
-- alone instead of sorting.
CREATE INDEX disbursement_envelope_order_idx ON disbursement (disbursement_envelope_id, disbursement_id);
DROP INDEX disbursement_envelope_idx;
