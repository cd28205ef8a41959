import { loadavg } from 'node:os';
import { type Db, migrate, openPglite, openPostgres } from '../../src/db/index.js';
import { processRound } from '../../src/simulators/example-bank/processor.js';
import { generateStatements } from '../../src/simulators/example-bank/statements.js';
import { scratchDatabase } from '../support.js';

const n = Number(process.argv[2] ?? 100_000);
const batch = Number(process.argv[3] ?? 5000);
const url = process.env.DATABASE_URL;

async function open(): Promise<{ db: Db; drop: () => Promise<void> }> {
  if (!url) return { db: await openPglite(), drop: async () => {} };
  const scratch = await scratchDatabase(url, 'bench_bank');
  const db = await openPostgres(scratch.url, { poolSize: 2 });
  return { db, drop: scratch.drop };
}

const { db, drop } = await open();
try {
  await migrate(db, 'example_bank');
  // One funding account with a block for everything; 2 % of payments to own customers (some closed).
  await db.query(
    `INSERT INTO example_bank.account (account_number, currency, book_balance, blocked_amount, statements_enabled)
                  VALUES ('FUND-1', 'USD', $1::numeric, $1::numeric, true)`,
    [String(n * 100)],
  );
  await db.query(`INSERT INTO example_bank.account (account_number, currency, status)
                  SELECT 'CUST-' || i, 'USD', CASE WHEN i % 10 = 0 THEN 'CLOSED' ELSE 'ACTIVE' END
                  FROM generate_series(1, 1000) i`);
  await db.query(
    `INSERT INTO example_bank.fund_block (block_reference, account_number, currency, amount, amount_committed, idempotency_key)
                  VALUES ('BLK-1', 'FUND-1', 'USD', $1::numeric, $1::numeric, 'k1')`,
    [String(n * 100)],
  );
  await db.query(
    `INSERT INTO example_bank.payment_batch (batch_id, payment_count, total_amount)
                  SELECT 'B' || b, 10000, 0 FROM generate_series(0, $1::int / 10000) b`,
    [n],
  );
  await db.query(
    `INSERT INTO example_bank.payment (batch_id, account_number, payment_reference, block_reference, currency, amount,
       beneficiary_id, beneficiary_name, beneficiary_account_type, beneficiary_account, beneficiary_bank_code,
       narrative, program_mnemonic, cycle_code)
     SELECT 'B' || (i / 10000), 'FUND-1', 'D' || lpad(i::text, 10, '0'), 'BLK-1', 'USD', 100,
            'BEN-' || i, 'Name ' || i, 'BANK_ACCOUNT',
            CASE WHEN i % 50 = 0 THEN 'CUST-' || (i % 1000 + 1) ELSE 'ACC-' || i END,
            CASE WHEN i % 50 = 0 THEN 'EXAMPLE' ELSE 'OTHER' END, 'PROGRAM CYCLE', 'PRG', 'C1'
     FROM generate_series(1, $1::int) i`,
    [n],
  );
  if (!process.env.NO_ANALYZE) await db.query('ANALYZE');
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  let t = performance.now();
  let rounds = 0;
  let processed = 0;
  for (;;) {
    const r = await processRound(db, {
      bankCode: 'EXAMPLE',
      reversalRate: 0.3,
      seed: 's',
      batchSize: batch,
      now: new Date(),
    });
    if (r.processed === 0) break;
    rounds++;
    processed += r.processed;
  }
  const postMs = performance.now() - t;
  t = performance.now();
  const statements = await generateStatements(db, {
    accountNumber: 'FUND-1',
    maxEntries: 10000,
    now: new Date(),
  });
  const stmtMs = performance.now() - t;
  const entries = statements.reduce((s, x) => s + x.entries, 0);
  const { rows } = await db.query<{ book: string; blocked: string }>(
    `SELECT book_balance::text AS book, blocked_amount::text AS blocked FROM example_bank.account WHERE account_number = 'FUND-1'`,
  );
  console.log(
    JSON.stringify({
      database: url ? 'postgresql' : 'pglite',
      payments: processed,
      rounds,
      postingMs: Math.round(postMs),
      postingPerSecond: Math.round(processed / (postMs / 1000)),
      statements: statements.length,
      entries,
      statementMs: Math.round(stmtMs),
      entriesPerSecond: Math.round(entries / (stmtMs / 1000)),
      fundingAccount: rows[0],
      loadBefore: load,
      loadAfter: loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    }),
  );
} finally {
  await db.close();
  await drop();
}
