-- Statement uploads staged piece by piece (src/statements/upload.ts). Each piece of about 1 MiB is committed in
-- a short transaction of its own as it arrives, so the embedded database's one connection is free between
-- pieces; the statement exists only once a short closing transaction has checked the whole file, inserted the
-- statement row and adopted the pieces (statement_id set; the TOASTed content is not rewritten by an UPDATE of
-- another column). Until then a piece has no statement_id: no reader (the statement stage reads pieces by
-- statement_id, of statements that exist) can see it.
--
-- An upload in progress holds a lease in account_statement_upload, renewed with every piece and while it
-- waits for the client. A refused, broken or oversized upload deletes its pieces at once; pieces of an upload
-- whose lease ran out (its process died) are purged by the workers' housekeeping.
CREATE TABLE account_statement_upload (
  -- The statement_id the statement will have (a random UUID), so that adopted pieces keep upload_id = statement_id.
  upload_id text PRIMARY KEY,
  started_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX account_statement_upload_expires_idx ON account_statement_upload (expires_at);

ALTER TABLE account_statement_chunk ADD COLUMN upload_id text;
UPDATE account_statement_chunk SET upload_id = statement_id;
ALTER TABLE account_statement_chunk ALTER COLUMN upload_id SET NOT NULL;
ALTER TABLE account_statement_chunk DROP CONSTRAINT account_statement_chunk_pkey;
ALTER TABLE account_statement_chunk ALTER COLUMN statement_id DROP NOT NULL;
ALTER TABLE account_statement_chunk ADD PRIMARY KEY (upload_id, seq);
-- The statement stage reads (and deletes) a statement's pieces by statement_id, in seq order.
CREATE UNIQUE INDEX account_statement_chunk_statement_seq_idx ON account_statement_chunk (statement_id, seq);
-- Staged pieces, for the housekeeping purge of pieces whose upload is gone.
CREATE INDEX account_statement_chunk_staged_idx ON account_statement_chunk (upload_id) WHERE statement_id IS NULL;

-- The whole text of an upload is kept for good as its pieces, not joined into one value: joining 49 MB in one
-- statement held PGlite (one connection, on the main thread) for 0.6-0.9 s of CPU at the end of every such
-- upload (docs/decisions.md 035). account_statement_chunk is the statement stage's copy, deleted once read;
-- account_statement_text is written with it (the same pieces, in the same statement) and stays.
CREATE TABLE account_statement_text (
  upload_id text NOT NULL,
  statement_id text REFERENCES account_statement,
  seq integer NOT NULL CHECK (seq >= 0),
  content text NOT NULL,
  PRIMARY KEY (upload_id, seq)
);
CREATE UNIQUE INDEX account_statement_text_statement_seq_idx ON account_statement_text (statement_id, seq);
CREATE INDEX account_statement_text_staged_idx ON account_statement_text (upload_id) WHERE statement_id IS NULL;

-- account_statement_lob still answers the whole text of every statement, to every reader: a view over the texts
-- stored whole (the bank's SFTP folder, fixtures) and the kept pieces of uploads, joined when read.
ALTER TABLE account_statement_lob RENAME TO account_statement_whole_text;
CREATE VIEW account_statement_lob AS
  SELECT statement_id, statement_lob FROM account_statement_whole_text
  UNION ALL
  SELECT statement_id, string_agg(content, '' ORDER BY seq) AS statement_lob
    FROM account_statement_text
   WHERE statement_id IS NOT NULL
   GROUP BY statement_id;

-- Writing through the view stores a whole text. A second text for the same statement is ignored (what the SFTP
-- intake asks, as ON CONFLICT DO NOTHING); an upload's text, kept in pieces, is not replaced through the view.
CREATE FUNCTION account_statement_lob_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO account_statement_whole_text (statement_id, statement_lob)
    VALUES (NEW.statement_id, NEW.statement_lob)
    ON CONFLICT (statement_id) DO NOTHING;
    RETURN NEW;
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE account_statement_whole_text SET statement_id = NEW.statement_id, statement_lob = NEW.statement_lob
     WHERE statement_id = OLD.statement_id;
    IF NOT FOUND THEN
      RAISE EXCEPTION 'the text of statement % is kept in pieces (account_statement_text)', OLD.statement_id;
    END IF;
    RETURN NEW;
  END IF;
  DELETE FROM account_statement_whole_text WHERE statement_id = OLD.statement_id;
  DELETE FROM account_statement_text WHERE statement_id = OLD.statement_id;
  RETURN OLD;
END $$;
CREATE TRIGGER account_statement_lob_write INSTEAD OF INSERT OR UPDATE OR DELETE ON account_statement_lob
  FOR EACH ROW EXECUTE FUNCTION account_statement_lob_write();
