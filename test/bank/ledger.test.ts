// Ledger invariants of the example bank after randomised workloads (a seeded loop: a failure names its seed
// and step). Deposits, blocks (some retried with the same key), batches (some resent, some reusing payment
// references, some over their block), processing rounds and statements, in random order.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { Db } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { decimalToMinor, formatMinorUnits } from '../../src/money/index.js';
import { parseMt940 } from '../../src/mt940/index.js';
import { createExampleBank, type ExampleBank } from '../../src/simulators/example-bank/index.js';
import {
  blockFunds,
  initiatePayment,
  type WirePayment,
} from '../../src/simulators/example-bank/operations.js';
import { seededRandom } from '../../src/simulators/example-bank/random.js';
import { testDb } from '../support/db.js';

let db: Db;
let bank: ExampleBank;

beforeAll(async () => {
  db = await testDb();
  bank = await createExampleBank({
    db,
    log: createLogger('silent'),
    config: loadConfig({
      EXAMPLE_BANK_PROCESS_INTERVAL_MS: '0',
      EXAMPLE_BANK_DELIVER_STATEMENTS: 'false',
      EXAMPLE_BANK_PROCESS_BATCH_SIZE: '7',
      EXAMPLE_BANK_STATEMENT_MAX_ENTRIES: '9',
      EXAMPLE_BANK_REVERSAL_RATE: '0.4',
    }),
  });
});
afterAll(async () => {
  await bank?.stop();
  await db?.close();
});

const CURRENCIES = { USD: 2, JPY: 0 } as const;
type Cur = keyof typeof CURRENCIES;

async function checkInvariants(deposited: Map<string, bigint>, sentTwice: Set<string>, where: string) {
  const q = async <T>(sql: string) => (await db.query<T>(sql)).rows;
  // available = book - blocked, nothing negative that may not be
  expect(
    await q(`SELECT account_number FROM example_bank.account
             WHERE available_balance <> book_balance - blocked_amount OR blocked_amount < 0
                OR (kind = 'CUSTOMER' AND available_balance < 0)`),
    where,
  ).toEqual([]);
  // released <= committed <= amount, and an account's blocked amount is what its blocks still hold
  expect(
    await q(`SELECT block_reference FROM example_bank.fund_block
             WHERE amount_released > amount_committed OR amount_committed > amount OR amount_released < 0`),
    where,
  ).toEqual([]);
  expect(
    await q(`SELECT a.account_number FROM example_bank.account a
             LEFT JOIN (SELECT account_number, sum(amount - amount_released) AS held FROM example_bank.fund_block
                        GROUP BY account_number) b USING (account_number)
             WHERE a.blocked_amount <> coalesce(b.held, 0)`),
    where,
  ).toEqual([]);
  // committed = what accepted payments drew; released = what processed payments drew
  expect(
    await q(`SELECT b.block_reference FROM example_bank.fund_block b
             LEFT JOIN (SELECT block_reference, sum(amount) AS drawn,
                          sum(amount) FILTER (WHERE status <> 'ACCEPTED') AS done
                        FROM example_bank.payment GROUP BY block_reference) p USING (block_reference)
             WHERE b.amount_committed <> coalesce(p.drawn, 0) OR b.amount_released <> coalesce(p.done, 0)`),
    where,
  ).toEqual([]);
  // the book balance is the sum of the account's entries
  expect(
    await q(`SELECT a.account_number FROM example_bank.account a
             LEFT JOIN (SELECT account_number,
                          sum(CASE WHEN mark IN ('D', 'RC') THEN -amount ELSE amount END) AS net
                        FROM example_bank.ledger_entry GROUP BY account_number) e USING (account_number)
             WHERE a.book_balance <> coalesce(e.net, 0)`),
    where,
  ).toEqual([]);
  // money is conserved: all balances of a currency add up to what was deposited in it
  const totals = await q<{ currency: Cur; total: string }>(
    `SELECT currency, sum(book_balance)::text AS total FROM example_bank.account GROUP BY currency`,
  );
  for (const t of totals)
    expect(decimalToMinor(t.total, CURRENCIES[t.currency]), `${where} ${t.currency}`).toBe(
      deposited.get(t.currency) ?? 0n,
    );
  // every processed payment is debited exactly once, reversed at most once, credited at most once
  expect(
    await q(`SELECT p.payment_reference FROM example_bank.payment p
             LEFT JOIN example_bank.ledger_entry e ON e.payment_id = p.payment_id
             GROUP BY p.payment_id, p.payment_reference, p.status
             HAVING count(*) FILTER (WHERE e.mark = 'D') <> CASE WHEN p.status = 'ACCEPTED' THEN 0 ELSE 1 END
                 OR count(*) FILTER (WHERE e.mark = 'RD') <> CASE WHEN p.status = 'REVERSED' THEN 1 ELSE 0 END
                 OR count(*) FILTER (WHERE e.mark = 'C') <> CASE WHEN p.status = 'CREDITED' THEN 1 ELSE 0 END`),
    where,
  ).toEqual([]);
  // a payment initiated twice is stored (and so debited) once
  const twice = await db.query<{ payment_reference: string; n: number }>(
    `SELECT payment_reference, count(*)::int AS n FROM example_bank.payment
     WHERE payment_reference = ANY($1::text[]) GROUP BY payment_reference`,
    [[...sentTwice]],
  );
  for (const r of twice.rows) expect(r.n, `${where} ${r.payment_reference}`).toBe(1);
}

