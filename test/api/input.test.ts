// Bad input gets a clear 4xx, never a 500, and never lands in the logs (issue 9 §4): lone surrogates,
// JSON numbers a double would round, and G2P headers that do not describe their request.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createContext } from '../../src/app.js';
import { localSecret, mintToken } from '../../src/auth/index.js';
import { loadConfig } from '../../src/config/index.js';
import { jsonTextProblem } from '../../src/g2p/json.js';
import { createLogger } from '../../src/logger.js';
import { testDb } from '../support/db.js';
import { addEnvelope, addProgram, type Client, disbursement, expectUnchanged, g2p, NOW } from './helpers.js';

/** The bridge API with its log captured, as an operator would read it. */
async function appWithLog(overrides: Record<string, string> = {}) {
  const db = await testDb();
  const config = loadConfig({ LOG_LEVEL: 'info', JWT_SECRET: 'test-secret-0123456789abcdef', ...overrides });
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const ctx = await createContext(config, db, createLogger('info', 'g2p-bridge', sink), () => new Date(NOW));
  const app = await createApp(ctx);
  await app.ready();
  const secret = await localSecret(config, db);
  const tokens = {
    pbms: await mintToken(secret, { roles: ['pbms'] }),
    admin: await mintToken(secret, { roles: ['admin'] }),
  };
  return { app, db, ctx, lines, tokens };
}

type Harness = Awaited<ReturnType<typeof appWithLog>>;

function clientOf(h: Harness): Client {
  const send = async (method: string, url: string, token: string, payload?: unknown) => {
    const res = await h.app.inject({
      method: method as 'POST',
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload === undefined ? {} : { payload: payload as object }),
    });
    return { status: res.statusCode, body: res.json() };
  };
  return {
    call: (action: string, message: unknown, header: Record<string, unknown> = {}) =>
      send('POST', `/${action}`, h.tokens.pbms, g2p(action, message, header)),
    raw: async (action: string, payload: unknown, headers: Record<string, string> = {}) => {
      const res = await h.app.inject({
        method: 'POST',
        url: `/${action}`,
        headers: { authorization: `Bearer ${h.tokens.pbms}`, 'content-type': 'application/json', ...headers },
        payload: payload as string,
      });
      return { status: res.statusCode, body: res.json() };
    },
    admin: (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
      send(method, url, h.tokens.admin, payload),
    tokenFor: async (role: 'pbms' | 'bank' | 'admin') => (role === 'admin' ? h.tokens.admin : h.tokens.pbms),
  };
}

