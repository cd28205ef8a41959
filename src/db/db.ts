// One small interface over PGlite (embedded) and node-postgres (production), so every query and migration
// is written once, in PostgreSQL's dialect.

export interface QueryResult<T> {
  rows: T[];
  rowCount: number;
}

export interface QueryOptions {
  /**
   * Names a statement run on every poll (the queue queries): PostgreSQL parses and plans it once per
   * connection and reuses the plan. PGlite ignores it, so the same call works on both. A name must always
   * carry the same text (src/pipeline/queue.ts derives it from the text).
   */
  name?: string;
}

export interface Queryable {
  query<T = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<QueryResult<T>>;
  /**
   * Bulk load: `rows`, pieces of text in COPY's text format (see `copyField`; each piece whole lines), into
   * `table (columns)` with one `COPY … FROM STDIN`, inside the transaction when called on one; resolves to
   * the number of rows. A piece is asked for once the one before is in the connection's socket, so making
   * it overlaps the server reading the last; when `rows` throws, the COPY is abandoned (nothing of it
   * stays) and that error is the one thrown. PostgreSQL only: PGlite has no COPY over a socket, and its `COPY … FROM '/dev/blob'`
   * got slower call after call (230 → 420 ms of CPU per 10,000 rows over 20 calls, where `INSERT … SELECT
   * FROM unnest` stayed at 150–260), so callers keep a set-based INSERT where this is absent.
   *
   * `sent` is called once every piece is in the connection's socket. Work meant to overlap the COPY starts
   * then, not at the call: the pieces wait for the server's go-ahead, which an event-loop turn brings, so
   * synchronous work right after the call would leave the database waiting for its rows.
   */
  copyFrom?(
    table: string,
    columns: readonly string[],
    rows: Iterable<string>,
    sent?: () => void,
  ): Promise<number>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** The COPY statement of `copyFrom` (names are the code's own, checked all the same). */
export function copyStatement(table: string, columns: readonly string[], source: string): string {
  for (const name of [table, ...columns])
    if (!IDENTIFIER.test(name)) throw new Error(`not a plain SQL name: ${JSON.stringify(name)}`);
  return `COPY ${table} (${columns.join(', ')}) FROM ${source}`;
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_ESCAPES = /[\\\n\r\t]/g;
const COPY_ESCAPED: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * A value as a field of COPY's text format: null is `\N`; a backslash, newline, carriage return or tab is
 * written as its backslash escape (so a text `\N` stays text). U+0000 cannot be stored in PostgreSQL text at
 * all: the API refuses it before (src/api/server.ts), and COPY would refuse it here.
 */
export function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return COPY_SPECIAL.test(value) ? value.replace(COPY_ESCAPES, (c) => COPY_ESCAPED[c]!) : value;
}

export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** Parses PostgreSQL `date` values to plain 'YYYY-MM-DD' strings: a Date would shift with the time zone. */
export const parseDate = (value: string): string => value;
/** int8 counts fit a JS number by far; keeping them as numbers makes both drivers agree. */
export const parseInt8 = (value: string): number => Number(value);

export const PG_TYPE = { INT8: 20, DATE: 1082, NUMERIC: 1700 } as const;

/**
 * Fields of a driver's error that may carry row values (beneficiary names, ids): the parameters of the
 * query (PGlite keeps them on the error), and PostgreSQL's detail ("Failing row contains (...)") and
 * context. SQLSTATE code, message, constraint, table and column stay: they name the problem, not the data.
 */
const VALUE_FIELDS = ['params', 'parameters', 'values', 'queryOptions', 'detail', 'where', 'internalQuery'];

/** Removes the value-carrying fields from a database error (in place) and returns it, for rethrowing. */
export function scrubDbError(error: unknown): unknown {
  if (error !== null && typeof error === 'object') {
    for (const field of VALUE_FIELDS) {
      if (field in error) delete (error as Record<string, unknown>)[field];
    }
  }
  return error;
}
