import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.js';
import {
  addEnvelope,
  addProgram,
  type Client,
  client,
  disbursement,
  envelopeMessage,
  expectUnchanged,
  NOW,
  SCHEDULE,
  TODAY,
} from './helpers.js';

describe('disbursement envelopes', () => {
  let t: TestApp;
  let c: Client;
  let program: string;
  beforeAll(async () => {
    t = await testApp({ TIME_ZONE: 'UTC', DISBURSEMENT_SLA_DAYS: '2' });
    t.setNow(NOW);
    c = client(t);
    program = await addProgram(c);
  });
  afterAll(async () => t.close());

  const rejected = async (action: string, message: unknown) => {
    const res = await expectUnchanged(t, () => c.call(action, message));
    expect(res.status).toBe(200);
    expect(res.body.header.status).toBe('rjct');
    return res.body.header.status_reason_code as string;
  };

  it('creates an envelope and reports its status', async () => {
    const res = await c.call(
      'create_disbursement_envelope',
      envelopeMessage(program, { total_disbursement_amount: '300.50' }),
    );
    expect(res.status).toBe(200);
    expect(res.body.header).toMatchObject({
      status: 'succ',
      status_reason_code: null,
      action: 'create_disbursement_envelope',
    });
    const env = res.body.message;
    expect(env).toMatchObject({
      benefit_program_mnemonic: program,
      disbursement_frequency: 'Monthly',
      cycle_code_mnemonic: 'MAR-2030',
      number_of_beneficiaries: 3,
      number_of_disbursements: 3,
      total_disbursement_amount: 300.5,
      disbursement_currency_code: 'USD',
      disbursement_schedule_date: SCHEDULE,
      cancellation_status: 'Not_Cancelled',
      cancellation_time_stamp: null,
    });
    expect(env.disbursement_envelope_id).toEqual(expect.any(String));
    const status = await c.call('get_disbursement_envelope_status', env.disbursement_envelope_id);
    expect(status.body.header.status).toBe('succ');
    expect(status.body.message).toMatchObject({
      disbursement_envelope_id: env.disbursement_envelope_id,
      number_of_disbursements_received: 0,
      total_disbursement_amount_received: 0,
      funds_available_with_bank: 'PENDING_CHECK',
      funds_available_attempts: 0,
      funds_blocked_with_bank: 'PENDING_CHECK',
      funds_blocked_attempts: 0,
      id_mapper_resolution_required: true,
      number_of_disbursements_shipped: 0,
      number_of_disbursements_reconciled: 0,
      number_of_disbursements_reversed: 0,
      lifecycle_summary: { received: { count: 0, amount: 0 }, cancelled: { count: 0, amount: 0 } },
    });
  });

  it('keeps an envelope id sent by the PBMS and refuses it a second time', async () => {
    const id = `ENV-${Date.now()}`;
    const first = await c.call(
      'create_disbursement_envelope',
      envelopeMessage(program, { disbursement_envelope_id: id }),
    );
    expect(first.body.message.disbursement_envelope_id).toBe(id);
    const code = await rejected(
      'create_disbursement_envelope',
      envelopeMessage(program, { disbursement_envelope_id: id }),
    );
    expect(code).toBe('INVALID_DISBURSEMENT_ENVELOPE_ID');
  });

  it('rejects an unknown program', async () => {
    expect(await rejected('create_disbursement_envelope', envelopeMessage('NO-SUCH-PROGRAM'))).toBe(
      'INVALID_PROGRAM_MNEMONIC',
    );
  });

  it('rejects a schedule date in the past or inside the SLA days', async () => {
    const past = await rejected(
      'create_disbursement_envelope',
      envelopeMessage(program, { disbursement_schedule_date: '2030-03-09' }),
    );
    expect(past).toBe('INVALID_DISBURSEMENT_SCHEDULE_DATE');
    // TODAY + 1 is within DISBURSEMENT_SLA_DAYS=2.
    const soon = await rejected(
      'create_disbursement_envelope',
      envelopeMessage(program, { disbursement_schedule_date: '2030-03-11' }),
    );
    expect(soon).toBe('INVALID_DISBURSEMENT_SCHEDULE_DATE');
    const ok = await c.call(
      'create_disbursement_envelope',
      envelopeMessage(program, { disbursement_schedule_date: '2030-03-12' }),
    );
    expect(ok.body.header.status).toBe('succ');
  });

  it('judges "today" in the configured time zone', async () => {
    // 2030-03-10 20:00 UTC is already 2030-03-11 in Kiribati (UTC+14): with 2 SLA days the earliest date is 03-13.
    const kiribati = await testApp({ TIME_ZONE: 'Pacific/Kiritimati', DISBURSEMENT_SLA_DAYS: '2' });
    try {
      kiribati.setNow(`${TODAY}T20:00:00Z`);
      const k = client(kiribati);
      const prog = await addProgram(k);
      const early = await k.call(
        'create_disbursement_envelope',
        envelopeMessage(prog, { disbursement_schedule_date: '2030-03-12' }),
      );
      expect(early.body.header.status_reason_code).toBe('INVALID_DISBURSEMENT_SCHEDULE_DATE');
      const ok = await k.call(
        'create_disbursement_envelope',
        envelopeMessage(prog, { disbursement_schedule_date: '2030-03-13' }),
      );
      expect(ok.body.header.status).toBe('succ');
    } finally {
      await kiribati.close();
    }
  });

  it('rejects a currency other than the program account currency', async () => {
    expect(
      await rejected(
        'create_disbursement_envelope',
        envelopeMessage(program, { disbursement_currency_code: 'EUR' }),
      ),
    ).toBe('INVALID_DISBURSEMENT_CURRENCY_CODE');
  });

  it('validates counts, cycle, frequency and total with the reference codes', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ number_of_beneficiaries: 0 }, 'INVALID_NO_OF_BENEFICIARIES'],
      [{ number_of_beneficiaries: null }, 'INVALID_NO_OF_BENEFICIARIES'],
      [{ number_of_disbursements: 2 }, 'INVALID_NO_OF_DISBURSEMENTS'],
      [{ cycle_code_mnemonic: '  ' }, 'INVALID_CYCLE_CODE_MNEMONIC'],
      [{ disbursement_frequency: null }, 'INVALID_DISBURSEMENT_FREQUENCY'],
      [{ total_disbursement_amount: 0 }, 'INVALID_TOTAL_DISBURSEMENT_AMOUNT'],
      [{ total_disbursement_amount: '-5' }, 'INVALID_TOTAL_DISBURSEMENT_AMOUNT'],
      [{ total_disbursement_amount: '10.001' }, 'INVALID_TOTAL_DISBURSEMENT_AMOUNT'],
      [{ total_disbursement_amount: 'ten' }, 'INVALID_TOTAL_DISBURSEMENT_AMOUNT'],
      [{ disbursement_schedule_date: null }, 'INVALID_DISBURSEMENT_SCHEDULE_DATE'],
    ];
    for (const [fields, code] of cases) {
      expect(
        await rejected('create_disbursement_envelope', envelopeMessage(program, fields)),
        JSON.stringify(fields),
      ).toBe(code);
    }
  });

  it('amends control figures and schedule date before the schedule date', async () => {
    const id = await addEnvelope(c, program);
    const res = await c.call('amend_disbursement_envelope', {
      disbursement_envelope_id: id,
      number_of_beneficiaries: 4,
      number_of_disbursements: 5,
      total_disbursement_amount: '512.25',
      disbursement_schedule_date: '2030-04-01',
    });
    expect(res.body.header.status).toBe('succ');
    expect(res.body.message).toMatchObject({
      disbursement_envelope_id: id,
      number_of_beneficiaries: 4,
      number_of_disbursements: 5,
      total_disbursement_amount: 512.25,
      disbursement_schedule_date: '2030-04-01',
      cycle_code_mnemonic: 'MAR-2030',
    });
    // The amended figures now bound the disbursements.
    const created = await c.call('create_disbursements', [
      disbursement(id, { disbursement_amount: '500' }),
      disbursement(id, { disbursement_amount: '12.25' }),
    ]);
    expect(created.body.header.status).toBe('succ');
    // Not below what was received.
    expect(
      await rejected('amend_disbursement_envelope', {
        disbursement_envelope_id: id,
        number_of_beneficiaries: 1,
        number_of_disbursements: 1,
      }),
    ).toBe('NO_OF_DISBUESEMENTS_EXCEEDS_DECLARED');
    expect(
      await rejected('amend_disbursement_envelope', {
        disbursement_envelope_id: id,
        total_disbursement_amount: 512,
      }),
    ).toBe('TOTAL_DISBURSEMENT_AMOUNT_EXCEEDS_DECLARED');
    expect(
      await rejected('amend_disbursement_envelope', {
        disbursement_envelope_id: id,
        disbursement_currency_code: 'EUR',
      }),
    ).toBe('INVALID_DISBURSEMENT_CURRENCY_CODE');
    expect(
      await rejected('amend_disbursement_envelope', {
        disbursement_envelope_id: id,
        disbursement_schedule_date: '2030-03-11',
      }),
    ).toBe('INVALID_DISBURSEMENT_SCHEDULE_DATE');
    expect(await rejected('amend_disbursement_envelope', { disbursement_envelope_id: 'nope' })).toBe(
      'DISBURSEMENT_ENVELOPE_NOT_FOUND',
    );
    // A client may send the bridge's own answer back with a change: the answer-only fields are ignored.
    expect(res.body.message.receipt_time_stamp).toBeTruthy();
    const echoed = await c.call('amend_disbursement_envelope', {
      ...res.body.message,
      cycle_code_mnemonic: 'MAR-2030-B',
    });
    expect(echoed.body.header.status).toBe('succ');
    expect(echoed.body.message).toMatchObject({
      cycle_code_mnemonic: 'MAR-2030-B',
      cancellation_status: 'Not_Cancelled',
    });
  });

  it('refuses to amend on the schedule date', async () => {
    const id = await addEnvelope(c, program, { disbursement_schedule_date: '2030-03-12' });
    t.setNow('2030-03-12T00:30:00Z');
    try {
      expect(
        await rejected('amend_disbursement_envelope', {
          disbursement_envelope_id: id,
          number_of_disbursements: 4,
        }),
      ).toBe('DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED');
    } finally {
      t.setNow(NOW);
    }
  });

  it('cancels an envelope, once, and not on or after its schedule date', async () => {
    const id = await addEnvelope(c, program);
    await c.call('create_disbursements', [disbursement(id)]);
    const res = await c.call('cancel_disbursement_envelope', { disbursement_envelope_id: id });
    expect(res.body.header.status).toBe('succ');
    expect(res.body.message).toMatchObject({
      disbursement_envelope_id: id,
      cancellation_status: 'Cancelled',
    });
    expect(res.body.message.cancellation_time_stamp).toBe(new Date(NOW).toISOString());
    expect(await rejected('cancel_disbursement_envelope', { disbursement_envelope_id: id })).toBe(
      'DISBURSEMENT_ENVELOPE_ALREADY_CANCELED',
    );
    expect(
      await rejected('cancel_disbursement_envelope', { disbursement_envelope_id: 'unknown-envelope' }),
    ).toBe('DISBURSEMENT_ENVELOPE_NOT_FOUND');
    expect(await rejected('cancel_disbursement_envelope', {})).toBe('INVALID_DISBURSEMENT_ENVELOPE_ID');
    expect(
      await rejected('amend_disbursement_envelope', {
        disbursement_envelope_id: id,
        number_of_disbursements: 4,
      }),
    ).toBe('DISBURSEMENT_ENVELOPE_ALREADY_CANCELED');
    // Its disbursements are cancelled with it.
    const status = await c.call('get_disbursement_envelope_status', id);
    expect(status.body.message.lifecycle_summary.cancelled).toEqual({ count: 1, amount: 100 });
    expect(status.body.message.number_of_disbursements_received).toBe(1);

    const later = await addEnvelope(c, program, { disbursement_schedule_date: '2030-03-12' });
    for (const now of ['2030-03-12T00:00:00Z', '2030-03-13T12:00:00Z']) {
      t.setNow(now);
      try {
        expect(await rejected('cancel_disbursement_envelope', { disbursement_envelope_id: later })).toBe(
          'DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED',
        );
      } finally {
        t.setNow(NOW);
      }
    }
  });

  it('answers DISBURSEMENT_ENVELOPE_NOT_FOUND for the status of an unknown envelope', async () => {
    expect(await rejected('get_disbursement_envelope_status', 'no-such-envelope')).toBe(
      'DISBURSEMENT_ENVELOPE_NOT_FOUND',
    );
  });

  it('keeps amounts exact beyond what a double holds', async () => {
    const res = await c.call(
      'create_disbursement_envelope',
      envelopeMessage(program, { total_disbursement_amount: '123456789012345678.99' }),
    );
    expect(res.body.header.status).toBe('succ');
    expect(res.body.message.total_disbursement_amount).toBe('123456789012345678.99');
  });
});
