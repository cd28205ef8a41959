// Scale-out benchmark: the same demo cycle of N disbursements, in the same run, first through one all-in-one
// `start` process, then through one `serve` and two `worker` processes (the example bank and the mapper each
// in their own process, as an outside bank and mapper would be), all on one PostgreSQL database per
// topology. Prints per-stage wall time and rows/s side by side, the peak RSS of every process, and what the
// database sessions waited on while the workers ran (pg_stat_activity sampled every 200 ms: lock waits by
// statement), which shows whether anything serialises the workers. The load average before and after each
// run is printed beside its figures (the machine is shared).
//
// Run: npm run bench:scaleout -- --size 100000 --database-url postgres://postgres@127.0.0.1:5432/postgres
//        [--workers 2] [--out FILE]
// The demo reaches the bank and mapper under /example-bank and /mapper of one address: for the scale-out
// side a small proxy in this process forwards those prefixes to their processes and the rest to `serve`.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { mintToken } from '../../src/auth/index.js';
import { FAST_SETTINGS } from '../../src/cli/commands/demo.js';
import { type DemoResult, runDemo } from '../../src/demo/run.js';
import { rate } from '../../src/demo/summary.js';
import { freePort, peakRssMb, scratchDatabase } from '../support.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '100000' },
    'database-url': { type: 'string' },
    workers: { type: 'string', default: '2' },
    out: { type: 'string' },
    'poll-ms': { type: 'string', default: '250' },
  },
});
const size = Number(values.size!.replace(/[_,]/g, ''));
const workerCount = Number(values.workers);
const pollMs = Number(values['poll-ms']);
const root = fileURLToPath(new URL('../..', import.meta.url));
const adminUrl: string = values['database-url'] ?? '';
if (!adminUrl) throw new Error('--database-url is required: scale-out needs PostgreSQL');

const load = () => loadavg().map((l) => Math.round(l * 100) / 100);

interface Proc {
  name: string;
  pid: number;
  stop: () => Promise<void>;
  exited: () => number | null;
}

