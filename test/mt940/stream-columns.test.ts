// Mt940ColumnStream reads a text given in pieces cut anywhere (inside a line, a tag, a CRLF, a surrogate
// pair) exactly as parseMt940Columns reads it whole: the same statements, the same entries in file order,
// and it gives up on exactly the inputs parseMt940Columns leaves to parseMt940.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Mt940ColumnStream,
  type Mt940EntryInput,
  type Mt940StatementInput,
  materialiseColumns,
  parseMt940Columns,
  writeMt940,
} from '../../src/mt940/index.js';
import { skipWithout } from '../support/prerequisites.js';
import { corpusDir, corpusFiles, readStatementFile } from './corpus.js';

/** Reads `pieces` through a stream; answers its result and every entry of its runs, by statement. */
function streamed(pieces: readonly string[], entries = true) {
  const s = new Mt940ColumnStream({ entries });
  const runs = [];
  for (const p of pieces) runs.push(...s.push(p));
  runs.push(...s.end());
  const byStatement: unknown[][] = (s.result?.statements ?? []).map(() => []);
  let last = -1;
  // runs of an input given up on are handed out before the stream knows: only a result's count
  for (const r of s.result ? runs : []) {
    expect(r.statement).toBeGreaterThanOrEqual(last); // file order
    last = r.statement;
    byStatement[r.statement]!.push(...r.entries.toEntries());
  }
  return { result: s.result, byStatement, runs: runs.length };
}

/** The text cut at `cuts` (positions, any order, repeats allowed). */
function cut(text: string, cuts: readonly number[]): string[] {
  const at = [...new Set(cuts.map((c) => Math.max(0, Math.min(text.length, c))))].sort((a, b) => a - b);
  const out: string[] = [];
  let from = 0;
  for (const c of at) {
    out.push(text.slice(from, c));
    from = c;
  }
  out.push(text.slice(from));
  return out;
}

/** The stream over `pieces` must be parseMt940Columns of their join, to the last key; answers `columnar`. */
function same(pieces: readonly string[]): boolean {
  const text = pieces.join('');
  const whole = parseMt940Columns(text);
  const { result, byStatement } = streamed(pieces);
  if (!whole.columnar) {
    expect(result).toBeNull();
    return false;
  }
  expect(result).not.toBeNull();
  const wanted = materialiseColumns(whole);
  expect(result!.statements).toHaveLength(wanted.statements.length);
  const marks = { D: 0, C: 0, RD: 0, RC: 0 };
  wanted.statements.forEach((w, i) => {
    const { entries, ...rest } = w;
    const { entryCount, ...got } = result!.statements[i]!;
    expect(got).toStrictEqual(rest);
    expect(entryCount).toBe(entries.length);
    expect(byStatement[i]).toStrictEqual(entries);
    for (const e of entries) marks[e.mark]++;
  });
  expect(result!.marks).toStrictEqual(marks);
  // without runs (the checking pass): the same statements
  expect(streamed(pieces, false).result).toStrictEqual(result);
  return true;
}

const payout: Mt940EntryInput = {
  valueDate: '2024-02-01',
  entryDate: '2024-02-01',
  mark: 'D',
  amount: '250.50',
  transactionType: 'NTRF',
  customerReference: 'DISB-0000000001',
  bankReference: 'BNK-77',
  narratives: ['Child grant February', 'PROG-CG', '', 'BEN-000123', 'Amina Diallo'],
};

function statement(
  entries: Mt940EntryInput[],
  reference = 'STMT-1',
  currency = 'EUR',
  amount = '1000.00',
): Mt940StatementInput {
  return {
    transactionReference: reference,
    accountIdentification: 'NL91ABNA0417164300',
    statementNumber: '12',
    sequenceNumber: '1',
    currency,
    openingBalance: { mark: 'C', date: '2024-01-31', currency, amount },
    entries,
  };
}

const regular = writeMt940([
  statement([
    payout,
    { ...payout, mark: 'RD', amount: '0.05', bankReference: undefined, narratives: ['Zoë 😀 €', 'x'] },
    { ...payout, mark: 'C', fundsCode: 'R', supplementaryDetails: 'ORDER 7', narratives: ['/NAME/A/REMI/b'] },
  ]),
  statement([{ ...payout, customerReference: 'DISB-2', amount: '250' }], 'STMT-2', 'JPY', '1000'),
  statement([], 'STMT-3'),
]);

