// End-to-end benchmark: one whole disbursement cycle of N disbursements through the all-in-one `start`
// process (bridge, workers, example mapper and example bank in one), driven over HTTP by the demo from this
// process. Writes JSON: per-stage wall time and rows/s (ingest, resolution, funds, shipping, bank posting,
// statement writing, reconciliation), the total, the peak RSS of the bridge process and of this driver, and
// the machine's load before and after (the machine is shared: say so beside every figure).
//
// Run: npm run bench:e2e -- --size 100000 [--database-url postgres://postgres@127.0.0.1:5432/postgres]
//        [--out FILE] [--poll-ms 250] [--keep-data] [--timeout-s S]
// With --database-url a scratch database is created on that server for the run and dropped afterwards;
// without it the bridge runs on a temporary embedded database (PGlite) in its data directory.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mintToken } from '../../src/auth/index.js';
import { FAST_SETTINGS } from '../../src/cli/commands/demo.js';
import { runDemo } from '../../src/demo/run.js';
import { rate } from '../../src/demo/summary.js';
import { freePort, peakRssMb, scratchDatabase } from '../support.js';

const { values } = parseArgs({
  options: {
    size: { type: 'string', default: '10000' },
    'database-url': { type: 'string' },
    out: { type: 'string' },
    'poll-ms': { type: 'string', default: '250' },
    // Keeps the embedded database's data directory (its path is printed) for a look at its plans afterwards.
    'keep-data': { type: 'boolean', default: false },
    // How long the demo follows the cycle (default its own: 300 s + 2 ms a disbursement).
    'timeout-s': { type: 'string' },
  },
});
const size = Number(values.size!.replace(/[_,]/g, ''));
const pollMs = Number(values['poll-ms']);
const root = fileURLToPath(new URL('../..', import.meta.url));

const load = () => {
  let uptime = '';
  try {
    uptime = execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {}
  return { loadavg: loadavg().map((l) => Math.round(l * 100) / 100), uptime };
};

/** BENCH_DB_SETTINGS: "name=value;…" set on the scratch database (diagnostics, e.g.
 * "session_preload_libraries=auto_explain;auto_explain.log_min_duration=100" to log slow plans). */
function benchDbSettings(): Array<[string, string]> {
  return (process.env.BENCH_DB_SETTINGS ?? '')
    .split(';')
    .filter(Boolean)
    .map((setting) => {
      const [key, value] = setting.split('=');
      if (!key || value === undefined) throw new Error(`BENCH_DB_SETTINGS: ${setting}`);
      return [key.trim(), value.trim()];
    });
}

async function main() {
  if (!Number.isInteger(size) || size < 100 || size > 1_000_000) throw new Error('--size: 100 to 1,000,000');
  const databaseUrl = values['database-url'];
  const scratch = databaseUrl ? await scratchDatabase(databaseUrl, 'bench_e2e', benchDbSettings()) : null;
  const dataDir = mkdtempSync(join(tmpdir(), 'g2p-bench-e2e-'));
  const port = await freePort();
  const secret = randomBytes(32).toString('base64url');
  const env: Record<string, string> = {
    ...(process.env as Record<string, string>),
    ...FAST_SETTINGS,
    DATA_DIR: dataDir,
    DATABASE_URL: scratch?.url ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: '',
    JWT_SECRET: secret,
    LOG_LEVEL: 'warn',
  };
  // On the embedded database the bank answers initiate_payment on the one connection that its own posting,
  // statement writing and the bridge's stages keep busy: a call can wait longer than the connector's 10 s
  // default. The bridge then retries the batch while the bank, which did accept it, posts it, and the
  // statement's debits reach the bridge before it knows the batch was shipped: they are refused as
  // NOT_SHIPPED for good and the cycle never ends (docs/benchmarks.md, "End to end"). Unless set, the bench
  // gives the in-process bank 10 minutes on PGlite.
  if (!scratch && !process.env.EXAMPLE_BANK_TIMEOUT_MS) env.EXAMPLE_BANK_TIMEOUT_MS = '600000';
  // BENCH_NODE_FLAGS: extra Node flags for the bridge child, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
  const child = spawn(
    process.execPath,
    [...nodeFlags, '--import', 'tsx', join(root, 'src/cli/main.ts'), 'start'],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = `http://127.0.0.1:${port}`;
  const before = load();
  let bridgeRssMb: number | null = null;
  try {
    for (let i = 0; ; i++) {
      if (child.exitCode !== null) throw new Error(`the bridge exited with ${child.exitCode}`);
      try {
        if ((await fetch(`${url}/ready`)).ok) break;
      } catch {}
      if (i > 600) throw new Error('the bridge did not get ready in 60 s');
      await new Promise((r) => setTimeout(r, 100));
    }
    const token = await mintToken(new TextEncoder().encode(secret), {
      roles: ['admin', 'pbms'],
      subject: 'bench-e2e',
    });
    const started = Date.now();
    const timeoutMs = values['timeout-s'] ? Number(values['timeout-s']) * 1000 : undefined;
    const result = await runDemo({
      url,
      token,
      size,
      out: process.stderr,
      pollMs,
      dashboardHint: false,
      ...(timeoutMs ? { timeoutMs } : {}),
    });
    const totalMs = Date.now() - started;
    bridgeRssMb = peakRssMb(child.pid!);
    const after = load();
    const report = {
      benchmark: 'e2e',
      size,
      database: databaseUrl ? 'postgresql' : 'pglite',
      processes: 'all-in-one (start)',
      ok: result.ok,
      failedChecks: result.checks.filter((c) => !c.ok).map((c) => c.text),
      totalSeconds: totalMs / 1000,
      stages: result.stages.map((t) => {
        const ms = t.startedMs !== null && t.finishedMs !== null ? t.finishedMs - t.startedMs : null;
        return {
          stage: t.key,
          label: t.label,
          fromSeconds: t.startedMs === null ? null : t.startedMs / 1000,
          toSeconds: t.finishedMs === null ? null : t.finishedMs / 1000,
          seconds: ms === null ? null : ms / 1000,
          rows: t.rows,
          rowsPerSecond: ms === null ? null : rate(t.rows, ms),
        };
      }),
      peakRssMb: { bridge: bridgeRssMb, driver: Math.round(process.resourceUsage().maxRSS / 1024) },
      pollMs,
      load: { before, after },
      node: process.version,
      at: new Date().toISOString(),
    };
    const json = `${JSON.stringify(report, null, 2)}\n`;
    if (values.out) writeFileSync(values.out, json);
    process.stdout.write(json);
    if (!result.ok) process.exitCode = 1;
  } finally {
    child.kill('SIGTERM');
    await exited;
    if (values['keep-data']) process.stderr.write(`data directory kept: ${dataDir}\n`);
    else rmSync(dataDir, { recursive: true, force: true });
    await scratch?.drop();
  }
}

await main();
