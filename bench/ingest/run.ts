// Ingest benchmark: create_disbursements over real HTTP against `COPY FROM STDIN` of the same rows, in one run.
// Starts the bridge API in a child process (PBMS and admin routes only, no background workers) on a scratch
// PostgreSQL database, sends CALLS sequential create_disbursements calls of ITEMS items each over HTTP from
// this process, then copies the very rows the API stored (exported to a CSV file before the clock starts)
// with `psql \copy` into a table `LIKE disbursement INCLUDING ALL`, and prints both rates, their ratio and
// the machine's load. Each of ROUNDS rounds does both, on a new envelope.
// Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npm run bench:ingest
//   CALLS=10 ITEMS=10000 ROUNDS=5, after one unmeasured round of API calls (WARMUP=0: none); PROFILE=1 prints where each call's time went (HTTP phases, SQL statements).
//   BENCH_CLIENT=fetch sends with undici's fetch instead of node:http.
//   Without DATABASE_URL the API runs on PGlite in memory (in the child) and only its rate is printed.
import { execFileSync, fork, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createReadStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import { g2pRequest } from '../../src/api/g2p-request.js';
import { createApp, createContext } from '../../src/app.js';
import { localSecret, mintToken } from '../../src/auth/index.js';
import { loadConfig } from '../../src/config/index.js';
import { type Db, migrate, openPglite, openPostgres, type Queryable } from '../../src/db/index.js';
import { disbursementRoutes } from '../../src/disbursements/routes.js';
import { envelopeRoutes } from '../../src/envelopes/routes.js';
import { createLogger } from '../../src/logger.js';
import { programRoutes } from '../../src/programs/routes.js';
import { scratchDatabase, timeRequestSteps } from '../support.js';

const CALLS = Number(process.env.CALLS ?? 10);
const ITEMS = Number(process.env.ITEMS ?? 10_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const WARMUP = process.env.WARMUP !== '0';
const PROFILE = process.env.PROFILE === '1';

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

interface Ready {
  port: number;
  pbms: string;
  admin: string;
}
interface Report {
  phases: [string, number][];
  sql: [string, { n: number; ms: number }][];
}

// ---- The server (child process) ----

/** Time per SQL statement (first 60 characters), inside transactions too. */
function profiled(db: Db, times: Map<string, { n: number; ms: number }>): Db {
  const timed = async <T>(q: Queryable, sql: string, params?: readonly unknown[]) => {
    const start = performance.now();
    try {
      return await q.query<T>(sql, params);
    } finally {
      const key = sql.replace(/\s+/g, ' ').trim().slice(0, 60);
      const t = times.get(key) ?? { n: 0, ms: 0 };
      t.n++;
      t.ms += performance.now() - start;
      times.set(key, t);
    }
  };
  const copied = async (
    q: Queryable,
    table: string,
    columns: readonly string[],
    rows: Iterable<string>,
    sent?: () => void,
  ) => {
    const start = performance.now();
    try {
      return await q.copyFrom!(table, columns, rows, sent);
    } finally {
      const key = `COPY ${table} (${columns.length} columns)`;
      const t = times.get(key) ?? { n: 0, ms: 0 };
      t.n++;
      t.ms += performance.now() - start;
      times.set(key, t);
    }
  };
  const wrap = (q: Queryable): Queryable => ({
    query: (sql, params) => timed(q, sql, params),
    ...(q.copyFrom
      ? { copyFrom: (table, columns, rows, sent) => copied(q, table, columns, rows, sent) }
      : {}),
  });
  return {
    ...db,
    query: (sql, params) => timed(db, sql, params),
    ...(db.copyFrom
      ? {
          copyFrom: (table: string, columns: readonly string[], rows: Iterable<string>, sent?: () => void) =>
            copied(db, table, columns, rows, sent),
        }
      : {}),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
  } as Db;
}

async function serve() {
  const url = process.env.BENCH_DATABASE_URL;
  const rawDb = url ? await openPostgres(url) : await openPglite();
  await migrate(rawDb, 'bridge');
  const sql = new Map<string, { n: number; ms: number }>();
  const db = PROFILE ? profiled(rawDb, sql) : rawDb;
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'bench-secret-0123456789abcdef',
    ...(url ? { DATABASE_URL: url } : {}),
  });
  const ctx = await createContext(config, db, createLogger(config.LOG_LEVEL));
  const app = await createApp(ctx, [programRoutes, envelopeRoutes, disbursementRoutes]);
  const phases = new Map<string, number>();
  if (PROFILE)
    // Where a create_disbursements call's time goes between Fastify's hooks.
    timeRequestSteps(
      app,
      '/create_disbursements',
      [
        'auth, routing',
        'body read + JSON parse + pre-scan',
        'schema validation',
        'handler (checks, SQL, answer)',
        'send',
      ],
      (steps) => {
        if (process.env.BENCH_DEBUG)
          console.error(steps.map(([n, ms]) => `${n} ${ms.toFixed(0)}`).join(', '));
        for (const [name, ms] of steps) phases.set(name, (phases.get(name) ?? 0) + ms);
      },
    );
  await app.listen({ port: 0, host: '127.0.0.1' });
  if (process.env.BENCH_DEBUG) {
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      if (now - last > 300) console.error(`server event loop blocked ${(now - last).toFixed(0)} ms`);
      last = now;
    }, 100).unref();
  }
  const address = app.server.address();
  const secret = await localSecret(config, rawDb);
  const ready: Ready = {
    port: typeof address === 'object' && address ? address.port : 0,
    pbms: await mintToken(secret, { roles: ['pbms'] }),
    admin: await mintToken(secret, { roles: ['admin'] }),
  };
  process.send!({ ready });
  process.on('message', async (m: { report?: boolean; reset?: boolean }) => {
    if (m.reset) {
      phases.clear();
      sql.clear();
      process.send!({ reset: true });
      return;
    }
    if (!m.report) return;
    const report: Report = { phases: [...phases], sql: [...sql] };
    process.send!({ report });
    await app.close();
    await rawDb.close();
    process.exit(0);
  });
}