describe('Mt940ColumnStream', () => {
  it('reads a text cut into two pieces at every position as the whole text (CRLF, LF, CR)', () => {
    for (const text of [regular, regular.replace(/\r\n/g, '\n'), regular.replace(/\r\n/g, '\r')]) {
      expect(text).toContain('😀');
      for (let p = 0; p <= text.length; p++) expect(same([text.slice(0, p), text.slice(p)])).toBe(true);
    }
  });

  it('reads pieces of one character, and a BOM in a piece of its own', () => {
    expect(same([...regular])).toBe(true);
    expect(
      same(['\uFEFF', ...regular.split('\n').map((l, i, all) => (i < all.length - 1 ? `${l}\n` : l))]),
    ).toBe(true);
  });

  it('hands out entries in runs over segments, not the whole text at once', () => {
    const many = writeMt940([statement(Array.from({ length: 300 }, () => ({ ...payout, amount: '1.00' })))]);
    const pieces = cut(
      many,
      Array.from({ length: 40 }, (_, i) => (i * many.length) / 40),
    );
    expect(same(pieces)).toBe(true);
    expect(streamed(pieces).runs).toBeGreaterThan(20);
  });

  it('gives up exactly where parseMt940Columns leaves the input to parseMt940', () => {
    const variants = [
      regular.replace('D250,50NTRF', 'D250,505NTRF'), // a warning: more decimals than EUR has
      `{1:F01X}{2:O940X}{4:\n${regular}`,
      regular.replace(':62F:', ':60F:C240131EUR1000,00\n:62F:'),
      regular.replace(/:20:STMT-2[\s\S]*?:62F:.*\r\n/, ':20:STMT-2\r\n:25:X\r\n:28C:1\r\n'), // no balances
      regular.replace(':86:Child', ':\r\n86:Child'),
      `${regular}junk\r\n`,
      regular.replaceAll('EUR', 'DEM'),
      'not a statement at all',
      '',
    ];
    for (const text of variants) {
      expect(parseMt940Columns(text).columnar, String(variants.indexOf(text))).toBe(false);
      for (let p = 0; p <= text.length; p += 7) expect(same([text.slice(0, p), text.slice(p)])).toBe(false);
    }
  });

  it('reads any cut of generated statements as the whole text', () => {
    const entry = fc.record({
      mark: fc.constantFrom('D' as const, 'C' as const, 'RD' as const),
      amount: fc.integer({ min: 0, max: 99_999 }).map((c) => (c / 100).toFixed(2)),
      customerReference: fc.constantFrom('NONREF', 'D1', 'DISB-0000000001', 'ÉÀ€'),
      narratives: fc.array(fc.constantFrom('Benefit', 'Name', '', '😀 Zoë', '/NAME/X/REMI/Y'), {
        maxLength: 4,
      }),
    });
    fc.assert(
      fc.property(
        fc.array(fc.array(entry, { maxLength: 6 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom('\r\n', '\n', '\r'),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }),
        (statements, lineEnding, at) => {
          const written = writeMt940(
            statements.map((es, i) =>
              statement(
                es.map((e) => ({ ...payout, ...e })),
                `S${i}`,
              ),
            ),
          );
          const text = written.replace(/\r\n/g, lineEnding);
          expect(
            same(
              cut(
                text,
                at.map((x) => Math.floor(x * text.length)),
              ),
            ),
          ).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('Mt940ColumnStream on the corpus', () => {
  const dir = corpusDir();
  it.skipIf(
    skipWithout(Boolean(dir), 'the MT940 corpus', 'set MT940_CORPUS_DIR or put shared/ beside the checkout'),
  )('reads every corpus file cut into pieces as parseMt940Columns reads it whole', () => {
    let columnar = 0;
    const files = corpusFiles(dir!);
    for (const file of files) {
      const text = readStatementFile(file);
      const sizes = [1, 7, 64, 1000];
      for (const size of sizes) {
        const pieces: string[] = [];
        for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
        try {
          if (same(pieces) && size === 1) columnar++;
        } catch (e) {
          throw new Error(`${file} in pieces of ${size}: ${(e as Error).message}`);
        }
      }
    }
    console.info(`Mt940ColumnStream: ${columnar} of ${files.length} corpus files read in columns`);
    expect(columnar).toBeGreaterThan(0);
  });
});
