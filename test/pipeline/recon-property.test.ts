// Random statement sequences through the statement stage (parse, account, connector, chunks, SQL): debits and
// reversals with right and wrong amounts, currencies and accounts, for shipped, unshipped, unresolved,
// cancelled, other programs' and unknown disbursements, reused bank references and re-sent files. After
// every statement the money must add up: per envelope reconciled ≤ shipped and the counters equal the recon
// rows; every recon is a shipped, not cancelled disbursement of the statement's program, debited in its
// currency for its exact amount; the reconciled amount is the sum of those debits; a reversal has a debit of
// its amount; every entry leaves exactly one trace.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { startWorkers } from '../../src/pipeline/index.js';
import { testDb } from '../support/db.js';
import { connectorsOf, FakeBank } from './fakes.js';
import {
  type EntrySeed,
  resetBridge,
  seedEnvelope,
  seedProgram,
  statementText,
  uploadStatement,
  workerContext,
} from './fixtures.js';
import { cancelAndAmend, statementRow } from './helpers.js';
import { shipBatches } from './recon-helpers.js';

const ACCOUNTS = { CASH: '1000200030', FOOD: '2000300040' } as const;
type Program = keyof typeof ACCOUNTS;
/** What each disbursement is owed; s* shipped, c1 cancelled, n1 unresolved, u1 not shipped, f1 FOOD's. */
const DUE: Record<string, { amount: string; program: Program }> = {
  s1: { amount: '10.00', program: 'CASH' },
  s2: { amount: '25.50', program: 'CASH' },
  s3: { amount: '0.07', program: 'CASH' },
  c1: { amount: '10.00', program: 'CASH' },
  n1: { amount: '10.00', program: 'CASH' },
  u1: { amount: '1000.00', program: 'CASH' },
  f1: { amount: '5.00', program: 'FOOD' },
};
const PAYABLE = new Set(['s1', 's2', 's3', 'f1']);

const minor = (a: string) => BigInt(a.replace('.', ''));
const decimal = (m: bigint) => `${m / 100n}.${String(m % 100n).padStart(2, '0')}`;

type Amount = 'due' | 'cent' | 'over' | 'under';
interface GenEntry {
  mark: 'D' | 'RD' | 'C';
  id: string;
  amount: Amount;
  ref: string | null;
}
interface GenStatement {
  program: Program;
  currency: 'USD' | 'EUR';
  entries: GenEntry[];
  resend: boolean;
}

function amountOf(id: string, a: Amount): string {
  const due = minor(DUE[id]?.amount ?? '10.00');
  if (a === 'cent') return '0.01';
  if (a === 'over') return decimal(due + 1n);
  if (a === 'under') return decimal(due > 1n ? due - 1n : due + 2n);
  return decimal(due);
}

const entryArb: fc.Arbitrary<GenEntry> = fc.record({
  mark: fc.constantFrom<GenEntry['mark']>('D', 'D', 'D', 'RD', 'RD', 'C'),
  id: fc.constantFrom(...Object.keys(DUE), 's1', 's2', 'zz'),
  amount: fc.constantFrom<Amount>('due', 'due', 'due', 'cent', 'over', 'under'),
  ref: fc.option(fc.constantFrom('R1', 'R2', 'R3'), { nil: null }),
});
const statementArb: fc.Arbitrary<GenStatement> = fc.record({
  program: fc.constantFrom<Program>('CASH', 'CASH', 'FOOD'),
  currency: fc.constantFrom<'USD' | 'EUR'>('USD', 'USD', 'USD', 'EUR'),
  entries: fc.array(entryArb, { minLength: 1, maxLength: 8 }),
  resend: fc.constantFrom(false, false, false, true),
});

interface Written {
  mark: 'D' | 'RD';
  id: string;
  amount: string;
  currency: string;
  program: Program;
}

async function seed(db: Db) {
  await resetBridge(db);
  await seedProgram(db, { resolution: false });
  await seedProgram(db, { mnemonic: 'FOOD', account: ACCOUNTS.FOOD, resolution: false });
  const d = (id: string) => ({ id, beneficiaryId: `BEN-${id}`, amount: DUE[id]!.amount });
  await seedEnvelope(db, {
    id: 'E1',
    batches: [['s1', 's2', 's3', 'c1', 'n1'].map(d), [d('u1')]],
  });
  await seedEnvelope(db, { id: 'E2', program: 'FOOD', batches: [[d('f1')]] });
  await cancelAndAmend(db, 'E1', 'c1');
  await shipBatches(db, ['E1-B1', 'E2-B1'], ['n1']);
}

