// /upload_statement (issue 11 §3): MT940, camt.053 or camt.054 in the multipart form of /upload_mt940, with its
// answers, audit and bank scoping; the camt account scan refuses what it cannot read plainly.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { camt053, debit } from '../pipeline/camt-xml.js';
import { type TestApp, testApp } from '../support/app.js';
import { client, expectUnchanged } from './helpers.js';

const SECRET = new TextEncoder().encode('test-secret-0123456789abcdef');

function sign(subject: string, roles: string[], claims: Record<string, unknown> = {}) {
  return new SignJWT({ roles, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(SECRET);
}

const mt940 = (account: string) =>
  [
    ':20:STMT-UP',
    `:25:${account}`,
    ':28C:1/1',
    ':60F:C300310USD1000,00',
    ':61:3003100310D100,00NTRFB0000001//BANKREF1',
    ':62F:C300310USD900,00',
    '-',
  ].join('\r\n');

function multipart(content: Buffer) {
  const boundary = '----g2pupload';
  return {
    payload: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="statement_file"; filename="s.xml"\r\n` +
          'Content-Type: application/octet-stream\r\n\r\n',
      ),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

describe('upload_statement', () => {
  let t: TestApp;
  let accountA: string;
  let accountOther: string;
  let ibanA: string;

  beforeAll(async () => {
    const tag = randomUUID().slice(0, 8).toUpperCase();
    [accountA, accountOther] = [`ACCA${tag}`, `ACCO${tag}`];
    ibanA = `GB29NWBK601613${tag}`;
    t = await testApp({ BANK_CONNECTORS: 'EXAMPLE=builtin:example,OTHER=builtin:example' });
    const c = client(t);
    for (const [mnemonic, account, bankCode] of [
      [`PA-${tag}`, accountA, 'EXAMPLE'],
      [`PI-${tag}`, ibanA, 'EXAMPLE'],
      [`PO-${tag}`, accountOther, 'OTHER'],
    ] as const) {
      const res = await c.admin('POST', '/admin/programs', {
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
  });
  afterAll(async () => t.close());

  const upload = async (token: string, text: string | Buffer, url = '/upload_statement') => {
    const { payload, contentType } = multipart(Buffer.isBuffer(text) ? text : Buffer.from(text));
    const res = await t.app.inject({
      method: 'POST',
      url,
      payload,
      headers: { authorization: `Bearer ${token}`, 'content-type': contentType },
    });
    return { status: res.statusCode, body: res.json() };
  };

  const row = async (id: string) => {
    const { rows } = await t.ctx.db.query<{ format: string | null; status: string; text: string }>(
      `SELECT s.statement_format AS format, s.statement_process_status AS status, l.statement_lob AS text
         FROM account_statement s JOIN account_statement_lob l USING (statement_id) WHERE statement_id = $1`,
      [id],
    );
    return rows[0]!;
  };

  it('stores camt.053, camt.054 and MT940 unchanged, with the format it detected, and audits the upload', async () => {
    const bank = await t.token('bank');
    const camt = camt053([{ account: accountA, entries: [debit('x1')] }]);
    const ntfctn = camt
      .replace(/camt\.053\.001\.08/, 'camt.054.001.08')
      .replace(/BkToCstmrStmt/g, 'BkToCstmrDbtCdtNtfctn')
      .replace(/<(\/?)Stmt>/g, '<$1Ntfctn>');
    for (const [text, format] of [
      [camt, 'CAMT053'],
      [ntfctn, 'CAMT054'],
      [mt940(accountA), 'MT940'],
    ] as const) {
      const res = await upload(bank, text);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.header).toMatchObject({ action: 'upload_statement', status: 'succ' });
      expect(res.body.message).toMatchObject({ statement_id: res.body.statement_id });
      expect(await row(res.body.statement_id)).toEqual({ format, status: 'PENDING', text });
      const { rows } = await t.ctx.db.query<{
        action: string;
        summary: { format: string; accounts: string[] };
      }>(`SELECT action, summary FROM audit_event WHERE $1 = ANY(target_ids)`, [res.body.statement_id]);
      expect(rows).toEqual([
        { action: 'upload_statement', summary: expect.objectContaining({ format, accounts: [accountA] }) },
      ]);
    }
  });

  it('keeps a file it cannot read, to end as ERROR with its problems; refuses what is not text', async () => {
    const bank = await t.token('bank');
    const cut = camt053([{ account: accountA, entries: [debit('x1')] }]).slice(0, 400);
    const kept = await upload(bank, cut);
    expect(kept.body.header.status).toBe('succ');
    expect(await row(kept.body.statement_id)).toMatchObject({ format: 'CAMT053', text: cut });
    const pain = '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>';
    const unknown = await upload(bank, pain);
    expect(unknown.body.header.status).toBe('succ');
    expect(await row(unknown.body.statement_id)).toMatchObject({ format: null, text: pain });
    const binary = await expectUnchanged(t, () => upload(bank, Buffer.from([0x3c, 0x00, 0xff, 0xfe])));
    expect(binary.body.header).toMatchObject({
      status: 'rjct',
      status_reason_code: 'STATEMENT_UPLOAD_ERROR',
    });
  });

  it('upload_mt940 keeps its answers and also takes camt', async () => {
    const bank = await t.token('bank');
    const res = await upload(bank, camt053([{ account: accountA, entries: [] }]), '/upload_mt940');
    expect(res.body.header).toMatchObject({ action: 'upload_mt940', status: 'succ' });
    expect((await row(res.body.statement_id)).format).toBe('CAMT053');
    const pbms = await t.token('pbms');
    expect((await upload(pbms, mt940(accountA))).status).toBe(403);
  });

  it("refuses a camt statement for another bank's account with 403 forbidden.account, however written", async () => {
    const bank = await sign('bank-x', ['bank'], { bank_codes: ['EXAMPLE'] });
    const own = camt053([{ account: accountA, entries: [debit('x1')] }]);
    const other = camt053([{ account: accountOther, entries: [] }]);
    const hostile = [
      other,
      camt053([{ account: 'NO-SUCH-ACCOUNT', entries: [] }]),
      camt053([
        { account: accountA, entries: [] },
        { account: accountOther, entries: [] },
      ]),
      // The parser reads these as accountOther; the scan must not read them as accountA or not at all.
      own.replace(
        `<Id>${accountA}</Id>`,
        `<Id>${accountOther.slice(0, 4)}<!-- -->${accountOther.slice(4)}</Id>`,
      ),
      own.replace(`<Id>${accountA}</Id>`, `<Id><![CDATA[${accountOther}]]></Id>`),
      own.replace(
        `<Id>${accountA}</Id>`,
        `<Id>&#${accountOther.charCodeAt(0)};${accountOther.slice(1)}</Id>`,
      ),
      own
        .replace('<Acct>', '<c:Acct xmlns:c="x">')
        .replace('</Acct>', '</c:Acct>')
        .replace(accountA, accountOther),
      // No account at all cannot be checked.
      own.replace(/<Acct>[\s\S]*?<\/Acct>/, ''),
      own.replace('</Acct>', ''),
    ];
    for (const text of hostile) {
      const res = await expectUnchanged(t, () => upload(bank, text));
      expect(res.status, text).toBe(403);
      expect(res.body).toMatchObject({
        header: { status: 'rjct', status_reason_code: 'forbidden.account', action: 'upload_statement' },
        statement_id: null,
      });
    }
    expect((await upload(bank, own)).status).toBe(200);
    // An owner's id beside the account is no account; an IBAN is.
    const withOwner = own.replace(
      '<Ccy>USD</Ccy></Acct>',
      '<Ccy>USD</Ccy><Ownr><Nm>Ministry &amp; Co</Nm><Id><OrgId><Othr><Id>ORG-1</Id></Othr></OrgId></Id></Ownr></Acct>',
    );
    expect((await upload(bank, withOwner)).status).toBe(200);
    const iban = camt053([{ account: ibanA, iban: true, entries: [] }]);
    expect((await upload(bank, iban)).status).toBe(200);
    const otherBank = await sign('bank-o', ['bank'], { bank_codes: ['OTHER'] });
    expect((await upload(otherBank, other)).status).toBe(200);
    expect((await upload(otherBank, own)).status).toBe(403);
  });
});

