// Reconciliation rules checked against a plain model: random sequences of debits and reversals (known ids,
// unknown ids, right and wrong amounts, repeats, reused bank references) over two statements, applied by the
// set-based SQL in random chunks (debits first, then reversals, as the statement stage cuts them).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { findProgramByAccount, type ProgramAccount } from '../../src/statements/accounts.js';
import { type ReconEntry, type ReconOutcome, reconcileEntries } from '../../src/statements/reconcile.js';
import { testDb } from '../support/db.js';
import { disbursements, resetBridge, seedEnvelope, seedProgram, uploadStatement } from './fixtures.js';

type Step = { mark: 'D' | 'RD'; id: string; ref: string; amount: string };

const DUE = '10.00';

/** The rules of docs/pipeline.md, one entry at a time: a file's debits first, then its reversals. */
function model(statements: Step[][], known: Set<string>) {
  const recon = new Map<string, { reversed: boolean }>();
  const reconRefs = new Set<string>(); // bank references of recorded debits
  const outcomes: ReconOutcome[][] = [];
  for (const entries of statements) {
    const out: ReconOutcome[] = new Array(entries.length);
    const seenD = new Set<string>(); // ids and references of this statement's earlier matching debits
    const seenRef = new Set<string>();
    entries.forEach((e, i) => {
      if (e.mark !== 'D') return;
      if (!known.has(e.id)) out[i] = 'INVALID_DISBURSEMENT_ID';
      else if (e.amount !== DUE) out[i] = 'AMOUNT_MISMATCH';
      else {
        if (recon.has(e.id) || seenD.has(e.id) || seenRef.has(e.ref) || reconRefs.has(e.ref))
          out[i] = 'DUPLICATE_DISBURSEMENT';
        else out[i] = 'RECONCILED';
        seenD.add(e.id);
        seenRef.add(e.ref);
      }
    });
    entries.forEach((e, i) => {
      if (out[i] !== 'RECONCILED') return;
      recon.set(e.id, { reversed: false });
      reconRefs.add(e.ref);
    });
    entries.forEach((e, i) => {
      if (e.mark !== 'RD') return;
      const r = recon.get(e.id);
      if (!known.has(e.id)) out[i] = 'INVALID_DISBURSEMENT_ID';
      else if (!r) out[i] = 'INVALID_REVERSAL';
      else if (e.amount !== DUE) out[i] = 'REVERSAL_AMOUNT_MISMATCH';
      else if (!r.reversed) {
        out[i] = 'REVERSED';
        r.reversed = true;
      } else out[i] = 'INVALID_REVERSAL';
    });
    outcomes.push(out);
  }
  return outcomes;
}

/** Debits in file order, then reversals in file order, cut before the given positions. */
function chunksOf(entries: ReconEntry[], cuts: number[]): ReconEntry[][] {
  const ordered = [...entries.filter((e) => e.mark === 'D'), ...entries.filter((e) => e.mark === 'RD')];
  const at = [...new Set(cuts.map((c) => c % (ordered.length + 1)))].sort((a, b) => a - b);
  const out: ReconEntry[][] = [];
  let from = 0;
  for (const c of [...at, ordered.length]) {
    if (c > from) out.push(ordered.slice(from, c));
    from = Math.max(from, c);
  }
  return out;
}

