// The G2P envelope as a PBMS meets it: authentication, malformed requests, idempotent replays.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containsNul } from '../../src/api/server.js';
import { type TestApp, testApp } from '../support/app.js';
import {
  addEnvelope,
  addProgram,
  type Client,
  client,
  disbursement,
  envelopeMessage,
  expectUnchanged,
  g2p,
  NOW,
} from './helpers.js';

describe('PBMS protocol', () => {
  let t: TestApp;
  let c: Client;
  let program: string;
  beforeAll(async () => {
    t = await testApp({ MAX_BODY_BYTES: String(256 * 1024) });
    t.setNow(NOW);
    c = client(t);
    program = await addProgram(c);
  });
  afterAll(async () => t.close());

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url, payload: payload as string, headers });

  it('refuses calls without a token (401) and with the wrong role (403)', async () => {
    const body = g2p('create_disbursement_envelope', envelopeMessage(program));
    const none = await expectUnchanged(t, () => post('/create_disbursement_envelope', body));
    expect(none.statusCode).toBe(401);
    const bad = await post('/create_disbursement_envelope', body, { authorization: 'Bearer not-a-jwt' });
    expect(bad.statusCode).toBe(401);
    const bank = await expectUnchanged(t, async () =>
      post('/create_disbursement_envelope', body, { authorization: `Bearer ${await c.tokenFor('bank')}` }),
    );
    expect(bank.statusCode).toBe(403);
    const admin = await post('/get_disbursement_status', g2p('get_disbursement_status', ['x']), {
      authorization: `Bearer ${await c.tokenFor('admin')}`,
    });
    expect(admin.statusCode).toBe(403);
    const pbmsOnAdmin = await t.app.inject({
      method: 'GET',
      url: '/admin/programs',
      headers: { authorization: `Bearer ${await c.tokenFor('pbms')}` },
    });
    expect(pbmsOnAdmin.statusCode).toBe(403);
    const pbmsOnUpload = await post('/upload_mt940', 'x', {
      authorization: `Bearer ${await c.tokenFor('pbms')}`,
    });
    expect(pbmsOnUpload.statusCode).toBe(403);
  });

  it('answers malformed JSON with HTTP 400 INVALID_REQUEST', async () => {
    const res = await expectUnchanged(t, () =>
      c.raw('create_disbursements', '{"header": {"message_id": "m1", ', {
        'content-type': 'application/json',
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: 'INVALID_REQUEST' });
  });

  it('answers wrong types with HTTP 400 INVALID_REQUEST', async () => {
    for (const [action, message] of [
      ['create_disbursement_envelope', envelopeMessage(program, { number_of_beneficiaries: 'three' })],
      ['create_disbursement_envelope', envelopeMessage(program, { total_disbursement_amount: true })],
      ['create_disbursements', { not: 'a list' }],
      ['create_disbursements', [disbursement('e', { disbursement_amount: [1] })]],
      ['get_disbursement_envelope_status', 42],
    ] as const) {
      const res = await expectUnchanged(t, () => c.call(action, message));
      expect(res.status, `${action} ${JSON.stringify(message)}`).toBe(400);
      expect(res.body.header.status_reason_code).toBe('INVALID_REQUEST');
    }
    const noHeader = await c.raw('create_disbursements', JSON.stringify({ message: [] }), {
      'content-type': 'application/json',
    });
    expect(noHeader.status).toBe(400);
  });

  it('answers an unknown enum value and an unknown field with HTTP 400', async () => {
    const freq = await expectUnchanged(t, () =>
      c.call('create_disbursement_envelope', envelopeMessage(program, { disbursement_frequency: 'Hourly' })),
    );
    expect(freq.status).toBe(400);
    expect(freq.body.header.status_reason_code).toBe('INVALID_REQUEST');
    const field = await c.call('create_disbursement_envelope', envelopeMessage(program, { total_amount: 5 }));
    expect(field.status).toBe(400);
  });

  it('answers NUL characters (which PostgreSQL text cannot hold) with HTTP 400, not 500', async () => {
    const envelope = await addEnvelope(c, program);
    for (const [action, message, header] of [
      [
        'create_disbursement_envelope',
        envelopeMessage(program, { cycle_code_mnemonic: 'MAR\u00002030' }),
        {},
      ],
      ['create_disbursements', [disbursement(envelope, { beneficiary_name: 'Ana\u0000' })], {}],
      ['cancel_disbursements', [{ disbursement_id: 'B\u0000' }], {}],
      ['get_disbursement_envelope_status', `${envelope}\u0000`, {}],
      ['get_disbursement_status', ['B\u0000'], {}],
      ['create_disbursement_envelope', envelopeMessage(program), { message_id: 'nul\u0000id' }],
    ] as const) {
      const res = await expectUnchanged(t, () => c.call(action, message, header));
      expect(res.status, action).toBe(400);
      expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: 'INVALID_REQUEST' });
    }
    const admin = await c.admin('PATCH', '/admin/programs/P%00', { benefit_program_name: 'x' });
    expect(admin.status).toBe(400);
    expect(admin.body.error).toBe('INVALID_REQUEST');
  });

  it('looks for NUL characters only in parsed JSON, never inside a raw body such as a stream', () => {
    class Raw {
      text = 'a\u0000';
      self: unknown = this; // a stream reaches itself through its socket
    }
    expect(containsNul({ body: new Raw() })).toBe(false);
    expect(containsNul(Object.assign(Object.create(null), { q: 'a\u0000' }))).toBe(true);
  });

  it('looks for NUL characters in very long lists and deep nesting without overflowing the stack', () => {
    expect(containsNul({ message: new Array(2_000_000).fill(0) })).toBe(false);
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(containsNul(deep)).toBe(true);
  });

  it('answers a body over MAX_BODY_BYTES with HTTP 413 and stores nothing', async () => {
    const envelope = await addEnvelope(c, program, {
      number_of_disbursements: 5000,
      total_disbursement_amount: 500000,
    });
    const items = Array.from({ length: 3000 }, () => disbursement(envelope));
    const res = await expectUnchanged(t, () => c.call('create_disbursements', items));
    expect(res.status).toBe(413);
    expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: 'REQUEST_TOO_LARGE' });
  });

  it('answers a replayed request with the first answer and writes nothing', async () => {
    const envelope = await addEnvelope(c, program);
    const header = { message_id: 'replay-1', sender_id: 'pbms-a' };
    const items = [
      disbursement(envelope, { beneficiary_id: 'R1' }),
      disbursement(envelope, { beneficiary_id: 'R2' }),
    ];
    const first = await c.call('create_disbursements', items, header);
    expect(first.body.header.status).toBe('succ');
    const replay = await expectUnchanged(t, () =>
      c.call('create_disbursements', items, { ...header, message_ts: '2030-03-10T13:00:00Z' }),
    );
    expect(replay.body).toEqual(first.body);

    // Same id, different request: refused. Another sender may use the same message id.
    const different = await expectUnchanged(t, () =>
      c.call('create_disbursements', [disbursement(envelope, { beneficiary_id: 'R3' })], header),
    );
    expect(different.body.header).toMatchObject({
      status: 'rjct',
      status_reason_code: 'rjct.message_id.duplicate',
    });
    const otherAction = await c.call(
      'cancel_disbursements',
      [{ disbursement_id: first.body.message[0].disbursement_id }],
      header,
    );
    expect(otherAction.body.header.status_reason_code).toBe('rjct.message_id.duplicate');
    const otherSender = await c.call('create_disbursements', [disbursement(envelope)], {
      ...header,
      sender_id: 'pbms-b',
    });
    expect(otherSender.body.header.status).toBe('succ');

    const status = await c.call('get_disbursement_envelope_status', envelope);
    expect(status.body.message.number_of_disbursements_received).toBe(3);
  });

  it('replays an envelope creation with the id it assigned, whatever the key order', async () => {
    const header = { message_id: 'replay-envelope', sender_id: 'pbms-a' };
    const message = envelopeMessage(program);
    const first = await c.call('create_disbursement_envelope', message, header);
    expect(first.body.header.status).toBe('succ');
    const reordered = Object.fromEntries(Object.entries(message).reverse());
    const replay = await expectUnchanged(t, () => c.call('create_disbursement_envelope', reordered, header));
    expect(replay.body.message.disbursement_envelope_id).toBe(first.body.message.disbursement_envelope_id);
    const { rows } = await t.ctx.db.query<{ n: number }>(
      'SELECT count(*) AS n FROM disbursement_envelope WHERE disbursement_envelope_id = $1',
      [first.body.message.disbursement_envelope_id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('refuses more status ids than MAX_DISBURSEMENTS_PER_REQUEST', async () => {
    const small = await testApp({ MAX_DISBURSEMENTS_PER_REQUEST: '3' });
    try {
      const k = client(small);
      const res = await k.call('get_disbursement_status', ['a', 'b', 'c', 'd']);
      expect(res.body.header).toMatchObject({
        status: 'rjct',
        status_reason_code: 'rjct.total_count.limit_exceeded',
      });
      expect((await k.call('get_disbursement_status', ['a', 'b', 'c'])).body.header.status).toBe('succ');
    } finally {
      await small.close();
    }
  });

  it('does not remember rejected calls: the corrected retry with the same message id succeeds', async () => {
    const header = { message_id: 'retry-after-reject', sender_id: 'pbms-a' };
    const bad = await c.call('create_disbursement_envelope', envelopeMessage('NOPE'), header);
    expect(bad.body.header.status).toBe('rjct');
    const good = await c.call('create_disbursement_envelope', envelopeMessage(program), header);
    expect(good.body.header.status).toBe('succ');
  });

  it('echoes the request message id and swaps sender and receiver in the answer header', async () => {
    const res = await c.call('create_disbursement_envelope', envelopeMessage(program), {
      message_id: 'echo-1',
      sender_id: 'pbms-x',
      receiver_id: 'bridge-y',
    });
    expect(res.body.header).toMatchObject({
      message_id: 'echo-1',
      sender_id: 'bridge-y',
      receiver_id: 'pbms-x',
    });
  });

  it('answers ping without a token and documents the calls at /docs', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/ping' })).statusCode).toBe(200);
    const spec = t.app.swagger() as { paths: Record<string, unknown>; tags?: unknown };
    for (const path of [
      '/create_disbursement_envelope',
      '/amend_disbursement_envelope',
      '/cancel_disbursement_envelope',
      '/create_disbursements',
      '/cancel_disbursements',
      '/get_disbursement_envelope_status',
      '/get_disbursement_status',
      '/upload_mt940',
      '/admin/programs',
    ]) {
      expect(spec.paths, path).toHaveProperty([path]);
    }
  });
});
