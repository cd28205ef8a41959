// The wallet provider's ledger reconciles the day (src/payouts/ledger.ts), hostile cases first: a forged debit
// for an id we never shipped, a wrong amount, a page read twice, another channel's disbursement, a second debit
// for one payment, a forged debit posted before the true one; then completions the ledger does not show, and a
// later day that finds them. The ledger never pays: no recon row, no counter moves.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type {
  LedgerTransaction,
  LedgerWindow,
  WalletConnector,
  WalletConnectorSource,
} from '../../src/bank/wallet-connector.js';
import type { Db } from '../../src/db/index.js';
import { collectDatabase } from '../../src/metrics/database.js';
import { setPayoutChannel } from '../../src/payouts/channels.js';
import {
  LedgerRequestError,
  reconcileLedgerDay,
  requestLedgerDays,
  stageLedgerPage,
} from '../../src/payouts/ledger.js';
import { startWorkers } from '../../src/pipeline/index.js';
import { connectorsOf, FakeBank } from '../pipeline/fakes.js';
import {
  disbursements,
  resetBridge,
  seedEnvelope,
  seedProgram,
  workerContext,
} from '../pipeline/fixtures.js';
import { testDb } from '../support/db.js';

const TODAY = new Date().toISOString().slice(0, 10);
const MPESA = 'accountid@2999';

