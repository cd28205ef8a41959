// Payout channels through the all-in-one stack (start's own wallet-provider simulator as provider MOMO):
// callbacks lost and recovered by polling, the provider down for a while and an answer lost (the batch adopted,
// never sent twice), and an envelope paid wholly through wallets, for which the bank is never asked anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_WALLET_PROVIDER } from '../../src/cli/commands/start.js';
import { BridgeClient } from '../../src/demo/client.js';
import { runDemo } from '../../src/demo/run.js';
import { collector, type TestStack, testStack } from '../cli/stack.js';

const today = (days = 0) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('wallet channels through the all-in-one stack', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack({ [`WALLET_${SIMULATED_WALLET_PROVIDER}_POLL_SECONDS`]: '1' });
  });
  afterAll(async () => stack?.stop());

  const demo = async (run: string) =>
    runDemo({
      url: stack.url,
      token: await stack.token(['admin', 'pbms']),
      size: 100,
      run,
      pollMs: 200,
      timeoutMs: 120_000,
      out: collector(),
      walletProvider: SIMULATED_WALLET_PROVIDER,
    });

  /** The simulator's batches and callbacks of one demo run's envelope. */
  async function providerSide(envelopeId: string) {
    const { rows } = await stack.db.query<{ batches: number; ours: number; lost: number; delivered: number }>(
      `SELECT (SELECT count(*)::int FROM example_wallet.batch b
                WHERE b.client_correlation_id IN (SELECT wallet_batch_id FROM wallet_batch w
                                                   WHERE w.disbursement_envelope_id = $1)) AS batches,
              (SELECT count(*)::int FROM wallet_batch WHERE disbursement_envelope_id = $1) AS ours,
              (SELECT count(*)::int FROM example_wallet.callback c
                WHERE c.client_correlation_id IN (SELECT wallet_batch_id FROM wallet_batch w
                                                   WHERE w.disbursement_envelope_id = $1)
                  AND c.status = 'lost') AS lost,
              (SELECT count(*)::int FROM example_wallet.callback c
                WHERE c.client_correlation_id IN (SELECT wallet_batch_id FROM wallet_batch w
                                                   WHERE w.disbursement_envelope_id = $1)
                  AND c.status = 'delivered') AS delivered`,
      [envelopeId],
    );
    return rows[0]!;
  }

  it('recovers the outcomes of lost callbacks by polling', async () => {
    stack.wallet!.faults.loseCallbacks(100);
    try {
      const result = await demo('lost1');
      expect(result.checks.filter((c) => !c.ok)).toEqual([]);
      expect(result.ok).toBe(true);
      const side = await providerSide(result.plan.envelopeId);
      expect(side.ours).toBeGreaterThan(0);
      expect(side.batches).toBe(side.ours);
      expect(side.lost).toBe(side.ours);
      expect(side.delivered).toBe(0);
    } finally {
      stack.wallet!.faults.loseCallbacks(0);
    }
  });

  it('waits out a provider that is down and adopts a batch whose answer was lost', async () => {
    stack.wallet!.faults.down(2);
    stack.wallet!.faults.loseAnswers(1);
    const result = await demo('down1');
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(stack.wallet!.faults.state()).toMatchObject({ downFor: 0, loseAnswers: 0 });
    // The batch taken before its answer was lost is the one the bridge holds: one per wallet batch, not two.
    const side = await providerSide(result.plan.envelopeId);
    expect(side.batches).toBe(side.ours);
  });

  it('never asks the bank to check or block 0.00 when every payment goes to a wallet', async () => {
    const client = new BridgeClient(stack.url, await stack.token(['admin', 'pbms']));
    // A sponsor account the example bank does not have: any check or block there would fail.
    await client.call('POST', '/admin/programs', {
      benefit_program_mnemonic: 'WALLETS-ONLY',
      benefit_program_name: 'Paid through wallets only',
      funding_org_code: 'MIN',
      funding_org_name: 'Ministry',
      sponsor_bank_code: 'EXAMPLE',
      sponsor_bank_branch_code: 'HQ',
      sponsor_bank_account_number: 'NO-SUCH-ACCOUNT',
      sponsor_bank_account_currency: 'USD',
      id_mapper_resolution_required: true,
    });
    const opened = await stack.wallet!.openAccount({
      accountId: 'WALLETS-ONLY-FUNDS',
      currency: 'USD',
      openingBalance: '100',
    });
    expect(opened.ok).toBe(true);
    const msisdns = ['+254711000001', '+254711000002', '+254711000003'];
    await stack.wallet!.openWallets(msisdns.map((msisdn) => ({ msisdn, currency: 'USD' })));
    await client.call('PUT', '/admin/programs/WALLETS-ONLY/payout-channels/MOMO', {
      debit_party_account: 'accountid@WALLETS-ONLY-FUNDS',
      currency: 'USD',
    });
    await client.postText(
      '/mapper/admin/entries/csv',
      `id,fa,name\n${msisdns
        .map(
          (m, i) =>
            `WO-${i},mobile_number:${m}.wallet_provider_name:Mobile Money.wallet_provider_code:MOMO.fa_type:MOBILE_WALLET,Holder ${i}`,
        )
        .join('\n')}\n`,
      'text/csv',
    );
    const envelope = {
      disbursement_envelope_id: 'ENV-WALLETS-ONLY',
      benefit_program_mnemonic: 'WALLETS-ONLY',
      disbursement_frequency: 'Monthly',
      cycle_code_mnemonic: 'C1',
      number_of_beneficiaries: 3,
      number_of_disbursements: 3,
      total_disbursement_amount: '31.50',
      disbursement_currency_code: 'USD',
    };
    let created = false;
    for (const date of [today(-1), today(0)]) {
      const answer = await client.g2p('create_disbursement_envelope', {
        ...envelope,
        disbursement_schedule_date: date,
      });
      if (answer.header.status !== 'rjct') {
        created = true;
        break;
      }
    }
    expect(created).toBe(true);
    await client.g2pOk(
      'create_disbursements',
      ['10.50', '10.50', '10.50'].map((amount, i) => ({
        disbursement_envelope_id: 'ENV-WALLETS-ONLY',
        disbursement_id: `WO-D${i}`,
        beneficiary_id: `WO-${i}`,
        beneficiary_name: `Holder ${i}`,
        disbursement_amount: amount,
        narrative: 'benefit',
      })),
      3,
    );

    // Until every payment is paid (a wait, not a timed assertion: the cycle runs on the stack's fast timers).
    type Status = {
      funds_available_with_bank: string;
      funds_blocked_with_bank: string;
      funds_blocked_reference_number: string | null;
      funds_available_latest_error_code: string | null;
      lifecycle_summary: { reconciled: { count: number } };
      channel_summary: Array<{
        payout_channel: string | null;
        reconciled: { count: number; amount: number };
      }>;
    };
    let status: Status | undefined;
    for (let i = 0; i < 600; i++) {
      status = await client.g2pOk<Status>('get_disbursement_envelope_status', 'ENV-WALLETS-ONLY');
      if (status.lifecycle_summary.reconciled.count === 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toMatchObject({
      funds_available_with_bank: 'FUNDS_AVAILABLE',
      funds_available_latest_error_code: null,
      funds_blocked_with_bank: 'FUNDS_BLOCK_SUCCESS',
      funds_blocked_reference_number: null,
      lifecycle_summary: { reconciled: { count: 3 } },
    });
    expect(status!.channel_summary).toEqual([
      expect.objectContaining({ payout_channel: 'MOMO', reconciled: { count: 3, amount: 31.5 } }),
    ]);
    // The provider's account paid it all; the bank holds no account of this program.
    const account = await stack.wallet!.getAccount('accountid', 'WALLETS-ONLY-FUNDS');
    expect(account).toMatchObject({ balance: '68.5' });
  });
});