describe('return reasons (admin)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(async () => t.close());

  const as = async (token: string, method: 'GET' | 'PUT' | 'DELETE', url: string, payload?: unknown) => {
    const res = await t.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(payload ? { payload: payload as object } : {}),
    });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  };

  it('lists the defaults, sets, replaces and deletes a mapping, audited; only for admins', async () => {
    const admin = await t.token('admin');
    const list = await as(admin, 'GET', '/admin/return_reasons');
    expect(list.status).toBe(200);
    const defaults = Object.fromEntries(
      list.body.return_reasons.map((r: { return_code: string; reversal_reason: string }) => [
        r.return_code,
        r.reversal_reason,
      ]),
    );
    expect(defaults).toMatchObject({
      AC01: 'ACCOUNT_NOT_FOUND',
      AC04: 'ACCOUNT_CLOSED',
      AC06: 'ACCOUNT_DORMANT',
      AM04: 'INSUFFICIENT_FUNDS',
      MD07: 'ACCOUNT_DECEASED',
    });
    for (const code of ['AG01', 'BE04', 'MS02', 'MS03', 'RR01', 'RR02', 'RR03', 'RR04'])
      expect(defaults[code]).toEqual(expect.any(String));
    const set = await as(admin, 'PUT', '/admin/return_reasons/ac04', { reversal_reason: 'CLOSED_BY_BANK' });
    expect(set).toMatchObject({
      status: 200,
      body: { return_code: 'AC04', reversal_reason: 'CLOSED_BY_BANK' },
    });
    expect(
      (await as(admin, 'PUT', '/admin/return_reasons/X1', { reversal_reason: 'has blanks' })).status,
    ).toBe(400);
    expect((await as(admin, 'PUT', '/admin/return_reasons/A%20B', { reversal_reason: 'OK' })).status).toBe(
      400,
    );
    expect((await as(admin, 'DELETE', '/admin/return_reasons/AC04')).status).toBe(204);
    expect((await as(admin, 'DELETE', '/admin/return_reasons/AC04')).status).toBe(404);
    const { rows } = await t.ctx.db.query<{ action: string }>(
      `SELECT action FROM audit_event WHERE 'AC04' = ANY(target_ids) ORDER BY id`,
    );
    expect(rows.map((r) => r.action)).toEqual(['set_return_reason', 'delete_return_reason']);
    const bank = await t.token('bank');
    expect((await as(bank, 'PUT', '/admin/return_reasons/AC01', { reversal_reason: 'X' })).status).toBe(403);
  });
});
