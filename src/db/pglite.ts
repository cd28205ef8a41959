import { PGlite, type PGliteOptions } from '@electric-sql/pglite';
import {
  type Db,
  PG_TYPE,
  parseDate,
  parseInt8,
  type Queryable,
  type QueryResult,
  scrubDbError,
} from './db.js';

const parsers = { [PG_TYPE.INT8]: parseInt8, [PG_TYPE.DATE]: parseDate };

type PGliteQueryable = Pick<PGlite, 'query'>;

/** Diagnostics: statements that hold the one connection for `ms` or more are written to stderr. */
export interface SlowSqlLog {
  ms: number;
  /** Also the plan (EXPLAIN, not run) of each slow statement text, once, on the same connection. */
  explain?: boolean;
  write?: (line: string) => void;
}

/**
 * PGlite runs each statement synchronously on the main thread and resolves its promise as a microtask, so a
 * chain of awaited statements (a stage's transaction, its reading between transactions) would never let the
 * event loop read a socket: an HTTP request would wait for the whole chain, once per step of its own (accept,
 * read, answer). A turn of the event loop before a statement, when the last was TURN_EVERY_MS ago or more,
 * caps every wait at about one statement (decision 040); shorter statements in a row share one turn.
 */
const TURN_EVERY_MS = 20;
let lastTurn = 0;

function turnIfDue(): Promise<void> | undefined {
  const now = performance.now();
  if (now - lastTurn < TURN_EVERY_MS) return undefined;
  lastTurn = now;
  return new Promise<void>((resolve) => setImmediate(resolve));
}

function wrap(
  target: PGliteQueryable,
  slow?: SlowSqlLog,
  explained = new Set<string>(),
  inTransaction = false,
): Queryable {
  const write = slow?.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  return {
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      await turnIfDue();
      const started = slow ? performance.now() : 0;
      try {
        const result = await target.query<T>(sql, params as unknown[]);
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
      } catch (error) {
        throw scrubDbError(error);
      } finally {
        if (slow) {
          const took = performance.now() - started;
          if (took >= slow.ms) {
            // The statement's text only: parameters may carry row values.
            const text = sql.replace(/\s+/g, ' ').trim();
            // Outside a transaction the time includes waiting for the one connection.
            write(
              `slow SQL ${Math.round(took)} ms${inTransaction ? '' : ' (with wait)'}: ${text.slice(0, 160)}`,
            );
            if (slow.explain && !explained.has(text) && /^(SELECT|UPDATE|INSERT|DELETE|WITH)/i.test(text)) {
              explained.add(text);
              const plan = await target
                .query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params as unknown[])
                .catch(() => null);
              if (plan) write(plan.rows.map((r) => `  ${r['QUERY PLAN']}`).join('\n'));
            }
          }
        }
      }
    },
  };
}

/**
 * Opens an embedded PostgreSQL. `dataDir` undefined means in memory; `loadDataDir` restores a dump
 * (tests migrate one template and clone it, which takes a quarter of a fresh start).
 */
export async function openPglite(
  options: { dataDir?: string; loadDataDir?: Blob; slowSql?: SlowSqlLog } = {},
): Promise<Db & { pglite: PGlite }> {
  const pgOptions: PGliteOptions = { parsers };
  if (options.dataDir) pgOptions.dataDir = options.dataDir;
  if (options.loadDataDir) pgOptions.loadDataDir = options.loadDataDir;
  const pglite = new PGlite(pgOptions);
  await pglite.waitReady;
  const explained = new Set<string>();
  const base = wrap(pglite, options.slowSql, explained);
  return {
    kind: 'pglite',
    pglite,
    query: base.query,
    transaction: async (fn) => {
      await turnIfDue();
      return pglite
        .transaction((tx) => fn(wrap(tx, options.slowSql, explained, true)))
        .catch((error) => {
          throw scrubDbError(error);
        });
    },
    exec: async (sql) => {
      await pglite.exec(sql).catch((error) => {
        throw scrubDbError(error);
      });
    },
    close: () => pglite.close(),
  };
}
