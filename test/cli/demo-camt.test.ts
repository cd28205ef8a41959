// A whole demo cycle on ISO 20022 camt.053: the example bank writes the funding account's statements as
// camt.053.001.08 with each bank batch booked as one entry, delivers them to /upload_statement, and the
// bridge reconciles every disbursement exactly as it does on MT940 (the same checks of the summary).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedTotals } from '../../src/demo/plan.js';
import { runDemo } from '../../src/demo/run.js';
import { collector, type TestStack, testStack } from './stack.js';

describe('demo --statement-format camt053', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack();
  });
  afterAll(async () => stack?.stop());

  it('runs a whole cycle on camt.053 with batch booking and accounts for every disbursement', async () => {
    const out = collector();
    const result = await runDemo({
      url: stack.url,
      token: await stack.token(['admin', 'pbms']),
      size: 150,
      batchSize: 60,
      run: 'camt1',
      pollMs: 200,
      timeoutMs: 90_000,
      out,
      statementFormat: 'camt053',
      batchBooking: true,
    });
    const text = out.text();
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(text).toContain('statements: camt.053.001.08, each bank batch booked as one entry');
    expect(text).toMatch(/reconciliation +100%/);

    const db = stack.db;
    const envelope = 'ENV-DEMO-CAMT1';
    // Every statement the bank wrote for the funding account is a camt.053, and the bridge read it as one.
    const bank = await db.query<{ format: string; mt940: string }>(
      `SELECT format, mt940 FROM example_bank.statement WHERE account_number = $1`,
      [result.plan.fundingAccount],
    );
    expect(bank.rows.length).toBeGreaterThan(0);
    expect(bank.rows.every((r) => r.format === 'camt053')).toBe(true);
    expect(bank.rows.some((r) => r.mt940.includes('<Btch>'))).toBe(true);
    const bridge = await db.query<{ statement_format: string; n: number }>(
      `SELECT statement_format, count(*)::int AS n FROM account_statement GROUP BY 1`,
    );
    expect(bridge.rows).toEqual([{ statement_format: 'CAMT053', n: bank.rows.length }]);

    // The summary's figures are the database's, and reversals carry the bank's reasons through ISO codes.
    const { rows } = await db.query<{ state: string; n: number; amount: string }>(
      `SELECT l.lifecycle_status AS state, count(*)::int AS n, sum(d.disbursement_amount)::text AS amount
         FROM disbursement_lifecycle l JOIN disbursement d USING (disbursement_id)
        WHERE l.disbursement_envelope_id = $1 GROUP BY 1`,
      [envelope],
    );
    const byState = Object.fromEntries(rows.map((r) => [r.state, r]));
    const expected = expectedTotals(result.plan);
    expect(byState.cancelled?.n).toBe(expected.cancelled);
    expect(byState.unresolved?.n).toBe(expected.unresolved);
    expect(byState.received).toBeUndefined();
    expect(byState.shipped).toBeUndefined();
    const shipped = 150 - expected.cancelled - expected.unresolved;
    expect((byState.reconciled?.n ?? 0) + (byState.reversed?.n ?? 0)).toBe(shipped);
    expect(byState.reversed?.n).toBeGreaterThan(0);
    // Each return's ISO code came back as the very reason the bank returned the payment for.
    const reasons = await db.query<{ bank: string; bridge: string | null; n: number }>(
      `SELECT p.reversal_reason AS bank, r.reversal_reason AS bridge, count(*)::int AS n
         FROM example_bank.payment p
         LEFT JOIN disbursement_recon r ON r.disbursement_id = p.payment_reference AND r.reversal_found
        WHERE p.account_number = $1 AND p.status = 'REVERSED' GROUP BY 1, 2 ORDER BY 1`,
      [result.plan.fundingAccount],
    );
    expect(reasons.rows.every((r) => r.bank === r.bridge)).toBe(true);
    expect(reasons.rows.reduce((n, r) => n + r.n, 0)).toBe(byState.reversed?.n);
    const errors = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM disbursement_error_recon`);
    expect(errors.rows[0]!.n).toBe(0);
  });
});
