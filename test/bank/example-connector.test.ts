// Contract tests of the example connector against the example bank on a real port: each operation, each
// failure mode (timeout, refused connection, HTTP 5xx, malformed answer), and idempotency across a lost answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExampleConnector } from '../../src/bank/example/connector.js';
import { BANK_ERROR } from '../../src/bank/index.js';
import { createLogger } from '../../src/logger.js';
import { decimalToMinor, formatMinorUnits } from '../../src/money/index.js';
import { type BankHarness, bankHarness, payment, unusedPort } from './harness.js';

let h: BankHarness;
const minor = (v: string) => decimalToMinor(v, 2);
const fromMinor = (v: bigint) => formatMinorUnits(v, 2);
let block: string;

beforeAll(async () => {
  h = await bankHarness({ EXAMPLE_BANK_STATEMENT_AFTER_PROCESSING: 'false' });
  await h.bank.openAccount({ accountNumber: 'FUND-A', currency: 'USD', openingBalance: '1000.00' });
  await h.bank.openAccount({ accountNumber: 'FUND-JPY', currency: 'JPY', openingBalance: '50000' });
  const r = await h.connector.blockFunds('FUND-A', 'USD', '300.00', 'ENV-A');
  if (r.status !== 'SUCCESS') throw new Error(`setup block failed: ${JSON.stringify(r)}`);
  block = r.blockReference;
});
afterAll(async () => h?.close());

const balances = async (account: string) => {
  const a = (await h.bank.getAccount(account))!;
  return { book: a.book_balance, available: a.available_balance, blocked: a.blocked_amount };
};

describe('check_funds', () => {
  it('answers FUNDS_AVAILABLE up to the available balance, FUNDS_NOT_AVAILABLE beyond it', async () => {
    // 1000.00 on the book, 300.00 blocked: 700.00 available.
    expect(await h.connector.checkFunds('FUND-A', 'USD', '700.00')).toEqual({ status: 'FUNDS_AVAILABLE' });
    expect(await h.connector.checkFunds('FUND-A', 'USD', '700.01')).toEqual({
      status: 'FUNDS_NOT_AVAILABLE',
    });
    expect(await h.connector.checkFunds('FUND-JPY', 'JPY', '50000')).toEqual({ status: 'FUNDS_AVAILABLE' });
  });

  it('passes the bank refusals through as error codes', async () => {
    expect(await h.connector.checkFunds('NOPE', 'USD', '1.00')).toMatchObject({
      status: 'FAILURE',
      errorCode: 'ACCOUNT_NOT_FOUND',
    });
    expect(await h.connector.checkFunds('FUND-A', 'EUR', '1.00')).toMatchObject({
      errorCode: 'CURRENCY_MISMATCH',
    });
    expect(await h.connector.checkFunds('FUND-JPY', 'JPY', '1.5')).toMatchObject({
      errorCode: 'INVALID_AMOUNT',
    });
    expect(await h.connector.checkFunds('FUND-A', 'USD', '-1')).toMatchObject({
      errorCode: 'INVALID_REQUEST',
    });
  });
});

describe('block_funds', () => {
  it('blocks once per idempotency key and answers a retry with the same reference', async () => {
    const before = await balances('FUND-A');
    const first = await h.connector.blockFunds('FUND-A', 'USD', '50.00', 'ENV-B');
    const again = await h.connector.blockFunds('FUND-A', 'USD', '50.00', 'ENV-B');
    expect(first.status).toBe('SUCCESS');
    expect(again).toEqual(first);
    const after = await balances('FUND-A');
    expect(after.blocked).toBe('350.00');
    expect(after.available).toBe('650.00');
    expect(after.book).toBe(before.book);
  });

  it('refuses more than the available balance, and a reused key with another amount', async () => {
    expect(await h.connector.blockFunds('FUND-A', 'USD', '100000.00', 'ENV-BIG')).toMatchObject({
      status: 'FAILURE',
      errorCode: 'INSUFFICIENT_FUNDS',
    });
    expect(await h.connector.blockFunds('FUND-A', 'USD', '51.00', 'ENV-B')).toMatchObject({
      errorCode: 'IDEMPOTENCY_CONFLICT',
    });
  });
});

