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
