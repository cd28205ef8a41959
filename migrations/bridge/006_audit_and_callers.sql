-- Who called: the verified token subject is kept beside the sender_id the body claims, on the stored answer
-- and on the envelope it created.
ALTER TABLE api_request ADD COLUMN caller_subject text;
ALTER TABLE disbursement_envelope ADD COLUMN sender_id text;
ALTER TABLE disbursement_envelope ADD COLUMN caller_subject text;

-- The audit trail: one row per change a caller made (envelope create/amend/cancel, disbursement create/cancel,
-- statement upload, program add/update), written in the change's own transaction. PII-free: counts, amounts
-- and ids, never beneficiary names. Append-only: the trigger below refuses updates, and deletes outside the
-- retention purge (AUDIT_RETENTION_DAYS), which sets g2p.audit_purge for its own transaction.
CREATE TABLE audit_event (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  subject text NOT NULL,
  roles text[] NOT NULL,
  sender_id text,
  request_id text,
  message_id text,
  action text NOT NULL,
  program text,
  envelope_id text,
  target_ids text[] NOT NULL DEFAULT '{}',
  summary jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_event_envelope_idx ON audit_event (envelope_id, id) WHERE envelope_id IS NOT NULL;
CREATE INDEX audit_event_at_idx ON audit_event (at);

CREATE FUNCTION audit_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND current_setting('g2p.audit_purge', true) = 'on' THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_event is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();
