// The happy day through the all-in-one stack: the demo pays wallets at start's simulated provider MOMO, then
// an operator asks for today's ledger of MOMO; the wallet_ledger stage reads the simulator's
// /accounts/{id}/transactions page by page through the gsma-mmapi connector and every completion is
// confirmed by a debit, with no error. The channel change and the ledger request leave audit rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_WALLET_PROVIDER } from '../../src/cli/commands/start.js';
import { BridgeClient } from '../../src/demo/client.js';
import { runDemo } from '../../src/demo/run.js';
import { collector, type TestStack, testStack } from '../cli/stack.js';

type Day = { ledger_day_id: string; status: string; debits: number; confirmed: number; errors: number };

describe("the wallet provider's ledger through the all-in-one stack", () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack({ [`WALLET_${SIMULATED_WALLET_PROVIDER}_POLL_SECONDS`]: '1' });
  });
  afterAll(async () => stack?.stop());

  it('confirms every wallet completion of the day by a ledger debit', async () => {
    const token = await stack.token(['admin', 'pbms']);
    const result = await runDemo({
      url: stack.url,
      token,
      size: 100,
      run: 'ledger1',
      pollMs: 200,
      timeoutMs: 120_000,
      out: collector(),
      walletProvider: SIMULATED_WALLET_PROVIDER,
    });
    expect(result.ok).toBe(true);
    const { rows: paid } = await stack.db.query<{ account: string; n: number }>(
      `SELECT b.debit_party_account AS account, count(*)::int AS n
         FROM wallet_payment w JOIN wallet_batch b USING (wallet_batch_id)
        WHERE b.disbursement_envelope_id = $1 AND w.outcome = 'COMPLETED'
        GROUP BY 1`,
      [result.plan.envelopeId],
    );
    expect(paid).toHaveLength(1);
    expect(paid[0]!.n).toBeGreaterThan(0);

    const client = new BridgeClient(stack.url, token);
    const today = new Date().toISOString().slice(0, 10); // the stack's TIME_ZONE is UTC
    const asked = await client.call<{ days: Day[] }>(
      'POST',
      '/admin/wallet-ledger/reconcile',
      { provider_code: SIMULATED_WALLET_PROVIDER, date: today, debit_party_account: paid[0]!.account },
      [202],
    );
    expect(asked.body.days).toHaveLength(1);
    const id = asked.body.days[0]!.ledger_day_id;

    // Until the stage has done the day (a wait, not a timed assertion).
    let day: Day | undefined;
    for (let i = 0; i < 600; i++) {
      const { days } = await client.getJson<{ days: Day[] }>(
        `/admin/wallet-ledger/days?provider_code=${SIMULATED_WALLET_PROVIDER}&date=${today}`,
      );
      day = days.find((d) => d.ledger_day_id === id);
      if (day?.status === 'COMPLETED') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // The funding deposit is a credit; every payment is one debit, each confirming its completion.
    expect(day).toMatchObject({ status: 'COMPLETED', debits: paid[0]!.n, confirmed: paid[0]!.n, errors: 0 });
    const { errors } = await client.getJson<{ errors: unknown[] }>(
      `/admin/wallet-ledger/errors?provider_code=${SIMULATED_WALLET_PROVIDER}&date=${today}`,
    );
    expect(errors).toEqual([]);
    const { rows: unconfirmed } = await stack.db.query(
      `SELECT w.disbursement_id FROM wallet_payment w JOIN wallet_batch b USING (wallet_batch_id)
        WHERE b.disbursement_envelope_id = $1 AND w.outcome = 'COMPLETED' AND w.ledger_confirmed_at IS NULL`,
      [result.plan.envelopeId],
    );
    expect(unconfirmed).toEqual([]);

    // The channel change and the ledger request are in the audit trail.
    const { rows: audit } = await stack.db.query<{ action: string; program: string | null }>(
      `SELECT action, program FROM audit_event
        WHERE action IN ('set_payout_channel', 'reconcile_wallet_ledger') ORDER BY id`,
    );
    expect(audit).toEqual([
      { action: 'set_payout_channel', program: result.plan.program },
      { action: 'reconcile_wallet_ledger', program: null },
    ]);
  });

  it('refuses a day to come and a provider without channels, with a code', async () => {
    const client = new BridgeClient(stack.url, await stack.token(['admin']));
    const tomorrow = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const ahead = await client.call<{ error: string }>(
      'POST',
      '/admin/wallet-ledger/reconcile',
      { provider_code: SIMULATED_WALLET_PROVIDER, date: tomorrow },
      [400],
    );
    expect(ahead.body.error).toBe('ledger.date.invalid');
    const nobody = await client.call<{ error: string }>(
      'POST',
      '/admin/wallet-ledger/reconcile',
      { provider_code: 'NOBODY', date: '2026-01-01' },
      [404],
    );
    expect(nobody.body.error).toBe('ledger.provider.unknown');
  });
});
