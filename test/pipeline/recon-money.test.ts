// Reconciliation checks the money, not just the id (issue 9 §1): each finding of the issue as the bank would
// produce it, through the statement stage with a fake bank.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { startWorkers, type Workers } from '../../src/pipeline/index.js';
import { testDb } from '../support/db.js';
import { connectorsOf, FakeBank, FakeMapper } from './fakes.js';
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
import { cancelAndAmend, envelopeStatus, errorRecons, lifecycle, statementRow } from './helpers.js';

describe('reconciliation checks the money', () => {
  let db: Db;
  let workers: Workers;
  let mapper: FakeMapper;
  let statements = 0;

  beforeAll(async () => {
    db = await testDb();
  });
  beforeEach(async () => {
    await resetBridge(db);
    mapper = new FakeMapper();
    workers = startWorkers(workerContext(db), {
      poll: false,
      mapper,
      connectors: connectorsOf(new FakeBank()),
    });
  });
  afterEach(async () => {
    await workers.stop();
  });
  afterAll(async () => {
    await db.close();
  });

  /** Uploads one statement and runs the stages; returns its id, once PROCESSED. */
  async function bankReports(entries: EntrySeed[], o: { account?: string; currency?: string } = {}) {
    statements++;
    const id = await uploadStatement(
      db,
      statementText(entries, { ...o, reference: `S${statements}`, number: String(statements) }),
    );
    await workers.runOnce();
    expect((await statementRow(db, id)).status).toBe('PROCESSED');
    return id;
  }

  const status = async (envelope: string) =>
    Object.fromEntries((await lifecycle(db, envelope)).map((r) => [r.id, r.status]));

  it('a D 0,01 for an unshipped 1,000.00 disbursement reconciles nothing', async () => {
    await seedProgram(db, { resolution: false });
    await seedEnvelope(db, {
      id: 'LATER',
      scheduleDate: '2099-01-01',
      batches: [disbursements('u', 1, '1000.00')],
    });
    await workers.runOnce();
    expect(await status('LATER')).toEqual({ u1: 'received' });
    const st = await bankReports([{ mark: 'D', id: 'u1', amount: '0.01' }]);
    expect(await errorRecons(db, st)).toEqual([{ reason: 'NOT_SHIPPED', id: 'u1', seq: 1 }]);
    expect(await status('LATER')).toEqual({ u1: 'received' });
    expect(await envelopeStatus(db, 'LATER')).toMatchObject({
      number_of_disbursements_shipped: 0,
      number_of_disbursements_reconciled: 0,
    });
    // The right amount does not make an unshipped disbursement paid either.
    const again = await bankReports([{ mark: 'D', id: 'u1', amount: '1000.00' }]);
    expect(await errorRecons(db, again)).toEqual([{ reason: 'NOT_SHIPPED', id: 'u1', seq: 1 }]);
    expect(await status('LATER')).toEqual({ u1: 'received' });
  });

  it('a debit for a cancelled disbursement leaves it cancelled', async () => {
    await seedProgram(db, { resolution: false });
    await seedEnvelope(db, { id: 'E', batches: [disbursements('c', 3, '1000.00')] });
    await cancelAndAmend(db, 'E', 'c3');
    await workers.runOnce();
    expect(await status('E')).toEqual({ c1: 'shipped', c2: 'shipped', c3: 'cancelled' });
    const st = await bankReports([
      { mark: 'D', id: 'c1', amount: '1000.00' },
      { mark: 'D', id: 'c3', amount: '1000.00' },
    ]);
    expect(await errorRecons(db, st)).toEqual([{ reason: 'CANCELLED_DISBURSEMENT', id: 'c3', seq: 2 }]);
    expect(await status('E')).toEqual({ c1: 'reconciled', c2: 'shipped', c3: 'cancelled' });
    expect(await envelopeStatus(db, 'E')).toMatchObject({
      number_of_disbursements_shipped: 2,
      number_of_disbursements_reconciled: 1,
    });
  });

  it('a statement in EUR does not reconcile a USD disbursement', async () => {
    await seedProgram(db, { resolution: false });
    await seedEnvelope(db, { id: 'E', batches: [disbursements('d', 2, '250.00')] });
    await workers.runOnce();
    const eur = await bankReports(
      [
        { mark: 'D', id: 'd1', amount: '250.00' },
        { mark: 'D', id: 'd2', amount: '250.00' },
      ],
      { currency: 'EUR' },
    );
    expect(await errorRecons(db, eur)).toEqual([
      { reason: 'CURRENCY_MISMATCH', id: 'd1', seq: 1 },
      { reason: 'CURRENCY_MISMATCH', id: 'd2', seq: 2 },
    ]);
    expect(await status('E')).toEqual({ d1: 'shipped', d2: 'shipped' });
    // The operator sees what the bank wrote.
    const { rows } = await db.query<{ amount: string; currency: string }>(
      `SELECT entry_amount::text AS amount, entry_currency AS currency FROM disbursement_error_recon
        WHERE statement_id = $1 ORDER BY entry_sequence LIMIT 1`,
      [eur],
    );
    expect(rows[0]).toEqual({ amount: '250.00', currency: 'EUR' });
    const usd = await bankReports([{ mark: 'D', id: 'd1', amount: '250.00' }]);
    expect(await errorRecons(db, usd)).toEqual([]);
    expect(await status('E')).toEqual({ d1: 'reconciled', d2: 'shipped' });
  });

  it('never reconciles more disbursements of an envelope than were shipped', async () => {
    await seedProgram(db);
    await seedEnvelope(db, { id: 'E', batches: [disbursements('r', 4, '40.00')] });
    for (const id of ['r1', 'r2', 'r3']) mapper.known.set(`BEN-${id}`, `ACC-${id}`); // r4 unresolved
    await workers.runOnce();
    expect(await envelopeStatus(db, 'E')).toMatchObject({ number_of_disbursements_shipped: 3 });
    const st = await bankReports(['r1', 'r2', 'r3', 'r4'].map((id) => ({ mark: 'D', id, amount: '40.00' })));
    expect(await errorRecons(db, st)).toEqual([{ reason: 'NOT_SHIPPED', id: 'r4', seq: 4 }]);
    expect(await envelopeStatus(db, 'E')).toMatchObject({
      number_of_disbursements_shipped: 3,
      number_of_disbursements_reconciled: 3,
    });
    expect((await status('E')).r4).toBe('unresolved');
  });

  it('a fake debit never stands in the way of the real one, in a later or the same statement', async () => {
    await seedProgram(db, { resolution: false });
    await seedEnvelope(db, { id: 'E', batches: [disbursements('p', 2, '1000.00')] });
    await workers.runOnce();
    const fake = await bankReports([{ mark: 'D', id: 'p1', amount: '0.01', bankRef: 'REAL1' }]);
    expect(await errorRecons(db, fake)).toEqual([{ reason: 'AMOUNT_MISMATCH', id: 'p1', seq: 1 }]);
    expect(await status('E')).toEqual({ p1: 'shipped', p2: 'shipped' });
    // The bank's real debit arrives later (even under the bank reference the fake borrowed).
    const real = await bankReports([{ mark: 'D', id: 'p1', amount: '1000.00', bankRef: 'REAL1' }]);
    expect(await errorRecons(db, real)).toEqual([]);
    expect(await status('E')).toEqual({ p1: 'reconciled', p2: 'shipped' });
    expect(await errorRecons(db, fake)).toEqual([{ reason: 'AMOUNT_MISMATCH', id: 'p1', seq: 1 }]);
    // Fake and real in one statement, fake first; one cent off either way.
    const both = await bankReports([
      { mark: 'D', id: 'p2', amount: '999.99' },
      { mark: 'D', id: 'p2', amount: '1000.01' },
      { mark: 'D', id: 'p2', amount: '1000.00' },
      { mark: 'D', id: 'p2', amount: '1000.00' },
    ]);
    expect(await errorRecons(db, both)).toEqual([
      { reason: 'AMOUNT_MISMATCH', id: 'p2', seq: 1 },
      { reason: 'AMOUNT_MISMATCH', id: 'p2', seq: 2 },
      { reason: 'DUPLICATE_DISBURSEMENT', id: 'p2', seq: 4 },
    ]);
    const { rows } = await db.query<{ seq: number }>(
      `SELECT remittance_entry_sequence AS seq FROM disbursement_recon WHERE disbursement_id = 'p2'`,
    );
    expect(rows).toEqual([{ seq: 3 }]);
    expect(await envelopeStatus(db, 'E')).toMatchObject({
      number_of_disbursements_shipped: 2,
      number_of_disbursements_reconciled: 2,
    });
  });

  it("an id of another program's envelope on this program's account is STATEMENT_ACCOUNT_MISMATCH", async () => {
    await seedProgram(db, { resolution: false });
    await seedProgram(db, { mnemonic: 'FOOD', account: '2000300040', resolution: false });
    await seedEnvelope(db, { id: 'CASH-E', batches: [disbursements('k', 1, '5.00')] });
    await seedEnvelope(db, { id: 'FOOD-E', program: 'FOOD', batches: [disbursements('f', 1, '5.00')] });
    await workers.runOnce();
    const st = await bankReports([
      { mark: 'D', id: 'f1', amount: '5.00' },
      { mark: 'D', id: 'nobody', amount: '5.00' },
    ]);
    expect(await errorRecons(db, st)).toEqual([
      { reason: 'STATEMENT_ACCOUNT_MISMATCH', id: 'f1', seq: 1 },
      { reason: 'INVALID_DISBURSEMENT_ID', id: 'nobody', seq: 2 },
    ]);
    expect(await status('FOOD-E')).toEqual({ f1: 'shipped' });
    const own = await bankReports([{ mark: 'D', id: 'f1', amount: '5.00' }], { account: '2000300040' });
    expect(await errorRecons(db, own)).toEqual([]);
    expect(await status('FOOD-E')).toEqual({ f1: 'reconciled' });
  });

  it('a reversal needs a reconciled debit of the same amount', async () => {
    await seedProgram(db, { resolution: false });
    await seedEnvelope(db, { id: 'E', batches: [disbursements('v', 2, '70.00')] });
    await workers.runOnce();
    const st = await bankReports([
      { mark: 'RD', id: 'v2', amount: '70.00' }, // v2 was never debited
      { mark: 'D', id: 'v1', amount: '70.00' },
      { mark: 'RD', id: 'v1', amount: '700.00' },
      { mark: 'RD', id: 'v1', amount: '70.00', reason: 'ACCOUNT_CLOSED' },
      { mark: 'RD', id: 'v1', amount: '70.00' },
    ]);
    expect(await errorRecons(db, st)).toEqual([
      { reason: 'INVALID_REVERSAL', id: 'v2', seq: 1 },
      { reason: 'REVERSAL_AMOUNT_MISMATCH', id: 'v1', seq: 3 },
      { reason: 'INVALID_REVERSAL', id: 'v1', seq: 5 },
    ]);
    expect(await lifecycle(db, 'E')).toEqual([
      { id: 'v1', status: 'reversed', reason: 'ACCOUNT_CLOSED' },
      { id: 'v2', status: 'shipped', reason: null },
    ]);
    expect(await envelopeStatus(db, 'E')).toMatchObject({
      number_of_disbursements_reconciled: 1,
      number_of_disbursements_reversed: 1,
    });
  });
});