describe('bad input is a 4xx and stays out of the logs', () => {
  let h: Harness;
  let c: Client;
  let envelope: string;
  let program: string;
  beforeAll(async () => {
    h = await appWithLog();
    c = clientOf(h);
    program = await addProgram(c);
    envelope = await addEnvelope(c, program, { number_of_disbursements: 100, number_of_beneficiaries: 100 });
  });
  afterAll(async () => {
    await h.app.close();
    await h.db.close();
  });
  const t = () => ({ ctx: h.ctx }) as Parameters<typeof expectUnchanged>[0];

  it('answers a lone UTF-16 surrogate with 400 INVALID_REQUEST and logs none of the item', async () => {
    const item = disbursement(envelope, {
      beneficiary_id: 'BEN-SECRET-4711',
      beneficiary_name: 'Ada\ud800Lovelace',
      narrative: 'narrative-secret-0815',
    });
    const body = JSON.stringify(g2p('create_disbursements', [item]));
    expect(body).toContain('\\ud800');
    const res = await expectUnchanged(t(), () => c.raw('create_disbursements', body));
    expect(res.status).toBe(400);
    expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: 'INVALID_REQUEST' });
    expect(res.body.header.status_reason_message).toMatch(/surrogate/);
    const log = h.lines.join('');
    for (const secret of ['BEN-SECRET-4711', 'Lovelace', 'narrative-secret-0815'])
      expect(log).not.toContain(secret);
    expect(log).not.toMatch(/"level":50/);
  });

  it('accepts a well-formed surrogate pair (an emoji) and an escaped backslash before "u"', async () => {
    const res = await c.call('create_disbursements', [
      disbursement(envelope, { beneficiary_name: 'Ada 😀 \\ud800 Lovelace' }),
    ]);
    expect(res.status).toBe(200);
    expect(res.body.header.status).toBe('succ');
    expect(res.body.message[0].beneficiary_name).toBe('Ada 😀 \\ud800 Lovelace');
  });

  it("counts a string's length in characters, as JSON Schema does: 1,000 emoji fit, 1,001 letters do not", async () => {
    const own = await addEnvelope(c, program, { number_of_disbursements: 1, number_of_beneficiaries: 1 });
    const emoji = '😀'.repeat(1000);
    const ok = await c.call('create_disbursements', [disbursement(own, { beneficiary_name: emoji })]);
    expect(ok.body.header.status).toBe('succ');
    expect(ok.body.message[0].beneficiary_name).toBe(emoji);
    const body = JSON.stringify(
      g2p('create_disbursements', [disbursement(own, { narrative: 'x'.repeat(1001) })]),
    );
    const res = await expectUnchanged(t(), () => c.raw('create_disbursements', body));
    expect(res.status).toBe(400);
    expect(res.body.header.status_reason_message).toContain(
      'narrative must NOT have more than 1000 characters',
    );
  });

  it.each([
    ['99.999999999999999999', 'significant digits'],
    ['100.00999999999999999', 'significant digits'],
    ['12345678901234567', 'significant digits'],
    ['1.00e0', 'exponent'],
    ['1E2', 'exponent'],
  ])('refuses the JSON number %s instead of rounding it', async (amount, why) => {
    const item = JSON.stringify(disbursement(envelope, { disbursement_amount: 0 })).replace(
      '"disbursement_amount":0',
      `"disbursement_amount":${amount}`,
    );
    const body = JSON.stringify(g2p('create_disbursements', ['ITEM'])).replace('"ITEM"', item);
    const res = await expectUnchanged(t(), () => c.raw('create_disbursements', body));
    expect(res.status).toBe(400);
    expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: 'INVALID_REQUEST' });
    expect(res.body.header.status_reason_message).toContain(why);
  });

  it('keeps exact numbers exact, and takes long amounts as decimal strings', async () => {
    const res = await c.call('create_disbursements', [
      disbursement(envelope, { disbursement_amount: 100.5 }),
      disbursement(envelope, { disbursement_amount: 0.1 }),
      disbursement(envelope, { disbursement_amount: '1.10' }),
    ]);
    expect(res.body.header.status).toBe('succ');
    expect(res.body.message.map((m: { disbursement_amount: number }) => m.disbursement_amount)).toEqual([
      100.5, 0.1, 1.1,
    ]);
    const tooPrecise = await c.call('create_disbursements', [
      disbursement(envelope, { disbursement_amount: '99.999999999999999999' }),
    ]);
    expect(tooPrecise.body.header.status).toBe('rjct');
    expect(tooPrecise.body.message[0].response_error_codes).toEqual(['INVALID_DISBURSEMENT_AMOUNT']);
  });

  it('never logs SQL parameters or row details of a failing query', async () => {
    const failing = await h.db.query('SELECT $1::int', ['Grace Hopper']).catch((e: unknown) => e);
    expect(failing).toBeInstanceOf(Error);
    expect(JSON.stringify({ ...(failing as object) })).not.toContain('Grace Hopper');
    expect((failing as Record<string, unknown>).params).toBeUndefined();
    const lines: string[] = [];
    const log = createLogger(
      'info',
      'x',
      new Writable({
        write(chunk, _e, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const err = Object.assign(new Error('boom'), {
      params: ['Grace Hopper'],
      detail: 'Failing row contains (Grace Hopper)',
      cause: Object.assign(new Error('inner'), { params: ['Grace Hopper'] }),
    });
    log.error({ err, body: { name: 'Grace Hopper' } }, 'failed');
    expect(lines.join('')).toContain('boom');
    expect(lines.join('')).not.toContain('Grace Hopper');
  });
});

describe('the G2P header must describe its request', () => {
  let h: Harness;
  let c: Client;
  let envelope: string;
  beforeAll(async () => {
    h = await appWithLog();
    c = clientOf(h);
    envelope = await addEnvelope(c, await addProgram(c));
  });
  afterAll(async () => {
    await h.app.close();
    await h.db.close();
  });
  const t = () => ({ ctx: h.ctx }) as Parameters<typeof expectUnchanged>[0];

  it.each([
    [{ action: 'cancel_disbursements' }, 'rjct.action.invalid'],
    [{ total_count: 5 }, 'rjct.total_count.invalid'],
    [{ total_count: 0 }, 'rjct.total_count.invalid'],
    [{ message_ts: 'yesterday' }, 'rjct.message_ts.invalid'],
    [{ message_ts: '2030-02-30T10:00:00Z' }, 'rjct.message_ts.invalid'],
    [{ is_msg_encrypted: true }, 'rjct.encryption.not_supported'],
  ])('refuses %j with %s, answering the route’s own action', async (header, code) => {
    const res = await expectUnchanged(t(), () =>
      c.call('create_disbursements', [disbursement(envelope)], header),
    );
    expect(res.status).toBe(400);
    expect(res.body.header).toMatchObject({
      status: 'rjct',
      status_reason_code: code,
      action: 'create_disbursements',
    });
  });

  it('checks read calls too, and counts a single message as one item', async () => {
    const wrong = await c.call('get_disbursement_envelope_status', envelope, { action: 'x' });
    expect(wrong.status).toBe(400);
    expect(wrong.body.header.status_reason_code).toBe('rjct.action.invalid');
    const ok = await c.call('get_disbursement_envelope_status', envelope);
    expect(ok.body.header).toMatchObject({ status: 'succ', action: 'get_disbursement_envelope_status' });
    const zoned = await c.call('get_disbursement_envelope_status', envelope, {
      message_ts: '2030-03-10T12:00:00.123+05:30',
    });
    expect(zoned.body.header.status).toBe('succ');
  });

  it('lets a legacy client through with G2P_LENIENT_HEADER=true', async () => {
    const lenient = await appWithLog({ G2P_LENIENT_HEADER: 'true' });
    try {
      const lc = clientOf(lenient);
      const env = await addEnvelope(lc, await addProgram(lc));
      const res = await lc.call('create_disbursements', [disbursement(env)], {
        action: 'something_else',
        total_count: 7,
        message_ts: 'not a time',
      });
      expect(res.status).toBe(200);
      expect(res.body.header).toMatchObject({ status: 'succ', action: 'create_disbursements' });
      // Leniency never extends to a message it cannot read.
      const encrypted = await lc.call('create_disbursements', [disbursement(env)], {
        is_msg_encrypted: true,
      });
      expect(encrypted.status).toBe(400);
      expect(encrypted.body.header.status_reason_code).toBe('rjct.encryption.not_supported');
    } finally {
      await lenient.app.close();
      await lenient.db.close();
    }
  });
});

describe('jsonTextProblem', () => {
  it('reads numbers outside strings only, and pairs surrogate escapes', () => {
    expect(jsonTextProblem('{"a":"1e5 and 99.999999999999999999","b":[1,-2.5,0.000001]}')).toBeNull();
    expect(jsonTextProblem('{"a":"\\\\ud800"}')).toBeNull();
    expect(jsonTextProblem('{"a":"\\ud83d\\ude00"}')).toBeNull();
    expect(jsonTextProblem('{"a":"\\ud83d\\u0041"}')).toMatch(/surrogate/);
    expect(jsonTextProblem('{"a":"\\ude00"}')).toMatch(/surrogate/);
    expect(jsonTextProblem('{"a":"x\\ud83d"}')).toMatch(/surrogate/);
    expect(jsonTextProblem('[1.000000000000000000000]')).toBeNull();
    expect(jsonTextProblem('[0.0000000000000000001]')).toBeNull();
    expect(jsonTextProblem('[1234567890.123456]')).toMatch(/significant/);
    expect(jsonTextProblem('[-1e-3]')).toMatch(/exponent/);
  });

  it('reads a 10,000-item body in one pass', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => ({
      beneficiary_id: `B${i}`,
      beneficiary_name: `Name \\"${i}\\" ü`,
      disbursement_amount: 100.25 + i,
      narrative: 'x'.repeat(50),
    }));
    const text = JSON.stringify({ header: { total_count: 10_000 }, message: items });
    expect(jsonTextProblem(text)).toBeNull();
    expect(jsonTextProblem(text.replace('100.25', '1e2'))).toMatch(/exponent/);
  });
});

