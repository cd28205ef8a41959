// The embedded database has no autovacuum launcher: ./src/db/analyze.ts refreshes statistics once enough rows
// changed. These tests run on PGlite and on PostgreSQL (DATABASE_URL), where the same rule and SQL apply.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AUTO_ANALYZE_DEFAULTS,
  analyzeChangedTables,
  startAutoAnalyze,
  tablesDueForAnalyze,
} from '../../src/db/analyze.js';
import type { Db } from '../../src/db/index.js';
import { autoAnalyzeFromEnv, openDb } from '../../src/db/open.js';
import { testDb } from '../support/db.js';

const plan = async (db: Db, sql: string, params: unknown[] = []) =>
  (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows
    .map((r) => r['QUERY PLAN'])
    .join('\n');

/** The planner's estimate of the rows `where` selects from aa_probe. */
const estimate = async (db: Db, where: string) => {
  const text = await plan(db, `SELECT * FROM aa_probe WHERE ${where}`);
  return Number(/rows=(\d+)/.exec(text)![1]);
};

describe('statistics refreshed when many rows changed', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
    // Like a table of the migrations: created (and analyzed) empty, then filled by the cycle. (On PostgreSQL
    // its autovacuum stays off for this table, so that only the code under test analyzes it.)
    await db.exec(`
      CREATE TABLE aa_probe (id bigint PRIMARY KEY, status text NOT NULL, owner text NOT NULL)
        WITH (autovacuum_enabled = false);
      CREATE INDEX aa_probe_owner_idx ON aa_probe (owner);
      ANALYZE aa_probe;`);
  });
  afterAll(() => db.close());

  it('lists a table after a bulk insert, analyzes it, and then not again', async () => {
    await db.query(
      `INSERT INTO aa_probe SELECT i, CASE WHEN i % 100 = 0 THEN 'NEW' ELSE 'DONE' END, 'O' || (i % 20)
         FROM generate_series(1, 40000) i`,
    );
    expect(await tablesDueForAnalyze(db)).toContain('public.aa_probe');
    // Before: no statistics of the values, so 'DONE' (99 % of the rows) is guessed as a small share.
    expect(await estimate(db, `status = 'DONE'`)).toBeLessThan(20000);
    expect(await analyzeChangedTables(db)).toContain('public.aa_probe');
    const after = await estimate(db, `status = 'DONE'`);
    expect(after).toBeGreaterThan(36000);
    expect(after).toBeLessThan(44000);
    expect(await tablesDueForAnalyze(db)).not.toContain('public.aa_probe');
  });

  it('waits for a fifth of the table to change (autovacuum waits for a tenth)', async () => {
    // 40,000 rows analyzed: more than 50 + 8,000 changes are needed.
    await db.query(`UPDATE aa_probe SET status = 'NEW' WHERE id <= 7000`);
    expect(await tablesDueForAnalyze(db)).not.toContain('public.aa_probe');
    await db.query(`UPDATE aa_probe SET status = 'NEW' WHERE id > 7000 AND id <= 9000`);
    expect(await tablesDueForAnalyze(db)).toContain('public.aa_probe');
    expect(await analyzeChangedTables(db)).toContain('public.aa_probe');
  });

  it('makes the planner take the index once the values turn selective', async () => {
    // Analyzed while every row had owner O7, the planner keeps scanning all rows for O7
    // after the table was refilled with 2,000 owners; refreshed, it probes the index.
    await db.query(`UPDATE aa_probe SET owner = 'O7'`);
    await analyzeChangedTables(db);
    await db.query(`UPDATE aa_probe SET owner = 'O' || (id % 2000)`);
    expect(await plan(db, `SELECT * FROM aa_probe WHERE owner = $1`, ['O7'])).not.toMatch(
      /aa_probe_owner_idx/,
    );
    await analyzeChangedTables(db);
    expect(await plan(db, `SELECT * FROM aa_probe WHERE owner = $1`, ['O7'])).toMatch(/aa_probe_owner_idx/);
  });

  it('runs on its own timer until stopped', async () => {
    await db.query(`UPDATE aa_probe SET status = 'DONE'`);
    const auto = startAutoAnalyze(db, { ...AUTO_ANALYZE_DEFAULTS, intervalMs: 20 });
    try {
      for (let i = 0; i < 500 && (await tablesDueForAnalyze(db)).includes('public.aa_probe'); i++)
        await new Promise((r) => setTimeout(r, 20));
      expect(await tablesDueForAnalyze(db)).not.toContain('public.aa_probe');
    } finally {
      await auto.stop();
    }
    await db.query(`UPDATE aa_probe SET status = 'NEW'`);
    await new Promise((r) => setTimeout(r, 100));
    expect(await tablesDueForAnalyze(db)).toContain('public.aa_probe');
  });
});