describe('reconciliation rules', () => {
  let db: Db;
  beforeAll(async () => {
    db = await testDb();
  });
  afterAll(async () => {
    await db.close();
  });

  it('agrees with the model on random statements, whatever the chunks', async () => {
    const step = fc.record({
      mark: fc.constantFrom<'D' | 'RD'>('D', 'D', 'RD'),
      id: fc.constantFrom('k1', 'k2', 'k3', 'k4', 'zz'),
      ref: fc.constantFrom('R1', 'R2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8'),
      amount: fc.constantFrom(DUE, DUE, DUE, '0.01', '10.01'),
    });
    const statement = fc.record({
      entries: fc.array(step, { maxLength: 8 }),
      cuts: fc.array(fc.nat(20), { maxLength: 3 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(statement, { minLength: 1, maxLength: 2 }), async (statements) => {
        await resetBridge(db);
        await seedProgram(db, { resolution: false });
        await seedEnvelope(db, { id: 'E', batches: [disbursements('k', 4, DUE)] });
        await db.query(`UPDATE bank_disbursement_batch_status SET disbursement_status = 'PROCESSED'`);
        await db.query(
          `INSERT INTO mapper_resolution_details (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved)
           SELECT disbursement_id, mapper_resolution_batch_id, beneficiary_id, true FROM disbursement`,
        );
        const expected = model(
          statements.map((s) => s.entries),
          new Set(['k1', 'k2', 'k3', 'k4']),
        );
        for (const [s, { entries, cuts }] of statements.entries()) {
          const sid = await uploadStatement(db, `statement ${s} ${Math.random()}`);
          const recon: ReconEntry[] = entries.map((e, i) => ({
            seq: i + 1,
            mark: e.mark,
            program: 'CASH',
            statementNumber: String(s + 1),
            statementSequence: '1',
            disbursementId: e.id,
            bankReference: e.mark === 'D' ? e.ref : `X${s}-${i}`,
            beneficiaryName: null,
            reversalReason: e.mark === 'RD' ? 'ACCOUNT_CLOSED' : null,
            entryDate: null,
            valueDate: '2030-01-01',
            amount: e.amount,
            currency: 'USD',
          }));
          for (const chunk of chunksOf(recon, cuts))
            await db.transaction((tx) => reconcileEntries(tx, sid, chunk));
          const { rows: errors } = await db.query<{ seq: number; reason: ReconOutcome }>(
            `SELECT entry_sequence AS seq, error_reason AS reason FROM disbursement_error_recon WHERE statement_id = $1`,
            [sid],
          );
          const { rows: debits } = await db.query<{ seq: number }>(
            `SELECT remittance_entry_sequence AS seq FROM disbursement_recon WHERE remittance_statement_id = $1`,
            [sid],
          );
          const { rows: reversals } = await db.query<{ seq: number }>(
            `SELECT reversal_entry_sequence AS seq FROM disbursement_recon WHERE reversal_statement_id = $1`,
            [sid],
          );
          const actual: ReconOutcome[] = new Array(entries.length);
          for (const e of errors) actual[e.seq - 1] = e.reason;
          for (const d of debits) actual[d.seq - 1] = 'RECONCILED';
          for (const r of reversals) actual[r.seq - 1] = 'REVERSED';
          expect(actual).toEqual(expected[s]);
        }
        const want = expected.flat();
        const { rows: counters } = await db.query(
          `SELECT number_of_disbursements_reconciled AS reconciled, number_of_disbursements_reversed AS reversed
           FROM disbursement_envelope_batch_status`,
        );
        expect(counters[0]).toEqual({
          reconciled: want.filter((o) => o === 'RECONCILED').length,
          reversed: want.filter((o) => o === 'REVERSED').length,
        });
      }),
      { numRuns: 40 },
    );
  });
});

describe('finding the program by the :25: account', () => {
  const programs: ProgramAccount[] = [
    { program: 'A', account: '1000200030', currency: 'USD', bankCode: 'X' },
    { program: 'B', account: '0532013000', currency: 'EUR', bankCode: 'X' },
    { program: 'C', account: 'GB29NWBK60161331926819', currency: 'GBP', bankCode: 'X' },
  ];
  const find = (raw: string) => findProgramByAccount(raw, programs)?.program ?? null;

  it('accepts the usual ways banks write an account', () => {
    expect(find('1000200030')).toBe('A');
    expect(find(' 1000-2000-30 ')).toBe('A');
    expect(find('1000200030/USD')).toBe('A');
    expect(find('1000200030 USD')).toBe('A');
    expect(find('1000200030USD')).toBe('A');
    expect(find('37040044/0532013000')).toBe('B');
    expect(find('37040044/0532013000/EUR')).toBe('B');
    expect(find('DE89370400440532013000')).toBe('B');
    expect(find('GB29 NWBK 6016 1331 9268 19')).toBe('C');
    expect(find('gb29nwbk60161331926819GBP')).toBe('C');
  });

  it('refuses accounts no program owns, or a suffix in another currency', () => {
    expect(find('')).toBeNull();
    expect(find('999')).toBeNull();
    expect(find('1000200030EUR')).toBeNull();
    expect(find('100020003')).toBeNull();
    expect(find('21000200030')).toBeNull();
  });
});
