// Reconciliation of one chunk is a handful of set-based statements whose estimated cost is high (the duplicate
// and reversal checks plan hashed subqueries over every recon row), above PostgreSQL's jit_above_cost: with JIT
// on, every chunk paid a compilation of tens of milliseconds (63 of them in one 100,000-disbursement run). A
// chunk runs with JIT off, for its own transaction only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { reconcileEntries } from '../../src/statements/reconcile.js';
import { testDb } from '../support/db.js';
import { disbursements, resetBridge, seedEnvelope, seedProgram, uploadStatement } from './fixtures.js';

describe('reconciliation query plans', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(async () => {
    await db.close();
  });

  it('applies a chunk without JIT compilation, and leaves the setting of the connection alone', async () => {
    await resetBridge(db);
    await seedProgram(db, { resolution: false });
    await seedEnvelope(db, { id: 'E', batches: [disbursements('j', 2, '10.00')] });
    const sid = await uploadStatement(db, `statement jit ${Math.random()}`);
    const inside = await db.transaction(async (tx) => {
      await tx.query('SET LOCAL jit = on');
      const summary = await reconcileEntries(tx, sid, [
        {
          seq: 1,
          mark: 'D',
          program: 'CASH',
          statementNumber: '1',
          statementSequence: '1',
          disbursementId: 'nobody',
          bankReference: 'B1',
          beneficiaryName: null,
          reversalReason: null,
          entryDate: null,
          valueDate: '2030-01-01',
          amount: '10.00',
          currency: 'USD',
        },
      ]);
      const { rows } = await tx.query<{ jit: string }>('SHOW jit');
      return { summary, jit: rows[0]!.jit };
    });
    expect(inside.summary.INVALID_DISBURSEMENT_ID).toBe(1);
    expect(inside.jit).toBe('off');
    const { rows } = await db.query<{ jit: string }>('SHOW jit');
    expect(rows[0]!.jit).toBe('on');
  });
});