async function checkInvariants(db: Db, written: Map<string, Written>, allEntries: number) {
  const { rows: envelopes } = await db.query<{
    id: string;
    shipped: number;
    reconciled: number;
    reversed: number;
    recons: number;
    reversals: number;
  }>(
    `SELECT s.disbursement_envelope_id AS id, s.number_of_disbursements_shipped AS shipped,
            s.number_of_disbursements_reconciled AS reconciled, s.number_of_disbursements_reversed AS reversed,
            (SELECT count(*)::int FROM disbursement_recon r
              WHERE r.disbursement_envelope_id = s.disbursement_envelope_id) AS recons,
            (SELECT count(*)::int FROM disbursement_recon r
              WHERE r.disbursement_envelope_id = s.disbursement_envelope_id AND r.reversal_found) AS reversals
       FROM disbursement_envelope_batch_status s ORDER BY 1`,
  );
  for (const e of envelopes) {
    expect(e.reconciled, `envelope ${e.id}`).toBeLessThanOrEqual(e.shipped);
    expect(e.reconciled, `envelope ${e.id}`).toBe(e.recons);
    expect(e.reversed, `envelope ${e.id}`).toBe(e.reversals);
  }
  const { rows: recons } = await db.query<{
    id: string;
    amount: string;
    statement: string;
    seq: number;
    rstatement: string | null;
    rseq: number | null;
  }>(
    `SELECT disbursement_id AS id, d.disbursement_amount::text AS amount, remittance_statement_id AS statement,
            remittance_entry_sequence AS seq, reversal_statement_id AS rstatement, reversal_entry_sequence AS rseq
       FROM disbursement_recon JOIN disbursement d USING (disbursement_id)`,
  );
  let reconciled = 0n;
  let debited = 0n;
  for (const r of recons) {
    expect(PAYABLE.has(r.id), `${r.id} is never payable`).toBe(true);
    const debit = written.get(`${r.statement}/${r.seq}`)!;
    expect(debit).toMatchObject({ mark: 'D', id: r.id, currency: 'USD', program: DUE[r.id]!.program });
    expect(minor(debit.amount)).toBe(minor(DUE[r.id]!.amount));
    reconciled += minor(r.amount);
    debited += minor(debit.amount);
    if (r.rstatement !== null) {
      const reversal = written.get(`${r.rstatement}/${r.rseq}`)!;
      expect(reversal).toMatchObject({ mark: 'RD', id: r.id, currency: 'USD', program: DUE[r.id]!.program });
      expect(minor(reversal.amount)).toBe(minor(DUE[r.id]!.amount));
    }
  }
  expect(reconciled).toBe(debited);
  const { rows: states } = await db.query<{ id: string; status: string }>(
    `SELECT disbursement_id AS id, lifecycle_status AS status FROM disbursement_lifecycle
      WHERE disbursement_id IN ('c1', 'n1', 'u1')`,
  );
  for (const s of states) expect(['reconciled', 'reversed']).not.toContain(s.status);
  // Every D and RD of every counted statement left exactly one trace.
  const { rows: traces } = await db.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM disbursement_recon)::int + (SELECT count(*) FROM disbursement_recon
              WHERE reversal_found)::int + (SELECT count(*) FROM disbursement_error_recon)::int AS n`,
  );
  expect(traces[0]!.n).toBe(allEntries);
}

describe('reconciliation invariants over random statement sequences', () => {
  let db: Db;
  let uploads = 0;
  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(async () => {
    await db.close();
  });

  it('never pays what was not shipped, and reconciled money equals the matching debits', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(statementArb, { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 6 }),
        async (statements, chunk) => {
          await seed(db);
          const workers = startWorkers(workerContext(db, { STATEMENT_CHUNK_ENTRIES: String(chunk) }), {
            poll: false,
            stages: ['statement'],
            connectors: connectorsOf(new FakeBank()),
          });
          try {
            const written = new Map<string, Written>();
            let counted = 0;
            let previous: { text: string; list: Array<[number, Written]> } | null = null;
            for (const s of statements) {
              uploads++;
              let text: string;
              let list: Array<[number, Written]>;
              if (s.resend && previous) ({ text, list } = previous);
              else {
                const seeds: EntrySeed[] = s.entries.map((e, i) => ({
                  mark: e.mark,
                  id: e.id,
                  amount: amountOf(e.id, e.amount),
                  bankRef: e.ref ?? `U${uploads}-${i}`,
                }));
                text = statementText(seeds, {
                  account: ACCOUNTS[s.program],
                  currency: s.currency,
                  reference: `P${uploads}`,
                  number: String(uploads),
                });
                // Entry sequence numbers count credits too.
                list = s.entries.flatMap(
                  (e, i): Array<[number, Written]> =>
                    e.mark === 'C'
                      ? []
                      : [
                          [
                            i + 1,
                            {
                              mark: e.mark,
                              id: e.id,
                              amount: amountOf(e.id, e.amount),
                              currency: s.currency,
                              program: s.program,
                            },
                          ],
                        ],
                );
              }
              const id = await uploadStatement(db, text);
              await workers.runOnce();
              const row = await statementRow(db, id);
              expect(row.status).toBe('PROCESSED');
              if (row.duplicate_of === null) {
                for (const [seq, w] of list) written.set(`${id}/${seq}`, w);
                counted += list.length;
              } else expect(s.resend && previous !== null).toBe(true);
              previous = { text, list };
              await checkInvariants(db, written, counted);
            }
          } finally {
            await workers.stop();
          }
        },
      ),
      { numRuns: 25 },
    );
  });
});
