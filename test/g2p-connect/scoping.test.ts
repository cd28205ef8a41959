// A PBMS token scoped to some programs (issue 9 §3) reaches only their G2P Connect transactions: status of
// another program's transaction is refused (403 forbidden.program), and search finds nothing of it.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { g2pRequest } from '../../src/api/g2p-request.js';
import { NOW } from '../api/helpers.js';
import { type TestApp, testApp } from '../support/app.js';

const SECRET = new TextEncoder().encode('test-secret-0123456789abcdef');
const SENDER = 'pbms-gc';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies, inspected field by field
type Json = any;

function sign(subject: string, roles: string[], claims: Record<string, unknown> = {}) {
  return new SignJWT({ roles, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(SECRET);
}

describe('G2P Connect: program scope', () => {
  let t: TestApp;
  let programA: string;
  let accountA: string;
  let accountB: string;
  let scopedA: string;
  let trusted: string;

  const post = async (token: string, path: string, action: string, message: unknown, count = 1) => {
    const res = await t.app.inject({
      method: 'POST',
      url: path,
      headers: { authorization: `Bearer ${token}` },
      payload: g2pRequest(action, message, SENDER, { total_count: count }),
    });
    return { status: res.statusCode, body: res.json() as Json };
  };
  const disburse = (token: string, txn: string, account: string) =>
    post(token, '/disburse/sync/disburse', 'disburse', {
      transaction_id: txn,
      disbursements: [
        {
          reference_id: `${txn}-1`,
          payer_fa: `account:${account}@EXAMPLE`,
          payee_fa: `account:PAYEE-${txn}@OTHERBANK`,
          amount: '12.50',
        },
      ],
    });

  beforeAll(async () => {
    const tag = randomUUID().slice(0, 8);
    programA = `GA-${tag}`;
    const programB = `GB-${tag}`;
    [accountA, accountB] = [`GCA${tag}`, `GCB${tag}`];
    t = await testApp();
    t.setNow(NOW);
    const admin = await t.token('admin');
    for (const [mnemonic, account] of [
      [programA, accountA],
      [programB, accountB],
    ] as const) {
      const res = await t.app.inject({
        method: 'POST',
        url: '/admin/programs',
        headers: { authorization: `Bearer ${admin}` },
        payload: {
          benefit_program_mnemonic: mnemonic,
          benefit_program_name: mnemonic,
          funding_org_code: 'MOF',
          funding_org_name: 'Ministry',
          sponsor_bank_code: 'EXAMPLE',
          sponsor_bank_account_number: account,
          sponsor_bank_account_currency: 'USD',
        },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    scopedA = await sign('mis-a', ['pbms'], { programs: [programA] });
    trusted = await sign('mis-trusted', ['pbms']);
    for (const [txn, account] of [
      ['TXN-B', accountB],
      ['TXN-A', accountA],
    ] as const) {
      const res = await disburse(trusted, txn, account);
      expect(res.body.header.status, JSON.stringify(res.body)).toBe('succ');
    }
  });
  afterAll(async () => t.close());

  const status = (token: string, txn: string) =>
    post(token, '/disburse/sync/txn/status', 'status', {
      transaction_id: randomUUID(),
      txnstatus_request: {
        reference_id: 'q1',
        txn_type: 'disburse',
        attribute_type: 'transaction_id',
        attribute_value: txn,
      },
    });
  const search = (token: string, kind: 'payer_fa' | 'payee_fa', value: string) =>
    post(token, '/disburse/sync/search', 'search', {
      transaction_id: randomUUID(),
      search_criteria: [
        { reference_id: 'c1', request_type: 'disburse', attribute_type: kind, attribute_value: value },
      ],
    });

  it("refuses txn/status of another program's transaction with 403 forbidden.program", async () => {
    const res = await status(scopedA, 'TXN-B');
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: 'forbidden.program' });
    expect(JSON.stringify(res.body)).not.toContain('PAYEE-TXN-B');
    const own = await status(scopedA, 'TXN-A');
    expect(own.body.header.status, JSON.stringify(own.body)).toBe('succ');
    const all = await status(trusted, 'TXN-B');
    expect(all.body.header.status).toBe('succ');
  });

  it("finds nothing of another program's transactions by search", async () => {
    for (const [kind, value] of [
      ['payee_fa', 'account:PAYEE-TXN-B@OTHERBANK'],
      ['payer_fa', `account:${accountB}@EXAMPLE`],
    ] as const) {
      const res = await search(scopedA, kind, value);
      expect(res.body.message.disbursements_status, JSON.stringify(res.body)).toEqual([
        expect.objectContaining({ reference_id: 'c1', status: 'rjct' }),
      ]);
      expect(JSON.stringify(res.body)).not.toContain('TXN-B-1');
      const all = await search(trusted, kind, value);
      expect(all.body.message.disbursements_status[0].reference_id).toBe('TXN-B-1');
    }
    const own = await search(scopedA, 'payee_fa', 'account:PAYEE-TXN-A@OTHERBANK');
    expect(own.body.message.disbursements_status[0].reference_id).toBe('TXN-A-1');
  });
});