describe('create_disbursements refuses per item what the bank could not carry', () => {
  let h: Harness;
  let c: Client;
  let envelope: string;
  beforeAll(async () => {
    h = await appWithLog();
    c = clientOf(h);
    envelope = await addEnvelope(c, await addProgram(c), {
      number_of_disbursements: 10,
      number_of_beneficiaries: 10,
      total_disbursement_amount: '9000000000000.00',
    });
  });
  afterAll(async () => {
    await h.app.close();
    await h.db.close();
  });
  const t = () => ({ ctx: h.ctx }) as Parameters<typeof expectUnchanged>[0];

  it('gives a 36-character id and a 13-digit amount their own codes; the limits themselves pass', async () => {
    const res = await expectUnchanged(t(), () =>
      c.call('create_disbursements', [
        disbursement(envelope, { disbursement_id: 'I'.repeat(36) }),
        disbursement(envelope, { disbursement_amount: '1000000000000.00' }),
        disbursement(envelope, { disbursement_id: 'OK'.repeat(17) }),
      ]),
    );
    expect(res.body.header).toMatchObject({
      status: 'rjct',
      status_reason_code: 'INVALID_DISBURSEMENT_PAYLOAD',
    });
    expect(res.body.message.map((m: { response_error_codes: string[] }) => m.response_error_codes)).toEqual([
      ['DISBURSEMENT_ID_TOO_LONG_FOR_BANK'],
      ['DISBURSEMENT_AMOUNT_TOO_LARGE_FOR_BANK'],
      [],
    ]);
    const ok = await c.call('create_disbursements', [
      disbursement(envelope, { disbursement_id: 'J'.repeat(35) }),
      disbursement(envelope, { disbursement_amount: '999999999999.99' }),
    ]);
    expect(ok.body.header.status).toBe('succ');
  });
});
