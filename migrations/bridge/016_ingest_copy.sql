-- Ingest at bulk speed (issue 10): a create_disbursements call of 10,000 items without ids draws 10,000
-- values of disbursement_id_seq. Uncached, every nextval takes the sequence's buffer lock and every 32nd
-- writes WAL: 6-10 ms a call. With a cache each connection takes 1,000 values at a time and hands them
-- out from memory. The price: ids are ascending within a call but not across calls on different
-- connections, and a connection that closes loses the rest of its block (gaps, as a rolled-back call
-- always left). The id is an opaque reference (src/disbursements/ids.ts), so neither matters.
ALTER SEQUENCE disbursement_id_seq CACHE 1000;