async function checkStatements(where: string) {
  const { rows } = await db.query<{
    account_number: string;
    currency: Cur;
    mt940: string;
    closing_balance: string;
  }>(
    `SELECT account_number, currency, mt940, closing_balance::text FROM example_bank.statement
     ORDER BY account_number, statement_number`,
  );
  const lastClosing = new Map<string, bigint>();
  for (const s of rows) {
    const exp = CURRENCIES[s.currency];
    const parsed = parseMt940(s.mt940);
    expect(parsed.problems, where).toEqual([]);
    const st = parsed.statements[0]!;
    expect(st.problems, where).toEqual([]);
    expect(st.balanceCheck?.ok, where).toBe(true);
    // statements of an account chain: each opens where the previous one closed
    const opening =
      decimalToMinor(st.openingBalance!.amount, exp) * (st.openingBalance!.mark === 'D' ? -1n : 1n);
    const previous = lastClosing.get(s.account_number);
    if (previous !== undefined) expect(opening, `${where} ${s.account_number}`).toBe(previous);
    lastClosing.set(s.account_number, decimalToMinor(s.closing_balance, exp));
  }
}

describe.each([1, 2, 3])('randomised workload, seed %i', (seed) => {
  it('keeps the ledger balanced at every step', async () => {
    const rnd = seededRandom(`ledger-${seed}`);
    const int = (n: number) => Math.floor(rnd() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
    const deposited = new Map<string, bigint>(
      (
        await db.query<{ currency: Cur; total: string }>(
          `SELECT currency, sum(book_balance)::text AS total FROM example_bank.account GROUP BY currency`,
        )
      ).rows.map((r) => [r.currency, decimalToMinor(r.total, CURRENCIES[r.currency])]),
    );
    const sentTwice = new Set<string>();
    const funding: Array<{ account: string; currency: Cur }> = [];
    for (const currency of ['USD', 'USD', 'JPY'] as const) {
      const opened = await bank.openAccount({ currency });
      if (!opened.ok) throw new Error(opened.message);
      funding.push({ account: opened.account.account_number, currency });
    }
    // The bank's own customers, some of whom cannot receive money.
    const own: string[] = [];
    for (const status of ['ACTIVE', 'ACTIVE', 'CLOSED', 'DECEASED'] as const) {
      const opened = await bank.openAccount({ currency: 'USD', status });
      if (opened.ok) own.push(opened.account.account_number);
    }
    const blocks: Array<{ ref: string; account: string; currency: Cur; key: string; amount: string }> = [];
    const batches: Array<{ id: string; payments: WirePayment[] }> = [];
    const sentRefs: Array<{ account: string; ref: string; payment: WirePayment }> = [];
    let n = 0;
    const amount = (currency: Cur, max: number) =>
      formatMinorUnits(BigInt(1 + int(max * 10 ** CURRENCIES[currency])), CURRENCIES[currency]);

    for (let step = 0; step < 100; step++) {
      const where = `seed ${seed} step ${step}`;
      const action = int(10);
      if (action < 2) {
        const f = pick(funding);
        const value = amount(f.currency, 500);
        const r = await bank.deposit(f.account, value);
        expect(r.ok, where).toBe(true);
        deposited.set(
          f.currency,
          (deposited.get(f.currency) ?? 0n) + decimalToMinor(value, CURRENCIES[f.currency]),
        );
      } else if (action < 4) {
        const retry = blocks.length > 0 && rnd() < 0.25 ? pick(blocks) : null;
        const f = retry ? { account: retry.account, currency: retry.currency } : pick(funding);
        const key = retry?.key ?? `ENV-${seed}-${n++}`;
        const value = retry?.amount ?? amount(f.currency, 300);
        const r = await blockFunds(db, {
          accountNumber: f.account,
          currency: f.currency,
          amount: value,
          idempotencyKey: key,
        });
        if (r.ok && !r.duplicate)
          blocks.push({
            ref: r.blockReference,
            account: f.account,
            currency: f.currency,
            key,
            amount: value,
          });
        if (r.ok && retry) expect(r.blockReference, where).toBe(retry.ref);
      } else if (action < 8 && blocks.length > 0) {
        const resend = batches.length > 0 && rnd() < 0.2 ? pick(batches) : null;
        let batch = resend;
        if (!batch) {
          const b = pick(blocks);
          const payments: WirePayment[] = [];
          for (let i = 1 + int(6); i > 0; i--) {
            const reuse = sentRefs.length > 0 && rnd() < 0.15 ? pick(sentRefs) : null;
            if (reuse && reuse.account === b.account) {
              payments.push(reuse.payment);
              sentTwice.add(reuse.ref);
              continue;
            }
            const toOwn = b.currency === 'USD' && rnd() < 0.3;
            const ref = rnd() < 0.2 ? `LONG-REFERENCE-${seed}-${n++}-XXXXXXXX` : `P${seed}-${n++}`;
            payments.push({
              disbursement_id: ref,
              remitting_account: b.account,
              remitting_account_currency: b.currency,
              payment_amount: amount(b.currency, 40),
              funds_blocked_reference_number: b.ref,
              beneficiary_id: `B-${n}`,
              beneficiary_name: `Name ${n}`,
              beneficiary_account: toOwn ? (rnd() < 0.2 ? 'NO-SUCH-ACCOUNT' : pick(own)) : `EXT-${n}`,
              beneficiary_account_type: 'BANK_ACCOUNT',
              beneficiary_bank_code: toOwn ? 'EXAMPLE' : 'OTHER',
              disbursement_narrative: 'Benefit',
              benefit_program_mnemonic: 'PRG',
              cycle_code_mnemonic: 'C1',
              payment_date: '2026-03-01',
            });
          }
          batch = { id: `BATCH-${seed}-${n++}`, payments };
        }
        const r = await initiatePayment(db, batch.id, batch.payments);
        if (r.ok && !resend) {
          batches.push(batch);
          for (const p of batch.payments)
            sentRefs.push({ account: p.remitting_account, ref: p.disbursement_id, payment: p });
        }
        if (resend) expect(r.ok && r.duplicateBatch, where).toBe(true);
        if (!r.ok) expect(r.errorCode, where).toBe('INVALID_PAYMENTS');
      } else if (action < 9) {
        await bank.processNow();
      } else {
        await bank.deliverStatementNow();
      }
      await checkInvariants(deposited, sentTwice, where);
    }
    await bank.processNow();
    await bank.deliverStatementNow();
    await checkInvariants(deposited, sentTwice, `seed ${seed} end`);
    await checkStatements(`seed ${seed} end`);
    // Once everything is reported, each statement account's last closing balance is its book balance.
    const { rows } = await db.query(
      `SELECT a.account_number FROM example_bank.account a
       JOIN LATERAL (SELECT closing_balance FROM example_bank.statement s WHERE s.account_number = a.account_number
                     ORDER BY statement_number DESC LIMIT 1) s ON true
       WHERE a.statements_enabled AND s.closing_balance <> a.book_balance`,
    );
    expect(rows).toEqual([]);
    // The workload did exercise every path.
    const { rows: stats } = await db.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM example_bank.payment GROUP BY status`,
    );
    const by = Object.fromEntries(stats.map((r) => [r.status, r.n]));
    expect(by.PAID_OUT).toBeGreaterThan(0);
    expect(by.REVERSED).toBeGreaterThan(0);
    expect(by.CREDITED).toBeGreaterThan(0);
    expect(sentTwice.size).toBeGreaterThan(0);
  });
});

describe('balances the statements could not write', () => {
  it('refuses an opening balance or a deposit that would not fit a statement amount', async () => {
    const huge = await bank.openAccount({ currency: 'USD', openingBalance: '1000000000000.00' });
    expect(huge).toMatchObject({ ok: false, errorCode: 'AMOUNT_TOO_LARGE' });
    const opened = await bank.openAccount({ currency: 'USD', openingBalance: '999999999999.00' });
    if (!opened.ok) throw new Error(JSON.stringify(opened));
    const number = opened.account.account_number;
    expect(await bank.deposit(number, '0.99')).toMatchObject({ ok: true });
    // The balance is now 999,999,999,999.99: one more cent would not fit MT940's 15 characters.
    expect(await bank.deposit(number, '0.01')).toMatchObject({ ok: false, errorCode: 'AMOUNT_TOO_LARGE' });
    const { rows } = await db.query<{ book: string }>(
      'SELECT book_balance::text AS book FROM example_bank.account WHERE account_number = $1',
      [number],
    );
    expect(rows[0]!.book).toBe('999999999999.99');
  });
});
