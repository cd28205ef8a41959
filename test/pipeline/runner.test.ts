// Stage runner semantics on the real driving tables, with fakes for the bank and the mapper: claims,
// leases, SKIP LOCKED, takeover after expiry, backoff, ERROR after the attempt limit.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { requeue, startWorkers } from '../../src/pipeline/index.js';
import { claimRows } from '../../src/pipeline/sql/claim.js';
import { expireAbandoned } from '../../src/pipeline/sql/expire.js';
import { postponeRow } from '../../src/pipeline/sql/postpone.js';
import { releaseFailure } from '../../src/pipeline/sql/release.js';
import { mapperResolutionQueue } from '../../src/pipeline/stages/mapper-resolution.js';
import { onPostgres, testDb } from '../support/db.js';
import { connectorsOf, FakeBank, FakeMapper } from './fakes.js';
import { disbursements, resetBridge, seedEnvelope, seedProgram, workerContext } from './fixtures.js';

const q = mapperResolutionQueue;
const claim = (db: Db, owner: string, limit = 10, leaseSeconds = 60, maxAttempts = 5) =>
  claimRows(db, q, { owner, leaseSeconds, limit, maxAttempts, today: '2026-03-01' });

async function batchRow(db: Db, id: string) {
  const { rows } = await db.query<{
    resolution_status: string;
    resolution_attempts: number;
    latest_error_code: string | null;
    lease_owner: string | null;
    delay: number;
  }>(
    // The backoff as the release wrote it: next_attempt_at and the status time stamp are both its now(), so
    // the difference is exact however long the test took to get here.
    `SELECT resolution_status, resolution_attempts, latest_error_code, lease_owner,
            extract(epoch FROM next_attempt_at - resolution_time_stamp)::float8 AS delay
       FROM mapper_resolution_batch_status WHERE mapper_resolution_batch_id = $1`,
    [id],
  );
  return rows[0]!;
}

