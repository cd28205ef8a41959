// One bad item must not poison a batch (issue 9 §5): a payment the connector's limits refuse is not sent, a
// payment the bank refuses fails alone with the bank's code, and the rest of the batch is shipped, once.
import { describe, expect, it } from 'vitest';
import type { InitiatePaymentResult, Payment } from '../../src/bank/connector.js';
import { disbursementStatus } from '../../src/disbursements/service.js';
import { FakeBank } from './fakes.js';
import {
  disbursements,
  pipelineSuite,
  seedEnvelope,
  seedProgram,
  statementText,
  uploadStatement,
  workerContext,
} from './fixtures.js';
import { envelopeStatus, errorRecons, lifecycle, statusCounts } from './helpers.js';

/** A bank that refuses some payments of a batch by id, answering a repeated batch the same way. */
class PickyBank extends FakeBank {
  refuse = new Map<string, string>();
  readonly limits = { maxReferenceLength: 35 };
  override async initiatePayment(batchId: string, payments: Payment[]): Promise<InitiatePaymentResult> {
    const answer = await super.initiatePayment(
      batchId,
      payments.filter((p) => !this.refuse.has(p.disbursementId)),
    );
    if (answer.status !== 'SUCCESS') return answer;
    const refused = payments
      .filter((p) => this.refuse.has(p.disbursementId))
      .map((p) => ({ disbursementId: p.disbursementId, errorCode: this.refuse.get(p.disbursementId)! }));
    // A code for a payment that was not in the batch must be ignored.
    refused.push({ disbursementId: 'not-in-this-batch', errorCode: 'NONSENSE' });
    return { status: 'SUCCESS', refused };
  }
}

describe('partial refusals of a bank batch', () => {
  const s = pipelineSuite({ bank: () => new PickyBank() });
  const start = () => s.start();

  it('ships the rest of the batch and records each refusal with its code', async () => {
    const long = `L${'x'.repeat(40)}`; // 41 characters: over the bank's 35
    await seedProgram(s.db);
    await seedEnvelope(s.db, {
      id: 'E1',
      batches: [
        [
          ...disbursements('a', 4, '12.50'),
          { id: long, beneficiaryId: 'BEN-long', amount: '5.00' },
          { id: 'huge', beneficiaryId: 'BEN-huge', amount: '1000000000000.00' },
        ],
      ],
    });
    for (const id of ['a1', 'a2', 'a3', 'a4', 'long', 'huge']) s.mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    s.bank.refuse.set('a2', 'ACCOUNT_BLOCKED_BY_BANK');
    start();
    await s.workers.runOnce();

    // The bank saw only what its limits allow, and took all but a2.
    expect(
      s.bank
        .payments()
        .map((p) => p.disbursementId)
        .sort(),
    ).toEqual(['a1', 'a3', 'a4']);
    expect(await statusCounts(s.db, 'E1')).toEqual({ shipped: 3, refused: 3 });
    const refused = (await lifecycle(s.db, 'E1')).filter((r) => r.status === 'refused');
    refused.sort((x, y) => (x.id < y.id ? -1 : 1));
    expect(refused).toEqual([
      { id: long, status: 'refused', reason: 'DISBURSEMENT_ID_TOO_LONG_FOR_BANK' },
      { id: 'a2', status: 'refused', reason: 'ACCOUNT_BLOCKED_BY_BANK' },
      { id: 'huge', status: 'refused', reason: 'DISBURSEMENT_AMOUNT_TOO_LARGE_FOR_BANK' },
    ]);
    expect((await envelopeStatus(s.db, 'E1')).number_of_disbursements_shipped).toBe(3);
    const { rows } = await s.db.query<{ disbursement_status: string; latest_error_code: string | null }>(
      'SELECT disbursement_status, latest_error_code FROM bank_disbursement_batch_status',
    );
    expect(rows).toEqual([{ disbursement_status: 'PROCESSED', latest_error_code: null }]);

    const status = await disbursementStatus(s.db, workerContext(s.db), ['a2', 'a1']);
    expect(status[0]).toMatchObject({
      lifecycle_status: 'refused',
      lifecycle_reason: 'ACCOUNT_BLOCKED_BY_BANK',
      response_error_codes: [],
    });
    expect(status[1]).toMatchObject({ lifecycle_status: 'shipped' });
  });

  it('records the same refusals once when the batch is re-sent after a crash', async () => {
    await seedProgram(s.db);
    await seedEnvelope(s.db, { id: 'E2', batches: [disbursements('c', 3)] });
    for (const id of ['c1', 'c2', 'c3']) s.mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    s.bank.refuse.set('c3', 'INVALID_ACCOUNT');
    let crashes = 1;
    s.bank.afterAccept = () => {
      if (crashes-- > 0) throw new Error('process killed after the bank acknowledged');
    };
    start();
    await s.workers.runOnce();
    // The first attempt died after the acknowledgement: nothing recorded, the batch still pending.
    expect(await statusCounts(s.db, 'E2')).toEqual({ received: 3 });
    await s.db.query(
      `UPDATE bank_disbursement_batch_status SET next_attempt_at = now() - interval '1 second',
         lease_owner = NULL, lease_expires_at = NULL`,
    );
    await s.workers.runOnce();
    expect(s.bank.calls.initiatePayment).toBe(2);
    expect(s.bank.batches.size).toBe(1);
    expect(await statusCounts(s.db, 'E2')).toEqual({ shipped: 2, refused: 1 });
    expect((await envelopeStatus(s.db, 'E2')).number_of_disbursements_shipped).toBe(2);

    // A debit naming the refused payment never reconciles it: it was not shipped.
    await uploadStatement(
      s.db,
      statementText([
        { mark: 'D', id: 'c1' },
        { mark: 'D', id: 'c3' },
      ]),
    );
    await s.workers.runOnce();
    expect(await statusCounts(s.db, 'E2')).toEqual({ shipped: 1, reconciled: 1, refused: 1 });
    expect((await errorRecons(s.db)).map((r) => [r.id, r.reason])).toEqual([['c3', 'NOT_SHIPPED']]);
  });

  it('finishes a batch whose every payment is refused without calling the bank', async () => {
    await seedProgram(s.db);
    const ids = ['y'.repeat(36), 'z'.repeat(50)];
    await seedEnvelope(s.db, {
      id: 'E3',
      batches: [ids.map((id, i) => ({ id, beneficiaryId: `BEN-${i}`, amount: '1.00' }))],
    });
    s.mapper.known.set('BEN-0', 'ACC-0');
    s.mapper.known.set('BEN-1', 'ACC-1');
    start();
    await s.workers.runOnce();
    expect(s.bank.calls.initiatePayment).toBe(0);
    expect(await statusCounts(s.db, 'E3')).toEqual({ refused: 2 });
  });
});
