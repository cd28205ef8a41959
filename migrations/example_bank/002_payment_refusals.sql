-- A payment the bank will not take is refused on its own, not with its whole batch. The refusals of a batch
-- are kept with it, so that the same batch sent again (after a crash of the sender) gets the same answer.
ALTER TABLE example_bank.payment_batch ADD COLUMN refusals jsonb NOT NULL DEFAULT '[]';
