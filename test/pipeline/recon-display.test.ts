// Error recons of the money checks are shown where operators and the PBMS look: get_disbursement_status, the
// dashboard (statement and disbursement pages) and the metrics' reason label.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { g2pRequest } from '../../src/api/g2p-request.js';
import { startWorkers } from '../../src/pipeline/index.js';
import { type TestApp, testApp } from '../support/app.js';
import { connectorsOf, FakeBank } from './fakes.js';
import { disbursements, seedEnvelope, seedProgram, statementText, uploadStatement } from './fixtures.js';
import { cancelAndAmend, errorRecons } from './helpers.js';
import { shipBatches } from './recon-helpers.js';

describe('error recons of the money checks are visible', () => {
  let t: TestApp;
  let statementId: string;

  beforeAll(async () => {
    t = await testApp();
    const db = t.ctx.db;
    await seedProgram(db, { resolution: false });
    await seedProgram(db, { mnemonic: 'FOOD', account: '2000300040', resolution: false });
    await seedEnvelope(db, { id: 'E', batches: [disbursements('w', 3, '1000.00'), disbursements('x', 1)] });
    await seedEnvelope(db, { id: 'F', program: 'FOOD', batches: [disbursements('f', 1)] });
    await cancelAndAmend(db, 'E', 'w3');
    await shipBatches(db, ['E-B1', 'F-B1']);
    statementId = await uploadStatement(
      db,
      statementText([
        { mark: 'D', id: 'w1', amount: '0.01' },
        { mark: 'D', id: 'w3', amount: '1000.00' },
        { mark: 'D', id: 'x1', amount: '10.00' },
        { mark: 'D', id: 'f1', amount: '10.00' },
        { mark: 'D', id: 'w2', amount: '1000.00' },
        { mark: 'RD', id: 'w2', amount: '100.00' },
      ]),
    );
    const workers = startWorkers(t.ctx, {
      poll: false,
      stages: ['statement'],
      connectors: connectorsOf(new FakeBank()),
    });
    await workers.runOnce();
    await workers.stop();
    expect(await errorRecons(db, statementId)).toEqual([
      { reason: 'AMOUNT_MISMATCH', id: 'w1', seq: 1 },
      { reason: 'CANCELLED_DISBURSEMENT', id: 'w3', seq: 2 },
      { reason: 'NOT_SHIPPED', id: 'x1', seq: 3 },
      { reason: 'STATEMENT_ACCOUNT_MISMATCH', id: 'f1', seq: 4 },
      { reason: 'REVERSAL_AMOUNT_MISMATCH', id: 'w2', seq: 6 },
    ]);
  });
  afterAll(async () => t.close());

  it('in get_disbursement_status', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/get_disbursement_status',
      headers: { authorization: `Bearer ${await t.token('pbms')}` },
      payload: g2pRequest('get_disbursement_status', ['w1', 'w3', 'x1'], 'test-pbms', { meta: null }),
    });
    expect(res.statusCode).toBe(200);
    const [w1, w3, x1] = res.json().message;
    const reasons = (d: { disbursement_recon_records: { disbursement_error_recon_payloads: unknown[] } }) =>
      d.disbursement_recon_records.disbursement_error_recon_payloads.map(
        (p) => (p as { error_reason: string }).error_reason,
      );
    expect(w1).toMatchObject({ lifecycle_status: 'shipped' });
    expect(reasons(w1)).toEqual(['AMOUNT_MISMATCH']);
    expect(w3).toMatchObject({ lifecycle_status: 'cancelled' });
    expect(reasons(w3)).toEqual(['CANCELLED_DISBURSEMENT']);
    expect(x1).toMatchObject({ lifecycle_status: 'received' });
    expect(reasons(x1)).toEqual(['NOT_SHIPPED']);
  });

  it('on the dashboard', async () => {
    const get = async (url: string) =>
      t.app.inject({
        method: 'GET',
        url,
        headers: { authorization: `Bearer ${await t.token('admin')}`, accept: 'text/html' },
      });
    const statement = await get(`/dashboard/statements/${statementId}`);
    expect(statement.statusCode).toBe(200);
    for (const reason of [
      'AMOUNT_MISMATCH',
      'CANCELLED_DISBURSEMENT',
      'NOT_SHIPPED',
      'STATEMENT_ACCOUNT_MISMATCH',
      'REVERSAL_AMOUNT_MISMATCH',
    ])
      expect(statement.body).toContain(reason);
    const disbursement = await get('/dashboard/disbursements?id=w1');
    expect(disbursement.statusCode).toBe(200);
    expect(disbursement.body).toContain('AMOUNT_MISMATCH');
    // What the bank wrote, beside the reason.
    expect(disbursement.body).toContain('<td class="num">0.01 USD</td>');
  });

  it('in the metrics, by reason', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    for (const reason of [
      'AMOUNT_MISMATCH',
      'CANCELLED_DISBURSEMENT',
      'NOT_SHIPPED',
      'STATEMENT_ACCOUNT_MISMATCH',
      'REVERSAL_AMOUNT_MISMATCH',
    ])
      expect(res.body).toContain(`g2p_error_recons{reason="${reason}"} 1\n`);
  });
});
