// Payout channels against a fake GSMA provider (issue 15): a mixed bank-and-wallet cycle, callbacks that are
// forged, unknown, duplicated or lost, a retry after a lost answer, a provider down for a while, partial
// rejections, and completions the bridge must refuse (wrong amount, another channel's disbursement).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createWalletRegistry, type WalletRegistry } from '../../src/bank/registry.js';
import { disbursementStatus } from '../../src/disbursements/service.js';
import { createLogger } from '../../src/logger.js';
import type { ResolveItem, ResolveOutcome } from '../../src/mapper/types.js';
import { setPayoutChannel } from '../../src/payouts/channels.js';
import { startWorkers, type Workers } from '../../src/pipeline/index.js';
import { connectorsOf, FakeBank, FakeMapper } from '../pipeline/fakes.js';
import {
  disbursements,
  resetBridge,
  seedEnvelope,
  seedProgram,
  workerContext,
} from '../pipeline/fixtures.js';
import { envelopeStatus, lifecycle, statusCounts } from '../pipeline/helpers.js';
import { type TestApp, testApp } from '../support/app.js';
import { FakeGsma } from './fake-gsma.js';

/** Resolves beneficiaries in `wallets` to an M-Pesa wallet, the others to bank accounts. */
class ChannelMapper extends FakeMapper {
  wallets = new Map<string, string>(); // beneficiary id → msisdn
  override async resolve(items: ResolveItem[]): Promise<ResolveOutcome[]> {
    const banks = await super.resolve(items.filter((i) => !this.wallets.has(i.beneficiaryId)));
    const wallets = items
      .filter((i) => this.wallets.has(i.beneficiaryId))
      .map((i): ResolveOutcome => {
        const msisdn = this.wallets.get(i.beneficiaryId)!;
        return {
          referenceId: i.referenceId,
          beneficiaryId: i.beneficiaryId,
          resolved: true,
          fa: `mobile:${msisdn}@mpesa`,
          address: { faType: 'MOBILE_WALLET', mobileNumber: msisdn, walletProvider: 'mpesa' },
          name: 'Wallet Holder',
        };
      });
    return [...banks, ...wallets];
  }
}

