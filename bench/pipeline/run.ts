// Pipeline benchmark: a bank batch of 10,000 payments built and shipped, and a statement of 100,000 entries
// reconciled, on PGlite in memory (or PostgreSQL when DATABASE_URL is set; a scratch database is created and
// dropped). Prints wall time and the number of SQL statements each phase sent, which must not grow with size.
// Run: npx tsx bench/pipeline/run.ts   (BATCH=10000 ENTRIES=100000 to change the sizes)
import { createHash } from 'node:crypto';
import type { BankConnector, Payment } from '../../src/bank/connector.js';
import { loadConfig } from '../../src/config/index.js';
import { type Db, migrate, openPglite, openPostgres, type Queryable } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { writeMt940 } from '../../src/mt940/index.js';
import { buildPayments, startWorkers } from '../../src/pipeline/index.js';
import { scratchDatabase } from '../support.js';

const BATCH = Number(process.env.BATCH ?? 10_000);
const ENTRIES = Number(process.env.ENTRIES ?? 100_000);
const BATCHES = Math.ceil(ENTRIES / BATCH);

/** Counts statements sent through the Db, including inside transactions. */
function counting(db: Db): Db & { count: number; slow: Map<string, number> } {
  const timed = async <T>(q: Queryable, sql: string, params?: readonly unknown[]) => {
    counted.count++;
    const start = performance.now();
    try {
      return await q.query<T>(sql, params);
    } finally {
      const key = sql.replace(/\s+/g, ' ').trim().slice(0, 70);
      counted.slow.set(key, (counted.slow.get(key) ?? 0) + performance.now() - start);
    }
  };
  const wrap = (q: Queryable): Queryable => ({ query: (sql, params) => timed(q, sql, params) });
  const counted = {
    ...db,
    count: 0,
    slow: new Map<string, number>(),
    query: (sql: string, params?: readonly unknown[]) => timed(db, sql, params),
    transaction: <T>(fn: (tx: Queryable) => Promise<T>) => db.transaction((tx) => fn(wrap(tx))),
  } as Db & { count: number; slow: Map<string, number> };
  return counted;
}

async function openBenchDb(): Promise<{ db: Db; drop: () => Promise<void> }> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    const db = await openPglite();
    return { db, drop: () => db.close() };
  }
  const scratch = await scratchDatabase(url, 'g2p_bench');
  const db = await openPostgres(scratch.url, { poolSize: 4 });
  return {
    db,
    drop: async () => {
      await db.close();
      await scratch.drop();
    },
  };
}

const bank: BankConnector & { paid: number } = {
  bankCode: 'BENCH',
  paid: 0,
  checkFunds: async () => ({ status: 'FUNDS_AVAILABLE' }),
  blockFunds: async () => ({ status: 'SUCCESS', blockReference: 'BLK-1' }),
  async initiatePayment(_batch: string, payments: Payment[]) {
    bank.paid += payments.length;
    return { status: 'SUCCESS' };
  },
  retrieveDisbursementId: (_b, customerReference) => customerReference,
  retrieveBeneficiaryName: (n) => n[1] ?? null,
  retrieveReversalReason: (n) => n.at(-1) ?? null,
};

async function seed(db: Db) {
  await db.query(
    `INSERT INTO benefit_program (benefit_program_mnemonic, benefit_program_name, funding_org_code, funding_org_name,
       sponsor_bank_code, sponsor_bank_account_number, sponsor_bank_account_currency, id_mapper_resolution_required)
     VALUES ('BENCH', 'Bench', 'GOV', 'Gov', 'BENCH', 'FUND0001', 'USD', false)`,
  );
  const total = BATCHES * BATCH * 10;
  await db.query(
    `INSERT INTO disbursement_envelope (disbursement_envelope_id, benefit_program_mnemonic, disbursement_frequency,
       cycle_code_mnemonic, number_of_beneficiaries, number_of_disbursements, total_disbursement_amount,
       disbursement_currency_code, disbursement_schedule_date)
     VALUES ('ENV', 'BENCH', 'Monthly', 'C1', $1, $1, $2, 'USD', current_date)`,
    [BATCHES * BATCH, total],
  );
  await db.query(
    `INSERT INTO disbursement_envelope_batch_status (disbursement_envelope_id, number_of_disbursements_received,
       total_disbursement_amount_received) VALUES ('ENV', $1, $2)`,
    [BATCHES * BATCH, total],
  );
  for (let b = 0; b < BATCHES; b++) {
    await db.query(`INSERT INTO mapper_resolution_batch_status VALUES ($1, 'ENV')`, [`M${b}`]);
    await db.query(`INSERT INTO bank_disbursement_batch_status VALUES ($1, 'ENV')`, [`B${b}`]);
    await db.query(
      `INSERT INTO disbursement (disbursement_id, disbursement_envelope_id, mapper_resolution_batch_id,
         bank_disbursement_batch_id, beneficiary_id, beneficiary_name, disbursement_amount, narrative)
       SELECT 'D' || ($1 * $2 + g), 'ENV', $3, $4, 'BEN' || ($1 * $2 + g), 'Name', 10, 'Benefit'
         FROM generate_series(1, $2) g`,
      [b, BATCH, `M${b}`, `B${b}`],
    );
  }
}

