-- Ingest at bulk speed (issue 10): a disbursement's three parents (its envelope, its mapper batch, its bank
-- batch) were foreign keys, which PostgreSQL checks with one trigger and one locking query per row and per
-- key: 30,000 checks for a create_disbursements of 10,000 items, about half the insert's time. The same
-- guarantee is kept set-based: one statement trigger per insert looks at the distinct parents of the new rows
-- (one of each for a call), locks them FOR KEY SHARE as the foreign key check did, and refuses the whole
-- statement when one is missing (SQLSTATE 23503, foreign_key_violation, as before). The other directions stay
-- closed too: a disbursement's parent keys cannot be changed, a referenced parent cannot be deleted or have
-- its key changed, and a parent cannot be truncated while disbursements remain.

ALTER TABLE disbursement
  DROP CONSTRAINT disbursement_disbursement_envelope_id_fkey,
  DROP CONSTRAINT disbursement_mapper_resolution_batch_id_fkey,
  DROP CONSTRAINT disbursement_bank_disbursement_batch_id_fkey;

CREATE FUNCTION disbursement_parents_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT DISTINCT disbursement_envelope_id AS e, mapper_resolution_batch_id AS m,
      bank_disbursement_batch_id AS b FROM new_disbursements LOOP
    PERFORM 1 FROM disbursement_envelope WHERE disbursement_envelope_id = p.e FOR KEY SHARE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'disbursement refers to a missing disbursement envelope'
        USING ERRCODE = 'foreign_key_violation', TABLE = 'disbursement', COLUMN = 'disbursement_envelope_id';
    END IF;
    PERFORM 1 FROM mapper_resolution_batch_status WHERE mapper_resolution_batch_id = p.m FOR KEY SHARE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'disbursement refers to a missing mapper resolution batch'
        USING ERRCODE = 'foreign_key_violation', TABLE = 'disbursement', COLUMN = 'mapper_resolution_batch_id';
    END IF;
    PERFORM 1 FROM bank_disbursement_batch_status WHERE bank_disbursement_batch_id = p.b FOR KEY SHARE;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'disbursement refers to a missing bank disbursement batch'
        USING ERRCODE = 'foreign_key_violation', TABLE = 'disbursement', COLUMN = 'bank_disbursement_batch_id';
    END IF;
  END LOOP;
  RETURN NULL;
END;
$$;

CREATE TRIGGER disbursement_parents_exist AFTER INSERT ON disbursement
  REFERENCING NEW TABLE AS new_disbursements
  FOR EACH STATEMENT EXECUTE FUNCTION disbursement_parents_exist();

CREATE FUNCTION disbursement_parents_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the envelope and batches of a disbursement cannot be changed'
    USING ERRCODE = 'foreign_key_violation', TABLE = 'disbursement';
END;
$$;

CREATE TRIGGER disbursement_parents_fixed BEFORE UPDATE OF disbursement_envelope_id, mapper_resolution_batch_id,
  bank_disbursement_batch_id ON disbursement
  FOR EACH ROW WHEN (OLD.disbursement_envelope_id IS DISTINCT FROM NEW.disbursement_envelope_id
    OR OLD.mapper_resolution_batch_id IS DISTINCT FROM NEW.mapper_resolution_batch_id
    OR OLD.bank_disbursement_batch_id IS DISTINCT FROM NEW.bank_disbursement_batch_id)
  EXECUTE FUNCTION disbursement_parents_fixed();

-- TG_ARGV[0]: the parent's key column, which is also the disbursement column that refers to it.
CREATE FUNCTION disbursement_parent_kept() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  key text := to_jsonb(OLD) ->> TG_ARGV[0];
  referenced boolean;
BEGIN
  IF TG_OP = 'UPDATE' AND key IS NOT DISTINCT FROM to_jsonb(NEW) ->> TG_ARGV[0] THEN
    RETURN NEW;
  END IF;
  -- One branch per column, so that each probe uses that column's index.
  IF TG_ARGV[0] = 'disbursement_envelope_id' THEN
    referenced := EXISTS (SELECT 1 FROM disbursement WHERE disbursement_envelope_id = key);
  ELSIF TG_ARGV[0] = 'mapper_resolution_batch_id' THEN
    referenced := EXISTS (SELECT 1 FROM disbursement WHERE mapper_resolution_batch_id = key);
  ELSE
    referenced := EXISTS (SELECT 1 FROM disbursement WHERE bank_disbursement_batch_id = key);
  END IF;
  IF referenced THEN
    RAISE EXCEPTION '% is still referenced from disbursement', TG_TABLE_NAME
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END;
$$;

CREATE TRIGGER disbursement_parent_kept BEFORE DELETE OR UPDATE OF disbursement_envelope_id
  ON disbursement_envelope FOR EACH ROW EXECUTE FUNCTION disbursement_parent_kept('disbursement_envelope_id');
CREATE TRIGGER disbursement_parent_kept BEFORE DELETE OR UPDATE OF mapper_resolution_batch_id
  ON mapper_resolution_batch_status FOR EACH ROW EXECUTE FUNCTION disbursement_parent_kept('mapper_resolution_batch_id');
CREATE TRIGGER disbursement_parent_kept BEFORE DELETE OR UPDATE OF bank_disbursement_batch_id
  ON bank_disbursement_batch_status FOR EACH ROW EXECUTE FUNCTION disbursement_parent_kept('bank_disbursement_batch_id');

-- A parent emptied by TRUNCATE must take the disbursements with it: name `disbursement` in the same TRUNCATE
-- (the triggers run after the whole statement truncated its tables), else the TRUNCATE is refused.
CREATE FUNCTION disbursement_parent_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM disbursement) THEN
    RAISE EXCEPTION 'truncating % leaves disbursements behind; truncate disbursement in the same statement', TG_TABLE_NAME
      USING ERRCODE = 'foreign_key_violation', TABLE = TG_TABLE_NAME;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER disbursement_parent_truncated AFTER TRUNCATE ON disbursement_envelope
  FOR EACH STATEMENT EXECUTE FUNCTION disbursement_parent_truncated();
CREATE TRIGGER disbursement_parent_truncated AFTER TRUNCATE ON mapper_resolution_batch_status
  FOR EACH STATEMENT EXECUTE FUNCTION disbursement_parent_truncated();
CREATE TRIGGER disbursement_parent_truncated AFTER TRUNCATE ON bank_disbursement_batch_status
  FOR EACH STATEMENT EXECUTE FUNCTION disbursement_parent_truncated();
