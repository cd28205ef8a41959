-- The example ID-account mapper: which financial address (FA) each beneficiary id is linked to.
CREATE SCHEMA IF NOT EXISTS example_mapper;

CREATE TABLE example_mapper.id_account_map (
  id text PRIMARY KEY,
  fa text NOT NULL,
  name text,
  -- false once unlinked: resolve then reports the id as not linked; the last FA stays for inspection.
  active boolean NOT NULL DEFAULT true,
  linked_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
