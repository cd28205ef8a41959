// A bank statement can arrive while the bridge does not yet know whether a batch it sent was taken (the bank
// took it and its answer was lost; the retry is due). Its debits are neither believed nor refused for good:
// the statement waits, spending no attempt, holding back later statements, and is applied once the batch's
// outcome is known. A debit of a batch never sent is refused at once.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { startWorkers } from '../../src/pipeline/index.js';
import { testDb } from '../support/db.js';
import { connectorsOf, FakeBank } from './fakes.js';
import {
  disbursements,
  resetBridge,
  seedEnvelope,
  seedProgram,
  statementText,
  uploadStatement,
  workerContext,
} from './fixtures.js';
import { reconSnapshot, shipBatches } from './recon-helpers.js';

const debits = statementText(
  [
    { mark: 'D', id: 'k1', bankRef: 'B1' },
    { mark: 'D', id: 'k2', bankRef: 'B2' },
    { mark: 'D', id: 'k3', bankRef: 'B3' },
  ],
  { reference: 'DAY1', number: '1' },
);
const reversal = statementText([{ mark: 'RD', id: 'k1', amount: '10.00', reason: 'ACCOUNT_CLOSED' }], {
  reference: 'DAY2',
  number: '2',
});

describe('debits of a batch whose shipping outcome is not known yet', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(async () => {
    await db.close();
  });
  beforeEach(async () => {
    await resetBridge(db);
    await seedProgram(db);
    await seedEnvelope(db, { id: 'E', batches: [disbursements('k', 3)] });
    await db.query(
      `INSERT INTO mapper_resolution_details (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved)
       SELECT disbursement_id, mapper_resolution_batch_id, beneficiary_id, true FROM disbursement`,
    );
  });

  async function reconcileOnce() {
    const workers = startWorkers(workerContext(db, { STAGE_MAX_ATTEMPTS: '2' }), {
      poll: false,
      stages: ['statement'],
      connectors: connectorsOf(new FakeBank()),
    });
    try {
      await workers.runOnce();
    } finally {
      await workers.stop();
    }
  }

  async function row(id: string) {
    const { rows } = await db.query<{
      status: string;
      code: string | null;
      attempts: number;
      cursor: number;
    }>(
      `SELECT statement_process_status AS status, statement_process_error_code AS code,
              statement_process_attempts AS attempts, reconcile_cursor AS cursor
         FROM account_statement WHERE statement_id = $1`,
      [id],
    );
    return rows[0]!;
  }

  const sentOnce = (status = 'PENDING') =>
    db.query(
      `UPDATE bank_disbursement_batch_status SET disbursement_status = $1, disbursement_attempts = 1,
              latest_error_code = 'BANK_TIMEOUT'`,
      [status],
    );
  const due = () => db.query('UPDATE account_statement SET next_attempt_at = now()');

  it('waits without spending attempts, holds back later statements, then reconciles once the batch shipped', async () => {
    await sentOnce();
    const first = await uploadStatement(db, debits);
    const second = await uploadStatement(db, reversal);
    for (let i = 0; i < 4; i++) {
      await reconcileOnce();
      await due();
    }
    expect(await row(first)).toMatchObject({ status: 'PENDING', code: 'BATCH_OUTCOME_PENDING', attempts: 0 });
    expect(await row(first)).toMatchObject({ cursor: 0 });
    // The later statement was never claimed: its reversal would find no debit yet.
    expect(await row(second)).toMatchObject({ status: 'PENDING', code: null, attempts: 0 });
    const waiting = await reconSnapshot(db, first);
    expect(waiting.debits).toEqual([]);
    expect(waiting.errors).toEqual([]);

    // The retry of the batch learns the bank has it: the debits are believed now, in upload order.
    await shipBatches(db, ['E-B1']);
    await reconcileOnce();
    expect(await row(first)).toMatchObject({ status: 'PROCESSED' });
    expect(await row(second)).toMatchObject({ status: 'PROCESSED' });
    const after = await reconSnapshot(db, first);
    expect(after.debits.map((d) => d.disbursement_id)).toEqual(['k1', 'k2', 'k3']);
    expect(after.errors).toEqual([]);
    expect((await reconSnapshot(db, second)).reversals.map((r) => r.disbursement_id)).toEqual(['k1']);
  });

  it('refuses the debits as NOT_SHIPPED once the batch failed for good', async () => {
    await sentOnce();
    const first = await uploadStatement(db, debits);
    await reconcileOnce();
    expect((await row(first)).code).toBe('BATCH_OUTCOME_PENDING');
    await sentOnce('ERROR');
    await due();
    await reconcileOnce();
    expect(await row(first)).toMatchObject({ status: 'PROCESSED' });
    const done = await reconSnapshot(db, first);
    expect(done.debits).toEqual([]);
    expect(done.errors.map((e) => `${e.error_reason} ${e.disbursement_id}`)).toEqual([
      'NOT_SHIPPED k1',
      'NOT_SHIPPED k2',
      'NOT_SHIPPED k3',
    ]);
  });

  it('does not wait for a batch that was never sent: its debits are NOT_SHIPPED at once', async () => {
    const first = await uploadStatement(db, debits);
    await reconcileOnce();
    expect(await row(first)).toMatchObject({ status: 'PROCESSED' });
    expect((await reconSnapshot(db, first)).errors.map((e) => e.error_reason)).toEqual([
      'NOT_SHIPPED',
      'NOT_SHIPPED',
      'NOT_SHIPPED',
    ]);
  });
});
