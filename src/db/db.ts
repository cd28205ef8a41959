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
