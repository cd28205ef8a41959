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

/** COPY FROM STDIN on one connection: the pieces are written at once (buffered until the server is ready). */
async function copyIn(
  client: pg.PoolClient,
  table: string,
  columns: readonly string[],
  rows: readonly string[],
): Promise<number> {
  const stream = client.query(copyFromStdin(copyStatement(table, columns, 'STDIN')));
  const done = finished(stream);
  for (const piece of rows) if (piece.length > 0) stream.write(piece);
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
    async copyFrom(table, columns, rows) {
      if (!(target instanceof pg.Pool)) return copyIn(target, table, columns, rows);
      const client = await target.connect();
      try {
        return await copyIn(client, table, columns, rows);
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
