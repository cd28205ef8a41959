-- Statement formats: the example bank writes MT940 or ISO 20022 camt.053.001.08, by a bank-wide setting
-- (EXAMPLE_BANK_STATEMENT_FORMAT, EXAMPLE_BANK_BATCH_BOOKING) that an account may override. NULL on the
-- account means "as the bank's setting says".
ALTER TABLE example_bank.account
  ADD COLUMN statement_format text CHECK (statement_format IN ('mt940', 'camt053')),
  ADD COLUMN batch_booking boolean;

-- The format each statement was written in. Its text stays in the column named mt940 (its first format), so
-- that readers of that column keep working; for camt053 it holds the XML document.
ALTER TABLE example_bank.statement
  ADD COLUMN format text NOT NULL DEFAULT 'mt940' CHECK (format IN ('mt940', 'camt053'));
COMMENT ON COLUMN example_bank.statement.mt940 IS 'The statement file as written, in the format of the column format';
