// `demo --channels bank,wallet` against the all-in-one stack: the mobile-wallet beneficiaries are paid through
// the program's GSMA channel at the wallet-provider simulator (provider MOMO under start), the rest through the
// example bank; suspended and unknown wallets end refused with the provider's code; every disbursement is
// accounted for and the channels add up to the envelope exactly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIMULATED_WALLET_PROVIDER } from '../../src/cli/commands/start.js';
import { expectedTotals, makePlan, plannedItems, WALLET_OUTCOME } from '../../src/demo/plan.js';
import { runDemo } from '../../src/demo/run.js';
import { decimalToMinor } from '../../src/money/index.js';
import { collector, type TestStack, testStack } from './stack.js';

const SIZE = 120;

/** The first run tag whose plan has a suspended and an unknown wallet (the plan is a pure function of it). */
function runWithRefusals(): string {
  for (let i = 0; ; i++) {
    const run = `ch${i}`;
    const plan = makePlan({ run, size: SIZE, currency: 'USD', bankCode: 'EXAMPLE', walletProvider: 'MOMO' });
    const states = new Set([...plannedItems(plan)].filter((p) => !p.cancel).map((p) => p.wallet?.state));
    if (states.has('suspended') && states.has('unknown') && states.has('active')) return run;
  }
}

describe('demo --channels bank,wallet', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack({ [`WALLET_${SIMULATED_WALLET_PROVIDER}_POLL_SECONDS`]: '1' });
  });
  afterAll(async () => stack?.stop());

  it('pays wallets through the provider and banks through the bank, every disbursement accounted for', async () => {
    expect(stack.simulatedProvider?.providerCode).toBe('MOMO');
    const run = runWithRefusals();
    const out = collector();
    const result = await runDemo({
      url: stack.url,
      token: await stack.token(['admin', 'pbms']),
      size: SIZE,
      batchSize: 50,
      run,
      pollMs: 200,
      timeoutMs: 120_000,
      out,
      walletProvider: SIMULATED_WALLET_PROVIDER,
    });
    const text = out.text();
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(text).toContain('wallet channel MOMO');
    expect(text).toMatch(/by payout channel/);
    expect(text).toMatch(/\n {2}bank +\d/);
    expect(text).toMatch(/\n {2}wallet MOMO +\d/);
    expect(text).toMatch(/ok +the payout channels add up to the envelope exactly/);
    // The per-channel lines' amounts, as printed, add up to the envelope total.
    const table = text.slice(text.indexOf('by payout channel')).split('\n\n')[0]!.split('\n').slice(1);
    const printed = table.map((line) => decimalToMinor(line.trim().split(/ +/).at(-1)!.replace(/,/g, ''), 2));
    expect(printed.reduce((a, b) => a + b, 0n)).toBe(expectedTotals(result.plan).totalMinor);

    // The database agrees with the plan, payment by payment.
    const plan = result.plan;
    const expected = expectedTotals(plan);
    const wallets = [...plannedItems(plan)].filter((p) => p.wallet && !p.cancel);
    const db = stack.db;
    const { rows } = await db.query<{
      id: string;
      beneficiary: string;
      outcome: string | null;
      code: string | null;
      amount: string;
    }>(
      `SELECT w.disbursement_id AS id, d.beneficiary_id AS beneficiary, w.outcome, w.error_code AS code,
              w.amount::text AS amount
         FROM wallet_payment w JOIN disbursement d USING (disbursement_id)
        WHERE d.disbursement_envelope_id = $1`,
      [plan.envelopeId],
    );
    expect(rows.length).toBe(expected.wallet.count);
    const byBeneficiary = new Map(rows.map((r) => [r.beneficiary, r]));
    for (const w of wallets) {
      const row = byBeneficiary.get(w.beneficiaryId)!;
      const code = WALLET_OUTCOME[w.wallet!.state];
      expect(row.outcome, w.beneficiaryId).toBe(code ? 'REJECTED' : 'COMPLETED');
      expect(row.code, w.beneficiaryId).toBe(code);
    }
    // None of them reached the bank: its block covers the bank's part only.
    const { rows: recon } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM disbursement_recon r JOIN wallet_payment w USING (disbursement_id)
        WHERE r.wallet_batch_id IS NULL`,
    );
    expect(recon[0]!.n).toBe(0);

    // The status API names the channel and the provider's refusal.
    const refused = rows.find((r) => r.outcome === 'REJECTED')!;
    const paidAtBank = await db.query<{ id: string }>(
      `SELECT l.disbursement_id AS id FROM disbursement_lifecycle l
        LEFT JOIN wallet_payment w USING (disbursement_id)
        WHERE l.disbursement_envelope_id = $1 AND l.lifecycle_status = 'reconciled' AND w.disbursement_id IS NULL
        LIMIT 1`,
      [plan.envelopeId],
    );
    const token = await stack.token(['pbms']);
    const res = await fetch(`${stack.url}/get_disbursement_status`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        header: {
          version: '1.0.0',
          message_id: 'm-ch-1',
          message_ts: new Date().toISOString(),
          action: 'get_disbursement_status',
          sender_id: 'test',
          total_count: 2,
        },
        message: [refused.id, paidAtBank.rows[0]!.id],
      }),
    });
    const body = (await res.json()) as { message: Array<Record<string, unknown>> };
    expect(body.message[0]).toMatchObject({
      lifecycle_status: 'refused',
      lifecycle_reason: refused.code,
      payout_channel: 'MOMO',
      refused_by: 'WALLET_PROVIDER',
      refusal_error_category: refused.code === 'identifierError' ? 'identification' : 'businessRule',
    });
    expect(body.message[1]).toMatchObject({
      lifecycle_status: 'reconciled',
      payout_channel: 'BANK',
      refused_by: null,
    });

    // The dashboard's envelope page has the per-channel table.
    const page = await fetch(`${stack.url}/dashboard/envelopes/${plan.envelopeId}`, {
      headers: { authorization: `Bearer ${await stack.token(['admin'])}` },
    });
    const html = await page.text();
    expect(html).toContain('data-table="channels"');
    expect(html).toContain('data-channel="MOMO"');
    expect(html).toContain('data-channel="BANK"');
  });
});
