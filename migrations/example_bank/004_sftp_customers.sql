-- The example bank's SFTP face (issue 12): which host-to-host customer pays from which account, learnt from
-- the DbtrAcct of the pain.001 files it sent. The account's statements go to that customer's from-bank/
-- folder; kept here so that a restarted bank still knows where they go.
CREATE TABLE example_bank.sftp_account_owner (
  account_number text PRIMARY KEY,
  username text NOT NULL,
  learnt_at timestamptz NOT NULL DEFAULT now()
);
