// The example bank writes (and delivers) full statements while it still posts a backlog, so that the bridge
// reconciles while the bank posts: the statements must mean what they meant when all were written at the end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { Db } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { decimalToMinor } from '../../src/money/index.js';
import { parseMt940 } from '../../src/mt940/index.js';
import { createExampleBank, type ExampleBank } from '../../src/simulators/example-bank/index.js';
import {
  blockFunds,
  initiatePayment,
  type WirePayment,
} from '../../src/simulators/example-bank/operations.js';
import { bankReferenceOf } from '../../src/simulators/example-bank/statements.js';
import { testDb } from '../support/db.js';

const MAX_ENTRIES = 8;
const BATCH_SIZE = 5;
const ACCOUNTS = ['FUND-A', 'FUND-B'];

interface Upload {
  fileName: string;
  text: string;
  /** Payments the bank had not posted yet when this statement reached the bridge. */
  acceptedLeft: number;
}

interface Setup {
  db: Db;
  bank: ExampleBank;
  uploads: Upload[];
}

async function setup(env: Record<string, string> = {}): Promise<Setup> {
  const db = await testDb();
  const uploads: Upload[] = [];
  const bank = await createExampleBank({
    db,
    log: createLogger('silent'),
    config: loadConfig({
      EXAMPLE_BANK_PROCESS_INTERVAL_MS: '0',
      EXAMPLE_BANK_PROCESS_BATCH_SIZE: String(BATCH_SIZE),
      EXAMPLE_BANK_STATEMENT_MAX_ENTRIES: String(MAX_ENTRIES),
      EXAMPLE_BANK_REVERSAL_RATE: '0.4',
      EXAMPLE_BANK_SEED: 'overlap',
      EXAMPLE_BANK_ACCOUNTS: ACCOUNTS.map((a) => `${a}:USD:1000.00`).join(','),
      ...env,
    }),
    uploadStatement: async (text, fileName) => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM example_bank.payment WHERE status = 'ACCEPTED'`,
      );
      uploads.push({ text, fileName, acceptedLeft: rows[0]!.n });
    },
  });
  return { db, bank, uploads };
}

/** Six batches of ten payments, the two accounts alternating, so that every round touches one of them. */
async function sendPayments(db: Db): Promise<number> {
  let n = 0;
  for (let b = 0; b < 6; b++) {
    const account = ACCOUNTS[b % 2]!;
    const block = await blockFunds(db, {
      accountNumber: account,
      currency: 'USD',
      amount: '100.00',
      idempotencyKey: `ENV-${b}`,
    });
    if (!block.ok) throw new Error(block.message);
    const payments: WirePayment[] = [];
    for (let i = 0; i < 10; i++, n++) {
      payments.push({
        disbursement_id: `P-${n}`,
        remitting_account: account,
        remitting_account_currency: 'USD',
        payment_amount: `${1 + (n % 7)}.${String(n % 100).padStart(2, '0')}`,
        funds_blocked_reference_number: block.blockReference,
        beneficiary_id: `B-${n}`,
        beneficiary_name: `Name ${n}`,
        beneficiary_account: `EXT-${n}`,
        beneficiary_account_type: 'BANK_ACCOUNT',
        beneficiary_bank_code: 'OTHER',
        disbursement_narrative: 'Benefit',
        benefit_program_mnemonic: 'PRG',
        cycle_code_mnemonic: 'C1',
        payment_date: '2026-03-01',
      });
    }
    const sent = await initiatePayment(db, `BATCH-${b}`, payments);
    if (!sent.ok) throw new Error(sent.message);
  }
  return n;
}

/** What the statements of an account say, in statement order, with the invariants checked on the way. */
function readStatements(uploads: Upload[], account: string) {
  const mine = uploads.filter((u) => u.fileName.startsWith(`${account}-`));
  let previousClosing: bigint | null = null;
  return mine.map((u, i) => {
    const parsed = parseMt940(u.text);
    expect(parsed.problems).toEqual([]);
    const st = parsed.statements[0]!;
    expect(st.balanceCheck?.ok, u.fileName).toBe(true);
    // Delivered in order, numbered without gaps.
    expect(Number(st.statementNumber), u.fileName).toBe(i + 1);
    const signed = (b: { mark: string; amount: string }) =>
      decimalToMinor(b.amount, 2) * (b.mark === 'D' ? -1n : 1n);
    const opening = signed(st.openingBalance!);
    expect(opening, u.fileName).toBe(previousClosing ?? 0n);
    previousClosing = signed(st.closingBalance!);
    return {
      ...u,
      entries: st.entries,
      closing: previousClosing,
    };
  });
}

describe('statements written while the bank posts a backlog', () => {
  let s: Setup;
  let sent = 0;
  let result: Awaited<ReturnType<ExampleBank['processNow']>>;
  beforeAll(async () => {
    s = await setup();
    sent = await sendPayments(s.db);
    result = await s.bank.processNow();
  });
  afterAll(async () => {
    await s?.bank.stop();
    await s?.db.close();
  });

  it('reach the bridge before the bank has posted everything', () => {
    expect(result.processed).toBe(sent);
    expect(result.rounds).toBe(sent / BATCH_SIZE);
    expect(s.uploads.length).toBeGreaterThan(2);
    expect(s.uploads[0]!.acceptedLeft).toBeGreaterThan(0);
    // Only full statements go out while posting; the rest once it has ended.
    for (const u of s.uploads) {
      const entries = parseMt940(u.text).statements[0]!.entries.length;
      if (u.acceptedLeft > 0) expect(entries, u.fileName).toBe(MAX_ENTRIES);
    }
    expect(result.statements).toMatchObject({
      generated: expect.any(Array),
      delivered: s.uploads.length,
      failed: 0,
      pending: 0,
    });
    expect(result.statements!.generated).toHaveLength(s.uploads.length);
  });

  it('chain exactly and report every entry once, reversals after their debits', async () => {
    const { rows: ledger } = await s.db.query<{
      entry_id: number;
      account_number: string;
      mark: string;
      payment_id: number | null;
      statement_id: number | null;
    }>(
      `SELECT entry_id, account_number, mark, payment_id, statement_id FROM example_bank.ledger_entry
       WHERE account_number = ANY($1::text[]) ORDER BY entry_id`,
      [ACCOUNTS],
    );
    expect(ledger.filter((e) => e.statement_id === null)).toEqual([]);
    const position = new Map<string, [number, number]>();
    for (const account of ACCOUNTS) {
      const statements = readStatements(s.uploads, account);
      expect(statements.length).toBeGreaterThan(1);
      statements.forEach((st, i) => {
        // Every statement but the last of the account is full.
        if (i < statements.length - 1) expect(st.entries).toHaveLength(MAX_ENTRIES);
        st.entries.forEach((e, j) => {
          expect(position.has(e.bankReference!), e.bankReference).toBe(false);
          position.set(e.bankReference!, [i, j]);
        });
      });
      const book = (await s.bank.getAccount(account))!.book_balance;
      expect(statements.at(-1)!.closing).toBe(decimalToMinor(book, 2));
    }
    // Exactly the ledger's entries, each once.
    expect(new Set(position.keys())).toEqual(new Set(ledger.map((e) => bankReferenceOf(e.entry_id))));
    const reversals = ledger.filter((e) => e.mark === 'RD');
    expect(reversals.length).toBe(result.reversed);
    expect(result.reversed).toBeGreaterThan(0);
    const debitOf = new Map(ledger.filter((e) => e.mark === 'D').map((e) => [e.payment_id, e]));
    for (const rd of reversals) {
      const d = debitOf.get(rd.payment_id)!;
      const [ds, dj] = position.get(bankReferenceOf(d.entry_id))!;
      const [rs, rj] = position.get(bankReferenceOf(rd.entry_id))!;
      expect(ds < rs || (ds === rs && dj < rj), `payment ${rd.payment_id}`).toBe(true);
    }
  });

  it('are the statements the bank wrote when it wrote them all at the end', async () => {
    const end = await setup({ EXAMPLE_BANK_STATEMENT_AFTER_PROCESSING: 'false' });
    try {
      await sendPayments(end.db);
      await end.bank.processNow();
      expect(end.uploads).toEqual([]);
      for (const account of ACCOUNTS) await end.bank.deliverStatementNow(account);
      const shape = (uploads: Upload[]) =>
        ACCOUNTS.flatMap((account) =>
          readStatements(uploads, account).map((st) => ({
            fileName: st.fileName,
            closing: st.closing,
            entries: st.entries.map((e) => [e.mark, e.amount, e.customerReference, e.narratives]),
          })),
        );
      expect(shape(s.uploads)).toEqual(shape(end.uploads));
    } finally {
      await end.bank.stop();
      await end.db.close();
    }
  });
});

describe('a delivery that fails while the bank posts', () => {
  it('holds the account later statements back and delivers them all in order', async () => {
    const s = await setup();
    try {
      await sendPayments(s.db);
      s.bank.faults.failNext('deliver_statement', 1);
      const result = await s.bank.processNow();
      expect(result.statements).toMatchObject({ failed: 1, pending: 0 });
      expect(result.statements!.delivered).toBe(result.statements!.generated.length);
      // Each account's statements arrived once each, in order (readStatements checks numbers and chaining).
      for (const account of ACCOUNTS) readStatements(s.uploads, account);
      expect(s.uploads).toHaveLength(result.statements!.generated.length);
      const { rows } = await s.db.query(
        'SELECT statement_id FROM example_bank.statement WHERE delivered_at IS NULL',
      );
      expect(rows).toEqual([]);
    } finally {
      await s.bank.stop();
      await s.db.close();
    }
  });
});
