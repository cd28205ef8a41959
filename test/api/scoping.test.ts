// Scoped callers (issue 9 §3): a PBMS identity reaches only its programs, a bank identity only the accounts of
// its sponsor bank codes. Refusals are HTTP 403 with a forbidden.* code and change nothing.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { g2pRequest } from '../../src/api/g2p-request.js';
import { type TestApp, testApp } from '../support/app.js';
import { addEnvelope, client, disbursement, envelopeMessage, expectUnchanged, NOW } from './helpers.js';

const SECRET = new TextEncoder().encode('test-secret-0123456789abcdef');

function sign(subject: string, roles: string[], claims: Record<string, unknown> = {}) {
  return new SignJWT({ roles, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(SECRET);
}

function statement(account: string) {
  return [
    ':20:STMT-SCOPE',
    `:25:${account}`,
    ':28C:1/1',
    ':60F:C300310USD1000,00',
    ':61:3003100310D100,00NTRFB0000001//BANKREF1',
    ':86:March benefit',
    ':62F:C300310USD900,00',
    '-',
  ].join('\r\n');
}

function multipart(text: string) {
  const boundary = '----g2pscope';
  return {
    payload: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="statement_file"; filename="s.sta"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      Buffer.from(text),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

describe('scoped callers', () => {
  let t: TestApp;
  let programA: string;
  let programB: string;
  let programOther: string;
  let accountA: string;
  let accountOther: string;
  let envelopeB: string;
  let disbursementB: string;
  let misA: string; // claims: programs [A]
  let misConfigured: string; // scoped by CALLER_SCOPES to [A]
  let trusted: string; // unscoped pbms

  const as = async (
    token: string,
    action: string,
    message: unknown,
    header: Record<string, unknown> = {},
  ) => {
    const res = await t.app.inject({
      method: 'POST',
      url: `/${action}`,
      headers: { authorization: `Bearer ${token}` },
      payload: g2pRequest(action, message, 'pbms-a', { meta: null, ...header }),
    });
    return { status: res.statusCode, body: res.json() };
  };
  const upload = async (token: string, text: string) => {
    const { payload, contentType } = multipart(text);
    const res = await t.app.inject({
      method: 'POST',
      url: '/upload_mt940',
      payload,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    });
    return { status: res.statusCode, body: res.json() };
  };
  const expectForbidden = (res: { status: number; body: { header: unknown } }, code: string) => {
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: code });
  };

  beforeAll(async () => {
    const tag = randomUUID().slice(0, 8);
    [programA, programB, programOther] = [`PA-${tag}`, `PB-${tag}`, `PO-${tag}`];
    [accountA, accountOther] = [`ACCA${tag}`, `ACCO${tag}`];
    // CALLER_SCOPES is read once, at start.
    t = await testApp({
      CALLER_SCOPES: JSON.stringify({ 'mis-configured': { programs: [programA] } }),
      BANK_CONNECTORS: 'EXAMPLE=builtin:example,OTHER=builtin:example',
    });
    t.setNow(NOW);
    const c2 = client(t);
    for (const [mnemonic, account, bankCode] of [
      [programA, accountA, 'EXAMPLE'],
      [programB, `ACCB${tag}`, 'EXAMPLE'],
      [programOther, accountOther, 'OTHER'],
    ] as const) {
      const res = await c2.admin('POST', '/admin/programs', {
        benefit_program_mnemonic: mnemonic,
        benefit_program_name: mnemonic,
        funding_org_code: 'MOF',
        funding_org_name: 'Ministry',
        sponsor_bank_code: bankCode,
        sponsor_bank_account_number: account,
        sponsor_bank_account_currency: 'USD',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    misA = await sign('mis-a', ['pbms'], { programs: [programA] });
    misConfigured = await sign('mis-configured', ['pbms']);
    trusted = await sign('mis-trusted', ['pbms']);
    envelopeB = await addEnvelope(c2, programB);
    const created = await c2.call('create_disbursements', [disbursement(envelopeB)]);
    expect(created.body.header.status).toBe('succ');
    disbursementB = created.body.message[0].disbursement_id;
  });
  afterAll(async () => t.close());

  it('refuses an envelope for another program with 403 forbidden.program, by claim or by CALLER_SCOPES', async () => {
    for (const token of [misA, misConfigured]) {
      const res = await expectUnchanged(t, () =>
        as(token, 'create_disbursement_envelope', envelopeMessage(programB)),
      );
      expectForbidden(res, 'forbidden.program');
    }
  });

  it('lets a scoped caller work on its own program and records its subject beside sender_id', async () => {
    const res = await as(misA, 'create_disbursement_envelope', envelopeMessage(programA), {
      message_id: 'scoped-1',
    });
    expect(res.status).toBe(200);
    expect(res.body.header.status).toBe('succ');
    const id = res.body.message.disbursement_envelope_id;
    const { rows } = await t.ctx.db.query<{ sender_id: string; caller_subject: string }>(
      'SELECT sender_id, caller_subject FROM disbursement_envelope WHERE disbursement_envelope_id = $1',
      [id],
    );
    expect(rows[0]).toEqual({ sender_id: 'pbms-a', caller_subject: 'mis-a' });
    const stored = await t.ctx.db.query<{ caller_subject: string }>(
      `SELECT caller_subject FROM api_request WHERE sender_id = 'pbms-a' AND message_id = 'scoped-1'`,
    );
    expect(stored.rows[0]?.caller_subject).toBe('mis-a');
    const more = await as(misConfigured, 'create_disbursements', [disbursement(id)]);
    expect(more.body.header.status).toBe('succ');
    const status = await as(misA, 'get_disbursement_envelope_status', id);
    expect(status.body.header.status).toBe('succ');
  });

  it("refuses changes to another program's envelope and disbursements", async () => {
    const calls: Array<[string, unknown]> = [
      [
        'amend_disbursement_envelope',
        { disbursement_envelope_id: envelopeB, number_of_beneficiaries: 5, number_of_disbursements: 5 },
      ],
      ['cancel_disbursement_envelope', { disbursement_envelope_id: envelopeB }],
      ['create_disbursements', [disbursement(envelopeB)]],
      ['cancel_disbursements', [{ disbursement_id: disbursementB }]],
    ];
    for (const [action, message] of calls) {
      const res = await expectUnchanged(t, () => as(misA, action, message));
      expectForbidden(res, 'forbidden.program');
    }
  });

  it("refuses status queries of another program's envelope and disbursements", async () => {
    expectForbidden(await as(misA, 'get_disbursement_envelope_status', envelopeB), 'forbidden.program');
    expectForbidden(await as(misA, 'get_disbursement_status', [disbursementB]), 'forbidden.program');
    const trustedStatus = await as(trusted, 'get_disbursement_status', [disbursementB]);
    expect(trustedStatus.body.header.status).toBe('succ');
  });

  it("cannot read another caller's stored answer by replaying its message id", async () => {
    const first = await as(trusted, 'create_disbursement_envelope', envelopeMessage(programB), {
      message_id: 'trusted-1',
    });
    expect(first.body.header.status).toBe('succ');
    const replay = await expectUnchanged(t, () =>
      as(misA, 'create_disbursement_envelope', envelopeMessage(programB), { message_id: 'trusted-1' }),
    );
    expect(replay.body.header.status).toBe('rjct');
    expect(replay.body.message).toBeNull();
    const again = await as(trusted, 'create_disbursement_envelope', envelopeMessage(programB), {
      message_id: 'trusted-1',
    });
    expect(again.body).toEqual({
      ...first.body,
      header: { ...first.body.header, message_ts: again.body.header.message_ts },
    });
  });

  it("refuses a statement for another bank code's account with 403 forbidden.account", async () => {
    const bank = await sign('bank-x', ['bank'], { bank_codes: ['EXAMPLE'] });
    for (const text of [
      statement(accountOther),
      statement('NO-SUCH-ACCOUNT'),
      `${statement(accountA)}\r\n${statement(accountOther)}`,
    ]) {
      const res = await expectUnchanged(t, () => upload(bank, text));
      expect(res.status, JSON.stringify(res.body)).toBe(403);
      expect(res.body).toMatchObject({
        header: { status: 'rjct', status_reason_code: 'forbidden.account' },
        response_error_code: 'forbidden.account',
        statement_id: null,
      });
    }
    const own = await upload(bank, statement(accountA));
    expect(own.status).toBe(200);
    expect(own.body.header.status).toBe('succ');
    // The account as banks write it (bank code prefix, currency suffix) is still recognised.
    expect((await upload(bank, statement(`EXAMPLEBK/${accountA}/USD`))).body.header.status).toBe('succ');
    const other = await sign('bank-o', ['bank'], { bank_codes: ['OTHER'] });
    expect((await upload(other, statement(accountOther))).status).toBe(200);
    // An unscoped bank (the default: one trusted bank) may upload any statement.
    const unscoped = await sign('bank-any', ['bank']);
    expect((await upload(unscoped, statement(accountOther))).status).toBe(200);
  });

  it('keeps a PBMS caller scoped to programs out of the dashboard, which shows every program', async () => {
    const open = (token: string) =>
      t.app.inject({
        method: 'GET',
        url: '/dashboard',
        headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
      });
    expect((await open(misA)).statusCode).toBe(403);
    expect((await open(trusted)).statusCode).toBe(200);
    expect((await open(await sign('ops', ['admin', 'pbms'], { programs: [programA] }))).statusCode).toBe(200);
  });
});