describe('payout channels with a GSMA wallet provider', () => {
  let t: TestApp;
  let fake: FakeGsma;
  let bank: FakeBank;
  let mapper: ChannelMapper;
  let wallets: WalletRegistry;
  let workers: Workers;
  const db = () => t.ctx.db;

  beforeAll(async () => {
    t = await testApp();
    fake = await new FakeGsma().start();
  });
  afterAll(async () => {
    await fake.close();
    await t.close();
  });
  beforeEach(async () => {
    await resetBridge(db());
    await db().query('TRUNCATE wallet_batch, program_payout_channel CASCADE');
    fake.batches.clear();
    fake.posts = 0;
    fake.rejectWallets.clear();
    fake.claimAmount.clear();
    fake.extraCompletions = [];
    fake.linkOnly = false;
    fake.balance = '1000000';
    fake.downFor = 0;
    fake.loseAnswers = 0;
    bank = new FakeBank();
    mapper = new ChannelMapper();
    wallets = await createWalletRegistry({
      env: {
        WALLET_PROVIDERS: 'MPESA=builtin:gsma-mmapi',
        WALLET_MPESA_URL: fake.url,
        WALLET_MPESA_API_KEY: fake.apiKey,
        WALLET_MPESA_CALLBACK_URL: 'https://bridge.example.org',
        WALLET_MPESA_POLL_SECONDS: '3600',
      },
      log: createLogger('silent'),
    });
    workers = startWorkers(workerContext(db()), {
      poll: false,
      mapper,
      connectors: connectorsOf(bank),
      wallets,
    });
  });
  afterEach(async () => {
    await workers.stop();
    await wallets.close();
  });

  /** Program CASH with an M-Pesa channel; envelope E1: b1..b3 to bank accounts, w1..w4 to wallets. */
  async function mixedEnvelope() {
    await seedProgram(db());
    await setPayoutChannel(db(), {
      program: 'CASH',
      providerCode: 'MPESA',
      debitPartyAccount: 'accountid@2999',
      currency: 'USD',
    });
    await seedEnvelope(db(), {
      id: 'E1',
      batches: [[...disbursements('b', 3, '10.00'), ...disbursements('w', 4, '12.50')]],
    });
    for (const id of ['b1', 'b2', 'b3']) mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    for (const [i, id] of ['w1', 'w2', 'w3', 'w4'].entries())
      mapper.wallets.set(`BEN-${id}`, `+25470000000${i + 1}`);
  }

  const dueNow = (table: 'wallet_batch' | 'bank_disbursement_batch_status') =>
    db().query(`UPDATE ${table} SET next_attempt_at = now() - interval '1 second'`);

  async function walletBatch() {
    const { rows } = await db().query<{
      id: string;
      outcome_status: string;
      next_attempt_at: Date;
      latest_error_code: string | null;
      provider_batch_id: string | null;
    }>(
      `SELECT wallet_batch_id::text AS id, outcome_status, next_attempt_at, latest_error_code, provider_batch_id
         FROM wallet_batch`,
    );
    return rows;
  }

  it('splits a batch per channel, sends one exact GSMA batch, and reconciles the wallet part', async () => {
    await mixedEnvelope();
    fake.rejectWallets.set('+254700000004', 'identifierError');
    await workers.runOnce();

    // The bank got its part; the provider one POST with every wallet payment, exact strings, our references.
    expect(
      bank
        .payments()
        .map((p) => p.disbursementId)
        .sort(),
    ).toEqual(['b1', 'b2', 'b3']);
    expect(fake.posts).toBe(1);
    const [sent] = [...fake.batches.values()];
    expect(sent!.txns.map((x) => [x.ref, x.msisdn, x.amount, x.currency])).toEqual([
      ['w1', '+254700000001', '12.5', 'USD'],
      ['w2', '+254700000002', '12.5', 'USD'],
      ['w3', '+254700000003', '12.5', 'USD'],
      ['w4', '+254700000004', '12.5', 'USD'],
    ]);
    expect(sent!.txns[0]!.debitParty).toEqual([{ key: 'accountid', value: '2999' }]);
    expect(sent!.callbackUrl).toMatch(
      /^https:\/\/bridge\.example\.org\/wallet-callbacks\/MPESA\/[\w-]{20,}$/,
    );
    expect(await statusCounts(db(), 'E1')).toEqual({ shipped: 7 });
    expect((await envelopeStatus(db(), 'E1')).number_of_disbursements_shipped).toBe(7);

    // The provider finishes and calls back: the next poll is due at once and applies the outcomes.
    fake.settle();
    const path = new URL(sent!.callbackUrl!).pathname;
    const body = { batchId: sent!.batchId, batchStatus: 'completed', approvalDate: '', completionDate: '' };
    const cb = await t.app.inject({
      method: 'PUT',
      url: path,
      headers: { 'x-correlationid': sent!.correlationId },
      payload: body,
    });
    expect(cb.statusCode).toBe(204);
    await workers.runOnce();
    const states = await lifecycle(db(), 'E1');
    expect(states.filter((s) => s.id.startsWith('w'))).toEqual([
      { id: 'w1', status: 'reconciled', reason: null },
      { id: 'w2', status: 'reconciled', reason: null },
      { id: 'w3', status: 'reconciled', reason: null },
      { id: 'w4', status: 'refused', reason: 'identifierError' },
    ]);
    const env = await envelopeStatus(db(), 'E1');
    expect(env.number_of_disbursements_shipped).toBe(6);
    expect(env.number_of_disbursements_reconciled).toBe(3);
    expect((await walletBatch())[0]!.outcome_status).toBe('COMPLETED');
    const { rows: payments } = await db().query<{ id: string; category: string | null; code: string | null }>(
      `SELECT disbursement_id AS id, error_category AS category, error_code AS code FROM wallet_payment
        WHERE outcome = 'REJECTED'`,
    );
    expect(payments).toEqual([{ id: 'w4', category: 'identification', code: 'identifierError' }]);
    const [w1] = await disbursementStatus(db(), workerContext(db()), ['w1']);
    expect(w1).toMatchObject({ lifecycle_status: 'reconciled' });

    // A duplicate callback changes nothing.
    const before = await walletBatch();
    const again = await t.app.inject({ method: 'PUT', url: path, payload: body });
    expect(again.statusCode).toBe(204);
    expect(await walletBatch()).toEqual(before);
  });

  it('refuses a forged or unknown callback and changes nothing', async () => {
    await mixedEnvelope();
    await workers.runOnce();
    const [sent] = [...fake.batches.values()];
    const before = await walletBatch();
    const forged = await t.app.inject({
      method: 'PUT',
      url: '/wallet-callbacks/MPESA/not-the-secret',
      headers: { 'x-correlationid': sent!.correlationId },
      payload: { batchId: sent!.batchId },
    });
    expect(forged.statusCode).toBe(401);
    expect(forged.json()).toMatchObject({ error: 'wallet.callback.unauthorized' });
    // Another provider's address cannot speak for this one.
    const path = new URL(sent!.callbackUrl!).pathname;
    const other = await t.app.inject({
      method: 'PUT',
      url: path.replace('/MPESA/', '/AIRTEL/'),
      payload: { batchId: sent!.batchId },
    });
    expect(other.statusCode).toBe(401);
    const unknown = await t.app.inject({
      method: 'PUT',
      url: path,
      headers: { 'x-correlationid': '00000000-0000-4000-8000-000000000000' },
      payload: { batchId: 'B-nope' },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ error: 'wallet.batch.unknown' });
    expect(await walletBatch()).toEqual(before);
  });

  it('recovers lost callbacks by polling, following each completion link for its amount', async () => {
    await mixedEnvelope();
    fake.linkOnly = true;
    await workers.runOnce();
    fake.settle();
    // No callback comes; the poll interval passes.
    await workers.runOnce();
    expect(await statusCounts(db(), 'E1')).toEqual({ shipped: 7 });
    await dueNow('wallet_batch');
    await workers.runOnce();
    expect(await statusCounts(db(), 'E1')).toEqual({ shipped: 3, reconciled: 4 });
    expect((await envelopeStatus(db(), 'E1')).number_of_disbursements_reconciled).toBe(4);
  });

  it('adopts the batch of a lost answer instead of sending it twice', async () => {
    await mixedEnvelope();
    fake.loseAnswers = 1;
    await workers.runOnce();
    // The provider stored the batch but its answer was lost: the bank batch waits for a retry.
    expect(fake.posts).toBe(1);
    expect(await statusCounts(db(), 'E1')).toEqual({ received: 7 });
    await dueNow('bank_disbursement_batch_status');
    await workers.runOnce();
    expect(fake.posts).toBe(1);
    expect(fake.batches.size).toBe(1);
    expect(bank.batches.size).toBe(1);
    expect(await statusCounts(db(), 'E1')).toEqual({ shipped: 7 });
    fake.settle();
    await dueNow('wallet_batch');
    await workers.runOnce();
    expect(await statusCounts(db(), 'E1')).toEqual({ shipped: 3, reconciled: 4 });
  });

  it('retries with backoff while the provider is down, then ships', async () => {
    await mixedEnvelope();
    fake.downFor = 3;
    await workers.runOnce();
    // The wallet channel's balance cannot be read: the funds check waits with the provider's code.
    const { rows } = await db().query<{ code: string | null; status: string }>(
      `SELECT funds_available_latest_error_code AS code, funds_available_with_bank AS status
         FROM disbursement_envelope_batch_status`,
    );
    expect(rows).toEqual([{ code: 'WALLET_HTTP_503', status: 'PENDING_CHECK' }]);
    expect(fake.posts).toBe(0);
    for (let i = 0; i < 5 && (await statusCounts(db(), 'E1')).received; i++) {
      await db().query(
        `UPDATE disbursement_envelope_batch_status SET next_attempt_at = now() - interval '1 second'`,
      );
      await dueNow('bank_disbursement_batch_status');
      await workers.runOnce();
    }
    expect(fake.posts).toBe(1);
    expect(await statusCounts(db(), 'E1')).toEqual({ shipped: 7 });
  });

  it('refuses a completion with a wrong amount or for a disbursement of another channel', async () => {
    await mixedEnvelope();
    await workers.runOnce();
    fake.claimAmount.set('w2', '125');
    fake.extraCompletions.push({ ref: 'b1', amount: '10', currency: 'USD', msisdn: '+254700000009' });
    fake.extraCompletions.push({ ref: 'nobody', amount: '1', currency: 'USD', msisdn: '+254700000009' });
    fake.settle();
    await dueNow('wallet_batch');
    await workers.runOnce();
    const states = Object.fromEntries((await lifecycle(db(), 'E1')).map((s) => [s.id, s.status]));
    expect(states).toMatchObject({ b1: 'shipped', w1: 'reconciled', w2: 'shipped', w3: 'reconciled' });
    const { rows } = await db().query<{ reference: string; error_reason: string }>(
      `SELECT reference, error_reason FROM wallet_outcome_error ORDER BY reference`,
    );
    expect(rows).toEqual([
      { reference: 'b1', error_reason: 'NOT_IN_THIS_BATCH' },
      { reference: 'nobody', error_reason: 'UNKNOWN_DISBURSEMENT' },
      { reference: 'w2', error_reason: 'AMOUNT_MISMATCH' },
    ]);
    expect((await walletBatch())[0]!.outcome_status).toBe('PENDING');
    expect((await envelopeStatus(db(), 'E1')).number_of_disbursements_reconciled).toBe(3);
  });

  it('checks funds per channel: the bank blocks its part, the provider balance covers the wallet part', async () => {
    await mixedEnvelope();
    fake.balance = '49.99';
    await workers.runOnce();
    // The wallet channel needs 50.00: short, so nothing is blocked or sent.
    const { rows } = await db().query<{ status: string; required: string; available: string }>(
      `SELECT funds_status AS status, required_amount::text AS required, available_amount::text AS available
         FROM envelope_channel_funds WHERE disbursement_envelope_id = 'E1'`,
    );
    expect(rows).toEqual([{ status: 'FUNDS_NOT_AVAILABLE', required: '50.00', available: '49.99' }]);
    expect((await envelopeStatus(db(), 'E1')).funds_available_with_bank).toBe('FUNDS_NOT_AVAILABLE');
    expect(fake.posts).toBe(0);
    expect(bank.calls.checkFunds).toBe(0);

    fake.balance = '50';
    await db().query(
      `UPDATE disbursement_envelope_batch_status SET next_attempt_at = now() - interval '1 second'`,
    );
    await workers.runOnce();
    expect(bank.blocks.get('E1')?.amount).toBe('30.00');
    expect(fake.posts).toBe(1);
    expect(await statusCounts(db(), 'E1')).toEqual({ shipped: 7 });
  });
});
