import { mkdir } from 'node:fs/promises';
import { type Config, ConfigError } from '../config/index.js';
import { AUTO_ANALYZE_DEFAULTS, type AutoAnalyzeSettings, startAutoAnalyze } from './analyze.js';
import type { Db } from './db.js';
import { lockDataDir } from './lock.js';
import { openPglite, type SlowSqlLog } from './pglite.js';
import { openPostgres } from './postgres.js';

export interface DbSettings {
  databaseUrl?: string;
  /** Embedded database directory; ignored when databaseUrl is set. */
  dataDir?: string;
  poolSize?: number;
  /**
   * The embedded database only: statistics refreshed when enough rows changed (./analyze.ts). Default on, with
   * PostgreSQL's autovacuum rule; PGLITE_AUTO_ANALYZE_MS=0 in the environment turns it off (measurements).
   */
  autoAnalyze?: AutoAnalyzeSettings | false;
}

/** DATABASE_URL, else the embedded database in DATA_DIR/<dir> (the bridge's is `db`, each simulator has its own). */
export function dbSettings(config: Config, dir = 'db'): DbSettings {
  return {
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATABASE_URL ? undefined : `${config.DATA_DIR}/${dir}`,
    poolSize: config.DATABASE_POOL_SIZE,
  };
}

/** DATABASE_URL as it may be shown: without its password. */
function shown(url: URL): string {
  const user = url.username ? `${decodeURIComponent(url.username)}@` : '';
  return `${url.protocol}//${user}${url.host}${url.pathname}`;
}

/**
 * The URL, or a configuration error saying what to put there. Only postgres:// (or postgresql://) is spoken; a
 * password is never repeated back.
 */
export function checkDatabaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError([
      'DATABASE_URL is not a URL: give postgres://USER:PASSWORD@HOST:PORT/DATABASE, or leave it unset for the embedded database in DATA_DIR',
    ]);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError([
      `DATABASE_URL must be a postgres:// URL, not ${url.protocol}//...: g2p-bridge runs on PostgreSQL only (leave DATABASE_URL unset for the embedded database in DATA_DIR)`,
    ]);
  }
  return url;
}

/**
 * What went wrong reaching PostgreSQL, as a configuration error naming DATABASE_URL and what to do about it;
 * null for failures that are not about the URL (they stay as they are).
 */
export function databaseUrlProblem(url: URL, error: unknown): ConfigError | null {
  const e = error as { code?: string; errors?: Array<{ code?: string }> };
  const code = e?.code ?? e?.errors?.[0]?.code;
  const host = url.hostname || 'localhost';
  const port = url.port || '5432';
  const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || decodeURIComponent(url.username);
  const user = decodeURIComponent(url.username) || 'postgres';
  const where = `${host}:${port}`;
  const problem = (text: string) => new ConfigError([`DATABASE_URL (${shown(url)}): ${text}`]);
  switch (code) {
    case 'ECONNREFUSED':
      return problem(
        `nothing accepts connections at ${where}. Start PostgreSQL there (for example 'pg_ctlcluster <version> main start' or 'systemctl start postgresql'), or correct the host and port`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return problem(`the host ${host} cannot be found: correct the host name`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return problem(`${where} cannot be reached from here: check the host, the port and the firewall`);
    case '3D000':
      return problem(
        `the database "${database}" does not exist on ${where}. Create it ('createdb -h ${host} -p ${port} -U ${user} ${database}') or name an existing one`,
      );
    case '28P01':
    case '28000':
      return problem(
        `PostgreSQL at ${where} refused the user "${user}" (wrong password, or pg_hba.conf does not let it in): correct the user and password`,
      );
    default:
      return null;
  }
}

/**
 * Diagnostics of the embedded database (docs/benchmarks.md): PGLITE_SLOW_SQL_MS=N writes every statement that
 * held the connection N ms or more to stderr, PGLITE_EXPLAIN_SLOW=1 also its plan (once per text).
 */
export function slowSqlFromEnv(env: Record<string, string | undefined>): SlowSqlLog | undefined {
  const ms = Number(env.PGLITE_SLOW_SQL_MS ?? 0);
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return { ms, explain: env.PGLITE_EXPLAIN_SLOW === '1' };
}

/** The auto-analyze of the embedded database: the settings', else the defaults with PGLITE_AUTO_ANALYZE_MS. */
export function autoAnalyzeFromEnv(
  env: Record<string, string | undefined>,
  given?: AutoAnalyzeSettings | false,
): AutoAnalyzeSettings | false {
  if (given !== undefined) return given;
  const raw = env.PGLITE_AUTO_ANALYZE_MS;
  if (raw === undefined || raw === '') return AUTO_ANALYZE_DEFAULTS;
  const ms = Number(raw);
  return Number.isFinite(ms) && ms > 0 ? { ...AUTO_ANALYZE_DEFAULTS, intervalMs: ms } : false;
}

/**
 * The embedded database's pages are in memory (PGlite's file system, or the OS cache of DATA_DIR): a page read
 * out of order costs what a read in order costs, not PostgreSQL's default 4 times as much. With the default the
 * planner scanned a whole table to join it with a few thousand rows, once per bank round, statement chunk or
 * shipped batch, so the work grew with the cycle (decision 036). PGLITE_RANDOM_PAGE_COST overrides it.
 */
export const EMBEDDED_RANDOM_PAGE_COST = 1.1;

export function randomPageCostFromEnv(env: Record<string, string | undefined>): number {
  const raw = env.PGLITE_RANDOM_PAGE_COST;
  const n = raw ? Number(raw) : Number.NaN;
  return Number.isFinite(n) && n > 0 ? n : EMBEDDED_RANDOM_PAGE_COST;
}

/**
 * The embedded database as the bridge runs it: the planner's page costs set for memory (for the session, which
 * PGlite has one of), and its statistics kept fresh while it is open (./analyze.ts).
 */
async function tunedEmbedded(db: Db, settings: AutoAnalyzeSettings | false): Promise<Db> {
  await db.query(`SET random_page_cost = ${randomPageCostFromEnv(process.env)}`);
  if (!settings) return db;
  let reported = false;
  const auto = startAutoAnalyze(db, settings, (error) => {
    if (reported) return;
    reported = true;
    process.stderr.write(`embedded database: refreshing statistics failed: ${(error as Error).message}\n`);
  });
  return {
    ...db,
    close: async () => {
      await auto.stop();
      await db.close();
    },
  };
}

/** PostgreSQL when a URL is given, else the embedded PGlite in `dataDir` (memory when that is unset too). */
export async function openDb(settings: DbSettings): Promise<Db> {
  if (settings.databaseUrl) {
    const url = checkDatabaseUrl(settings.databaseUrl);
    try {
      return await openPostgres(settings.databaseUrl, { poolSize: settings.poolSize });
    } catch (error) {
      throw databaseUrlProblem(url, error) ?? error;
    }
  }
  const slowSql = slowSqlFromEnv(process.env);
  const analyze = autoAnalyzeFromEnv(process.env, settings.autoAnalyze);
  if (!settings.dataDir) return tunedEmbedded(await openPglite({ slowSql }), analyze);
  await mkdir(settings.dataDir, { recursive: true });
  const unlock = await lockDataDir(settings.dataDir);
  try {
    const db = await tunedEmbedded(await openPglite({ dataDir: settings.dataDir, slowSql }), analyze);
    return {
      ...db,
      close: async () => {
        try {
          await db.close();
        } finally {
          await unlock();
        }
      },
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}