// ---- The client and the COPY (this process) ----

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (10 ms ticks); 0 when it is gone.
 * Under a load of 10 or more on two cores the wall times mostly measure the queue for the CPU; the CPU
 * time each side spends does not depend on it, so it is printed beside the rates.
 */
function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** The database sessions of the scratch database other than `client`'s own, with their CPU so far. */
async function sessionsCpu(client: pg.Client): Promise<Map<number, number>> {
  const { rows } = await client.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()',
  );
  return new Map(rows.map((r) => [r.pid, cpuMsOf(r.pid)]));
}

const cpuDelta = (before: Map<number, number>, after: Map<number, number>) =>
  [...after].reduce((sum, [pid, ms]) => sum + ms - (before.get(pid) ?? 0), 0);

const clientCpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

async function scratchDb(): Promise<{ url?: string; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL;
  if (!base) return { drop: async () => {} };
  return scratchDatabase(base, 'g2p_bench_ingest');
}

async function main() {
  const loadBefore = load();
  const { url, drop } = await scratchDb();
  const work = mkdtempSync(join(tmpdir(), 'g2p-ingest-'));
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], {
    env: { ...process.env, BENCH_DATABASE_URL: url ?? '' },
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_CHILD_FLAGS ?? '').split(' ').filter(Boolean)],
  });
  const fromChild = <T>(key: string) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (key in m) {
          child.off('message', onMessage);
          resolve(m[key] as T);
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`the API process exited (${code})`)));
    });
  const db = url ? new pg.Client({ connectionString: url }) : null;
  try {
    const ready = await fromChild<Ready>('ready');
    await db?.connect();
    const base = `http://127.0.0.1:${ready.port}`;
    // The PBMS's HTTP client: node:http on one kept-alive connection (BENCH_CLIENT=fetch: undici's fetch, the
    // client of the figures before 2026-12-01, which spends about twice the CPU reading a 4.3 MB answer).
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    // Answers stay bytes until read as text (the PBMS's decoding is not the bridge's work either).
    const answerOf = (status: number, bytes: Buffer) => ({
      status,
      bytes,
      get text() {
        return bytes.toString('utf8');
      },
    });
    const viaHttp = (path: string, token: string, body: string | Buffer) =>
      new Promise<ReturnType<typeof answerOf>>((resolve, reject) => {
        const req = http.request(
          `${base}${path}`,
          {
            method: 'POST',
            agent,
            headers: {
              authorization: `Bearer ${token}`,
              'content-type': 'application/json',
              'content-length': Buffer.byteLength(body),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () => resolve(answerOf(res.statusCode ?? 0, Buffer.concat(chunks))));
            res.on('error', reject);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const viaFetch = async (path: string, token: string, body: string | Buffer) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      return answerOf(res.status, Buffer.from(await res.arrayBuffer()));
    };
    const client = process.env.BENCH_CLIENT === 'fetch' ? viaFetch : viaHttp;
    const post = async (path: string, token: string, body: string | Buffer) => {
      const t0 = performance.now();
      const answer = await client(path, token, body);
      if (process.env.BENCH_DEBUG)
        console.error(`client ${path}: answer after ${(performance.now() - t0).toFixed(0)} ms`);
      return answer;
    };
    const program = `BENCH-${randomUUID().slice(0, 6)}`;
    const made = await post(
      '/admin/programs',
      ready.admin,
      JSON.stringify({
        benefit_program_mnemonic: program,
        benefit_program_name: 'Bench',
        funding_org_code: 'MOF',
        funding_org_name: 'Ministry of Finance',
        sponsor_bank_code: 'EXAMPLE',
        sponsor_bank_account_number: 'BENCH0001',
        sponsor_bank_account_currency: 'USD',
        id_mapper_resolution_required: true,
      }),
    );
    if (made.status !== 201) throw new Error(`program: ${made.status} ${made.text}`);

    const rows = CALLS * ITEMS;
    interface Cpu {
      server: number;
      sessions: number;
      client: number;
      psql: number;
      copySession: number;
      copyClient: number;
      copyOneMs: number;
    }
    const results: { apiMs: number; copyMs: number; requestBytes: number; answerBytes: number; cpu: Cpu }[] =
      [];
    /** A new envelope for `rows` rows and its CALLS request bodies, serialised and encoded. */
    const prepare = async (cycle: string) => {
      const envelope = await post(
        '/create_disbursement_envelope',
        ready.pbms,
        JSON.stringify(
          g2pRequest(
            'create_disbursement_envelope',
            {
              benefit_program_mnemonic: program,
              disbursement_frequency: 'Monthly',
              cycle_code_mnemonic: cycle,
              number_of_beneficiaries: rows,
              number_of_disbursements: rows,
              total_disbursement_amount: `${rows * 25}.50`,
              disbursement_currency_code: 'USD',
              disbursement_schedule_date: '2099-12-31',
            },
            'bench-pbms',
          ),
        ),
      );
      const envelopeId = JSON.parse(envelope.text).message.disbursement_envelope_id as string;
      // Bodies are serialised (and encoded) before the clock starts: the PBMS's work is not the bridge's.
      const bodies = Array.from({ length: CALLS }, (_, c) =>
        Buffer.from(
          JSON.stringify(
            g2pRequest(
              'create_disbursements',
              Array.from({ length: ITEMS }, (_, i) => {
                const n = c * ITEMS + i;
                return {
                  disbursement_envelope_id: envelopeId,
                  mis_reference_number: `MIS-${cycle}-${n}`,
                  beneficiary_id: `BEN-${n.toString().padStart(8, '0')}`,
                  beneficiary_name: `Beneficiary ${n}`,
                  disbursement_amount: n % 2 === 0 ? 25 : '25.00',
                  narrative: 'Monthly benefit, March 2030',
                };
              }),
              'bench-pbms',
            ),
          ),
        ),
      );
      return { envelopeId, bodies };
    };
    const send = async (body: Buffer) => {
      const res = await post('/create_disbursements', ready.pbms, body);
      if (res.status !== 200 || !res.bytes.includes('"status":"succ"'))
        throw new Error(`create_disbursements: ${res.status} ${res.text.slice(0, 500)}`);
      return res;
    };
    // One unmeasured round of API calls first: a running bridge has compiled its code paths long before
    // (the first calls of a new process run partly unoptimised code and grow its heap).
    if (WARMUP) {
      for (const body of (await prepare('WARMUP')).bodies) await send(body);
      child.send({ reset: true });
      await fromChild<boolean>('reset');
    }
    for (let round = 0; round < ROUNDS; round++) {
      const { envelopeId, bodies } = await prepare(`R${round}`);
      let answerBytes = 0;
      const cpu: Cpu = {
        server: 0,
        sessions: 0,
        client: 0,
        psql: Number.NaN,
        copySession: Number.NaN,
        copyClient: Number.NaN,
        copyOneMs: Number.NaN,
      };
      const serverBefore = cpuMsOf(child.pid!);
      const sessionsBefore = db ? await sessionsCpu(db) : new Map<number, number>();
      const clientBefore = clientCpuMs();
      const started = performance.now();
      for (const body of bodies) answerBytes = Math.max(answerBytes, (await send(body)).bytes.length);
      const apiMs = performance.now() - started;
      cpu.client = clientCpuMs() - clientBefore;
      cpu.server = cpuMsOf(child.pid!) - serverBefore;
      if (db) cpu.sessions = cpuDelta(sessionsBefore, await sessionsCpu(db));

      let copyMs = Number.NaN;
      if (url && db) {
        // The same rows, as stored, into a table with the same columns, defaults, checks and indexes.
        const csv = join(work, `round${round}.csv`);
        const psql = (sql: string) =>
          execFileSync('psql', ['-q', '-X', '-v', 'ON_ERROR_STOP=1', url, '-c', sql]);
        psql(
          `\\copy (SELECT * FROM disbursement WHERE disbursement_envelope_id = '${envelopeId}') TO '${csv}' CSV`,
        );
        await db.query('DROP TABLE IF EXISTS bench_copy');
        await db.query('CREATE TABLE bench_copy (LIKE disbursement INCLUDING ALL)');
        const copyStart = performance.now();
        // psql under time(1) for its own CPU time.
        const timed = spawnSync(
          '/usr/bin/time',
          [
            '-f',
            'cpu %U %S',
            'psql',
            '-q',
            '-X',
            '-v',
            'ON_ERROR_STOP=1',
            url,
            '-c',
            `\\copy bench_copy FROM '${csv}' CSV`,
          ],
          { encoding: 'utf8' },
        );
        copyMs = performance.now() - copyStart;
        if (timed.status !== 0) throw new Error(`psql: ${timed.stderr}`);
        const used = /cpu ([\d.]+) ([\d.]+)/.exec(timed.stderr);
        if (used) cpu.psql = (Number(used[1]) + Number(used[2])) * 1000;
        const copied = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_copy');
        if (copied.rows[0]!.n !== rows) throw new Error(`COPY stored ${copied.rows[0]!.n} rows, not ${rows}`);
        await db.query('DROP TABLE bench_copy');
        // The same COPY once more over this process's connection, whose session's CPU time can be read (psql's
        // session ends with psql): the database's side of a COPY, and a COPY without a process start.
        await db.query('CREATE TABLE bench_copy (LIKE disbursement INCLUDING ALL)');
        const session = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        const sessionBefore = cpuMsOf(session);
        const copyClientBefore = clientCpuMs();
        const oneStart = performance.now();
        await pipeline(createReadStream(csv), db.query(copyFromStdin(`COPY bench_copy FROM STDIN CSV`)));
        cpu.copyOneMs = performance.now() - oneStart;
        cpu.copySession = cpuMsOf(session) - sessionBefore;
        cpu.copyClient = clientCpuMs() - copyClientBefore;
        rmSync(csv);
        await db.query('DROP TABLE bench_copy');
        const stored = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM disbursement WHERE disbursement_envelope_id = $1',
          [envelopeId],
        );
        if (stored.rows[0]!.n !== rows)
          throw new Error(`the API stored ${stored.rows[0]!.n} rows, not ${rows}`);
      }
      results.push({ apiMs, copyMs, requestBytes: Buffer.byteLength(bodies[0]!), answerBytes, cpu });
    }
    const stored = db
      ? (
          await db.query<{ bytes: number; raw: number }>(
            `SELECT max(pg_column_size(response))::int AS bytes, max(octet_length(response::text))::int AS raw
             FROM api_request WHERE action = 'create_disbursements'`,
          )
        ).rows[0]
      : undefined;
    child.send({ report: true });
    const report = await fromChild<Report>('report');

    console.log(
      `ingest: ${CALLS} sequential create_disbursements calls of ${ITEMS} items (${rows} rows) per round, ` +
        `${url ? 'PostgreSQL' : 'PGlite'}, Node ${process.version}` +
        (WARMUP ? ', after one unmeasured round of API calls' : ', no warm-up'),
    );
    console.log(`load average (1/5/15 min) before: ${loadBefore}, after: ${load()}`);
    const ratios: number[] = [];
    results.forEach((r, i) => {
      const api = (rows / r.apiMs) * 1000;
      const copy = (rows / r.copyMs) * 1000;
      if (url) ratios.push(api / copy);
      console.log(
        `round ${i + 1}: API ${r.apiMs.toFixed(0)} ms (${api.toFixed(0)} rows/s)` +
          (url
            ? `, COPY ${r.copyMs.toFixed(0)} ms (${copy.toFixed(0)} rows/s), ratio API/COPY ${(api / copy).toFixed(2)}`
            : ''),
      );
    });
    // CPU time per 10,000 rows, whatever the load: what each side costs the machine.
    const per10k = (ms: number) => ((ms / rows) * 10_000).toFixed(1);
    results.forEach((r, i) => {
      const c = r.cpu;
      const api = c.server + c.sessions + c.client;
      console.log(
        `round ${i + 1} CPU per 10,000 rows: API ${per10k(api)} ms (server ${per10k(c.server)}, its database ` +
          `sessions ${per10k(c.sessions)}, client ${per10k(c.client)})` +
          (url
            ? `; COPY: psql ${per10k(c.psql)} ms, a COPY session ${per10k(c.copySession)} ms (that COPY over one ` +
              `connection: ${c.copyOneMs.toFixed(0)} ms wall); CPU ratio COPY/API ` +
              `${((c.psql + c.copySession) / api).toFixed(2)}`
            : ''),
      );
    });
    if (ratios.length > 0) {
      const sorted = [...ratios].sort((a, b) => a - b);
      console.log(`median ratio API/COPY: ${sorted[Math.floor(sorted.length / 2)]!.toFixed(2)} (goal ≥ 0.5)`);
    }
    const r0 = results[0]!;
    console.log(
      `request ${(r0.requestBytes / 1e6).toFixed(2)} MB, answer ${(r0.answerBytes / 1e6).toFixed(2)} MB` +
        (stored
          ? `, stored answer ${(stored.bytes / 1e3).toFixed(1)} kB on disk (${(stored.raw / 1e3).toFixed(1)} kB as text)`
          : ''),
    );
    if (PROFILE) {
      const calls = CALLS * ROUNDS;
      console.log(`\nper create_disbursements call, server side (mean of ${calls}):`);
      for (const [name, ms] of report.phases)
        console.log(`  ${name.padEnd(34)} ${(ms / calls).toFixed(1)} ms`);
      console.log('SQL statements, server side (total ms over the run, count):');
      for (const [sql, t] of report.sql.sort((a, b) => b[1].ms - a[1].ms).slice(0, 15))
        console.log(`  ${t.ms.toFixed(0).padStart(6)} ms ${String(t.n).padStart(4)}× ${sql}`);
    }
  } finally {
    // The child exits by itself after its report (writing its --cpu-prof); it is killed only if it does not.
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill();
    }
    await db?.end();
    rmSync(work, { recursive: true, force: true });
    await drop();
  }
}

if (process.argv.includes('--serve')) await serve();
else await main();
