// The success update every stage shares (src/pipeline/sql/complete.ts) and the named queue statements
// (src/pipeline/queue.ts), on a probe table shaped like a stage's, on PGlite and PostgreSQL alike.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { type QueueSpec, queueStatement } from '../../src/pipeline/queue.js';
import { claimRows } from '../../src/pipeline/sql/claim.js';
import { completeSuccess } from '../../src/pipeline/sql/complete.js';
import { releaseFailure } from '../../src/pipeline/sql/release.js';
import { testDb } from '../support/db.js';

const probe: QueueSpec = {
  stage: 'complete_probe',
  table: 'complete_probe',
  key: 'id',
  statusColumn: 'status',
  pendingStatuses: ['PENDING', 'RETRY'],
  attemptsColumn: 'attempts',
  errorCodeColumn: 'error_code',
  timestampColumn: 'ts',
  errorMessageColumn: 'error_message',
  eligible: 'true',
};

interface Row {
  status: string;
  error_code: string | null;
  error_message: string | null;
  lease_owner: string | null;
  lease_expires_at: string | null;
  cursor: number;
  reference: string | null;
  due: boolean;
}

describe('completeSuccess', () => {
  let db: Db;
  const row = async (id: string): Promise<Row> =>
    (
      await db.query<Row>(
        `SELECT status, error_code, error_message, lease_owner, lease_expires_at::text, cursor, reference,
                next_attempt_at <= now() AS due
           FROM complete_probe WHERE id = $1`,
        [id],
      )
    ).rows[0]!;
  const claim = (owner: string) =>
    claimRows(db, probe, { owner, leaseSeconds: 60, limit: 10, maxAttempts: 5, today: '2030-01-01' });

  beforeAll(async () => {
    db = await testDb();
    await db.exec(`CREATE TABLE complete_probe (
      id text PRIMARY KEY, status text NOT NULL, attempts int NOT NULL DEFAULT 0, error_code text,
      error_message text, ts timestamptz, next_attempt_at timestamptz NOT NULL DEFAULT now(),
      lease_owner text, lease_expires_at timestamptz, cursor int NOT NULL DEFAULT 0, reference text)`);
  });
  afterAll(async () => db.close());
  beforeEach(async () => {
    await db.query('DELETE FROM complete_probe');
    await db.query(`INSERT INTO complete_probe (id, status) VALUES ('a', 'PENDING')`);
  });

  it('changes nothing for a worker that no longer holds the lease', async () => {
    await claim('w1');
    const lost = await completeSuccess(db, probe, 'a', { owner: 'w2', status: 'DONE' });
    expect(lost.rowCount).toBe(0);
    expect(await row('a')).toMatchObject({ status: 'PENDING', lease_owner: 'w1' });
  });

  it('marks the row done, clears the last failure and gives up the lease', async () => {
    await claim('w1');
    await releaseFailure(db, probe, 'a', {
      owner: 'w1',
      errorCode: 'BANK_DOWN',
      message: 'timeout',
      maxAttempts: 5,
      backoffBaseSeconds: 0,
      backoffMaxSeconds: 0,
      retryStatus: 'RETRY',
    });
    expect(await row('a')).toMatchObject({
      status: 'RETRY',
      error_code: 'BANK_DOWN',
      error_message: 'timeout',
    });
    await claim('w1');
    const done = await completeSuccess<{ id: string }>(db, probe, 'a', {
      owner: 'w1',
      status: 'DONE',
      set: 'reference = $3',
      params: ['REF-1'],
      returning: 'id',
    });
    expect(done.rows).toEqual([{ id: 'a' }]);
    expect(await row('a')).toEqual({
      status: 'DONE',
      error_code: null,
      error_message: null,
      lease_owner: null,
      lease_expires_at: null,
      cursor: 0,
      reference: 'REF-1',
      due: true,
    });
    // Done: no claim takes it again.
    expect(await claim('w1')).toEqual([]);
  });

  it('honours a further guard beside the lease', async () => {
    await claim('w1');
    const guarded = (from: number) =>
      completeSuccess(db, probe, 'a', {
        owner: 'w1',
        status: 'DONE',
        set: 'cursor = $4',
        where: 'cursor = $3',
        params: [from, 7],
      });
    expect((await guarded(3)).rowCount).toBe(0);
    expect(await row('a')).toMatchObject({ status: 'PENDING', cursor: 0 });
    expect((await guarded(0)).rowCount).toBe(1);
    expect(await row('a')).toMatchObject({ status: 'DONE', cursor: 7 });
  });

  it('refuses a status that is not an upper-case word (it is written into the SQL text)', async () => {
    await expect(completeSuccess(db, probe, 'a', { owner: 'w1', status: "DONE'; --" })).rejects.toThrow(
      /bad status/,
    );
  });
});

describe('queue statements', () => {
  it('are built once per queue and variant, and named after their text', () => {
    let builds = 0;
    const build = () => {
      builds++;
      return 'SELECT 1';
    };
    const first = queueStatement(probe, 'probe:a', build);
    expect(queueStatement(probe, 'probe:a', build)).toBe(first);
    expect(builds).toBe(1);
    const other = queueStatement(probe, 'probe:b', () => 'SELECT 2');
    expect(other.name).not.toBe(first.name);
    expect(first.name).toMatch(/^complete_probe_probe_[0-9a-f]{12}$/);
    const long = queueStatement({ ...probe, stage: 'x'.repeat(80) }, 'claim', () => 'SELECT 3');
    expect(long.name.length).toBeLessThanOrEqual(63);
  });

  it('run again and again under their name (PostgreSQL reuses the prepared statement)', async () => {
    const db = await testDb();
    try {
      const { text, name } = queueStatement(probe, 'probe:sum', () => 'SELECT $1::int + 1 AS n');
      for (const n of [1, 2, 3]) {
        expect((await db.query<{ n: number }>(text, [n], { name })).rows).toEqual([{ n: n + 1 }]);
      }
    } finally {
      await db.close();
    }
  });
});
