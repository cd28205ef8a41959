// A large statement on the embedded database: the bridge API and the statement worker in one process on
// PGlite (one connection, as `start` runs them), a statement of ENTRIES debits uploaded over HTTP as the bank,
// while every 100 ms /ping, a PBMS get_disbursement_status call and a bare database query are timed. Prints
// the worst latency of each during the upload and during reconciliation, and the peak RSS.
// Run: npm run bench:statement   (ENTRIES=500000 STATEMENT_CHUNK_ENTRIES=2000 to change the sizes; DATA_DIR=/tmp
// for a data directory on disk, as `start` has, instead of memory)
import { mkdtempSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { g2pRequest } from '../../src/api/g2p-request.js';
import { createApp, createContext } from '../../src/app.js';
import { localSecret, mintToken } from '../../src/auth/index.js';
import type { BankConnector } from '../../src/bank/connector.js';
import { loadConfig } from '../../src/config/index.js';
import { type Db, migrate, openPglite, type Queryable } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { writeMt940 } from '../../src/mt940/index.js';
import { startWorkers } from '../../src/pipeline/index.js';

const ENTRIES = Number(process.env.ENTRIES ?? 500_000);
const CHUNK = process.env.STATEMENT_CHUNK_ENTRIES ?? '2000';
const ACCOUNT = '1000200030';

const bank: BankConnector = {
  bankCode: 'BENCH',
  checkFunds: async () => ({ status: 'FUNDS_AVAILABLE' }),
  blockFunds: async () => ({ status: 'SUCCESS', blockReference: 'BLK-1' }),
  initiatePayment: async () => ({ status: 'SUCCESS' }),
  retrieveDisbursementId: (_b, customerReference) => customerReference,
  retrieveBeneficiaryName: (n) => n[1] ?? null,
  retrieveReversalReason: (n) => n.at(-1) ?? null,
};

const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
const ms = (x: number) => `${Math.round(x)} ms`;

async function main() {
  const config = loadConfig({
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    JWT_SECRET: 'bench-secret-0123456789abcdef-statement',
    WORKER_POLL_INTERVAL_SECONDS: '0.2',
    STATEMENT_CHUNK_ENTRIES: CHUNK,
    MAX_STATEMENT_BYTES: String(256 * 1024 * 1024),
  });
  const log = createLogger(config.LOG_LEVEL);
  // DATA_DIR: a data directory on disk, as `start` runs PGlite (default: in memory, whose files grow by copying)
  const dataDir = process.env.DATA_DIR
    ? mkdtempSync(join(process.env.DATA_DIR, 'bench-statement-'))
    : undefined;
  const db = await openPglite(dataDir ? { dataDir } : {});
  await migrate(db);

  // One program, one envelope of ENTRIES disbursements of 10.00, shipped (set-based, as the stages leave it).
  let t = performance.now();
  await db.exec(`
    INSERT INTO benefit_program (benefit_program_mnemonic, benefit_program_name, funding_org_code, funding_org_name,
      sponsor_bank_code, sponsor_bank_account_number, sponsor_bank_account_currency, id_mapper_resolution_required)
    VALUES ('CASH', 'Cash', 'GOV', 'Government', 'BENCH', '${ACCOUNT}', 'USD', false);
    INSERT INTO disbursement_envelope (disbursement_envelope_id, benefit_program_mnemonic, disbursement_frequency,
      cycle_code_mnemonic, number_of_beneficiaries, number_of_disbursements, total_disbursement_amount,
      disbursement_currency_code, disbursement_schedule_date)
    VALUES ('E', 'CASH', 'Monthly', 'C1', ${ENTRIES}, ${ENTRIES}, ${ENTRIES * 10}, 'USD', current_date);
    INSERT INTO disbursement_envelope_batch_status (disbursement_envelope_id, number_of_disbursements_received,
      total_disbursement_amount_received, number_of_disbursements_shipped)
    VALUES ('E', ${ENTRIES}, ${ENTRIES * 10}, ${ENTRIES});
    INSERT INTO mapper_resolution_batch_status (mapper_resolution_batch_id, disbursement_envelope_id, resolution_status)
    VALUES ('M', 'E', 'PROCESSED');
    INSERT INTO bank_disbursement_batch_status (bank_disbursement_batch_id, disbursement_envelope_id, disbursement_status)
    VALUES ('B', 'E', 'PROCESSED');
    INSERT INTO disbursement (disbursement_id, disbursement_envelope_id, mapper_resolution_batch_id,
      bank_disbursement_batch_id, beneficiary_id, beneficiary_name, disbursement_amount, narrative)
    SELECT 'D' || n, 'E', 'M', 'B', 'BEN' || n, 'Name', 10.00, 'Benefit' FROM generate_series(1, ${ENTRIES}) n;
    INSERT INTO mapper_resolution_details (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved)
    SELECT 'D' || n, 'M', 'BEN' || n, true FROM generate_series(1, ${ENTRIES}) n;
    ANALYZE;`);
  console.log(`seeded ${ENTRIES.toLocaleString('en')} shipped disbursements in ${ms(performance.now() - t)}`);

  t = performance.now();
  let text: string | null = writeMt940({
    transactionReference: 'BENCH1',
    accountIdentification: ACCOUNT,
    statementNumber: '1',
    sequenceNumber: '1',
    currency: 'USD',
    openingBalance: { mark: 'C', date: '2026-03-01', currency: 'USD', amount: String(ENTRIES * 10 + 100) },
    entries: Array.from({ length: ENTRIES }, (_, i) => ({
      valueDate: '2026-03-02',
      mark: 'D' as const,
      amount: '10.00',
      transactionType: 'NTRF',
      customerReference: `D${i + 1}`,
      bankReference: `BR${i + 1}`,
      narratives: ['Benefit', 'Name'],
    })),
  });
  const bytes = Buffer.byteLength(text);
  console.log(
    `statement of ${ENTRIES.toLocaleString('en')} entries, ${mb(bytes)}, in ${ms(performance.now() - t)}`,
  );

  const ctx = await createContext(config, db, log, () => new Date());
  const app = await createApp(ctx);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const secret = await localSecret(config, db);
  const bankToken = await mintToken(secret, { roles: ['bank'], ttlSeconds: 3600 });
  const pbmsToken = await mintToken(secret, { roles: ['pbms'], ttlSeconds: 3600 });

  // Probes: every 100 ms, one of each, each waiting for its own answer (a blocked one is not re-sent).
  let phase = 'idle';
  const worst: Record<string, Record<string, number>> = {};
  let peakRss = process.memoryUsage().rss;
  const note = (probe: string, x: number) => {
    const byProbe = worst[phase] ?? {};
    worst[phase] = byProbe;
    byProbe[probe] = Math.max(byProbe[probe] ?? 0, x);
  };
  const busy = new Set<string>();
  const probe = (name: string, call: () => Promise<unknown>) => {
    if (busy.has(name)) return;
    busy.add(name);
    const start = performance.now();
    call()
      .catch((err) => console.error(`${name} failed: ${(err as Error).message}`))
      .finally(() => {
        note(name, performance.now() - start);
        busy.delete(name);
      });
  };
  // The probes start late when the event loop is blocked: its own worst delay is measured too.
  let loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const loopPhase = () => {
    note('event loop delay', loop.max / 1e6);
    loop.disable();
    loop = monitorEventLoopDelay({ resolution: 10 });
    loop.enable();
  };
  let seq = 0;
  const timer = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    probe('/ping', async () => (await fetch(`${url}/ping`)).text());
    probe('get_disbursement_status', async () => {
      const res = await fetch(`${url}/get_disbursement_status`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pbmsToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(
          g2pRequest('get_disbursement_status', [`D${1 + (seq++ % ENTRIES)}`], 'bench', { meta: null }),
        ),
      });
      if (res.status !== 200) throw new Error(`get_disbursement_status answered ${res.status}`);
      return res.text();
    });
    probe('db SELECT 1', () => db.query('SELECT 1'));
  }, 100);

  await new Promise((r) => setTimeout(r, 2000)); // the probes' own baseline
  loopPhase();
  const rssBefore = process.memoryUsage().rss; // the seeded in-memory database included
  phase = 'upload';
  t = performance.now();
  const form = new FormData();
  form.append('statement_file', new Blob([text], { type: 'text/plain' }), 'large.sta');
  text = null;
  const res = await fetch(`${url}/upload_mt940`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bankToken}` },
    body: form,
  });
  if (res.status !== 200) throw new Error(`upload_mt940 answered ${res.status}: ${await res.text()}`);
  const uploadMs = performance.now() - t;
  loopPhase();

  phase = 'reconcile';
  t = performance.now();
  // SLOW_SQL_MS=N: name every statement of the stage that takes N ms or more (what holds the one connection)
  const slowMs = Number(process.env.SLOW_SQL_MS ?? 0);
  const explained = new Set<string>();
  if (slowMs > 0) {
    const timed = (q: Queryable): Queryable['query'] =>
      (async (sql: string, params?: readonly unknown[]) => {
        const t0 = performance.now();
        try {
          return await q.query(sql, params);
        } finally {
          const took = performance.now() - t0;
          if (took >= slowMs) {
            const text = sql.replace(/\s+/g, ' ').trim();
            console.log(`slow SQL ${Math.round(took)} ms: ${text.slice(0, 100)}`);
            // EXPLAIN_SLOW=1: the plan of each slow statement, once (run in the same transaction)
            if (process.env.EXPLAIN_SLOW && !explained.has(text)) {
              explained.add(text);
              const plan = await q.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
              console.log(plan.rows.map((r) => r['QUERY PLAN']).join('\n'));
            }
          }
        }
      }) as Queryable['query'];
    const base = { query: ctx.db.query.bind(ctx.db), transaction: ctx.db.transaction.bind(ctx.db) };
    ctx.db.query = timed(base);
    ctx.db.transaction = ((fn: (tx: Queryable) => Promise<unknown>) =>
      base.transaction((tx) => fn({ query: timed(tx) }))) as Db['transaction'];
  }
  const workers = startWorkers(ctx, { stages: ['statement'], connectors: { getBankConnector: () => bank } });
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const { rows } = await db.query<{ status: string; cursor: number; code: string | null }>(
      `SELECT statement_process_status AS status, reconcile_cursor AS cursor,
              statement_process_error_code AS code FROM account_statement`,
    );
    if (rows[0] && rows[0].status !== 'PENDING') {
      if (rows[0].status !== 'PROCESSED')
        throw new Error(`statement ended ${rows[0].status} ${rows[0].code}`);
      break;
    }
  }
  const reconcileMs = performance.now() - t;
  loopPhase();
  clearInterval(timer);
  await workers.stop();
  const { rows } = await db.query<{ reconciled: number; errors: number }>(
    `SELECT (SELECT number_of_disbursements_reconciled FROM disbursement_envelope_batch_status) AS reconciled,
            (SELECT count(*)::int FROM disbursement_error_recon) AS errors`,
  );
  console.log(
    `upload ${ms(uploadMs)}; reconcile ${ms(reconcileMs)} in chunks of ${CHUNK}: ${rows[0]!.reconciled.toLocaleString('en')} reconciled, ${rows[0]!.errors} error recons`,
  );
  for (const [p, probes] of Object.entries(worst))
    console.log(
      `worst latency during ${p}: ${Object.entries(probes)
        .map(([k, v]) => `${k} ${ms(v)}`)
        .join(', ')}`,
    );
  console.log(`RSS before the upload ${mb(rssBefore)}, peak ${mb(peakRss)}`);
  await app.close();
  await db.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
