// A provider that does not serve /accounts/{id}/transactions (issue 15, part 3): its answer (a plain 404, as
// for a route that does not exist, or 501) ends the day COMPLETED with LEDGER_NOT_SUPPORTED instead of a row
// retried into ERROR every day; a GSMA 404 that names the account as unknown stays a failure an operator sees.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWalletRegistry, type WalletRegistry } from '../../src/bank/registry.js';
import { isConnectorFailure } from '../../src/bank/wallet-connector.js';
import type { Db } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { setPayoutChannel } from '../../src/payouts/channels.js';
import { requestLedgerDays } from '../../src/payouts/ledger.js';
import { startWorkers } from '../../src/pipeline/index.js';
import { connectorsOf, FakeBank } from '../pipeline/fakes.js';
import { resetBridge, seedProgram, workerContext } from '../pipeline/fixtures.js';
import { testDb } from '../support/db.js';
import { FakeGsma } from './fake-gsma.js';

const TODAY = '2026-03-02';
const ACCOUNT = 'accountid@2999';

describe('a wallet provider without the account-transactions route', () => {
  let db: Db;
  let fake: FakeGsma;
  let wallets: WalletRegistry;

  beforeAll(async () => {
    db = await testDb();
    fake = await new FakeGsma().start();
    wallets = await createWalletRegistry({
      env: {
        WALLET_PROVIDERS: 'MPESA=builtin:gsma-mmapi',
        WALLET_MPESA_URL: fake.url,
        WALLET_MPESA_API_KEY: fake.apiKey,
      },
      log: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await wallets?.close();
    await fake?.close();
    await db?.close();
  });
  beforeEach(async () => {
    await resetBridge(db);
    await db.query('TRUNCATE wallet_ledger_day, wallet_batch, program_payout_channel CASCADE');
    await seedProgram(db);
    await setPayoutChannel(db, {
      program: 'CASH',
      providerCode: 'MPESA',
      debitPartyAccount: ACCOUNT,
      currency: 'USD',
    });
  });

  const window = { from: new Date(`${TODAY}T00:00:00Z`), to: new Date('2026-03-03T00:00:00Z') };

  /** Asks for TODAY's day, runs the ledger stage once at noon, and gives every day row it left. */
  async function runDay() {
    await requestLedgerDays(db, {
      providerCode: 'MPESA',
      date: TODAY,
      account: ACCOUNT,
      timeZone: 'UTC',
      today: TODAY,
    });
    const workers = startWorkers(
      { ...workerContext(db), now: () => new Date(`${TODAY}T12:00:00Z`) },
      { poll: false, stages: ['wallet_ledger'], connectors: connectorsOf(new FakeBank()), wallets },
    );
    try {
      await workers.runOnce();
    } finally {
      await workers.stop();
    }
    const { rows } = await db.query(
      `SELECT ledger_date::text AS date, ledger_status AS status, ledger_attempts AS attempts,
              latest_error_code AS code
         FROM wallet_ledger_day ORDER BY ledger_date`,
    );
    return rows;
  }

  it('reads a plain 404 from the route as LEDGER_NOT_SUPPORTED and completes the day', async () => {
    fake.ledgerRoute = 'absent';
    const got = await wallets.get('MPESA')!.accountTransactions!(ACCOUNT, window, 0, 10);
    expect(isConnectorFailure(got) && got.errorCode).toBe('LEDGER_NOT_SUPPORTED');
    // Yesterday's row, scheduled by the stage itself, ends the same way.
    expect(await runDay()).toEqual([
      { date: '2026-03-01', status: 'COMPLETED', attempts: 0, code: 'LEDGER_NOT_SUPPORTED' },
      { date: TODAY, status: 'COMPLETED', attempts: 0, code: 'LEDGER_NOT_SUPPORTED' },
    ]);
    const { rows } = await db.query('SELECT count(*)::int AS n FROM wallet_ledger_error');
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('reads 501 Not Implemented the same way', async () => {
    fake.ledgerRoute = 501;
    const got = await wallets.get('MPESA')!.accountTransactions!(ACCOUNT, window, 0, 10);
    expect(isConnectorFailure(got) && got.errorCode).toBe('LEDGER_NOT_SUPPORTED');
    expect((await runDay()).map((r) => [r.status, r.code])).toEqual([
      ['COMPLETED', 'LEDGER_NOT_SUPPORTED'],
      ['COMPLETED', 'LEDGER_NOT_SUPPORTED'],
    ]);
  });

  it('keeps a GSMA 404 naming the account unknown as a failure to retry, not as unsupported', async () => {
    fake.ledgerRoute = 'unknown-account';
    const got = await wallets.get('MPESA')!.accountTransactions!(ACCOUNT, window, 0, 10);
    expect(got).toMatchObject({ status: 'FAILURE', errorCode: 'WALLET_HTTP_404' });
    expect((await runDay()).map((r) => [r.status, r.attempts, r.code])).toEqual([
      ['PENDING', 1, 'WALLET_HTTP_404'],
      ['PENDING', 1, 'WALLET_HTTP_404'],
    ]);
  });
});
