// The audit trail (issue 9 §9): every change a caller makes is one append-only audit_event row written in
// the change's transaction — who, sender id, request id, action, targets and a PII-free summary. Refused
// calls and replays write nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeAudit } from '../../src/audit/index.js';
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
} from './helpers.js';

const NAME = 'Zyxwv Secret-Beneficiary';

interface Row {
  id: number;
  subject: string;
  roles: string[];
  sender_id: string | null;
  request_id: string | null;
  message_id: string | null;
  action: string;
  program: string | null;
  envelope_id: string | null;
  target_ids: string[];
  summary: Record<string, unknown>;
}

describe('audit trail', () => {
  let t: TestApp;
  let c: Client;
  let program: string;
  const rows = async (where = 'true', params: unknown[] = []) =>
    (await t.ctx.db.query<Row>(`SELECT * FROM audit_event WHERE ${where} ORDER BY id`, params)).rows;

  beforeAll(async () => {
    t = await testApp();
    t.setNow(NOW);
    c = client(t);
    program = await addProgram(c);
  });
  afterAll(async () => t.close());

  it('records a program added and changed through the admin API', async () => {
    const added = await rows('action = $1 AND program = $2', ['create_program', program]);
    expect(added).toHaveLength(1);
    expect(added[0]).toMatchObject({
      subject: 'admin',
      roles: ['admin'],
      sender_id: null,
      target_ids: [program],
    });
    expect(added[0]!.request_id).toEqual(expect.any(String));
    const res = await c.admin('PATCH', `/admin/programs/${program}`, { funding_org_name: 'Treasury' });
    expect(res.status).toBe(200);
    const changed = await rows('action = $1 AND program = $2', ['update_program', program]);
    expect(changed).toHaveLength(1);
    expect(changed[0]!.summary).toEqual({
      changed: { funding_org_name: { from: 'Ministry of Finance', to: 'Treasury' } },
    });
    // A refused change writes nothing.
    const refused = await expectUnchanged(t, () =>
      c.admin('PATCH', `/admin/programs/${program}`, { sponsor_bank_account_currency: 'XXX' }),
    );
    expect(refused.status).toBe(400);
  });

  it('records envelope create, amend, cancel and disbursement create, cancel — once, without beneficiary data', async () => {
    const res = await c.call('create_disbursement_envelope', envelopeMessage(program), {
      message_id: 'audit-env-1',
      sender_id: 'pbms-audit',
    });
    const envelope = res.body.message.disbursement_envelope_id as string;
    // A replay is answered from the stored answer and records nothing more.
    await c.call('create_disbursement_envelope', envelopeMessage(program), {
      message_id: 'audit-env-1',
      sender_id: 'pbms-audit',
    });
    const amended = await c.call('amend_disbursement_envelope', {
      disbursement_envelope_id: envelope,
      total_disbursement_amount: 450.5,
    });
    expect(amended.body.header.status).toBe('succ');
    const created = await c.call('create_disbursements', [
      disbursement(envelope, {
        beneficiary_name: NAME,
        disbursement_amount: 100.25,
        disbursement_id: 'AUD-1',
      }),
      disbursement(envelope, { beneficiary_name: NAME, disbursement_amount: 50, disbursement_id: 'AUD-2' }),
    ]);
    expect(created.body.header.status).toBe('succ');
    const cancelled = await c.call('cancel_disbursements', [{ disbursement_id: 'AUD-2' }]);
    expect(cancelled.body.header.status).toBe('succ');
    // Refused calls record nothing.
    await expectUnchanged(t, () => c.call('cancel_disbursements', [{ disbursement_id: 'AUD-2' }]));
    await expectUnchanged(t, () =>
      c.call('create_disbursements', [disbursement(envelope, { disbursement_amount: -1 })]),
    );
    const cancelEnvelope = await c.call('cancel_disbursement_envelope', {
      disbursement_envelope_id: envelope,
    });
    expect(cancelEnvelope.body.header.status).toBe('succ');

    const trail = await rows('envelope_id = $1', [envelope]);
    expect(trail.map((r) => r.action)).toEqual([
      'create_disbursement_envelope',
      'amend_disbursement_envelope',
      'create_disbursements',
      'cancel_disbursements',
      'cancel_disbursement_envelope',
    ]);
    for (const r of trail) {
      expect(r).toMatchObject({ subject: 'pbms', roles: ['pbms'], program, envelope_id: envelope });
      expect(r.request_id).toEqual(expect.any(String));
      expect(r.message_id).toEqual(expect.any(String));
    }
    expect(trail[0]).toMatchObject({
      sender_id: 'pbms-audit',
      message_id: 'audit-env-1',
      target_ids: [envelope],
      summary: { number_of_disbursements: 3, total_disbursement_amount: '300.00', currency: 'USD' },
    });
    expect(trail[1]!.summary).toEqual({
      changed: { total_disbursement_amount: { from: '300.00', to: '450.50' } },
    });
    expect(trail[2]!.summary).toEqual({ count: 2, amount: '150.25', currency: 'USD' });
    expect(trail[2]!.target_ids).toHaveLength(1); // the bank batch of the call
    expect(trail[3]).toMatchObject({
      target_ids: ['AUD-2'],
      summary: { count: 1, amount: '50.00', currency: 'USD' },
    });
    expect(trail[4]!.summary).toMatchObject({ disbursements_cancelled: 1 });
    const { rows: text } = await t.ctx.db.query<{ all: string }>(
      `SELECT string_agg(x::text, '|') AS "all" FROM audit_event x`,
    );
    expect(text[0]!.all).not.toContain('Zyxwv');
  });

  it('records a statement upload with its accounts', async () => {
    const boundary = '----audit';
    const text = ':20:S\r\n:25:SOMEACCOUNT\r\n:28C:1/1\r\n:60F:C300310USD0,00\r\n:62F:C300310USD0,00\r\n-';
    const res = await t.app.inject({
      method: 'POST',
      url: '/upload_mt940',
      headers: {
        authorization: `Bearer ${await c.tokenFor('bank')}`,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'x-request-id': 'req-upload-1',
      },
      payload:
        `--${boundary}\r\nContent-Disposition: form-data; name="statement_file"; filename="s"\r\n\r\n` +
        `${text}\r\n--${boundary}--\r\n`,
    });
    const id = res.json().statement_id as string;
    const trail = await rows('action = $1', ['upload_mt940']);
    expect(trail).toHaveLength(1);
    expect(trail[0]).toMatchObject({
      subject: 'bank',
      roles: ['bank'],
      request_id: 'req-upload-1',
      target_ids: [id],
      summary: { statement_id: id, accounts: ['SOMEACCOUNT'], programs: [] },
    });
  });

  it('is append-only: updates and deletes are refused; only the retention purge removes old rows', async () => {
    await expect(t.ctx.db.query(`UPDATE audit_event SET subject = 'someone-else'`)).rejects.toThrow(
      /append-only/,
    );
    await expect(t.ctx.db.query('DELETE FROM audit_event')).rejects.toThrow(/append-only/);
    const before = (await rows()).length;
    expect(before).toBeGreaterThan(0);
    await t.ctx.db.query(
      `INSERT INTO audit_event (at, subject, roles, action, summary)
       VALUES (now() - interval '40 days', 'old', '{pbms}', 'create_disbursements', '{}')`,
    );
    expect(await purgeAudit(t.ctx.db, 0)).toBe(0);
    expect(await purgeAudit(t.ctx.db, 30)).toBe(1);
    expect((await rows()).length).toBe(before);
    // The purge's permission ends with its transaction.
    await expect(t.ctx.db.query('DELETE FROM audit_event')).rejects.toThrow(/append-only/);
  });

  it('shows an envelope trail on its dashboard page and exports the trail as CSV', async () => {
    const envelope = await addEnvelope(c, program);
    const admin = await c.tokenFor('admin');
    const page = await t.app.inject({
      method: 'GET',
      url: `/dashboard/envelopes/${envelope}`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Audit trail');
    expect(page.body).toContain('create_disbursement_envelope');
    const csv = await t.app.inject({
      method: 'GET',
      url: `/dashboard/envelopes/${envelope}/audit.csv`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/text\/csv/);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe(
      'id,at,subject,roles,sender_id,request_id,message_id,action,program,envelope_id,target_ids,summary',
    );
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('create_disbursement_envelope');
    const all = await t.app.inject({
      method: 'GET',
      url: '/dashboard/audit.csv',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(all.body.trim().split('\r\n').length).toBe((await rows()).length + 1);
    const auditPage = await t.app.inject({
      method: 'GET',
      url: '/dashboard/audit',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(auditPage.statusCode).toBe(200);
    expect(auditPage.body).toContain('upload_mt940');
    // The whole trail is for operators: a PBMS token sees its envelopes' trail, not the audit page.
    const pbms = await t.app.inject({
      method: 'GET',
      url: '/dashboard/audit.csv',
      headers: { authorization: `Bearer ${await c.tokenFor('pbms')}`, accept: 'application/json' },
    });
    expect(pbms.statusCode).toBe(403);
  });
});
