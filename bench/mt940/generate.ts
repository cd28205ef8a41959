// Generates a large, valid MT940 statement with the project's writer (deterministic).

import type { Mt940EntryInput, Mt940StatementInput } from '../../src/mt940/index.js';
import { writeMt940 } from '../../src/mt940/index.js';

/** Small deterministic PRNG (mulberry32) so every run parses the same file. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PROGRAMS = ['CHILD-GRANT', 'OLD-AGE-PENSION', 'DISABILITY-SUPPORT', 'CASH-FOR-WORK'];
const NAMES = [
  'Amina Diallo',
  'José Fernández García',
  'Nguyen Thi Mai',
  'Oluwaseun Adebayo-Okafor',
  'Maria Kowalska',
];
const REASONS = ['Account closed', 'Beneficiary deceased', 'Invalid account number', 'Name mismatch'];

export function benchmarkStatement(entries: number, seed = 940): Mt940StatementInput {
  const r = rng(seed);
  const list: Mt940EntryInput[] = [];
  for (let i = 0; i < entries; i++) {
    const reversal = r() < 0.02;
    const cents = 1000 + Math.floor(r() * 9_000_000); // 10.00 .. 90 010.00
    const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
    const id = `DISB-${String(i).padStart(10, '0')}`;
    const day = 1 + (i % 28);
    const date = `2024-03-${String(day).padStart(2, '0')}`;
    list.push({
      valueDate: date,
      entryDate: date,
      mark: reversal ? 'RD' : 'D',
      amount,
      transactionType: 'NTRF',
      customerReference: id,
      bankReference: `B${String(i).padStart(15, '0')}`,
      narratives: [
        `G2P benefit payment ${PROGRAMS[i % PROGRAMS.length]} March 2024 instalment`,
        PROGRAMS[i % PROGRAMS.length]!,
        `CYCLE-2024-03-${String(1 + (i % 4)).padStart(2, '0')}`,
        `BEN-${String(Math.floor(r() * 1e9)).padStart(9, '0')}`,
        NAMES[i % NAMES.length]!,
        reversal ? REASONS[i % REASONS.length]! : 'Paid to beneficiary account',
      ],
    });
  }
  return {
    transactionReference: 'BENCH-STMT-0001',
    accountIdentification: 'NL91ABNA0417164300',
    statementNumber: '1',
    sequenceNumber: '1',
    currency: 'EUR',
    openingBalance: { mark: 'C', date: '2024-02-29', currency: 'EUR', amount: '9000000000.00' },
    entries: list,
  };
}

export function benchmarkFile(entries: number): string {
  return writeMt940(benchmarkStatement(entries));
}
