// Statistics for the embedded database. PostgreSQL's autovacuum launcher analyzes a table once enough of its
// rows changed; PGlite runs PostgreSQL in single-user mode, where no launcher runs: its tables keep the
// statistics of their last ANALYZE (none at all, for tables filled after the migrations) while they grow from
// nothing to millions of rows, and the planner keeps choosing plans made for empty tables (docs/decisions.md,
// 036). This is autovacuum's analyze rule, run from the process that holds the database.
import type { Db, Queryable } from './db.js';

export interface AutoAnalyzeSettings {
  /** How often the change counters are looked at (a cheap query of pg_stat_user_tables). */
  intervalMs: number;
  /** A table is analyzed once more than threshold + scaleFactor × its rows changed since its last ANALYZE. */
  threshold: number;
  scaleFactor: number;
  /**
   * default_statistics_target of these passes: ANALYZE samples 300 × this many rows. PostgreSQL's 100 reads
   * 30,000 rows of a large table, about a second of the one connection at 10^6 rows (docs/benchmarks.md).
   */
  statisticsTarget: number;
}

/**
 * autovacuum_analyze_threshold of PostgreSQL; twice its scale factor and a third of its sample, because each
 * pass holds the embedded database's only connection (decision 036); a look every 5 s.
 */
export const AUTO_ANALYZE_DEFAULTS: AutoAnalyzeSettings = {
  intervalMs: 5000,
  threshold: 50,
  scaleFactor: 0.2,
  statisticsTarget: 30,
};

/**
 * Tables (schema-qualified, quoted) whose statistics are due: more rows inserted, updated or deleted since
 * their last ANALYZE than `threshold + scaleFactor × reltuples`. Temporary tables are left out (the code that
 * makes one analyzes it itself).
 */
export async function tablesDueForAnalyze(
  db: Queryable,
  settings: Pick<AutoAnalyzeSettings, 'threshold' | 'scaleFactor'> = AUTO_ANALYZE_DEFAULTS,
): Promise<string[]> {
  // A backend reports its counts at most once a second; on the embedded database this one backend made every
  // change: counted now (at the end of this statement), the look below sees all of them.
  await db.query('SELECT pg_stat_force_next_flush()');
  const { rows } = await db.query<{ name: string }>(
    `SELECT format('%I.%I', s.schemaname, s.relname) AS name
       FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
      WHERE c.relpersistence <> 't'
        AND s.n_mod_since_analyze > $1::float8 + $2::float8 * greatest(c.reltuples, 0)
      ORDER BY s.n_mod_since_analyze DESC`,
    [settings.threshold, settings.scaleFactor],
  );
  return rows.map((r) => r.name);
}

/**
 * Analyzes every table whose statistics are due (see tablesDueForAnalyze), one short transaction each (with
 * the pass's statistics target); returns the tables analyzed. A table dropped in between is skipped.
 */
export async function analyzeChangedTables(
  db: Db,
  settings: Pick<
    AutoAnalyzeSettings,
    'threshold' | 'scaleFactor' | 'statisticsTarget'
  > = AUTO_ANALYZE_DEFAULTS,
): Promise<string[]> {
  const done: string[] = [];
  for (const table of await tablesDueForAnalyze(db, settings)) {
    try {
      await db.transaction(async (tx) => {
        await tx.query(`SET LOCAL default_statistics_target = ${Math.trunc(settings.statisticsTarget)}`);
        await tx.query(`ANALYZE ${table}`);
      });
      done.push(table);
    } catch (error) {
      // 42P01: dropped since it was listed; anything else is the caller's to see.
      if ((error as { code?: string }).code !== '42P01') throw error;
    }
  }
  return done;
}

export interface AutoAnalyze {
  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void>;
  /** One pass now (tests, and after a bulk load); resolves to the tables analyzed. */
  runNow(): Promise<string[]>;
}

/**
 * Runs analyzeChangedTables every `intervalMs` on `db` until stopped. On the embedded database each pass waits
 * for the connection like any query (between transactions, never inside one). The timer does not keep the
 * process alive. A failed pass is reported to `onError` and the next one runs as usual.
 */
export function startAutoAnalyze(
  db: Db,
  settings: AutoAnalyzeSettings = AUTO_ANALYZE_DEFAULTS,
  onError: (error: unknown) => void = () => {},
): AutoAnalyze {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<string[]> | null = null;
  const pass = (): Promise<string[]> => {
    if (!running) {
      running = analyzeChangedTables(db, settings).finally(() => {
        running = null;
      });
    }
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(async () => {
      timer = null;
      try {
        await pass();
      } catch (error) {
        if (!stopped) onError(error);
      }
      schedule();
    }, settings.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await running?.catch(() => {});
    },
    runNow: pass,
  };
}