describe('wallet ledger reconciliation', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(async () => db?.close());

  /** w1..w4 shipped on MPESA from accountid@2999 (w1..w3 completed), a1 on AIRTEL, b1 left to the bank. */
  beforeEach(async () => {
    await resetBridge(db);
    await db.query('TRUNCATE wallet_ledger_day, wallet_batch, program_payout_channel CASCADE');
    await seedProgram(db);
    for (const [providerCode, debitPartyAccount] of [
      ['MPESA', MPESA],
      ['AIRTEL', 'accountid@7777'],
    ] as const)
      await setPayoutChannel(db, { program: 'CASH', providerCode, debitPartyAccount, currency: 'USD' });
    await seedEnvelope(db, {
      id: 'E1',
      batches: [
        [...disbursements('w', 4, '12.50'), ...disbursements('a', 1, '12.50'), ...disbursements('b', 1)],
      ],
    });
    await db.query(
      `INSERT INTO wallet_batch (wallet_batch_id, bank_disbursement_batch_id, disbursement_envelope_id, provider_code,
                                 debit_party_account, currency, number_of_payments)
       VALUES ('00000000-0000-4000-8000-000000000001', 'E1-B1', 'E1', 'MPESA', $1, 'USD', 4),
              ('00000000-0000-4000-8000-000000000002', 'E1-B1', 'E1', 'AIRTEL', 'accountid@7777', 'USD', 1)`,
      [MPESA],
    );
    await db.query(
      `INSERT INTO wallet_payment (disbursement_id, wallet_batch_id, provider_code, credit_party_msisdn, amount,
                                   currency, outcome, provider_transaction_reference, outcome_at)
       VALUES ('w1', '00000000-0000-4000-8000-000000000001', 'MPESA', '+254700000001', 12.50, 'USD', 'COMPLETED', 'C-w1', now()),
              ('w2', '00000000-0000-4000-8000-000000000001', 'MPESA', '+254700000002', 12.50, 'USD', 'COMPLETED', 'C-w2', now()),
              ('w3', '00000000-0000-4000-8000-000000000001', 'MPESA', '+254700000003', 12.50, 'USD', 'COMPLETED', 'C-w3', now()),
              ('w4', '00000000-0000-4000-8000-000000000001', 'MPESA', '+254700000004', 12.50, 'USD', NULL, NULL, NULL),
              ('a1', '00000000-0000-4000-8000-000000000002', 'AIRTEL', '+254700000009', 12.50, 'USD', 'COMPLETED', 'C-a1', now())`,
    );
  });

  const debit = (ref: string, id: string | null, amount = '12.5', extra: Partial<LedgerTransaction> = {}) =>
    ({
      providerTransactionReference: ref,
      disbursementId: id,
      direction: 'DEBIT',
      type: 'disbursement',
      status: 'completed',
      amount,
      currency: 'USD',
      postedAt: new Date().toISOString(),
      ...extra,
    }) satisfies LedgerTransaction;

  async function mpesaDay(date = TODAY) {
    const [day] = await requestLedgerDays(db, {
      providerCode: 'mpesa',
      date,
      account: MPESA,
      timeZone: 'UTC',
      today: TODAY,
    });
    return day!;
  }

  async function run(page: LedgerTransaction[], date = TODAY) {
    const day = await mpesaDay(date);
    return db.transaction(async (tx) => {
      const staged = await stageLedgerPage(tx, day, page);
      return { staged, day, summary: await reconcileLedgerDay(tx, day.ledgerDayId) };
    });
  }

  const outcomes = async () =>
    Object.fromEntries(
      (
        await db.query<{ transaction_reference: string; outcome: string }>(
          'SELECT transaction_reference, outcome FROM wallet_ledger_entry ORDER BY 1',
        )
      ).rows.map((r) => [r.transaction_reference, r.outcome]),
    );
  const errors = async () =>
    (
      await db.query<{ reason: string; ref: string | null; id: string | null; open: boolean }>(
        `SELECT error_reason AS reason, transaction_reference AS ref, disbursement_id AS id, resolved_at IS NULL AS open
           FROM wallet_ledger_error ORDER BY error_reason, disbursement_id`,
      )
    ).rows;
  const nothingPaid = async () => {
    const { rows } = await db.query<{ recons: number; reconciled: number }>(
      `SELECT (SELECT count(*)::int FROM disbursement_recon) AS recons,
              (SELECT number_of_disbursements_reconciled FROM disbursement_envelope_batch_status
                WHERE disbursement_envelope_id = 'E1') AS reconciled`,
    );
    expect(rows[0]).toEqual({ recons: 0, reconciled: 0 });
  };

  it('refuses a forged debit for an id it never shipped, and one for a disbursement left to the bank', async () => {
    const { summary } = await run([
      debit('T-forged', 'NO-SUCH-ID'),
      debit('T-bank', 'b1', '10'),
      debit('T-none', null),
    ]);
    expect(await outcomes()).toEqual({
      'T-bank': 'NOT_SHIPPED',
      'T-forged': 'UNKNOWN_DISBURSEMENT',
      'T-none': 'NO_REFERENCE',
    });
    expect(summary.newErrors).toMatchObject({ UNKNOWN_DISBURSEMENT: 1, NOT_SHIPPED: 1, NO_REFERENCE: 1 });
    await nothingPaid();
    // The open errors are on /metrics, by provider and reason.
    const family = (await collectDatabase(db, new Date())).find((f) => f.name === 'g2p_wallet_ledger_errors');
    expect(family?.samples).toContainEqual({
      labels: { provider: 'MPESA', reason: 'UNKNOWN_DISBURSEMENT' },
      value: 1,
    });
    expect(family?.samples).toContainEqual({
      labels: { provider: 'MPESA', reason: 'MISSING_LEDGER_DEBIT' },
      value: 3,
    });
  });

  it('refuses a wrong amount or currency, and then misses the completion it claimed to confirm', async () => {
    await run([
      debit('T-w1', 'w1', '12.49'),
      debit('T-w2', 'w2', '12.5', { currency: 'EUR' }),
      debit('T-w3', 'w3'),
    ]);
    expect(await outcomes()).toEqual({
      'T-w1': 'AMOUNT_MISMATCH',
      'T-w2': 'CURRENCY_MISMATCH',
      'T-w3': 'CONFIRMED',
    });
    expect(await errors()).toEqual([
      { reason: 'AMOUNT_MISMATCH', ref: 'T-w1', id: 'w1', open: true },
      { reason: 'CURRENCY_MISMATCH', ref: 'T-w2', id: 'w2', open: true },
      { reason: 'MISSING_LEDGER_DEBIT', ref: 'C-w1', id: 'w1', open: true },
      { reason: 'MISSING_LEDGER_DEBIT', ref: 'C-w2', id: 'w2', open: true },
    ]);
    const { rows } = await db.query(
      `SELECT disbursement_id, ledger_transaction_reference FROM wallet_payment
        WHERE ledger_confirmed_at IS NOT NULL ORDER BY 1`,
    );
    expect(rows).toEqual([{ disbursement_id: 'w3', ledger_transaction_reference: 'T-w3' }]);
    await nothingPaid();
  });

  it("refuses another channel's disbursement on this account's ledger", async () => {
    await run([debit('T-a1', 'a1'), debit('T-w1', 'w1')]);
    expect(await outcomes()).toEqual({ 'T-a1': 'OTHER_CHANNEL', 'T-w1': 'CONFIRMED' });
    const { rows } = await db.query(
      `SELECT ledger_confirmed_at FROM wallet_payment WHERE disbursement_id = 'a1'`,
    );
    expect(rows).toEqual([{ ledger_confirmed_at: null }]);
  });

  it('stages a page read twice once, and a second reconciliation writes nothing new', async () => {
    const page = [debit('T-w1', 'w1'), debit('T-forged', 'NO-SUCH-ID')];
    const first = await run(page);
    const second = await run(page);
    expect(first.staged).toBe(2);
    expect(second.staged).toBe(0);
    expect(second.summary.newErrors).toEqual({});
    expect(second.summary).toMatchObject({ debits: 2, confirmed: 1 });
    const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM wallet_ledger_error');
    expect(rows[0]!.n).toBe(3); // the forged debit, w2 and w3 missing
    // A page whose items repeat a reference stages it once.
    const day = await mpesaDay();
    const again = await db.transaction((tx) =>
      stageLedgerPage(tx, day, [debit('T-x', 'w2'), debit('T-x', 'w2')]),
    );
    expect(again).toBe(1);
  });

  it('takes a second debit for one payment as a duplicate, but never lets a forged one hide the true one', async () => {
    const early = new Date(Date.now() - 60_000).toISOString();
    await run([
      debit('T-w1a', 'w1'),
      debit('T-w1b', 'w1', '12.5', { postedAt: new Date(Date.now() + 1000).toISOString() }),
      debit('T-w2-forged', 'w2', '99', { postedAt: early }),
      debit('T-w2', 'w2'),
    ]);
    expect(await outcomes()).toEqual({
      'T-w1a': 'CONFIRMED',
      'T-w1b': 'DUPLICATE_DEBIT',
      'T-w2': 'CONFIRMED',
      'T-w2-forged': 'AMOUNT_MISMATCH',
    });
    // A later day's debit for a payment already confirmed is a duplicate too.
    await run([debit('T-w1c', 'w1')]);
    expect((await outcomes())['T-w1c']).toBe('DUPLICATE_DEBIT');
  });

  it('holds a debit for a payment without outcome until its completion, ignores credits and rejects nothing', async () => {
    await run([
      debit('T-w4', 'w4'),
      debit('DEP-1', null, '1000', { direction: 'CREDIT', type: 'deposit' }),
      debit('T-pending', 'w3', '12.5', { status: 'pending' }),
    ]);
    expect(await outcomes()).toEqual({
      'DEP-1': 'IGNORED',
      'T-pending': 'IGNORED',
      'T-w4': 'AWAITING_COMPLETION',
    });
    const { rows } = await db.query(`SELECT outcome FROM wallet_payment WHERE disbursement_id = 'w4'`);
    expect(rows).toEqual([{ outcome: null }]);

    // The completion arrives; the next reconciliation (any day of the account) confirms it.
    await db.query(
      `UPDATE wallet_payment SET outcome = 'COMPLETED', provider_transaction_reference = 'C-w4', outcome_at = now()
        WHERE disbursement_id = 'w4'`,
    );
    await run([]);
    expect((await outcomes())['T-w4']).toBe('CONFIRMED');
  });

  it('flags a debit for a payment the provider reported rejected', async () => {
    await db.query(
      `UPDATE wallet_payment SET outcome = 'REJECTED', error_code = 'accountNotFound' WHERE disbursement_id = 'w4'`,
    );
    await run([debit('T-w4', 'w4')]);
    expect(await errors()).toContainEqual({
      reason: 'DEBITED_BUT_REJECTED',
      ref: 'T-w4',
      id: 'w4',
      open: true,
    });
  });

  it('resolves a missing debit when a later reading finds it', async () => {
    await run([debit('T-w1', 'w1'), debit('T-w2', 'w2')]);
    expect((await errors()).filter((e) => e.open)).toEqual([
      { reason: 'MISSING_LEDGER_DEBIT', ref: 'C-w3', id: 'w3', open: true },
    ]);
    await run([debit('T-w3', 'w3')]);
    expect(await errors()).toEqual([{ reason: 'MISSING_LEDGER_DEBIT', ref: 'C-w3', id: 'w3', open: false }]);
  });

  it('refuses a day to come, a date that is no date, and a provider without channels', async () => {
    const ask = (providerCode: string, date: string) =>
      requestLedgerDays(db, { providerCode, date, timeZone: 'UTC', today: TODAY }).catch((e: unknown) => e);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    expect(await ask('MPESA', tomorrow)).toMatchObject({ code: 'ledger.date.invalid' });
    expect(await ask('MPESA', '2026-02-30')).toMatchObject({ code: 'ledger.date.invalid' });
    const unknown = await ask('ORANGE', TODAY);
    expect(unknown).toBeInstanceOf(LedgerRequestError);
    expect(unknown).toMatchObject({ code: 'ledger.provider.unknown' });
  });
  it('reads a long day page by page through the stage, resuming after a failed page without re-reading', async () => {
    const day = await mpesaDay();
    const ledger = [
      ...Array.from({ length: 1199 }, (_, i) =>
        debit(`DEP-${i}`, null, '1', { direction: 'CREDIT', type: 'deposit' }),
      ),
      debit('T-w1', 'w1'),
      debit('T-w2', 'w2'),
      debit('T-w3', 'w3'),
    ];
    const asked: number[] = [];
    let failAt: number | null = 500;
    const provider = {
      providerCode: 'MPESA',
      pollSeconds: 30,
      async accountTransactions(account: string, window: LedgerWindow, offset: number, limit: number) {
        asked.push(offset);
        if (offset === failAt) {
          failAt = null;
          return { status: 'FAILURE' as const, errorCode: 'WALLET_HTTP_503' };
        }
        // Only today's window of this account has transactions (the stage also schedules yesterday).
        const ours = account === MPESA && window.from.getTime() === new Date(day.windowStart).getTime();
        return { items: ours ? ledger.slice(offset, offset + limit) : [], available: null };
      },
    } as unknown as WalletConnector;
    const wallets: WalletConnectorSource = { get: () => provider, codes: () => ['MPESA'] };
    const workers = startWorkers(workerContext(db), {
      poll: false,
      stages: ['wallet_ledger'],
      connectors: connectorsOf(new FakeBank()),
      wallets,
    });
    try {
      await workers.runOnce();
      const failed = await db.query(
        `SELECT ledger_status, entries_offset, latest_error_code FROM wallet_ledger_day WHERE ledger_day_id = $1`,
        [day.ledgerDayId],
      );
      expect(failed.rows).toEqual([
        { ledger_status: 'PENDING', entries_offset: 500, latest_error_code: 'WALLET_HTTP_503' },
      ]);
      await db.query(`UPDATE wallet_ledger_day SET next_attempt_at = now() WHERE ledger_day_id = $1`, [
        day.ledgerDayId,
      ]);
      await workers.runOnce();
    } finally {
      await workers.stop();
    }
    expect(asked.filter((o) => o > 0)).toEqual([500, 500, 1000]);
    const { rows } = await db.query(
      `SELECT ledger_status, entries_offset, debits, confirmed, errors FROM wallet_ledger_day WHERE ledger_day_id = $1`,
      [day.ledgerDayId],
    );
    expect(rows).toEqual([
      { ledger_status: 'COMPLETED', entries_offset: 1202, debits: 3, confirmed: 3, errors: 0 },
    ]);
    expect(await errors()).toEqual([]);
    await nothingPaid();
  });
});