function launch(name: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    pid: child.pid!,
    exited: () => child.exitCode,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function waitReady(url: string, procs: Proc[]): Promise<void> {
  for (let i = 0; ; i++) {
    const dead = procs.find((p) => p.exited() !== null);
    if (dead) throw new Error(`${dead.name} exited with ${dead.exited()}`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {}
    if (i > 900) throw new Error(`${url} did not answer in 90 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Forwards /example-bank/* and /mapper/* to their processes (prefix kept) and the rest to the bridge. */
function startProxy(port: number, routes: { prefix: string; port: number }[], fallback: number) {
  const server = createServer((req, res) => {
    const target = routes.find((r) => req.url?.startsWith(r.prefix))?.port ?? fallback;
    const upstream = request(
      { host: '127.0.0.1', port: target, path: req.url, method: req.method, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (e) => {
      res.writeHead(502);
      res.end(String(e));
    });
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 60_000;
  return new Promise<{ close: () => Promise<void> }>((resolve) =>
    server.listen(port, '127.0.0.1', () =>
      resolve({ close: () => new Promise<void>((r) => server.close(() => r())) }),
    ),
  );
}

/** Samples what the database's active sessions wait on, every 200 ms, until stopped. */
function sampleWaits(dbName: string) {
  const client = new pg.Client({ connectionString: adminUrl });
  const waits = new Map<string, number>();
  let samples = 0;
  let active = 0;
  let running = true;
  const done = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ type: string | null; event: string | null; query: string }>(
        `SELECT wait_event_type AS type, wait_event AS event,
                regexp_replace(left(query, 70), '\\s+', ' ', 'g') AS query
           FROM pg_stat_activity
          WHERE datname = $1 AND state = 'active' AND pid <> pg_backend_pid()`,
        [dbName],
      );
      samples++;
      active += rows.length;
      for (const r of rows)
        if (r.type === 'Lock' || r.type === 'LWLock') {
          const key = `${r.type}:${r.event} ${r.query}`;
          waits.set(key, (waits.get(key) ?? 0) + 1);
        }
      await new Promise((r) => setTimeout(r, 200));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await done;
      return {
        samples,
        meanActiveSessions: samples ? Math.round((active / samples) * 100) / 100 : 0,
        lockWaits: [...waits].sort((a, b) => b[1] - a[1]).map(([what, n]) => ({ what, samples: n })),
      };
    },
  };
}

async function cycle(topology: 'all-in-one' | 'scale-out') {
  const db = await scratchDatabase(adminUrl, 'bench_scaleout');
  const dataDir = mkdtempSync(join(tmpdir(), 'g2p-bench-scaleout-'));
  const secret = randomBytes(32).toString('base64url');
  const base: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...FAST_SETTINGS,
    DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    HOST: '127.0.0.1',
    PUBLIC_URL: '',
    JWT_SECRET: secret,
    LOG_LEVEL: 'warn',
  };
  const procs: Proc[] = [];
  let proxy: { close: () => Promise<void> } | null = null;
  const before = load();
  const sampler = sampleWaits(db.name);
  try {
    const front = await freePort();
    if (topology === 'all-in-one') {
      procs.push(launch('start', ['start'], { ...base, PORT: String(front) }));
      await waitReady(`http://127.0.0.1:${front}/ready`, procs);
    } else {
      const [bridge, bank, mapper] = [await freePort(), await freePort(), await freePort()];
      const bankToken = await mintToken(new TextEncoder().encode(secret), {
        roles: ['bank'],
        subject: 'bench-bank',
      });
      procs.push(launch('serve', ['serve'], { ...base, PORT: String(bridge) }));
      await waitReady(`http://127.0.0.1:${bridge}/ready`, procs); // serve migrates the database first
      procs.push(
        launch('bank', ['bank', '--port', String(bank), '--prefix', '/example-bank'], {
          ...base,
          EXAMPLE_BANK_BRIDGE_URL: `http://127.0.0.1:${bridge}`,
          EXAMPLE_BANK_BRIDGE_TOKEN: bankToken,
        }),
        launch('mapper', ['mapper', '--port', String(mapper), '--prefix', '/mapper'], base),
      );
      for (let i = 0; i < workerCount; i++)
        procs.push(
          launch(`worker ${i + 1}`, ['worker'], {
            ...base,
            MAPPER_URL: `http://127.0.0.1:${mapper}/mapper`,
            EXAMPLE_BANK_URL: `http://127.0.0.1:${bank}/example-bank`,
          }),
        );
      proxy = await startProxy(
        front,
        [
          { prefix: '/example-bank', port: bank },
          { prefix: '/mapper', port: mapper },
        ],
        bridge,
      );
      await waitReady(`http://127.0.0.1:${front}/example-bank/admin/accounts`, procs);
      await waitReady(`http://127.0.0.1:${front}/mapper/`, procs);
    }
    const token = await mintToken(new TextEncoder().encode(secret), {
      roles: ['admin', 'pbms'],
      subject: 'bench',
    });
    const started = Date.now();
    const result: DemoResult = await runDemo({
      url: `http://127.0.0.1:${front}`,
      token,
      size,
      out: process.stderr,
      pollMs,
      dashboardHint: false,
    });
    const totalSeconds = (Date.now() - started) / 1000;
    const rss = Object.fromEntries(procs.map((p) => [p.name, peakRssMb(p.pid)]));
    return {
      topology,
      processes: procs.map((p) => p.name),
      ok: result.ok,
      failedChecks: result.checks.filter((c) => !c.ok).map((c) => c.text),
      totalSeconds,
      stages: result.stages.map((t) => {
        const ms = t.startedMs !== null && t.finishedMs !== null ? t.finishedMs - t.startedMs : null;
        return {
          stage: t.key,
          seconds: ms === null ? null : ms / 1000,
          rows: t.rows,
          rowsPerSecond: ms === null ? null : rate(t.rows, ms),
        };
      }),
      peakRssMb: rss,
      database: await sampler.stop(),
      load: { before, after: load() },
    };
  } finally {
    await sampler.stop().catch(() => {});
    await proxy?.close();
    for (const p of procs.reverse()) await p.stop();
    rmSync(dataDir, { recursive: true, force: true });
    await db.drop();
  }
}

const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
console.error(`scale-out benchmark, ${size} disbursements, ${workerCount} workers; ${uptime()}`);
const runs = [await cycle('all-in-one'), await cycle('scale-out')];
const [one, out] = runs as [Awaited<ReturnType<typeof cycle>>, Awaited<ReturnType<typeof cycle>>];
const fmt = (s: { seconds: number | null; rowsPerSecond: number | null } | undefined) =>
  s?.seconds == null
    ? '–'
    : `${s.seconds.toFixed(1)} s${s.rowsPerSecond ? ` (${Math.round(s.rowsPerSecond).toLocaleString('en-US')}/s)` : ''}`;
const lines = [
  `| stage | all-in-one \`start\` | \`serve\` + ${workerCount} \`worker\` |`,
  '|---|---|---|',
  ...one.stages.map(
    (s) => `| ${s.stage} | ${fmt(s)} | ${fmt(out.stages.find((t) => t.stage === s.stage))} |`,
  ),
  `| total | ${one.totalSeconds.toFixed(1)} s | ${out.totalSeconds.toFixed(1)} s |`,
  `| load before → after | ${one.load.before[0]} → ${one.load.after[0]} | ${out.load.before[0]} → ${out.load.after[0]} |`,
  `| peak RSS MB | ${JSON.stringify(one.peakRssMb)} | ${JSON.stringify(out.peakRssMb)} |`,
  `| mean active DB sessions | ${one.database.meanActiveSessions} | ${out.database.meanActiveSessions} |`,
];
console.error(lines.join('\n'));
console.error(
  `lock waits sampled (scale-out): ${JSON.stringify(out.database.lockWaits.slice(0, 8), null, 1)}`,
);
const json = `${JSON.stringify({ benchmark: 'scaleout', size, workers: workerCount, node: process.version, at: new Date().toISOString(), runs }, null, 2)}\n`;
if (values.out) writeFileSync(values.out, json);
process.stdout.write(json);
if (!one.ok || !out.ok) process.exitCode = 1;
