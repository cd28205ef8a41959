// `demo --bank-channel sftp`: the whole cycle through the example bank's SFTP face, as `start` wires it with
// EXAMPLE_BANK_CHANNEL=sftp: pain.001 files up, pain.002 status reports and statements down, collected by the
// bank_files stage. The bank rejects a few payments in its pain.002 (AC04): they end `refused` with the
// bank's code and the summary still accounts for every disbursement, to the last minor unit.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { run as bankCommand } from '../../src/cli/commands/bank.js';
import { run as demoCommand } from '../../src/cli/commands/demo.js';
import { expectedTotals } from '../../src/demo/plan.js';
import { runDemo } from '../../src/demo/run.js';
import { collector, type TestStack, testStack } from './stack.js';

describe('demo --bank-channel sftp', () => {
  let stack: TestStack;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'demo-sftp-'));
    stack = await testStack({ EXAMPLE_BANK_CHANNEL: 'sftp', DATA_DIR: dataDir });
  });
  afterAll(async () => {
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('reconciles every disbursement on the SFTP channel, rejected ones accounted for', async () => {
    expect(stack.bankSftp).toBeDefined();
    stack.bankSftp!.faults.rejectNextTransactions(3, 'AC04');
    const out = collector();
    const result = await runDemo({
      url: stack.url,
      token: await stack.token(['admin', 'pbms']),
      size: 150,
      batchSize: 60,
      run: 'sftp1',
      pollMs: 200,
      timeoutMs: 90_000,
      out,
    });
    const text = out.text();
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(text).toContain('refused because: AC04 (3)');

    const db = stack.db;
    const envelope = 'ENV-DEMO-SFTP1';
    // Nothing went over the bank's HTTP initiate_payment: every bank batch is a pain.001 the face took.
    const files = stack.bankSftp!.handled;
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => f.status !== 'RJCT' || f.rejected > 0)).toBe(true);
    expect(files.reduce((n, f) => n + f.rejected, 0)).toBe(3);
    const archived = await readdir(join(dataDir, 'bank-sftp', 'bridge', 'to-bank', 'archive'));
    expect(archived.length).toBe(files.length);
    // Each pain.002 and statement came back through bank_files, none in error.
    const inbound = await db.query<{ kind: string; status: string; n: number }>(
      `SELECT file_kind AS kind, file_process_status AS status, count(*)::int AS n
         FROM bank_inbound_file GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(inbound.rows.every((r) => r.status === 'PROCESSED')).toBe(true);
    expect(inbound.rows.find((r) => r.kind === 'PAIN002')?.n).toBe(files.length);
    expect(inbound.rows.find((r) => r.kind === 'STATEMENT')?.n).toBeGreaterThan(0);

    const { rows } = await db.query<{ state: string; n: number }>(
      `SELECT l.lifecycle_status AS state, count(*)::int AS n
         FROM disbursement_lifecycle l WHERE l.disbursement_envelope_id = $1 GROUP BY 1`,
      [envelope],
    );
    const byState = Object.fromEntries(rows.map((r) => [r.state, r.n]));
    const expected = expectedTotals(result.plan);
    expect(byState.refused).toBe(3);
    expect(byState.received).toBeUndefined();
    expect(byState.shipped).toBeUndefined();
    const shipped = 150 - expected.cancelled - expected.unresolved - 3;
    expect((byState.reconciled ?? 0) + (byState.reversed ?? 0)).toBe(shipped);
    // The bank's reason code is on each refusal; the bank posted none of them.
    const refusals = await db.query<{ code: string; by: string; paid: number }>(
      `SELECT r.error_code AS code, r.refused_by AS by,
              (SELECT count(*)::int FROM example_bank.payment p WHERE p.payment_reference = r.disbursement_id) AS paid
         FROM disbursement_bank_refusal r`,
    );
    expect(refusals.rows).toEqual(Array(3).fill({ code: 'AC04', by: 'BANK_STATUS', paid: 0 }));
  });

  it('keeps the account-to-customer mapping in the bank schema, so statements still go by SFTP after a restart', async () => {
    const { rows } = await stack.db.query<{ username: string }>(
      'SELECT username FROM example_bank.sftp_account_owner',
    );
    expect(rows.map((r) => r.username)).toContain('bridge');
  });

  it('refuses a channel it does not know, --bank-channel with --url, and a bad --sftp-port', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await demoCommand(['--bank-channel', 'ftp'])).toBe(2);
      expect(await demoCommand(['--bank-channel', 'sftp', '--url', 'http://127.0.0.1:1'])).toBe(2);
      expect(await bankCommand(['--sftp-port', '70000'])).toBe(2);
      expect(stderr.mock.calls.map((c) => String(c[0]))).toEqual([
        '--bank-channel must be api or sftp\n',
        '--bank-channel applies only when the demo starts its own bridge (no --url)\n',
        '--sftp-port must be a whole number between 0 and 65535\n',
      ]);
    } finally {
      stderr.mockRestore();
    }
  });
});