describe('initiate_payment', () => {
  it('answers a NUL character with 400 INVALID_REQUEST, not a database failure', async () => {
    const bad = {
      ...payment({ remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block }),
      beneficiaryName: 'Ada\u0000',
    };
    const res = await fetch(`${h.url}/initiate_payment`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        batch_id: 'BATCH-NUL',
        payments: [{ disbursement_id: bad.disbursementId, beneficiary_name: bad.beneficiaryName }],
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ status: 'FAILURE', error_code: 'INVALID_REQUEST' });
  });

  it('acknowledges a batch at once and stores it once, however often it is sent', async () => {
    const payments = [1, 2, 3].map(() =>
      payment({ remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block, paymentAmount: '20.00' }),
    );
    expect(await h.connector.initiatePayment('BATCH-1', payments)).toEqual({ status: 'SUCCESS' });
    expect(await h.connector.initiatePayment('BATCH-1', payments)).toEqual({ status: 'SUCCESS' });
    // The same payments under another batch id are recognised by their reference.
    expect(await h.connector.initiatePayment('BATCH-1-RETRY', payments)).toEqual({ status: 'SUCCESS' });
    const { rows } = await h.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM example_bank.payment WHERE payment_reference = ANY($1::text[])`,
      [payments.map((p) => p.disbursementId)],
    );
    expect(rows[0]!.n).toBe(3);
    const batch = await fetch(`${h.url}/admin/batches/BATCH-1-RETRY`).then((r) => r.json());
    expect(batch).toMatchObject({ payment_count: 0, duplicate_count: 3, status: 'PROCESSED' });
  });

  it('stores a batch once when copies of it race each other', async () => {
    const ps = [1, 2, 3, 4].map(() =>
      payment({ remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block, paymentAmount: '1.00' }),
    );
    const results = await Promise.all([
      ...[1, 2, 3, 4].map(() => h.connector.initiatePayment('RACE', ps)),
      h.connector.initiatePayment('RACE-OTHER-ID', ps),
    ]);
    expect(results.every((r) => r.status === 'SUCCESS')).toBe(true);
    const { rows } = await h.db.query<{ n: number; committed: string }>(
      `SELECT count(*)::int AS n, (SELECT amount_committed::text FROM example_bank.fund_block
         WHERE block_reference = $2) AS committed
       FROM example_bank.payment WHERE payment_reference = ANY($1::text[])`,
      [ps.map((p) => p.disbursementId), block],
    );
    expect(rows[0]!.n).toBe(4);
  });

  it('refuses only the payment that does not fit, with its code, and takes the rest', async () => {
    const ok = payment({ remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block });
    const cases: Array<[Parameters<typeof payment>[0], string]> = [
      [{ remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: 'BLK-NOPE' }, 'BLOCK_NOT_FOUND'],
      [{ remittingAccount: 'FUND-JPY', fundsBlockedReferenceNumber: block }, 'BLOCK_ACCOUNT_MISMATCH'],
      [
        { remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block, remittingAccountCurrency: 'EUR' },
        'CURRENCY_MISMATCH',
      ],
      [
        { remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block, paymentAmount: '1000.00' },
        'BLOCK_EXCEEDED',
      ],
      [
        { remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block, paymentAmount: '1.001' },
        'INVALID_AMOUNT',
      ],
      [
        {
          remittingAccount: 'FUND-A',
          fundsBlockedReferenceNumber: block,
          paymentAmount: '1000000000000.00',
        },
        'AMOUNT_TOO_LARGE',
      ],
      [
        { remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block, disbursementId: 'X'.repeat(36) },
        'INVALID_PAYMENT_REFERENCE',
      ],
    ];
    for (const [overrides, code] of cases) {
      const bad = payment(overrides);
      const batchId = `BAD-${code}`;
      const refused = {
        status: 'SUCCESS',
        refused: [{ disbursementId: bad.disbursementId, errorCode: code }],
      };
      expect(await h.connector.initiatePayment(batchId, [ok, bad]), code).toEqual(refused);
      // The same batch again: the same answer, nothing stored twice.
      expect(await h.connector.initiatePayment(batchId, [ok, bad]), code).toEqual(refused);
      const { rows } = await h.db.query(`SELECT 1 FROM example_bank.payment WHERE payment_reference = $1`, [
        bad.disbursementId,
      ]);
      expect(rows, code).toHaveLength(0);
    }
    // The valid payment was taken, once.
    const { rows } = await h.db.query(`SELECT 1 FROM example_bank.payment WHERE payment_reference = $1`, [
      ok.disbursementId,
    ]);
    expect(rows).toHaveLength(1);
  });

  it('declares its limits: 35-character printable references, amounts MT940 can write', () => {
    expect(h.connector.limits).toMatchObject({ maxReferenceLength: 35, maxAmountDigits: 14 });
    expect(h.connector.limits!.referencePattern!.test('PBMS 2026/03-0001')).toBe(true);
    expect(h.connector.limits!.referencePattern!.test(' padded')).toBe(false);
  });

  it('refuses a reference repeated inside one batch', async () => {
    const p = payment({ remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block });
    expect(await h.connector.initiatePayment('DUP-IN-BATCH', [p, p])).toEqual({
      status: 'SUCCESS',
      refused: [{ disbursementId: p.disbursementId, errorCode: 'DUPLICATE_IN_BATCH' }],
    });
  });
});

describe('statement readers', () => {
  it('read the reference from :61: or, for NONREF, from the last narrative line', () => {
    const c = h.connector;
    expect(c.retrieveDisbursementId('EB1', 'D0000001', [])).toBe('D0000001');
    const long = 'PBMS-2026-03-000000000123';
    const lines = ['Cash', 'PROG', 'MAR-2026', 'BEN-1', 'Ana Lima', `RSN/ACCOUNT_DORMANT/EREF/${long}`];
    expect(c.retrieveDisbursementId('EB2', 'NONREF', lines)).toBe(long);
    expect(c.retrieveBeneficiaryName(lines)).toBe('Ana Lima');
    expect(c.retrieveReversalReason(lines)).toBe('ACCOUNT_DORMANT');
    expect(c.retrieveReversalReason(lines.slice(0, 5).concat(`EREF/${long}`))).toBeNull();
    expect(c.retrieveDisbursementId(null, 'NONREF', ['only one line'])).toBeNull();
    expect(c.retrieveBeneficiaryName([])).toBeNull();
  });
});

describe('failure modes', () => {
  it('times out with BANK_TIMEOUT', async () => {
    const quick = await h.connectorWith({ EXAMPLE_BANK_TIMEOUT_MS: '150' });
    // Held until the connector gives up (the default hold is a minute): a late answer cannot win on a slow machine.
    h.bank.faults.failNext('check_funds', 1, 'timeout');
    expect(await quick.checkFunds('FUND-A', 'USD', '1.00')).toMatchObject({
      status: 'FAILURE',
      errorCode: BANK_ERROR.TIMEOUT,
    });
    h.bank.faults.clear();
  });

  it('reports a refused connection as BANK_UNAVAILABLE', async () => {
    const port = await unusedPort();
    const nobody = await createExampleConnector({
      bankCode: 'EXAMPLE',
      env: { EXAMPLE_BANK_URL: `http://127.0.0.1:${port}/example-bank` },
      log: createLogger('silent'),
    });
    for (const result of [
      await nobody.checkFunds('FUND-A', 'USD', '1.00'),
      await nobody.blockFunds('FUND-A', 'USD', '1.00', 'K'),
      await nobody.initiatePayment('B', []),
    ])
      expect(result).toMatchObject({ status: 'FAILURE', errorCode: BANK_ERROR.UNAVAILABLE });
  });

  it('reports HTTP 5xx as BANK_HTTP_<status> and does nothing', async () => {
    h.bank.faults.failNext('block_funds', 1, 'error');
    expect(await h.connector.blockFunds('FUND-A', 'USD', '5.00', 'ENV-5XX')).toMatchObject({
      status: 'FAILURE',
      errorCode: 'BANK_HTTP_500',
    });
    const { rows } = await h.db.query(
      `SELECT 1 FROM example_bank.fund_block WHERE idempotency_key = 'ENV-5XX'`,
    );
    expect(rows).toHaveLength(0);
  });

  it('reports an answer that is not JSON as BANK_BAD_RESPONSE', async () => {
    h.bank.faults.failNext('initiate_payment', 1, 'malformed');
    const p = payment({ remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block });
    expect(await h.connector.initiatePayment('MALFORMED', [p])).toMatchObject({
      status: 'FAILURE',
      errorCode: BANK_ERROR.BAD_RESPONSE,
    });
  });

  it('pays a batch once when the answer to the first call was lost', async () => {
    const ps = [1, 2].map(() =>
      payment({ remittingAccount: 'FUND-A', fundsBlockedReferenceNumber: block, paymentAmount: '7.50' }),
    );
    h.bank.faults.failNext('initiate_payment', 1, 'error_after_commit');
    expect(await h.connector.initiatePayment('LOST-ANSWER', ps)).toMatchObject({
      errorCode: 'BANK_HTTP_500',
    });
    expect(await h.connector.initiatePayment('LOST-ANSWER', ps)).toEqual({ status: 'SUCCESS' });
    await h.bank.processNow();
    const { rows } = await h.db.query<{ n: number; total: string }>(
      `SELECT count(*)::int AS n, sum(e.amount)::text AS total
       FROM example_bank.ledger_entry e JOIN example_bank.payment p USING (payment_id)
       WHERE e.mark = 'D' AND p.payment_reference = ANY($1::text[])`,
      [ps.map((p) => p.disbursementId)],
    );
    expect(rows[0]!.n).toBe(2);
    expect(fromMinor(minor(rows[0]!.total))).toBe('15.00');
  });

  it('delays answers on request, and the admin endpoints set the same controls', async () => {
    const res = await fetch(`${h.url}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: 'check_funds', count: 2, mode: 'error' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ pending: { check_funds: [{ mode: 'error', count: 2 }] } });
    expect(await h.connector.checkFunds('FUND-A', 'USD', '1.00')).toMatchObject({
      errorCode: 'BANK_HTTP_500',
    });
    expect(await h.connector.checkFunds('FUND-A', 'USD', '1.00')).toMatchObject({
      errorCode: 'BANK_HTTP_500',
    });
    expect(await h.connector.checkFunds('FUND-A', 'USD', '1.00')).toEqual({ status: 'FUNDS_AVAILABLE' });

    await fetch(`${h.url}/admin/latency`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ operation: '*', delay_ms: 60_000 }),
    }).then((r) => r.json());
    // A delay far beyond the connector's deadline (the bank lets go when the caller leaves), and the answer
    // after clearing read with the ordinary deadline: neither outcome depends on how loaded the machine is.
    const quick = await h.connectorWith({ EXAMPLE_BANK_TIMEOUT_MS: '100' });
    expect(await quick.checkFunds('FUND-A', 'USD', '1.00')).toMatchObject({ errorCode: BANK_ERROR.TIMEOUT });
    const cleared = await fetch(`${h.url}/admin/faults`, { method: 'DELETE' }).then((r) => r.json());
    expect(cleared).toMatchObject({ latency_ms: {} });
    expect(await h.connector.checkFunds('FUND-A', 'USD', '1.00')).toEqual({ status: 'FUNDS_AVAILABLE' });
  });
});