describe('stage runner', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  beforeEach(async () => {
    await resetBridge(db);
    await seedProgram(db);
    await seedEnvelope(db, {
      id: 'E1',
      batches: [disbursements('a', 2), disbursements('b', 2), disbursements('c', 2)],
    });
  });
  afterAll(async () => {
    await db.close();
  });

  it('claims each row for one owner only, stamping the lease and counting the attempt', async () => {
    const first = await claim(db, 'w1', 2);
    const second = await claim(db, 'w2', 10);
    expect(first).toHaveLength(2);
    expect(second).toHaveLength(1);
    const keys = [...first, ...second].map((r) => r.key).sort();
    expect(keys).toEqual(['E1-B1-M', 'E1-B2-M', 'E1-B3-M']);
    expect(first.every((r) => r.attempts === 1)).toBe(true);
    expect(await claim(db, 'w3')).toHaveLength(0);
    const row = await batchRow(db, first[0]!.key);
    expect(row.lease_owner).toBe('w1');
  });

  it('takes over a row whose lease ran out; the old owner can no longer write its outcome', async () => {
    const [mine] = await claim(db, 'dead', 1);
    await db.query(
      `UPDATE mapper_resolution_batch_status SET lease_expires_at = now() - interval '1 second'
        WHERE mapper_resolution_batch_id = $1`,
      [mine!.key],
    );
    const taken = await claim(db, 'alive', 10);
    expect(taken.map((r) => r.key)).toContain(mine!.key);
    expect(taken.find((r) => r.key === mine!.key)!.attempts).toBe(2);
    const stale = await releaseFailure(db, q, mine!.key, {
      owner: 'dead',
      errorCode: 'X',
      maxAttempts: 5,
      backoffBaseSeconds: 1,
      backoffMaxSeconds: 10,
    });
    expect(stale).toBeNull();
    expect((await batchRow(db, mine!.key)).lease_owner).toBe('alive');
  });

  it('backs off exponentially (capped) and marks ERROR with the last code after the limit', async () => {
    const mapper = new FakeMapper();
    mapper.downFor = 100;
    const ctx = workerContext(db, {
      STAGE_MAX_ATTEMPTS: '3',
      RETRY_BACKOFF_BASE_SECONDS: '10',
      RETRY_BACKOFF_MAX_SECONDS: '15',
    });
    const workers = startWorkers(ctx, {
      poll: false,
      mapper,
      connectors: connectorsOf(new FakeBank()),
      stages: ['mapper_resolution'],
    });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const ran = await workers.runOnce();
      expect(ran.mapper_resolution).toBe(3); // waiting rows are not retried before their time
      const row = await batchRow(db, 'E1-B1-M');
      expect(row.resolution_attempts).toBe(attempt);
      expect(row.latest_error_code).toBe('MAPPER_UNAVAILABLE');
      expect(row.lease_owner).toBeNull();
      expect(row.resolution_status).toBe(attempt < 3 ? 'PENDING' : 'ERROR');
      delays.push(row.delay);
      // Fast-forward the clock of the queue.
      await db.query(`UPDATE mapper_resolution_batch_status SET next_attempt_at = now()`);
    }
    expect(delays).toEqual([10, 15, 15]); // 10, then 20 capped to 15 (the third release is ERROR)
    expect((await workers.runOnce()).mapper_resolution).toBe(0); // ERROR rows are never picked up again
    expect(mapper.calls).toBe(9);
    // An operator fixed the cause and requeues one batch: it gets a fresh set of attempts.
    mapper.downFor = 0;
    expect(await requeue(db, 'mapper_resolution', ['E1-B1-M', 'NOPE'])).toEqual(['E1-B1-M']);
    expect((await workers.runOnce()).mapper_resolution).toBe(1);
    expect(await batchRow(db, 'E1-B1-M')).toMatchObject({
      resolution_status: 'PROCESSED',
      resolution_attempts: 1,
    });
    await workers.stop();
  });

  it('postpones a row without spending its attempts; only the lease holder may, and it waits its time', async () => {
    for (let round = 0; round < 6; round++) {
      const [mine] = await claim(db, 'w1', 1, 60, 3);
      expect(mine).toMatchObject({ key: 'E1-B1-M', attempts: 1 });
      expect(
        await postponeRow(db, q, mine!.key, { owner: 'intruder', reason: 'X', delaySeconds: 30 }),
      ).toBeNull();
      expect(await postponeRow(db, q, mine!.key, { owner: 'w1', reason: 'WAITING', delaySeconds: 30 })).toBe(
        'PENDING',
      );
      const row = await batchRow(db, mine!.key);
      expect(row).toMatchObject({
        resolution_status: 'PENDING',
        resolution_attempts: 0,
        latest_error_code: 'WAITING',
        lease_owner: null,
      });
      // Not claimable before its time; the other rows are.
      const others = await claim(db, 'w2', 10, 60, 3);
      expect(others.map((r) => r.key)).not.toContain('E1-B1-M');
      for (const o of others)
        await postponeRow(db, q, o.key, { owner: 'w2', reason: 'W', delaySeconds: 600 });
      await db.query(
        `UPDATE mapper_resolution_batch_status SET next_attempt_at = now() WHERE mapper_resolution_batch_id = $1`,
        [mine!.key],
      );
    }
    // Six waits with a limit of three attempts: still PENDING, never ERROR.
    expect((await batchRow(db, 'E1-B1-M')).resolution_status).toBe('PENDING');
  });

  it('marks ERROR (LEASE_EXPIRED) a row whose worker died on its last attempt', async () => {
    await claim(db, 'dead', 1, 60, 1);
    await db.query(
      `UPDATE mapper_resolution_batch_status SET lease_expires_at = now() - interval '1 second'`,
    );
    expect(await expireAbandoned(db, q, 1)).toBe(1);
    const { rows } = await db.query<{ resolution_status: string; latest_error_code: string }>(
      `SELECT resolution_status, latest_error_code FROM mapper_resolution_batch_status WHERE resolution_status = 'ERROR'`,
    );
    expect(rows).toEqual([{ resolution_status: 'ERROR', latest_error_code: 'LEASE_EXPIRED' }]);
  });

  it('renews leases while long work runs, and stop() waits for in-flight work', async () => {
    const ctx = workerContext(db, { LEASE_SECONDS: '1' });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const mapper = new FakeMapper();
    const slow = {
      async resolve(items: Parameters<FakeMapper['resolve']>[0]) {
        await gate;
        return mapper.resolve(items);
      },
    };
    const workers = startWorkers(ctx, {
      mapper: slow,
      connectors: connectorsOf(new FakeBank()),
      stages: ['mapper_resolution'],
    });
    // No sleeping a fixed time (a loaded machine may renew late): wait for the claim, then for every lease
    // to move past the expiry it was claimed with, and check that nobody took a row over meanwhile.
    const leases = async () =>
      (
        await db.query<{ key: string; owner: string | null; expires: number | null; attempts: number }>(
          `SELECT mapper_resolution_batch_id AS key, lease_owner AS owner,
                  extract(epoch FROM lease_expires_at)::float8 AS expires,
                  resolution_attempts AS attempts
             FROM mapper_resolution_batch_status ORDER BY 1`,
        )
      ).rows;
    const claimed = await vi.waitFor(
      async () => {
        const rows = await leases();
        expect(rows.map((r) => r.owner)).toEqual(Array(3).fill(workers.workerId));
        return rows;
      },
      { timeout: 30_000, interval: 50 },
    );
    await vi.waitFor(
      async () => {
        const rows = await leases();
        for (const [i, r] of rows.entries()) expect(r.expires, r.key).toBeGreaterThan(claimed[i]!.expires!);
      },
      { timeout: 30_000, interval: 50 },
    );
    expect((await leases()).map((r) => [r.owner, r.attempts])).toEqual(Array(3).fill([workers.workerId, 1]));
    const stopped = workers.stop();
    release();
    await stopped;
    const { rows: done } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mapper_resolution_batch_status WHERE resolution_status = 'PROCESSED'`,
    );
    expect(done[0]!.n).toBe(3);
  });

  it('stop() returns promptly when called while the housekeeping purge is still running', async () => {
    const ctx = workerContext(db);
    // Hold the purge's first query until stop() has been called: the loop must not then sleep for an hour.
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let entered!: () => void;
    const purging = new Promise<void>((r) => {
      entered = r;
    });
    const query = db.query.bind(db);
    const held = {
      ...ctx,
      db: {
        ...db,
        query: (async (text: string, params?: unknown[]) => {
          if (/DELETE FROM api_request/.test(text)) {
            entered();
            await gate;
          }
          return query(text, params as never);
        }) as Db['query'],
      },
    };
    const workers = startWorkers(held, { connectors: connectorsOf(new FakeBank()), stages: [] });
    // Ordered by events, not by elapsed time: the purge is running, then stop() comes, then the purge ends.
    await purging;
    const stopped = workers.stop();
    release();
    // A loop that then sleeps out its hour never resolves this: the test fails on its own timeout.
    await expect(stopped).resolves.toBeUndefined();
  });

  it.skipIf(!onPostgres())(
    'skips rows locked by another transaction instead of waiting (SKIP LOCKED)',
    async () => {
      let claimed: string[] = [];
      await db.transaction(async (tx) => {
        await tx.query(
          `SELECT 1 FROM mapper_resolution_batch_status WHERE mapper_resolution_batch_id = 'E1-B1-M' FOR UPDATE`,
        );
        claimed = (await claim(db, 'other')).map((r) => r.key).sort();
      });
      expect(claimed).toEqual(['E1-B2-M', 'E1-B3-M']);
    },
  );

  it.skipIf(!onPostgres())('concurrent claimers on PostgreSQL never share a row', async () => {
    await seedEnvelope(db, {
      id: 'E2',
      batches: Array.from({ length: 60 }, (_, i) => disbursements(`x${i}-`, 1)),
    });
    const owners = Array.from({ length: 6 }, (_, i) => `w${i}`);
    const results = await Promise.all(
      owners.map(async (o) => {
        const got: string[] = [];
        for (;;) {
          const rows = await claim(db, o, 3);
          if (rows.length === 0) return got;
          got.push(...rows.map((r) => r.key));
        }
      }),
    );
    const all = results.flat();
    expect(all).toHaveLength(63);
    expect(new Set(all).size).toBe(63);
  });
});
