-- The bank-code scope of whoever stored a statement (review of issue 9): the upload checks the accounts it can
-- scan, and the statement stage checks every statement the parser reads against this scope again, so a file
-- the scan reads differently from the parser cannot reconcile another bank's program. NULL: an unscoped
-- uploader (any program's statements).
ALTER TABLE account_statement ADD COLUMN uploader_bank_codes text[];