function statement(n: number): string {
  const entries = [];
  for (let i = 1; i <= n; i++)
    entries.push({
      valueDate: '2030-03-02',
      mark: 'D' as const,
      amount: '10.00',
      transactionType: 'NTRF',
      customerReference: `D${i}`,
      bankReference: `R${i}`,
      narratives: ['Benefit', 'Name'],
    });
  // Every tenth payment comes back.
  for (let i = 10; i <= n; i += 10)
    entries.push({
      valueDate: '2030-03-03',
      mark: 'RD' as const,
      amount: '10.00',
      transactionType: 'NTRF',
      customerReference: `D${i}`,
      bankReference: `X${i}`,
      narratives: ['Benefit', 'Name', 'ACCOUNT_CLOSED'],
    });
  return writeMt940({
    transactionReference: 'BENCH1',
    accountIdentification: 'FUND0001',
    statementNumber: '1',
    sequenceNumber: '1',
    currency: 'USD',
    openingBalance: { mark: 'C', date: '2030-03-01', currency: 'USD', amount: '10000000.00' },
    entries,
  });
}

async function main() {
  const { db: raw, drop } = await openBenchDb();
  try {
    await migrate(raw, 'bridge');
    const db = counting(raw);
    const config = loadConfig({ LOG_LEVEL: 'warn', WORKER_BATCH_SIZE: '1', STATEMENT_BATCH_SIZE: '1' });
    const ctx = { config, db, log: createLogger('warn'), now: () => new Date(), verifier: null };
    let t = performance.now();
    await seed(raw);
    const seedMs = performance.now() - t;
    const workers = startWorkers(ctx, {
      poll: false,
      connectors: { getBankConnector: () => bank },
      stages: ['mapper_resolution', 'check_funds', 'block_funds'],
    });
    await workers.runOnce();

    const rows: string[][] = [];
    const phase = async (name: string, fn: () => Promise<unknown>, items: number) => {
      db.count = 0;
      db.slow.clear();
      const start = performance.now();
      await fn();
      const ms = performance.now() - start;
      if (process.env.VERBOSE)
        for (const [sql, t] of [...db.slow].sort((a, b) => b[1] - a[1]).slice(0, 8))
          process.stdout.write(`  ${t.toFixed(0).padStart(7)} ms  ${sql}\n`);
      rows.push([name, String(items), ms.toFixed(0), String(db.count), ((items / ms) * 1000).toFixed(0)]);
    };

    await phase(
      'build one bank batch (payments query)',
      () => buildPayments({ db }, 'B0', '2030-03-01'),
      BATCH,
    );
    const shipping = startWorkers(ctx, {
      poll: false,
      connectors: { getBankConnector: () => bank },
      stages: ['disburse'],
    });
    await phase(
      `ship ${BATCHES} bank batch(es) (claim, build, initiate, commit)`,
      () => shipping.runOnce(),
      BATCHES * BATCH,
    );
    if (bank.paid !== BATCHES * BATCH) throw new Error(`paid ${bank.paid}, expected ${BATCHES * BATCH}`);

    t = performance.now();
    const text = statement(ENTRIES);
    const writeMs = performance.now() - t;
    const id = 'STMT-BENCH';
    await raw.query(
      `INSERT INTO account_statement (statement_id, content_sha256, size_bytes) VALUES ($1, $2, $3)`,
      [id, createHash('sha256').update(text).digest('hex'), Buffer.byteLength(text)],
    );
    await raw.query(`INSERT INTO account_statement_lob VALUES ($1, $2)`, [id, text]);
    const reconciling = startWorkers(ctx, {
      poll: false,
      connectors: { getBankConnector: () => bank },
      stages: ['statement'],
    });
    const totalEntries = ENTRIES + Math.floor(ENTRIES / 10);
    await phase(
      `reconcile a statement (${ENTRIES} D + ${Math.floor(ENTRIES / 10)} RD)`,
      () => reconciling.runOnce(),
      totalEntries,
    );
    const { rows: check } = await raw.query<{ r: number; v: number; e: number; st: string }>(
      `SELECT (SELECT count(*)::int FROM disbursement_recon) AS r,
              (SELECT count(*)::int FROM disbursement_recon WHERE reversal_found) AS v,
              (SELECT count(*)::int FROM disbursement_error_recon) AS e,
              (SELECT statement_process_status FROM account_statement WHERE statement_id = $1) AS st`,
      [id],
    );
    await Promise.all([workers.stop(), shipping.stop(), reconciling.stop()]);

    const head = ['phase', 'items', 'ms', 'SQL statements', 'items/s'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) =>
      r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    process.stdout.write(
      [
        `g2p-bridge pipeline bench on ${raw.kind === 'pglite' ? 'PGlite (in memory)' : 'PostgreSQL'}, node ${process.version}`,
        `seeded ${BATCHES * BATCH} disbursements in ${seedMs.toFixed(0)} ms; statement text ${(Buffer.byteLength(text) / 1e6).toFixed(1)} MB written in ${writeMs.toFixed(0)} ms`,
        '',
        line(head),
        ...rows.map(line),
        '',
        `result: statement ${check[0]!.st}, ${check[0]!.r} recons, ${check[0]!.v} reversed, ${check[0]!.e} error recons`,
        '',
      ].join('\n'),
    );
  } finally {
    await drop();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
