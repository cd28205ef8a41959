// The duplicate and reversal checks of a chunk look recons up by index, one probe per entry, never by a
// hash of every recon row built for each chunk. PostgreSQL may plan an EXISTS lookup as a hashed subplan
// when the recon table looks small to it (stale statistics: PGlite has no autovacuum); that made each chunk
// cost as much as the whole cycle so far (0.45-2.2 s a chunk at 885,000 recons, docs/benchmarks.md).
// Likewise the disbursement each entry names is an index probe, never a hash join over every disbursement.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db, Queryable } from '../../src/db/index.js';
import {
  DEBIT_CHECK_SQL,
  REVERSAL_CHECK_SQL,
  type ReconEntry,
  reconcileEntries,
} from '../../src/statements/reconcile.js';
import {
  disbursements,
  resetBridge,
  seedEnvelope,
  seedProgram,
  uploadStatement,
} from '../pipeline/fixtures.js';
import { testDb } from '../support/db.js';

const entry = (seq: number, mark: 'D' | 'RD', id: string, file = 1): ReconEntry => ({
  seq,
  mark,
  program: 'CASH',
  statementNumber: '1',
  statementSequence: '1',
  disbursementId: id,
  bankReference: `BR${file}-${mark}-${seq}`,
  beneficiaryName: null,
  reversalReason: null,
  entryDate: null,
  valueDate: '2030-01-01',
  amount: '10.00',
  currency: 'USD',
});

describe('reconciliation lookups', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(async () => {
    await db.close();
  });

  it('probe the recons per entry even when the statistics say the table is tiny', async () => {
    await resetBridge(db);
    await seedProgram(db, { resolution: false });
    await seedEnvelope(db, { id: 'E', batches: [disbursements('p', 400, '10.00')] });
    await db.query(`UPDATE bank_disbursement_batch_status SET disbursement_status = 'PROCESSED'`);
    await db.query(
      `INSERT INTO mapper_resolution_details (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved)
       SELECT disbursement_id, mapper_resolution_batch_id, beneficiary_id, true FROM disbursement`,
    );
    const first = await uploadStatement(db, `probes first ${Math.random()}`);
    const ids = Array.from({ length: 400 }, (_, i) => `p${i + 1}`);
    // A cycle half reconciled, then statistics taken while the table was empty (what PGlite keeps).
    await db.transaction(async (tx) => {
      await tx.query('ANALYZE disbursement_recon');
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('g2p-bridge-reconcile'))");
      await reconcileEntries(
        tx,
        first,
        ids.slice(0, 200).map((id, i) => entry(i + 1, 'D', id)),
      );
    });
    const second = await uploadStatement(db, `probes second ${Math.random()}`);
    const plans = await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('g2p-bridge-reconcile'))");
      const summary = await reconcileEntries(tx, second, [
        ...ids.slice(190, 400).map((id, i) => entry(i + 1, 'D', id, 2)),
        ...ids.slice(0, 50).map((id, i) => entry(300 + i, 'RD', id, 2)),
      ]);
      // recon_entry lives until commit: the checks planned as a chunk runs them
      const debit = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${DEBIT_CHECK_SQL}`, [second]);
      const reversal = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${REVERSAL_CHECK_SQL}`);
      const text = (r: typeof debit) => r.rows.map((x) => x['QUERY PLAN']).join('\n');
      return { summary, debit: text(debit), reversal: text(reversal) };
    });
    // the lookups are right: 10 debits of the first statement again, 200 new, 50 reversals of recons
    expect(plans.summary).toMatchObject({ DUPLICATE_DISBURSEMENT: 10, RECONCILED: 200, REVERSED: 50 });
    for (const plan of [plans.debit, plans.reversal]) {
      expect(plan).not.toMatch(/hashed SubPlan/i);
      expect(plan).not.toMatch(/Seq Scan on disbursement_recon/);
      expect(plan).toMatch(/Index (Only )?Scan using disbursement_recon_pkey/);
    }
  });

  it('probe the disbursement of each entry, not a hash join over every disbursement', async () => {
    await resetBridge(db);
    await seedProgram(db, { resolution: false });
    await seedEnvelope(db, { id: 'E', batches: [disbursements('q', 6000, '10.00')] });
    await db.query(`UPDATE bank_disbursement_batch_status SET disbursement_status = 'PROCESSED'`);
    await db.query(
      `INSERT INTO mapper_resolution_details (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved)
       SELECT disbursement_id, mapper_resolution_batch_id, beneficiary_id, true FROM disbursement`,
    );
    await db.query('ANALYZE');
    const statement = await uploadStatement(db, `facts ${Math.random()}`);
    const result = await db.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('g2p-bridge-reconcile'))");
      // The statements reconcileEntries runs, to plan the one that reads the disbursements as it ran.
      const seen: string[] = [];
      const recording: Queryable = {
        query: (sql: string, params?: readonly unknown[]) => {
          seen.push(sql);
          return tx.query(sql, params);
        },
      } as Queryable;
      const summary = await reconcileEntries(
        recording,
        statement,
        Array.from({ length: 2000 }, (_, i) => entry(i + 1, 'D', `q${i + 1}`, 3)),
      );
      const facts = seen.filter((sql) => /^\s*UPDATE recon_entry t\s+SET[\s(]+envelope_id/.test(sql));
      expect(facts).toHaveLength(1);
      const plan = await tx.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${facts[0]}`);
      return { summary, plan: plan.rows.map((x) => x['QUERY PLAN']).join('\n') };
    });
    expect(result.summary).toMatchObject({ RECONCILED: 2000 });
    expect(result.plan).not.toMatch(/Seq Scan on disbursement d\b/);
    expect(result.plan).not.toMatch(/Hash Join/);
    expect(result.plan).toMatch(/Index Scan using disbursement_pkey/);
  });
});
