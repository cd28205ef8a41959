// A large statement is reconciled in bounded chunks (STATEMENT_CHUNK_ENTRIES), each its own transaction with
// a cursor on the statement row: any chunk size gives exactly the one-chunk result, and a worker that loses
// its lease between chunks leaves nothing counted twice when the next one resumes.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../src/db/index.js';
import { startWorkers } from '../../src/pipeline/index.js';
import { testDb } from '../support/db.js';
import { connectorsOf, FakeBank } from './fakes.js';
import {
  disbursements,
  type EntrySeed,
  resetBridge,
  seedEnvelope,
  seedProgram,
  statementText,
  uploadStatement,
  workerContext,
} from './fixtures.js';
import { cancelAndAmend, errorRecons, statementRow } from './helpers.js';
import { reconSnapshot, shipBatches } from './recon-helpers.js';

/** Two statements in one file: right and wrong debits, repeats, a credit, reversals right and wrong. */
function fileText(): string {
  const first: EntrySeed[] = [
    { mark: 'RD', id: 'k12', amount: '10.00', bankRef: 'RV0' }, // reverses a debit later in the file
    ...Array.from(
      { length: 20 },
      (_, i): EntrySeed => ({ mark: 'D', id: `k${i + 1}`, bankRef: `B${i + 1}` }),
    ),
    { mark: 'D', id: 'k21', amount: '0.01', bankRef: 'B21' }, // fake, then the real one below
    { mark: 'D', id: 'k2', bankRef: 'B2X' }, // second debit
    { mark: 'D', id: 'k22', bankRef: 'B3' }, // bank reference of k3's debit
    { mark: 'C', id: 'TOPUP', amount: '500.00' },
    { mark: 'D', id: 'nope' },
  ];
  const second: EntrySeed[] = [
    ...Array.from(
      { length: 20 },
      (_, i): EntrySeed => ({ mark: 'D', id: `k${i + 21}`, bankRef: `B${i + 21}` }),
    ),
    { mark: 'D', id: 'k23', bankRef: 'B99' },
    { mark: 'RD', id: 'k1', amount: '10.00', reason: 'ACCOUNT_CLOSED' },
    { mark: 'RD', id: 'k2', amount: '1.00' },
    { mark: 'RD', id: 'k1', amount: '10.00' },
    { mark: 'RD', id: 'k35', amount: '10.00' }, // never shipped
    { mark: 'RD', id: 'k4', amount: '10.00', reason: 'ACCOUNT_DORMANT' },
    { mark: 'D', id: 'k24', bankRef: 'B24' }, // real debit already reconciled above
  ];
  return (
    statementText(first, { reference: 'BIG', number: '7' }) +
    statementText(second, { reference: 'BIG', number: '8' })
  );
}

/** A Db whose `at`-th chunk loses its lease just before it commits (the chunk rolls back). */
function losingLeaseAt(db: Db, at: number): Db {
  let advances = 0;
  return {
    ...db,
    transaction: (fn) =>
      db.transaction((tx) =>
        fn({
          async query(sql, params) {
            if (sql.includes('SET reconcile_cursor = $4, lease_expires_at') && ++advances === at)
              await tx.query(`UPDATE account_statement SET lease_owner = 'another-worker'`);
            return tx.query(sql, params);
          },
        } as Queryable),
      ),
  };
}

