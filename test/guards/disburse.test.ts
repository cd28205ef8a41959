// Guards of the disburse stage (issue 13): money must never be marked sent when it was not, and a
// cancelled payment must never reach the bank. Each test here failed against a one-line bug that left the
// rest of the suite green (see docs/testing.md).
import { beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { disbursements, pipelineSuite, seedEnvelope, seedProgram } from '../pipeline/fixtures.js';
import { cancelAndAmend, envelopeStatus, lifecycle } from '../pipeline/helpers.js';

async function bankBatches(db: Db, envelope: string) {
  const { rows } = await db.query<{ id: string; status: string }>(
    `SELECT bank_disbursement_batch_id AS id, disbursement_status AS status
       FROM bank_disbursement_batch_status WHERE disbursement_envelope_id = $1 ORDER BY 1`,
    [envelope],
  );
  return rows;
}

describe('disburse stage guards', () => {
  const s = pipelineSuite();
  // The pipeline's clock: "today" decides whether an envelope's schedule date is reached.
  let clock: Date;
  const start = () => s.start({ now: () => clock });
  beforeEach(() => {
    clock = new Date('2026-03-02T10:00:00Z');
  });

  it('does not ship a batch while its mapper resolution is not done (mapper down)', async () => {
    await seedProgram(s.db); // resolution required
    await seedEnvelope(s.db, {
      id: 'E',
      scheduleDate: '2026-03-02',
      batches: [disbursements('a', 3, '20.00'), disbursements('b', 2, '5.00')],
    });
    for (const id of ['a1', 'a2', 'a3', 'b1', 'b2']) s.mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    s.mapper.downFor = 1_000;
    start();
    await s.workers.runOnce();

    // Funds may be checked and blocked meanwhile, but no bank batch is done: nothing was sent.
    expect(await bankBatches(s.db, 'E')).toEqual([
      { id: 'E-B1', status: 'PENDING' },
      { id: 'E-B2', status: 'PENDING' },
    ]);
    expect(s.bank.calls.initiatePayment).toBe(0);
    expect((await envelopeStatus(s.db, 'E')).number_of_disbursements_shipped).toBe(0);
    expect((await lifecycle(s.db, 'E')).some((r) => r.status === 'shipped')).toBe(false);

    // The mapper is back and the retry is due: every payment goes out, each batch once.
    s.mapper.downFor = 0;
    await s.db.query(`UPDATE mapper_resolution_batch_status SET next_attempt_at = now()`);
    await s.workers.runOnce();
    expect(await bankBatches(s.db, 'E')).toEqual([
      { id: 'E-B1', status: 'PROCESSED' },
      { id: 'E-B2', status: 'PROCESSED' },
    ]);
    expect(
      s.bank
        .payments()
        .map((p) => p.disbursementId)
        .sort(),
    ).toEqual(['a1', 'a2', 'a3', 'b1', 'b2']);
    expect((await envelopeStatus(s.db, 'E')).number_of_disbursements_shipped).toBe(5);
  });

  it('never sends a payment cancelled after its beneficiary was resolved', async () => {
    await seedProgram(s.db);
    await seedEnvelope(s.db, {
      id: 'E',
      scheduleDate: '2026-03-05',
      batches: [disbursements('c', 3, '7.50')],
    });
    for (const id of ['c1', 'c2', 'c3']) s.mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    start();
    // Before the schedule date: the mapper resolves everyone, nothing is shipped yet.
    await s.workers.runOnce();
    const { rows } = await s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mapper_resolution_details WHERE resolved`,
    );
    expect(rows[0]!.n).toBe(3);
    expect(s.bank.calls.initiatePayment).toBe(0);

    await cancelAndAmend(s.db, 'E', 'c2');
    clock = new Date('2026-03-05T10:00:00Z');
    await s.workers.runOnce();

    expect(s.bank.payments().map((p) => p.disbursementId)).toEqual(['c1', 'c3']);
    expect((await envelopeStatus(s.db, 'E')).number_of_disbursements_shipped).toBe(2);
    expect((await lifecycle(s.db, 'E')).find((r) => r.id === 'c2')!.status).toBe('cancelled');
  });
});
