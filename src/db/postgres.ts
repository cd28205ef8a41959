import { finished } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFromStdin } from 'pg-copy-streams';
import {
  copyStatement,
  type Db,
  PG_TYPE,
  parseDate,
  parseInt8,
  type Queryable,
  type QueryOptions,
  type QueryResult,
  scrubDbError,
} from './db.js';

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === PG_TYPE.INT8) return parseInt8;
    if (oid === PG_TYPE.DATE) return parseDate;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** COPY FROM STDIN on one connection (see `Queryable.copyFrom`). */
async function copyIn(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: Iterable<string>,
  sent?: () => void,
): Promise<number> {
  const stream = client.query(copyFromStdin(copyStatement(table, columns, 'STDIN')));
  const done = finished(stream);
  // Awaited below; meanwhile a failed COPY is not an unhandled rejection.
  done.catch(() => {});
  const iterator = rows[Symbol.iterator]();
  for (;;) {
    let next: IteratorResult<string>;
    try {
      next = iterator.next();
    } catch (error) {
      // The caller's rows failed (a check): CopyFail makes the server drop the COPY; the connection is
      // usable again once it has answered.
      stream.destroy(error instanceof Error ? error : new Error(String(error)));
      await done.catch(() => {});
      throw error;
    }
    if (next.done) break;
    if (next.value.length === 0) continue;
    // A write's callback runs once pg-copy-streams has flushed it to the socket (after a 'drain' if full),
    // which waits for the server's CopyInResponse.
    const flushed = new Promise<void>((resolve) => stream.write(next.value, () => resolve()));
    try {
      await Promise.race([flushed, done]);
    } catch (error) {
      throw scrubDbError(error);
    }
  }
  sent?.();
  stream.end();
  try {
    await done;
  } catch (error) {
    throw scrubDbError(error);
  }
  return stream.rowCount;
}

function wrap(target: pg.Pool | pg.PoolClient): Queryable {
  return {
    async copyFrom(table, columns, rows, sent) {
      if (!(target instanceof pg.Pool)) return copyIn(target, table, columns, rows, sent);
      const client = await target.connect();
      try {
        return await copyIn(client, table, columns, rows, sent);
      } finally {
        client.release();
      }
    },
    async query<T>(
      sql: string,
      params: readonly unknown[] = [],
      options: QueryOptions = {},
    ): Promise<QueryResult<T>> {
      try {
        const { name } = options;
        const result = await target.query({
          text: sql,
          values: params as unknown[],
          types,
          ...(name ? { name } : {}),
        });
        return { rows: result.rows as T[], rowCount: result.rowCount ?? result.rows.length };
      } catch (error) {
        throw scrubDbError(error);
      }
    },
  };
}

export async function openPostgres(
  url: string,
  options: { poolSize?: number } = {},
): Promise<Db & { pool: pg.Pool }> {
  const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 10 });
  // An idle client losing its connection must not take the process down; the next query reconnects.
  pool.on('error', () => {});
  const client = await pool.connect(); // fail fast on a wrong URL
  client.release();
  const base = wrap(pool);
  return {
    kind: 'postgres',
    pool,
    query: base.query,
    copyFrom: base.copyFrom!,
    async transaction(fn) {
      const conn = await pool.connect();
      try {
        await conn.query('BEGIN');
        const result = await fn(wrap(conn));
        await conn.query('COMMIT');
        return result;
      } catch (error) {
        await conn.query('ROLLBACK').catch(() => {});
        throw scrubDbError(error);
      } finally {
        conn.release();
      }
    },
    exec: async (sql) => {
      await pool.query(sql);
    },
    close: () => pool.end(),
  };
}
