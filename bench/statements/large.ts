// A large statement on the embedded database: the bridge API and the statement worker in one process on
// PGlite (one connection, as `start` runs them), a statement of ENTRIES debits uploaded over HTTP as the bank,
// while every 100 ms /ping, a PBMS get_disbursement_status call and a bare database query are timed. Prints
// the worst latency of each during the upload and during reconciliation, and the peak RSS.
// Run: npm run bench:statement   (ENTRIES=500000 STATEMENT_CHUNK_ENTRIES=2000 to change the sizes; DATA_DIR=/tmp
// for a data directory on disk, as `start` has, instead of memory; DATABASE_URL=postgres://... for a scratch
// database on that server, where the statement worker runs as a child process of its own, as `worker` does,
// so the peak RSS of the receiving process and of the worker are measured apart; WORKER=dist runs that worker
// as the packed product does, `node dist/cli/main.js worker`, after `npm run build`)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { g2pRequest } from '../../src/api/g2p-request.js';
import { createApp, createContext } from '../../src/app.js';
import { localSecret, mintToken } from '../../src/auth/index.js';
import type { BankConnector } from '../../src/bank/connector.js';
import { boundHeapGrowth } from '../../src/cli/heap.js';
import { loadConfig } from '../../src/config/index.js';
import { type Db, migrate, openPglite, openPostgres, type Queryable } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { writeMt940 } from '../../src/mt940/index.js';
import { startWorkers } from '../../src/pipeline/index.js';
import { peakRssMb, type StepLabels, scratchDatabase, timeRequestSteps } from '../support.js';

const ENTRIES = Number(process.env.ENTRIES ?? 500_000);
const CHUNK = process.env.STATEMENT_CHUNK_ENTRIES ?? '2000';
const STEPS: StepLabels = ['auth, routing', 'body', 'validation', 'handler', 'send'];
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
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
/** The kernel's high-water mark of this process's RSS (no sample can miss a short peak). */
const maxRss = () => process.resourceUsage().maxRSS * 1024;

/**
 * The process's RSS sampled every 10 ms by a thread of its own (the main thread's stalls, when PGlite or a
 * parse holds it, are when the peaks happen), the highest per phase (0 idle, 1 upload, 2 reconcile).
 */
function rssSampler(): { phase(i: number): void; peaks(): number[] } {
  const shared = new Int32Array(new SharedArrayBuffer(4 * 4)); // [phase, peak MiB of 0, 1, 2]
  const code = `
    const { workerData } = require('node:worker_threads');
    const s = new Int32Array(workerData);
    setInterval(() => {
      const mib = Math.ceil(process.memoryUsage.rss() / 1048576);
      const i = 1 + Atomics.load(s, 0);
      if (mib > Atomics.load(s, i)) Atomics.store(s, i, mib);
    }, 10);`;
  const thread = new Worker(code, { eval: true, workerData: shared.buffer });
  thread.unref();
  return {
    phase: (i) => Atomics.store(shared, 0, i),
    peaks: () => [1, 2, 3].map((i) => Atomics.load(shared, i) * 1048576),
  };
}

/**
 * A PBMS of its own: /ping and get_disbursement_status every 100 ms from a thread with its own event loop, as
 * a client in another process sees the API (the probes of the main thread also wait for that thread's own
 * turns, so a stall there counts twice). Worst latency per phase, by the phase at which each request began.
 */
function clientProber(
  url: string,
  token: string,
  entries: number,
): {
  phase(i: number): void;
  worst(): { ping: number[]; status: number[]; answered: number[] };
  stop(): Promise<number>;
} {
  const shared = new Int32Array(new SharedArrayBuffer(10 * 4)); // [phase, worst /ping of 0..2, status of 0..2, statuses answered in 0..2]
  const code = `
    const { workerData } = require('node:worker_threads');
    const { url, token, entries, buffer } = workerData;
    const s = new Int32Array(buffer);
    const worst = (base, i, ms) => { if (ms > Atomics.load(s, base + i)) Atomics.store(s, base + i, ms); };
    let seq = 0;
    const busy = new Set();
    const probe = (name, base, call) => {
      if (busy.has(name)) return;
      busy.add(name);
      const i = Atomics.load(s, 0);
      const t0 = performance.now();
      call().catch((e) => console.error(name + ' failed: ' + e.message))
        .finally(() => {
          worst(base, i, Math.ceil(performance.now() - t0));
          if (base === 4) Atomics.add(s, 7 + i, 1);
          busy.delete(name);
        });
    };
    setInterval(() => {
      probe('/ping', 1, async () => (await fetch(url + '/ping')).text());
      probe('status', 4, async () => {
        const id = 'D' + (1 + (seq++ % entries));
        const body = JSON.stringify({
          signature: null,
          header: { version: '1.0.0', message_id: 'probe-' + seq, message_ts: new Date().toISOString(),
                    action: 'get_disbursement_status', sender_id: 'bench', receiver_id: 'g2p-bridge',
                    total_count: 1, is_msg_encrypted: false, meta: null },
          message: [id],
        });
        const res = await fetch(url + '/get_disbursement_status', { method: 'POST', body,
          headers: { authorization: 'Bearer ' + token, 'content-type': 'application/json' } });
        const text = await res.text();
        if (res.status !== 200) throw new Error('get_disbursement_status answered ' + res.status + ' ' + text);
      });
    }, 100);`;
  const thread = new Worker(code, { eval: true, workerData: { url, token, entries, buffer: shared.buffer } });
  const read = (base: number) => [0, 1, 2].map((i) => Atomics.load(shared, base + i));
  return {
    phase: (i) => Atomics.store(shared, 0, i),
    worst: () => ({ ping: read(1), status: read(4), answered: read(7) }),
    stop: () => thread.terminate(),
  };
}

