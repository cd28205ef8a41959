import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.js';
import { addEnvelope, addProgram, type Client, client, envelopeMessage, expectUnchanged, NOW, SCHEDULE } from './helpers.js';

describe('disbursement envelopes', () => {
  let t: TestApp;
  let c: Client;
  let program: string;
  beforeAll(async () => {
    t = await testApp({ TIME_ZONE: 'UTC' });
    t.setNow(NOW);
    c = client(t);
    program = await addProgram(c);
  });
  afterAll(async () => t.close());

  it('creates an envelope and reports its status', async () => {
    const res = await c.call('create_disbursement_envelope', envelopeMessage(program, { total_disbursement_amount: '300.50' }));
    expect(res.status).toBe(200);
    expect(res.body.header).toMatchObject({ status: 'succ', status_reason_code: null, action: 'create_disbursement_envelope' });
    const env = res.body.message;
    expect(env).toMatchObject({
      benefit_program_mnemonic: program,
      disbursement_frequency: 'Monthly',
      number_of_beneficiaries: 3,
      number_of_disbursements: 3,
      total_disbursement_amount: 300.5,
      disbursement_currency_code: 'USD',
      disbursement_schedule_date: SCHEDULE,
      cancellation_status: 'Not_Cancelled',
    });
    expect(env.disbursement_envelope_id).toEqual(expect.any(String));
    const status = await c.call('get_disbursement_envelope_status', env.disbursement_envelope_id);
    expect(status.body.header.status).toBe('succ');
    expect(status.body.message).toMatchObject({
      disbursement_envelope_id: env.disbursement_envelope_id,
      number_of_disbursements_received: 0,
      total_disbursement_amount_received: 0,
      funds_available_with_bank: 'PENDING_CHECK',
      funds_blocked_with_bank: 'PENDING_CHECK',
      id_mapper_resolution_required: true,
      lifecycle_summary: { received: { count: 0, amount: 0 } },
    });
  });

  it('rejects an unknown program', async () => {
    const res = await expectUnchanged(t, () =>
      c.call('create_disbursement_envelope', envelopeMessage('NO-SUCH-PROGRAM')),
    );
    expect(res.status).toBe(200);
    expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: 'INVALID_PROGRAM_MNEMONIC' });
  });
});
