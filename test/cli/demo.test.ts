import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedTotals, makePlan, plannedItem } from '../../src/demo/plan.js';
import { runDemo, validateSize } from '../../src/demo/run.js';
import { collector, type TestStack, testStack } from './stack.js';

describe('demo against the all-in-one stack', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack();
  });
  afterAll(async () => stack.stop());

  it('runs a whole cycle and accounts for every disbursement exactly', async () => {
    const out = collector();
    const result = await runDemo({
      url: stack.url,
      token: await stack.token(['admin', 'pbms']),
      size: 150,
      batchSize: 40,
      run: 'tst1',
      pollMs: 200,
      timeoutMs: 90_000,
      out,
    });
    const text = out.text();
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    // Plain lines (not a terminal): one per stage step, no escape codes.
    expect(text).not.toContain('\x1b[');
    expect(text).toMatch(/sending +100% +150 \/ 150 in 4 calls/);
    expect(text).toMatch(/reconciliation +100%/);
    expect(text).toContain('Reconciliation summary: envelope ENV-DEMO-TST1');
    // Every stage of the cycle was timed to its end, in order, with the rows it handled.
    expect(result.stages.map((t) => t.key)).toEqual([
      'ingest',
      'resolution',
      'funds',
      'shipping',
      'bank',
      'statements',
      'reconciliation',
    ]);
    for (const t of result.stages) {
      expect(t.finishedMs, t.key).not.toBeNull();
      expect(t.startedMs!, t.key).toBeLessThanOrEqual(t.finishedMs!);
    }
    expect(result.stages.find((t) => t.key === 'ingest')?.rows).toBe(150);
    expect(text).toMatch(/Stages \(wall time/);
    expect(text).toMatch(/statement writing .* s/);

    // The summary's figures are the database's.
    const db = stack.db;
    const { rows } = await db.query<{ state: string; n: number; amount: string }>(
      `SELECT l.lifecycle_status AS state, count(*)::int AS n, sum(d.disbursement_amount)::text AS amount
         FROM disbursement_lifecycle l JOIN disbursement d USING (disbursement_id)
        WHERE l.disbursement_envelope_id = 'ENV-DEMO-TST1' GROUP BY 1`,
    );
    const byState = Object.fromEntries(rows.map((r) => [r.state, r]));
    const expected = expectedTotals(result.plan);
    expect(byState.cancelled?.n).toBe(expected.cancelled);
    expect(byState.unresolved?.n).toBe(expected.unresolved);
    expect(byState.received).toBeUndefined();
    expect(byState.shipped).toBeUndefined();
    const summaryLine = (label: string) =>
      new RegExp(`^ +${label} +([\\d,]+) +([\\d,.]+)$`, 'm').exec(text)?.slice(1, 3);
    expect(summaryLine('reconciled \\(paid\\)')).toEqual([
      String(byState.reconciled?.n ?? 0),
      Number(byState.reconciled?.amount ?? 0).toLocaleString('en-US', { minimumFractionDigits: 2 }),
    ]);
    expect(summaryLine('reversed by the bank')?.[0]).toBe(String(byState.reversed?.n ?? 0));
  });

  it('refuses sizes outside 100 to 1,000,000', async () => {
    expect(validateSize(99)).toMatch(/100 to 1,000,000/);
    expect(validateSize(1_000_001)).not.toBeNull();
    expect(validateSize(100.5)).not.toBeNull();
    expect(validateSize(1_000_000)).toBeNull();
    await expect(runDemo({ url: stack.url, token: '', size: 50, out: collector() })).rejects.toThrow(
      /--size/,
    );
  });
});

describe('demo plan', () => {
  it('is the same for the same run and differs between runs', () => {
    const a = makePlan({ run: 'r1', size: 1000, currency: 'USD', bankCode: 'EXAMPLE' });
    const b = makePlan({ run: 'r2', size: 1000, currency: 'USD', bankCode: 'EXAMPLE' });
    expect(plannedItem(a, 17)).toEqual(plannedItem(a, 17));
    expect(plannedItem(a, 17).beneficiaryId).not.toBe(plannedItem(b, 17).beneficiaryId);
  });

  it('leaves about 2 % unresolved and cancels about 0.5 %, always at least one of each', () => {
    for (const size of [100, 10_000]) {
      const t = expectedTotals(makePlan({ run: 'x', size, currency: 'USD', bankCode: 'EXAMPLE' }));
      expect(t.unresolved).toBeGreaterThanOrEqual(1);
      expect(t.cancelled).toBeGreaterThanOrEqual(1);
      expect(t.unresolved / size).toBeLessThan(0.03);
      expect(t.cancelled / size).toBeLessThanOrEqual(0.01);
    }
  });

  it('uses the currency minor units exactly', () => {
    const jpy = makePlan({ run: 'y', size: 100, currency: 'JPY', bankCode: 'EXAMPLE' });
    expect(expectedTotals(jpy).total).toMatch(/^\d+$/);
    const usd = makePlan({ run: 'y', size: 100, currency: 'USD', bankCode: 'EXAMPLE' });
    expect(expectedTotals(usd).total).toMatch(/^\d+\.\d{2}$/);
  });
});

describe('demo progress output', () => {
  const bar = (done: number, of: number, text = `${done} / ${of}`) => ({
    key: 'k',
    label: 'stage',
    done,
    of,
    text,
  });

  it('prints plain lines on tenths and the final state when not on a terminal', async () => {
    const { progressView } = await import('../../src/demo/progress.js');
    const out = collector();
    const view = progressView(out);
    for (const done of [0, 3, 5, 12, 55, 58]) view.update([bar(done, 100)]);
    view.finish();
    const line = (pct: string, text: string) => `  ${'stage'.padEnd(14)} ${pct.padStart(4)}  ${text}`;
    expect(out.text().trimEnd().split('\n')).toEqual([
      line('0%', '0 / 100'),
      line('12%', '12 / 100'),
      line('55%', '55 / 100'),
      line('58%', '58 / 100'),
    ]);
  });

  it('redraws in place on a terminal and keeps every bar on one row', async () => {
    const { progressView } = await import('../../src/demo/progress.js');
    const chunks: string[] = [];
    const view = progressView({ isTTY: true, columns: 80, write: (t: string) => chunks.push(t) });
    view.update([bar(1, 2, 'x'.repeat(200)), bar(2, 2)]);
    view.update([bar(2, 2), bar(2, 2)]);
    const text = chunks.join('');
    expect(text).toContain('\x1b[2F'); // back up two rows before redrawing
    const ansi = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g');
    const rows = text.split('\n').map((l) => l.replace(ansi, ''));
    expect(Math.max(...rows.map((r) => r.length))).toBeLessThanOrEqual(80);
  });
});

describe('demo client', () => {
  it('explains a refused token (HTTP 401) instead of echoing the body', async () => {
    const { createServer } = await import('node:http');
    const server = createServer((_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"unauthorized"}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as import('node:net').AddressInfo;
      const { BridgeClient } = await import('../../src/demo/client.js');
      const client = new BridgeClient(`http://127.0.0.1:${port}`, 'minted-from-another-secret');
      await expect(client.call('POST', '/admin/programs', {})).rejects.toThrow(
        /--token .*DATA_DIR or JWT_SECRET/,
      );
    } finally {
      server.close();
    }
  });
});
