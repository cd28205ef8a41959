// Races that only a real multi-connection database can show: on PGlite every transaction runs alone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.js';
import { onPostgres } from '../support/db.js';
import { addEnvelope, addProgram, type Client, client, disbursement, NOW } from './helpers.js';

describe.skipIf(!onPostgres())('concurrent PBMS calls (PostgreSQL)', () => {
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

  async function envelopeFigures(envelope: string) {
    const { rows } = await t.ctx.db.query<{
      received: number;
      amount: string;
      rows: number;
      sum: string | null;
    }>(
      `SELECT bs.number_of_disbursements_received AS received, bs.total_disbursement_amount_received::text AS amount,
         (SELECT count(*) FROM disbursement d WHERE d.disbursement_envelope_id = bs.disbursement_envelope_id
            AND d.cancellation_status = 'Not_Cancelled') AS rows,
         (SELECT sum(disbursement_amount)::text FROM disbursement d WHERE d.disbursement_envelope_id = bs.disbursement_envelope_id
            AND d.cancellation_status = 'Not_Cancelled') AS sum
       FROM disbursement_envelope_batch_status bs WHERE bs.disbursement_envelope_id = $1`,
      [envelope],
    );
    return rows[0]!;
  }

  it('never exceeds the declared count, whatever the interleaving', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_beneficiaries: 10,
      number_of_disbursements: 10,
      total_disbursement_amount: 1000,
    });
    const calls = Array.from({ length: 12 }, () =>
      c.call('create_disbursements', [
        disbursement(envelope),
        disbursement(envelope),
        disbursement(envelope),
      ]),
    );
    const results = await Promise.all(calls);
    const ok = results.filter((r) => r.body.header.status === 'succ').length;
    expect(ok).toBe(3);
    for (const r of results.filter((x) => x.body.header.status === 'rjct')) {
      expect(r.body.header.status_reason_code).toBe('NO_OF_DISBUESEMENTS_EXCEEDS_DECLARED');
    }
    const figures = await envelopeFigures(envelope);
    expect(figures).toMatchObject({ received: 9, rows: 9 });
    expect(Number(figures.amount)).toBe(900);
  });

  it('never exceeds the declared amount, whatever the interleaving', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_beneficiaries: 100,
      number_of_disbursements: 100,
      total_disbursement_amount: '1000.00',
    });
    const calls = Array.from({ length: 10 }, () =>
      c.call('create_disbursements', [
        disbursement(envelope, { disbursement_amount: '150.00' }),
        disbursement(envelope, { disbursement_amount: '150.00' }),
      ]),
    );
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.body.header.status === 'succ')).toHaveLength(3);
    const figures = await envelopeFigures(envelope);
    expect(figures.received).toBe(6);
    expect(figures.rows).toBe(6);
    expect(Number(figures.amount)).toBe(900);
    expect(Number(figures.sum)).toBe(900);
  });

  it('runs a request replayed concurrently only once', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_disbursements: 50,
      total_disbursement_amount: 5000,
    });
    const items = [disbursement(envelope), disbursement(envelope)];
    const header = { message_id: 'concurrent-replay', sender_id: 'pbms-race' };
    const results = await Promise.all(
      Array.from({ length: 6 }, () => c.call('create_disbursements', items, header)),
    );
    for (const r of results) expect(r.body).toEqual(results[0]!.body);
    expect(results[0]!.body.header.status).toBe('succ');
    expect((await envelopeFigures(envelope)).received).toBe(2);
  });
});