describe('statements reconciled in chunks', () => {
  let db: Db;
  const text = fileText();

  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(seed);

  async function reconcile(chunk: number, wrap: (db: Db) => Db = (d) => d) {
    const ctx = workerContext(db, { STATEMENT_CHUNK_ENTRIES: String(chunk) });
    const workers = startWorkers(
      { ...ctx, db: wrap(db) },
      { poll: false, stages: ['statement'], connectors: connectorsOf(new FakeBank()) },
    );
    try {
      await workers.runOnce();
    } finally {
      await workers.stop();
    }
  }

  it('gives the same result whatever the chunk size', async () => {
    const results = [];
    for (const chunk of [100000, 1, 3, 7]) {
      if (results.length > 0) await seed();
      const id = await uploadStatement(db, text);
      await reconcile(chunk);
      expect(await statementRow(db, id)).toMatchObject({ status: 'PROCESSED', duplicate_of: null });
      const { rows } = await db.query<{ cursor: number }>(
        `SELECT reconcile_cursor AS cursor FROM account_statement WHERE statement_id = $1`,
        [id],
      );
      expect(rows[0]!.cursor).toBe(52); // every D and RD of the file
      results.push(await reconSnapshot(db, id));
    }
    const [one, ...others] = results;
    expect(one!.debits.length).toBe(28);
    expect(one!.reversals.map((r) => r.disbursement_id)).toEqual(['k12', 'k1', 'k4']);
    expect(one!.errors.map((e) => `${e.seq} ${e.error_reason} ${e.disbursement_id}`)).toEqual([
      '6 CANCELLED_DISBURSEMENT k5',
      '22 AMOUNT_MISMATCH k21',
      '23 DUPLICATE_DISBURSEMENT k2',
      '24 DUPLICATE_DISBURSEMENT k22',
      '26 INVALID_DISBURSEMENT_ID nope',
      '28 DUPLICATE_DISBURSEMENT k22',
      '37 NOT_SHIPPED k31',
      '38 NOT_SHIPPED k32',
      '39 NOT_SHIPPED k33',
      '40 NOT_SHIPPED k34',
      '41 NOT_SHIPPED k35',
      '42 NOT_SHIPPED k36',
      '43 NOT_SHIPPED k37',
      '44 NOT_SHIPPED k38',
      '45 NOT_SHIPPED k39',
      '46 NOT_SHIPPED k40',
      '47 DUPLICATE_DISBURSEMENT k23',
      '49 REVERSAL_AMOUNT_MISMATCH k2',
      '50 INVALID_REVERSAL k1',
      '51 INVALID_REVERSAL k35',
      '53 DUPLICATE_DISBURSEMENT k24',
    ]);
    for (const other of others) expect(other).toEqual(one);
  });

  it('resumes after a lost lease between chunks without counting a chunk twice', async () => {
    const whole = await uploadStatement(db, text);
    await reconcile(100000);
    const expected = await reconSnapshot(db, whole);
    await seed();

    const id = await uploadStatement(db, text);
    await reconcile(4, (d) => losingLeaseAt(d, 3));
    // Two chunks of four are in; the third rolled back with the lost lease.
    const { rows } = await db.query<{ cursor: number; status: string; owner: string | null }>(
      `SELECT reconcile_cursor AS cursor, statement_process_status AS status, lease_owner AS owner
         FROM account_statement WHERE statement_id = $1`,
      [id],
    );
    expect(rows[0]).toMatchObject({ cursor: 8, status: 'PENDING' });
    expect(rows[0]!.owner).not.toBeNull();
    const partial = await reconSnapshot(db, id);
    expect(partial.debits.length + partial.errors.length + partial.reversals.length).toBe(8);

    // A copy uploaded meanwhile is a duplicate of the statement in progress, not a second count.
    const copy = await uploadStatement(db, text);
    await reconcile(4);
    expect(await statementRow(db, copy)).toMatchObject({ status: 'PROCESSED', duplicate_of: id });
    expect(await errorRecons(db, copy)).toEqual([]);

    // The dead worker's lease runs out; the next worker resumes at entry 8.
    await db.query(
      `UPDATE account_statement SET lease_expires_at = now() - interval '1 second'
                     WHERE statement_id = $1`,
      [id],
    );
    await reconcile(4);
    expect(await statementRow(db, id)).toMatchObject({ status: 'PROCESSED', duplicate_of: null });
    expect(await reconSnapshot(db, id)).toEqual(expected);
  });

  /** k1..k30 shipped (k5 cancelled before), k31..k40 in a batch the bank has not acknowledged. */
  async function seed() {
    await resetBridge(db);
    await seedProgram(db, { resolution: false });
    const ks = disbursements('k', 40);
    await seedEnvelope(db, { id: 'E', batches: [ks.slice(0, 30), ks.slice(30)] });
    await cancelAndAmend(db, 'E', 'k5');
    await shipBatches(db, ['E-B1']);
  }
});
