// `demo --api g2p-connect`: the whole cycle through the G2P Connect API against the all-in-one stack, with the
// demo as a PBMS that must sign, callbacks to its loopback receiver, and every signature checked.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type DemoPbms, runG2pConnectDemo, startDemoPbms } from '../../src/demo/g2p-connect.js';
import { ensureBridgeKeys } from '../../src/g2p/keys.js';
import { decimalToMinor } from '../../src/money/index.js';
import { collector, type TestStack, testStack } from './stack.js';

describe('demo --api g2p-connect against the all-in-one stack', () => {
  let stack: TestStack;
  let pbms: DemoPbms;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'g2p-demo-gc-'));
    await ensureBridgeKeys({ DATA_DIR: dataDir, DATABASE_URL: undefined });
    pbms = await startDemoPbms();
    stack = await testStack({ DATA_DIR: dataDir, G2P_CONNECT_SENDERS: pbms.sendersConfig });
  });
  afterAll(async () => {
    await stack?.stop();
    await pbms?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('runs a whole cycle with signed messages and delivered callbacks, amounts exact', async () => {
    const out = collector();
    const result = await runG2pConnectDemo({
      url: stack.url,
      token: await stack.token(['admin', 'pbms']),
      pbms,
      size: 100,
      batchSize: 40,
      run: 'gc1',
      pollMs: 200,
      timeoutMs: 90_000,
      out,
    });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.transactions).toHaveLength(3);
    const text = out.text();
    expect(text).toContain('G2P Connect summary (run gc1');
    expect(text).toMatch(
      /\[ok\] answers and callbacks signed with the bridge's published key: 3 \/ 3 answers/,
    );

    // What the PBMS was told is what the database holds: paid is reconciled, refused is reversed or rejected.
    const { rows } = await stack.db.query<{ ref: string; state: string; amount: string }>(
      `SELECT i.reference_id AS ref, l.lifecycle_status AS state, d.disbursement_amount::text AS amount
         FROM g2p_connect_item i JOIN disbursement_lifecycle l USING (disbursement_id)
         JOIN disbursement d USING (disbursement_id) WHERE i.transaction_id LIKE 'GC-gc1-%'`,
    );
    expect(rows).toHaveLength(100);
    for (const r of rows) {
      const pushed = result.final.get(r.ref);
      expect(pushed?.status, r.ref).toBe(r.state === 'reconciled' ? 'succ' : 'rjct');
      expect(decimalToMinor(pushed!.amount, 2)).toBe(decimalToMinor(r.amount, 2));
    }
    const { rows: callbacks } = await stack.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM g2p_connect_callback WHERE delivery_status <> 'DELIVERED'`,
    );
    expect(callbacks[0]!.n).toBe(0);
  });
});

describe('demo --api: argument checks', () => {
  it('refuses an unknown API, and g2p-connect against a bridge it did not start', async () => {
    const { run } = await import('../../src/cli/commands/demo.js');
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      written.push(String(chunk));
      return true;
    });
    try {
      expect(await run(['--api', 'soap'])).toBe(2);
      expect(await run(['--api', 'g2p-connect', '--url', 'http://127.0.0.1:1'])).toBe(2);
    } finally {
      spy.mockRestore();
    }
    expect(written.join('')).toContain('--api must be envelope or g2p-connect');
    expect(written.join('')).toContain('--api g2p-connect needs the demo to start its own bridge');
  });
});
