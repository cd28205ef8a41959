-- A statement's text as the upload received it, in pieces of about 1 MiB (src/statements/upload.ts), so that
-- neither the receiving process nor the statement stage handles the file as one value of the database driver.
-- account_statement_lob still holds the whole text (joined from these in the upload's own transaction) for
-- the dashboard and the other readers; a statement that arrived another way (the bank's SFTP folder, a test
-- fixture) has no chunks, and the statement stage reads its lob instead.
CREATE TABLE account_statement_chunk (
  -- Deferred: the pieces are written as they arrive, the statement row once the whole file is checked.
  statement_id text NOT NULL REFERENCES account_statement DEFERRABLE INITIALLY DEFERRED,
  seq integer NOT NULL CHECK (seq >= 0),
  content text NOT NULL,
  PRIMARY KEY (statement_id, seq)
);
