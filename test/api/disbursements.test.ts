import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.js';
import {
  addEnvelope,
  addProgram,
  type Client,
  client,
  disbursement,
  expectUnchanged,
  NOW,
} from './helpers.js';

describe('disbursements', () => {
  let t: TestApp;
  let c: Client;
  let program: string;
  beforeAll(async () => {
    t = await testApp();
    t.setNow(NOW);
    c = client(t);
    program = await addProgram(c);
  });
  afterAll(async () => t.close());

  const status = async (envelope: string) =>
    (await c.call('get_disbursement_envelope_status', envelope)).body.message;

  /** Calls, expects rjct with the database unchanged; returns header code and per-item codes. */
  const rejected = async (action: string, items: unknown[]) => {
    const res = await expectUnchanged(t, () => c.call(action, items));
    expect(res.status).toBe(200);
    expect(res.body.header.status).toBe('rjct');
    return {
      code: res.body.header.status_reason_code as string,
      items: (res.body.message ?? []).map((i: { response_error_codes: string[] }) => i.response_error_codes),
    };
  };

  it('creates a batch of disbursements, assigning short ids where the PBMS sends none', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_disbursements: 3,
      total_disbursement_amount: '300.75',
    });
    const res = await c.call('create_disbursements', [
      disbursement(envelope, { disbursement_amount: '100.25', mis_reference_number: 'MIS-1' }),
      disbursement(envelope, { disbursement_amount: 100.5, disbursement_id: 'PBMS-ID-0001' }),
      disbursement(envelope, { disbursement_amount: 100 }),
    ]);
    expect(res.status).toBe(200);
    expect(res.body.header).toMatchObject({ status: 'succ', total_count: 3, completed_count: 3 });
    const [a, b, d] = res.body.message;
    expect(a).toMatchObject({
      disbursement_envelope_id: envelope,
      disbursement_amount: 100.25,
      mis_reference_number: 'MIS-1',
      cancellation_status: 'Not_Cancelled',
      response_error_codes: [],
    });
    expect(b.disbursement_id).toBe('PBMS-ID-0001');
    for (const item of [a, d]) {
      expect(item.disbursement_id).toMatch(/^B[0-9A-Z]{7,13}$/);
      expect(item.disbursement_id.length).toBeLessThanOrEqual(16);
    }
    expect(a.disbursement_id).not.toBe(d.disbursement_id);

    // One batch per call: one mapper batch and one bank batch, every disbursement pointing at them.
    const { rows } = await t.ctx.db.query<{ m: number; b: number; n: number }>(
      `SELECT count(DISTINCT mapper_resolution_batch_id) AS m, count(DISTINCT bank_disbursement_batch_id) AS b, count(*) AS n
       FROM disbursement WHERE disbursement_envelope_id = $1`,
      [envelope],
    );
    expect(rows[0]).toEqual({ m: 1, b: 1, n: 3 });
    const s = await status(envelope);
    expect(s).toMatchObject({
      number_of_disbursements_received: 3,
      total_disbursement_amount_received: 300.75,
      lifecycle_summary: { received: { count: 3, amount: 300.75 } },
    });

    const statuses = await c.call('get_disbursement_status', [a.disbursement_id, 'NOT-A-DISBURSEMENT']);
    expect(statuses.body.header.status).toBe('succ');
    expect(statuses.body.message).toEqual([
      {
        disbursement_id: a.disbursement_id,
        disbursement_recon_records: {
          disbursement_recon_payloads: [],
          disbursement_error_recon_payloads: [],
        },
        lifecycle_status: 'received',
        lifecycle_reason: null,
        payout_channel: null,
        refused_by: null,
        refusal_error_category: null,
        response_error_codes: [],
      },
      {
        disbursement_id: 'NOT-A-DISBURSEMENT',
        disbursement_recon_records: {
          disbursement_recon_payloads: [],
          disbursement_error_recon_payloads: [],
        },
        lifecycle_status: null,
        lifecycle_reason: null,
        payout_channel: null,
        refused_by: null,
        refusal_error_category: null,
        response_error_codes: ['INVALID_DISBURSEMENT_ID'],
      },
    ]);
  });

  it('skips bridge ids a PBMS already used', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_disbursements: 6,
      total_disbursement_amount: 600,
    });
    // Connections take sequence values in blocks (migration 016), so the next value is known only after a
    // restart, which drops every connection's block: the next call draws `start`, `start + 1`, ...
    const { rows } = await t.ctx.db.query<{ v: number }>(
      'SELECT last_value + 100000 AS v FROM disbursement_id_seq',
    );
    const start = rows[0]!.v;
    await t.ctx.db.query(`ALTER SEQUENCE disbursement_id_seq RESTART WITH ${start}`);
    const id = (v: number) => `B${v.toString(36).toUpperCase().padStart(7, '0')}`;
    const squatted = [id(start), id(start + 2)];
    const first = await c.call(
      'create_disbursements',
      squatted.map((disbursement_id) => disbursement(envelope, { disbursement_id })),
    );
    expect(first.body.header.status).toBe('succ');
    // The fresh ids clash with the stored ones in the insert: those items (the first and third) get the
    // next fresh ids, the others keep theirs.
    const items = [
      disbursement(envelope),
      disbursement(envelope),
      disbursement(envelope),
      disbursement(envelope, { disbursement_id: 'PBMS-OWN-1' }),
    ];
    const second = await c.call('create_disbursements', items, { message_id: 'squatted-ids' });
    expect(second.body.header.status).toBe('succ');
    const ids = second.body.message.map((i: { disbursement_id: string }) => i.disbursement_id);
    expect(ids).toEqual([id(start + 3), id(start + 1), id(start + 4), 'PBMS-OWN-1']);
    const stored = await t.ctx.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM disbursement WHERE disbursement_envelope_id = $1',
      [envelope],
    );
    expect(stored.rows[0]!.n).toBe(6);
    // The replay answers the same ids (the kept answer holds the ids drawn again).
    const replay = await c.call('create_disbursements', items, { message_id: 'squatted-ids' });
    expect(replay.body.message).toEqual(second.body.message);
  });

  it('rejects an unknown envelope on every item', async () => {
    const r = await rejected('create_disbursements', [
      disbursement('no-such-envelope'),
      disbursement('no-such-envelope'),
    ]);
    expect(r.code).toBe('DISBURSEMENT_ENVELOPE_NOT_FOUND');
    expect(r.items).toEqual([['DISBURSEMENT_ENVELOPE_NOT_FOUND'], ['DISBURSEMENT_ENVELOPE_NOT_FOUND']]);
  });

  it('rejects items of several envelopes in one call', async () => {
    const e1 = await addEnvelope(c, program);
    const e2 = await addEnvelope(c, program);
    const r = await rejected('create_disbursements', [disbursement(e1), disbursement(e2)]);
    expect(r.code).toBe('MULTIPLE_ENVELOPES_FOUND');
  });

  it('rejects disbursements for a cancelled envelope', async () => {
    const envelope = await addEnvelope(c, program);
    await c.call('cancel_disbursement_envelope', { disbursement_envelope_id: envelope });
    const r = await rejected('create_disbursements', [disbursement(envelope)]);
    expect(r.code).toBe('DISBURSEMENT_ENVELOPE_ALREADY_CANCELED');
    expect(r.items).toEqual([['DISBURSEMENT_ENVELOPE_ALREADY_CANCELED']]);
  });

  it('gives each bad item its own codes and applies nothing', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_disbursements: 10,
      total_disbursement_amount: 1000,
    });
    const r = await rejected('create_disbursements', [
      disbursement(envelope),
      disbursement(envelope, { beneficiary_id: null }),
      disbursement(envelope, { beneficiary_id: '   ', beneficiary_name: '' }),
      disbursement(envelope, { narrative: null }),
      disbursement(envelope, { disbursement_amount: 0 }),
      disbursement(envelope, { disbursement_amount: -5 }),
      disbursement(envelope, { disbursement_amount: '12.345' }),
      disbursement(envelope, { disbursement_amount: null }),
      disbursement(envelope, { disbursement_envelope_id: null }),
      disbursement(envelope, { disbursement_id: 'has space' }),
    ]);
    expect(r.code).toBe('INVALID_DISBURSEMENT_PAYLOAD');
    expect(r.items).toEqual([
      [],
      ['INVALID_BENEFICIARY_ID'],
      ['INVALID_BENEFICIARY_ID', 'INVALID_BENEFICIARY_NAME'],
      ['INVALID_NARRATIVE'],
      ['INVALID_DISBURSEMENT_AMOUNT'],
      ['INVALID_DISBURSEMENT_AMOUNT'],
      ['INVALID_DISBURSEMENT_AMOUNT'],
      ['INVALID_DISBURSEMENT_AMOUNT'],
      ['INVALID_DISBURSEMENT_ENVELOPE_ID'],
      ['INVALID_DISBURSEMENT_ID'],
    ]);
  });

  it('checks decimals against the envelope currency', async () => {
    const jpy = await addProgram(c, 'JPY');
    const envelope = await addEnvelope(c, jpy, {
      disbursement_currency_code: 'JPY',
      total_disbursement_amount: 3000,
    });
    const r = await rejected('create_disbursements', [
      disbursement(envelope, { disbursement_amount: '100.5' }),
    ]);
    expect(r.items).toEqual([['INVALID_DISBURSEMENT_AMOUNT']]);
    const ok = await c.call('create_disbursements', [
      disbursement(envelope, { disbursement_amount: '1000.00' }),
    ]);
    expect(ok.body.message[0].disbursement_amount).toBe(1000);
  });

  it('rejects duplicate disbursement ids, within a call and across calls', async () => {
    const envelope = await addEnvelope(c, program);
    const ok = await c.call('create_disbursements', [disbursement(envelope, { disbursement_id: 'DUP-1' })]);
    expect(ok.body.header.status).toBe('succ');
    const again = await rejected('create_disbursements', [
      disbursement(envelope, { disbursement_id: 'DUP-1' }),
    ]);
    expect(again.items).toEqual([['DUPLICATE_DISBURSEMENT']]);
    const twice = await rejected('create_disbursements', [
      disbursement(envelope, { disbursement_id: 'DUP-2' }),
      disbursement(envelope, { disbursement_id: 'DUP-2' }),
    ]);
    expect(twice.items).toEqual([[], ['DUPLICATE_DISBURSEMENT']]);
  });

  it('never lets the running count or amount exceed the declared figures', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_beneficiaries: 2,
      number_of_disbursements: 2,
      total_disbursement_amount: 200,
    });
    expect(
      (await c.call('create_disbursements', [disbursement(envelope, { disbursement_amount: '150' })])).body
        .header.status,
    ).toBe('succ');
    const amount = await rejected('create_disbursements', [
      disbursement(envelope, { disbursement_amount: '50.01' }),
    ]);
    expect(amount.code).toBe('TOTAL_DISBURSEMENT_AMOUNT_EXCEEDS_DECLARED');
    expect(amount.items).toEqual([[]]);
    const count = await rejected('create_disbursements', [
      disbursement(envelope, { disbursement_amount: 10 }),
      disbursement(envelope, { disbursement_amount: 10 }),
    ]);
    expect(count.code).toBe('NO_OF_DISBUESEMENTS_EXCEEDS_DECLARED');
    expect(
      (await c.call('create_disbursements', [disbursement(envelope, { disbursement_amount: 50 })])).body
        .header.status,
    ).toBe('succ');
    expect(await status(envelope)).toMatchObject({
      number_of_disbursements_received: 2,
      total_disbursement_amount_received: 200,
    });
  });

  it('cancels disbursements and takes them off the counters', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_disbursements: 3,
      total_disbursement_amount: 300,
    });
    const created = await c.call('create_disbursements', [
      disbursement(envelope, { disbursement_amount: 100 }),
      disbursement(envelope, { disbursement_amount: 120 }),
      disbursement(envelope, { disbursement_amount: 80 }),
    ]);
    const ids: string[] = created.body.message.map((i: { disbursement_id: string }) => i.disbursement_id);
    expect(await status(envelope)).toMatchObject({
      number_of_disbursements_received: 3,
      total_disbursement_amount_received: 300,
    });

    const res = await c.call('cancel_disbursements', [
      { disbursement_id: ids[0] },
      { disbursement_id: ids[1] },
    ]);
    expect(res.body.header.status).toBe('succ');
    expect(res.body.message).toMatchObject([
      {
        disbursement_id: ids[0],
        cancellation_status: 'Cancelled',
        disbursement_amount: 100,
        response_error_codes: [],
      },
      {
        disbursement_id: ids[1],
        cancellation_status: 'Cancelled',
        disbursement_amount: 120,
        response_error_codes: [],
      },
    ]);
    expect(await status(envelope)).toMatchObject({
      number_of_disbursements_received: 1,
      total_disbursement_amount_received: 80,
      lifecycle_summary: { received: { count: 1, amount: 80 }, cancelled: { count: 2, amount: 220 } },
    });
    const life = await c.call('get_disbursement_status', [ids[0]]);
    expect(life.body.message[0].lifecycle_status).toBe('cancelled');

    // The freed room can be used again.
    const refill = await c.call('create_disbursements', [
      disbursement(envelope, { disbursement_amount: 150 }),
      disbursement(envelope, { disbursement_amount: 70 }),
    ]);
    expect(refill.body.header.status).toBe('succ');
    expect(await status(envelope)).toMatchObject({
      number_of_disbursements_received: 3,
      total_disbursement_amount_received: 300,
    });

    const again = await rejected('cancel_disbursements', [{ disbursement_id: ids[0] }]);
    expect(again.items).toEqual([['DISBURSEMENT_ALREADY_CANCELED']]);
  });

  it('cancels nothing when one id among valid ones is unknown', async () => {
    const envelope = await addEnvelope(c, program);
    const created = await c.call('create_disbursements', [disbursement(envelope), disbursement(envelope)]);
    const ids: string[] = created.body.message.map((i: { disbursement_id: string }) => i.disbursement_id);
    const r = await rejected('cancel_disbursements', [
      { disbursement_id: ids[0] },
      { disbursement_id: 'UNKNOWN-ID' },
      { disbursement_id: ids[1] },
    ]);
    expect(r.code).toBe('INVALID_DISBURSEMENT_PAYLOAD');
    expect(r.items).toEqual([[], ['INVALID_DISBURSEMENT_ID'], []]);
    expect(await status(envelope)).toMatchObject({ number_of_disbursements_received: 2 });
  });

  it('refuses to cancel disbursements on or after the schedule date', async () => {
    const envelope = await addEnvelope(c, program, { disbursement_schedule_date: '2030-03-11' });
    const created = await c.call('create_disbursements', [disbursement(envelope)]);
    t.setNow('2030-03-11T08:00:00Z');
    try {
      const r = await rejected('cancel_disbursements', [
        { disbursement_id: created.body.message[0].disbursement_id },
      ]);
      expect(r.items).toEqual([['DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED']]);
    } finally {
      t.setNow(NOW);
    }
  });

  it('answers recon records, error recons and lifecycle in the reference shape', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_disbursements: 3,
      total_disbursement_amount: 300,
    });
    const created = await c.call('create_disbursements', [
      disbursement(envelope),
      disbursement(envelope),
      disbursement(envelope),
    ]);
    const [paid, returned, unknownToMapper] = created.body.message.map(
      (i: { disbursement_id: string }) => i.disbursement_id,
    );
    // What the mapper, disburse and statement stages write, done by hand.
    const db = t.ctx.db;
    const { rows: batch } = await db.query<{ b: string }>(
      'SELECT bank_disbursement_batch_id AS b FROM disbursement WHERE disbursement_id = $1',
      [paid],
    );
    await db.query(
      `INSERT INTO mapper_resolution_details (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved, unresolved_reason)
       SELECT disbursement_id, mapper_resolution_batch_id, beneficiary_id, disbursement_id <> $1,
              CASE WHEN disbursement_id = $1 THEN 'BENEFICIARY_NOT_FOUND' END
       FROM disbursement WHERE disbursement_envelope_id = $2`,
      [unknownToMapper, envelope],
    );
    await db.query(
      `UPDATE bank_disbursement_batch_status SET disbursement_status = 'PROCESSED' WHERE bank_disbursement_batch_id = $1`,
      [batch[0]!.b],
    );
    await db.query(
      `INSERT INTO account_statement (statement_id, content_sha256, size_bytes) VALUES ('ST1', 'x', 1), ('ST2', 'y', 1)`,
    );
    await db.query(
      `INSERT INTO disbursement_recon (disbursement_id, bank_disbursement_batch_id, disbursement_envelope_id,
         beneficiary_name_from_bank, remittance_reference_number, remittance_statement_id, remittance_statement_number,
         remittance_statement_sequence, remittance_entry_sequence, remittance_entry_date, remittance_value_date,
         reversal_found, reversal_statement_id, reversal_statement_number, reversal_statement_sequence,
         reversal_entry_sequence, reversal_entry_date, reversal_value_date, reversal_reason)
       VALUES ($1, $3, $4, 'T BENEFICIARY', 'BANKREF1', 'ST1', '12', '1', 1, '2030-03-20', '2030-03-20',
               false, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
              ($2, $3, $4, NULL, 'BANKREF2', 'ST1', '12', '1', 2, '2030-03-20', '2030-03-20',
               true, 'ST2', '13', '1', 4, '2030-03-22', '2030-03-21', 'ACCOUNT_CLOSED')`,
      [paid, returned, batch[0]!.b, envelope],
    );
    await db.query(
      `INSERT INTO disbursement_error_recon (statement_id, statement_number, statement_sequence, entry_sequence,
         entry_date, value_date, error_reason, disbursement_id, bank_reference_number)
       VALUES ('ST2', '13', '1', 7, '2030-03-22', '2030-03-22', 'DUPLICATE_DISBURSEMENT', $1, 'BANKREF9')`,
      [paid],
    );

    const res = await c.call('get_disbursement_status', [paid, returned, unknownToMapper]);
    const [a, b, u] = res.body.message;
    expect(a).toMatchObject({
      lifecycle_status: 'reconciled',
      lifecycle_reason: null,
      response_error_codes: [],
    });
    expect(a.disbursement_recon_records.disbursement_recon_payloads).toEqual([
      {
        bank_disbursement_batch_id: batch[0]!.b,
        disbursement_id: paid,
        disbursement_envelope_id: envelope,
        beneficiary_name_from_bank: 'T BENEFICIARY',
        remittance_reference_number: 'BANKREF1',
        remittance_statement_id: 'ST1',
        remittance_statement_number: '12',
        remittance_statement_sequence: '1',
        remittance_entry_sequence: '1',
        remittance_entry_date: '2030-03-20T00:00:00',
        remittance_value_date: '2030-03-20T00:00:00',
        reversal_found: false,
        reversal_statement_id: null,
        reversal_statement_number: null,
        reversal_statement_sequence: null,
        reversal_entry_sequence: null,
        reversal_entry_date: null,
        reversal_value_date: null,
        reversal_reason: null,
      },
    ]);
    expect(a.disbursement_recon_records.disbursement_error_recon_payloads).toEqual([
      {
        statement_id: 'ST2',
        statement_number: '13',
        statement_sequence: '1',
        entry_sequence: '7',
        entry_date: '2030-03-22T00:00:00',
        value_date: '2030-03-22T00:00:00',
        error_reason: 'DUPLICATE_DISBURSEMENT',
        disbursement_id: paid,
        bank_reference_number: 'BANKREF9',
      },
    ]);
    expect(b).toMatchObject({ lifecycle_status: 'reversed', lifecycle_reason: 'ACCOUNT_CLOSED' });
    expect(b.disbursement_recon_records.disbursement_recon_payloads[0]).toMatchObject({
      reversal_found: true,
      reversal_statement_id: 'ST2',
      reversal_entry_sequence: '4',
      reversal_value_date: '2030-03-21T00:00:00',
      reversal_reason: 'ACCOUNT_CLOSED',
    });
    expect(u).toMatchObject({ lifecycle_status: 'unresolved', lifecycle_reason: 'BENEFICIARY_NOT_FOUND' });

    const summary = (await status(envelope)).lifecycle_summary;
    expect(summary).toMatchObject({
      reconciled: { count: 1, amount: 100 },
      reversed: { count: 1, amount: 100 },
      unresolved: { count: 1, amount: 100 },
      received: { count: 0, amount: 0 },
    });
  });

  it('stores 10,000 items in one call and refuses 10,001', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_beneficiaries: 10_001,
      number_of_disbursements: 10_001,
      total_disbursement_amount: '100010.00',
    });
    const items = Array.from({ length: 10_000 }, (_, i) =>
      disbursement(envelope, { beneficiary_id: `B${i}`, disbursement_amount: '10.00' }),
    );
    const res = await c.call('create_disbursements', items);
    expect(res.body.header.status).toBe('succ');
    expect(res.body.message).toHaveLength(10_000);
    expect(await status(envelope)).toMatchObject({
      number_of_disbursements_received: 10_000,
      total_disbursement_amount_received: 100000,
    });

    const tooMany = await expectUnchanged(t, () =>
      c.call('create_disbursements', [...items, disbursement(envelope)]),
    );
    expect(tooMany.body.header).toMatchObject({
      status: 'rjct',
      status_reason_code: 'rjct.total_count.limit_exceeded',
    });
  });
});