/** A scratch database on DATABASE_URL's server, dropped afterwards. */
async function scratchDb(url: string): Promise<{ url: string; drop: () => Promise<void> }> {
  return scratchDatabase(url, 'g2p_bench_statement');
}

function benchConfig() {
  return loadConfig({
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    JWT_SECRET: 'bench-secret-0123456789abcdef-statement',
    WORKER_POLL_INTERVAL_SECONDS: '0.2',
    STATEMENT_CHUNK_ENTRIES: CHUNK,
    MAX_STATEMENT_BYTES: String(256 * 1024 * 1024),
  });
}

/** One program, one envelope of ENTRIES disbursements of 10.00, shipped (set-based, as the stages leave it). */
async function seed(db: Db) {
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
}

/** BENCH_ROLE=seed: seeds the database of BENCH_DB_URL or BENCH_DATA_DIR (migrated already). */
async function seedRole() {
  const db = process.env.BENCH_DB_URL
    ? await openPostgres(process.env.BENCH_DB_URL, { poolSize: 1 })
    : await openPglite({ dataDir: process.env.BENCH_DATA_DIR! });
  await seed(db);
  await db.close();
}

/** BENCH_ROLE=statement: writes the statement of ENTRIES debits to BENCH_FILE. */
function statement() {
  const text = writeMt940({
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
  writeFileSync(process.env.BENCH_FILE!, text);
}

/** Runs a command to its end; answers its standard output. */
function run(command: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} exited ${code}: ${out}`)),
    );
  });
}

/** BENCH_ROLE=worker: the statement worker alone on BENCH_DB_URL until the statement is done; prints its peak RSS. */
async function worker() {
  boundHeapGrowth(); // as `worker` does (src/cli/commands/worker.ts)
  const config = benchConfig();
  const db = await openPostgres(process.env.BENCH_DB_URL!, { poolSize: 2 });
  const ctx = await createContext(config, db, createLogger(config.LOG_LEVEL), () => new Date());
  const rssStart = process.memoryUsage().rss;
  const workers = startWorkers(ctx, { stages: ['statement'], connectors: { getBankConnector: () => bank } });
  await untilProcessed(db);
  await workers.stop();
  console.log(JSON.stringify({ rssStart, maxRss: maxRss() }));
  await db.close();
}

async function untilProcessed(db: Queryable) {
  for (;;) {
    await new Promise((r) => setTimeout(r, 250));
    const { rows } = await db.query<{ status: string; cursor: number; code: string | null }>(
      `SELECT statement_process_status AS status, reconcile_cursor AS cursor,
              statement_process_error_code AS code FROM account_statement`,
    );
    if (rows[0] && rows[0].status !== 'PENDING') {
      if (rows[0].status !== 'PROCESSED')
        throw new Error(`statement ended ${rows[0].status} ${rows[0].code}`);
      return;
    }
  }
}

/** The worker as a child process (tsx, as `npm run worker` runs it); answers its own peak RSS. */
function childWorker(url: string): Promise<{ rssStart: number; maxRss: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!], {
      env: { ...process.env, BENCH_ROLE: 'worker', BENCH_DB_URL: url },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0) resolve(JSON.parse(last));
      else reject(new Error(`the worker exited ${code}: ${out}`));
    });
  });
}

/**
 * WORKER=dist: the worker as the packed product runs it, `node dist/cli/main.js worker --stages statement
 * --once` (after `npm run build`), with the bench's bank connector as a module (connector.mjs); its peak
 * RSS is the kernel's high-water mark (VmHWM), read every 20 ms while it runs.
 */
function distWorker(url: string): Promise<{ rssStart: number; maxRss: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/cli/main.js', 'worker', '--stages', 'statement', '--once'], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        BANK_CONNECTORS: `BENCH=${join(import.meta.dirname, 'connector.mjs')}`,
        STATEMENT_CHUNK_ENTRIES: CHUNK,
        JWT_SECRET: 'bench-secret-0123456789abcdef-statement',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    let peak = 0;
    const timer = setInterval(() => {
      peak = Math.max(peak, peakRssMb(child.pid!) ?? 0);
    }, 20);
    child.on('exit', (code) => {
      clearInterval(timer);
      if (code === 0) resolve({ rssStart: 0, maxRss: peak * 1048576 });
      else reject(new Error(`the worker exited ${code}`));
    });
  });
}

async function main() {
  const config = benchConfig();
  const log = createLogger(config.LOG_LEVEL);
  console.log(`load ${load()}`);
  const scratch = process.env.DATABASE_URL ? await scratchDb(process.env.DATABASE_URL) : null;
  // DATA_DIR: a data directory on disk, as `start` runs PGlite (default: in memory, whose files grow by copying)
  const dataDir = process.env.DATA_DIR
    ? mkdtempSync(join(process.env.DATA_DIR, 'bench-statement-'))
    : undefined;
  let db = scratch
    ? await openPostgres(scratch.url, { poolSize: 4 })
    : await openPglite(dataDir ? { dataDir } : {});
  await migrate(db);

  let t = performance.now();
  if (scratch || dataDir) {
    // Seeded by a child process: the seeding's memory is not the receiving process's.
    await db.close();
    await run(process.execPath, [...process.execArgv, process.argv[1]!], {
      BENCH_ROLE: 'seed',
      ...(scratch ? { BENCH_DB_URL: scratch.url } : { BENCH_DATA_DIR: dataDir! }),
    });
    db = scratch
      ? await openPostgres(scratch.url, { poolSize: 4 })
      : await openPglite(dataDir ? { dataDir } : {});
  } else await seed(db);
  console.log(`seeded ${ENTRIES.toLocaleString('en')} shipped disbursements in ${ms(performance.now() - t)}`);

  t = performance.now();
  // Written by a child process into a file and sent by curl: neither the statement's making nor its sending
  // counts in this process's memory, which is the bridge's alone.
  const file = join(mkdtempSync(join(tmpdir(), 'bench-statement-')), 'large.sta');
  await run(process.execPath, [...process.execArgv, process.argv[1]!], {
    BENCH_ROLE: 'statement',
    BENCH_FILE: file,
  });
  const bytes = statSync(file).size;
  console.log(
    `statement of ${ENTRIES.toLocaleString('en')} entries, ${mb(bytes)}, in ${ms(performance.now() - t)}`,
  );

  const ctx = await createContext(config, db, log, () => new Date());
  const app = await createApp(ctx);
  // STATUS_PHASES=1: where a status call's time goes inside the server (the worst of each step, per phase).
  const statusSteps = new Map<string, number>();
  if (process.env.STATUS_PHASES)
    timeRequestSteps(app, '/get_disbursement_status', STEPS, (steps) => {
      for (const [label, took] of steps)
        statusSteps.set(`${phase} ${label}`, Math.max(statusSteps.get(`${phase} ${label}`) ?? 0, took));
    });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const secret = await localSecret(config, db);
  const bankToken = await mintToken(secret, { roles: ['bank'], ttlSeconds: 3600 });
  const pbmsToken = await mintToken(secret, { roles: ['pbms'], ttlSeconds: 3600 });

  // Probes: every 100 ms, one of each, each waiting for its own answer (a blocked one is not re-sent).
  let phase = 'idle';
  const worst: Record<string, Record<string, number>> = {};
  let peakRss = process.memoryUsage().rss;
  const sampler = rssSampler();
  const client = clientProber(url, pbmsToken, ENTRIES);
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

  // SLOW_SQL_MS=N: name every statement (upload, stage, probes) that takes N ms or more (what holds the one connection)
  const slowMs = Number(process.env.SLOW_SQL_MS ?? 0);
  const explained = new Set<string>();
  if (slowMs > 0) {
    const timed = (q: Queryable): Queryable['query'] =>
      (async (sql: string, params?: readonly unknown[]) => {
        const t0 = performance.now();
        const cpu0 = process.cpuUsage();
        try {
          return await q.query(sql, params);
        } finally {
          const took = performance.now() - t0;
          if (took >= slowMs) {
            const text = sql.replace(/\s+/g, ' ').trim();
            // The process's CPU time meanwhile: PGlite's work whatever the load (wall time grows with the load)
            const cpu = process.cpuUsage(cpu0);
            const cpuMs = Math.round((cpu.user + cpu.system) / 1000);
            console.log(
              `slow SQL (${phase}) ${Math.round(took)} ms (CPU ${cpuMs} ms): ${text.slice(0, 100)}`,
            );
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
  await new Promise((r) => setTimeout(r, 2000)); // the probes' own baseline
  loopPhase();
  const rssBefore = process.memoryUsage().rss; // the seeded in-memory database included
  const maxBefore = maxRss();
  phase = 'upload';
  sampler.phase(1);
  client.phase(1);
  t = performance.now();
  const answer = await run('curl', [
    '-sS',
    '-H',
    `authorization: Bearer ${bankToken}`,
    '-F',
    `statement_file=@${file};type=text/plain`,
    '-w',
    '\n%{http_code}',
    `${url}/upload_mt940`,
  ]);
  if (!answer.trim().endsWith('200')) throw new Error(`upload_mt940 answered ${answer}`);
  rmSync(dirname(file), { recursive: true, force: true });
  const uploadMs = performance.now() - t;
  const maxAfterUpload = maxRss();
  loopPhase();

  phase = 'reconcile';
  sampler.phase(2);
  client.phase(2);
  t = performance.now();
  let child: { rssStart: number; maxRss: number } | null = null;
  if (scratch) child = await (process.env.WORKER === 'dist' ? distWorker : childWorker)(scratch.url);
  else {
    const workers = startWorkers(ctx, {
      stages: ['statement'],
      connectors: { getBankConnector: () => bank },
    });
    await untilProcessed(db);
    await workers.stop();
  }
  const reconcileMs = performance.now() - t;
  loopPhase();
  clearInterval(timer);
  const { rows } = await db.query<{ reconciled: number; errors: number }>(
    `SELECT (SELECT number_of_disbursements_reconciled FROM disbursement_envelope_batch_status) AS reconciled,
            (SELECT count(*)::int FROM disbursement_error_recon) AS errors`,
  );
  console.log(
    `upload ${ms(uploadMs)}; reconcile ${ms(reconcileMs)} in chunks of ${CHUNK}: ${rows[0]!.reconciled.toLocaleString('en')} reconciled, ${rows[0]!.errors} error recons`,
  );
  if (statusSteps.size)
    console.log(
      `worst step of a status call in the server: ${[...statusSteps].map(([k, v]) => `${k} ${ms(v)}`).join(', ')}`,
    );
  const fromClient = client.worst();
  await client.stop();
  for (const [i, p] of ['idle', 'upload', 'reconcile'].entries())
    console.log(
      `worst latency during ${p} seen by a client thread (the PBMS's view): /ping ${ms(fromClient.ping[i]!)}, get_disbursement_status ${ms(fromClient.status[i]!)} (${fromClient.answered[i]} status calls answered)`,
    );
  for (const [p, probes] of Object.entries(worst))
    console.log(
      `worst latency during ${p}: ${Object.entries(probes)
        .map(([k, v]) => `${k} ${ms(v)}`)
        .join(', ')}`,
    );
  console.log(
    `RSS before the upload ${mb(rssBefore)}, peak ${mb(peakRss)} (sampled every 100 ms); peak by a thread sampling every 10 ms: ${sampler
      .peaks()
      .map((x, i) => `${['idle', 'upload', 'reconcile'][i]} ${mb(x)}`)
      .join(', ')}`,
  );
  console.log(
    `peak RSS (kernel high-water mark) of the receiving process: before the upload ${mb(maxBefore)}, after it ${mb(maxAfterUpload)}, ${child ? 'at the end' : 'after reconciling in the same process'} ${mb(maxRss())}`,
  );
  if (child)
    console.log(
      `peak RSS of the statement worker (its own process${process.env.WORKER === 'dist' ? ', dist/cli/main.js worker' : ', tsx'}): ${mb(child.maxRss)}${child.rssStart ? ` (${mb(child.rssStart)} when it started)` : ''}`,
    );
  console.log(`load ${load()}`);
  await app.close();
  await db.close();
  await scratch?.drop();
}

(process.env.BENCH_ROLE === 'worker'
  ? worker()
  : process.env.BENCH_ROLE === 'statement'
    ? Promise.resolve(statement())
    : process.env.BENCH_ROLE === 'seed'
      ? seedRole()
      : main()
).catch((err) => {
  console.error(err);
  process.exit(1);
});