describe('the embedded database opened by openDb', () => {
  it('refreshes statistics by itself', async () => {
    const db = await openDb({ autoAnalyze: { ...AUTO_ANALYZE_DEFAULTS, intervalMs: 20 } });
    try {
      await db.exec(`CREATE TABLE t (id int PRIMARY KEY, v text); ANALYZE t;`);
      await db.query(`INSERT INTO t SELECT i, 'v' FROM generate_series(1, 5000) i`);
      let analyzed = false;
      for (let i = 0; i < 500 && !analyzed; i++) {
        const { rows } = await db.query<{ n: number }>(
          `SELECT n_mod_since_analyze::int AS n FROM pg_stat_user_tables WHERE relname = 't'`,
        );
        analyzed = rows[0]!.n === 0;
        if (!analyzed) await new Promise((r) => setTimeout(r, 20));
      }
      expect(analyzed).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('is on by default and off with PGLITE_AUTO_ANALYZE_MS=0', () => {
    expect(autoAnalyzeFromEnv({})).toEqual(AUTO_ANALYZE_DEFAULTS);
    expect(autoAnalyzeFromEnv({ PGLITE_AUTO_ANALYZE_MS: '0' })).toBe(false);
    expect(autoAnalyzeFromEnv({ PGLITE_AUTO_ANALYZE_MS: '250' })).toEqual({
      ...AUTO_ANALYZE_DEFAULTS,
      intervalMs: 250,
    });
    expect(autoAnalyzeFromEnv({ PGLITE_AUTO_ANALYZE_MS: '0' }, AUTO_ANALYZE_DEFAULTS)).toEqual(
      AUTO_ANALYZE_DEFAULTS,
    );
  });
});

describe("the embedded database's page costs", () => {
  it('joins a few thousand rows to a large table by index probes, not a scan of the table', async () => {
    const db = await openDb({ autoAnalyze: false });
    try {
      expect(
        (await db.query<{ v: string }>('SELECT current_setting($1) AS v', ['random_page_cost'])).rows[0]!.v,
      ).toBe('1.1');
      await db.exec(`
        CREATE TABLE big (id text PRIMARY KEY, envelope text NOT NULL, amount numeric NOT NULL);
        INSERT INTO big SELECT 'D' || lpad(i::text, 9, '0'), 'E1', i FROM generate_series(1, 200000) i;
        ANALYZE big;`);
      const join = `UPDATE chunk t SET envelope = b.envelope FROM big b WHERE b.id = t.id`;
      await db.transaction(async (tx) => {
        await tx.query('CREATE TEMP TABLE chunk (id text PRIMARY KEY, envelope text) ON COMMIT DROP');
        await tx.query(
          `INSERT INTO chunk SELECT 'D' || lpad((i * 97 % 200000 + 1)::text, 9, '0') FROM generate_series(1, 2000) i`,
        );
        await tx.query('ANALYZE chunk');
        const planOf = async () =>
          (await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${join}`)).rows
            .map((r) => r['QUERY PLAN'])
            .join('\n');
        expect(await planOf()).toMatch(/Index Scan using big_pkey/);
        // PostgreSQL's default for a disk: the same join scans all of `big` (what grew with the cycle).
        await tx.query('SET LOCAL random_page_cost = 4');
        expect(await planOf()).toMatch(/Seq Scan on big/);
      });
    } finally {
      await db.close();
    }
  });
});
