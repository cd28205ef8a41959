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

function wrap(target: PGliteQueryable): Queryable {
  return {
    async query<T>(sql: string, params: readonly unknown[] = []): Promise<QueryResult<T>> {
      try {
        const result = await target.query<T>(sql, params as unknown[]);
        return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
      } catch (error) {
        throw scrubDbError(error);
      }
    },
  };
}

/**
 * Opens an embedded PostgreSQL. `dataDir` undefined means in memory; `loadDataDir` restores a dump
 * (tests migrate one template and clone it, which takes a quarter of a fresh start).
 */
export async function openPglite(
  options: { dataDir?: string; loadDataDir?: Blob } = {},
): Promise<Db & { pglite: PGlite }> {
  const pgOptions: PGliteOptions = { parsers };
  if (options.dataDir) pgOptions.dataDir = options.dataDir;
  if (options.loadDataDir) pgOptions.loadDataDir = options.loadDataDir;
  const pglite = new PGlite(pgOptions);
  await pglite.waitReady;
  const base = wrap(pglite);
  return {
    kind: 'pglite',
    pglite,
    query: base.query,
    transaction: (fn) =>
      pglite
        .transaction((tx) => fn(wrap(tx)))
        .catch((error) => {
          throw scrubDbError(error);
        }),
    exec: async (sql) => {
      await pglite.exec(sql).catch((error) => {
        throw scrubDbError(error);
      });
    },
    close: () => pglite.close(),
  };
}
