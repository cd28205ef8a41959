import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countEntryTags } from '../../src/mt940/columns.js';
import {
  type Mt940EntryInput,
  type Mt940StatementInput,
  materialiseColumns,
  parseMt940,
  parseMt940Columns,
  writeMt940,
} from '../../src/mt940/index.js';
import { skipWithout } from '../support/prerequisites.js';
import { corpusDir, corpusFiles, readStatementFile } from './corpus.js';

/** parseMt940Columns materialised must be parseMt940, to the last key; returns whether the fast reader ran. */
function same(text: string): boolean {
  const cols = parseMt940Columns(text);
  expect(materialiseColumns(cols)).toStrictEqual(parseMt940(text));
  return cols.columnar;
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

function statement(entries: Mt940EntryInput[], currency = 'EUR', amount = '1000.00'): Mt940StatementInput {
  return {
    transactionReference: 'STMT-1',
    accountIdentification: 'NL91ABNA0417164300',
    statementNumber: '12',
    sequenceNumber: '1',
    currency,
    openingBalance: { mark: 'C', date: '2024-01-31', currency, amount },
    entries,
  };
}

describe('parseMt940Columns', () => {
  it('reads a regular statement into columns and gives each field on access', () => {
    const text = writeMt940([
      statement([
        payout,
        { ...payout, mark: 'RD', amount: '0.05', bankReference: undefined, narratives: [] },
        {
          ...payout,
          mark: 'C',
          fundsCode: 'R',
          entryDate: undefined,
          supplementaryDetails: 'ORDER 7',
          narratives: ['/TRTP/SEPA OVERBOEKING/NAME/A. Diallo/REMI/grant'],
        },
      ]),
    ]);
    const r = parseMt940Columns(text);
    expect(r.columnar).toBe(true);
    const e = r.statements[0]!.entries;
    expect(e.count).toBe(3);
    expect(e.customerReference(0)).toBe('DISB-0000000001');
    expect(e.bankReference(0)).toBe('BNK-77');
    expect(e.bankReference(1)).toBeUndefined();
    expect(e.amount(0)).toBe('250.50');
    expect(e.signedAmount(0)).toBe('-250.50');
    expect(e.amountMinor(1)).toBe(5n);
    expect(e.mark(1)).toBe('RD');
    expect(e.valueDate(0)).toBe('2024-02-01');
    expect(e.entryDate(2)).toBeUndefined();
    expect(e.fundsCode(2)).toBe('R');
    expect(e.supplementaryDetails(2)).toBe('ORDER 7');
    expect(e.narratives(0)).toEqual(['Child grant February', 'PROG-CG', '', 'BEN-000123', 'Amina Diallo']);
    expect(e.narratives(1)).toEqual([]);
    expect(e.details(2)).toMatchObject({ NAME: 'A. Diallo', REMI: 'grant' });
    expect(e.entry(0)).toStrictEqual(parseMt940(text).statements[0]!.entries[0]);
    expect(() => e.entry(3)).toThrow(RangeError);
    same(text);
    same(text.replace(/\r\n/g, '\n'));
    same(text.replace(/\r\n/g, '\r'));
  });

  it('keeps exact amounts past 2^53 minor units and sums them exactly', () => {
    // "99999999999999," is 15 characters: 10^16 - 100 cents, past 2^53 (the balance check then fails)
    const text = writeMt940([statement([payout, { ...payout, mark: 'C' }])])
      .replace('D250,50NTRF', 'D99999999999999,NTRF')
      .replace('C250,50NTRF', 'C99999999999998,NTRF');
    expect(same(text)).toBe(true);
    const r = parseMt940Columns(text);
    const e = r.statements[0]!.entries;
    expect(e.amount(0)).toBe('99999999999999.00');
    expect(e.amountMinor(0)).toBe(9_999_999_999_999_900n);
    expect(e.signedAmount(0)).toBe('-99999999999999.00');
    expect(r.statements[0]!.balanceCheck?.computedClosing).toBe('999.00');
  });

  it('reports a failed balance check like parseMt940, with line and column', () => {
    const text = writeMt940([statement([payout])]).replace(':62F:C240201EUR749,50', ':62F:C240201EUR749,51');
    expect(same(text)).toBe(true);
    const r = parseMt940Columns(text);
    expect(r.statements[0]!.balanceCheck?.ok).toBe(false);
    expect(r.statements[0]!.problems).toHaveLength(1);
  });

  it('agrees with parseMt940 on hand-made variants of the regular layout', () => {
    const base = writeMt940([statement([payout, { ...payout, mark: 'C', amount: '0.00' }])], {
      lineEnding: '\n',
    });
    const variants: Array<[string, (t: string) => string]> = [
      ['BOM', (t) => `\uFEFF${t}`],
      [
        'trailing blanks after references',
        (t) => t.replace('DISB-0000000001//BNK-77\n', 'DISB-00001   //BNK-77  \n'),
      ],
      ['tab after the reference', (t) => t.replace('DISB-0000000001//', 'DISB-1\t//')],
      ['no bank reference', (t) => t.replace('DISB-0000000001//BNK-77', 'NONREF')],
      ['17-character reference', (t) => t.replace('DISB-0000000001//', 'DISB-000000000001//')],
      [
        '17-character reference, no //',
        (t) => t.replace('DISB-0000000001//BNK-77', 'DISB-000000000001 ACME'),
      ],
      ['blank entry date', (t) => t.replace(':61:2402010201D', ':61:240201    D')],
      ['entry date across the year end', (t) => t.replace(':61:2402010201D', ':61:2312310101D')],
      ['impossible day', (t) => t.replace(':61:2402010201D', ':61:2402300230D')],
      ['funds code', (t) => t.replace('D250,50NTRF', 'DR250,50NTRF')],
      ['amount without decimals written', (t) => t.replace('D250,50NTRF', 'D250,NTRF')],
      ['one decimal', (t) => t.replace('D250,50NTRF', 'D250,5NTRF')],
      ['extra zero decimals', (t) => t.replace('D250,50NTRF', 'D250,500NTRF')],
      ['three decimals', (t) => t.replace('D250,50NTRF', 'D250,505NTRF')],
      ['leading zeros', (t) => t.replace('D250,50NTRF', 'D000250,50NTRF')],
      ['no comma', (t) => t.replace('D250,50NTRF', 'D25050NTRF')],
      ['short type', (t) => t.replace('D250,50NTRFDISB-0000000001//BNK-77', 'D250,50NTR')],
      ['supplementary details', (t) => t.replace('//BNK-77\n', '//BNK-77\nORDER 7   \n')],
      ['supplementary details and a blank line', (t) => t.replace('//BNK-77\n', '//BNK-77\nORDER 7\n   \n')],
      ['blank line, then supplementary details', (t) => t.replace('//BNK-77\n', '//BNK-77\n\nORDER 7\n')],
      ['35-character supplementary details', (t) => t.replace('//BNK-77\n', `//BNK-77\n${'X'.repeat(35)}\n`)],
      ['blank lines after the narrative', (t) => t.replace('Amina Diallo\n', 'Amina Diallo\n  \n\u00a0\n')],
      ['seven narrative lines', (t) => t.replace('Amina Diallo\n', 'Amina Diallo\nsix\nseven\n')],
      ['66-character narrative line', (t) => t.replace('PROG-CG\n', `${'P'.repeat(66)}\n`)],
      [
        '66 blanks as the last narrative line',
        (t) => t.replace('Amina Diallo\n', `Amina Diallo\n${' '.repeat(66)}\n`),
      ],
      ['a second :86: (one per line)', (t) => t.replace('Amina Diallo\n', 'Amina Diallo\n:86:more\n')],
      ['statement :86: at the end', (t) => t.replace('\n-', '\n:86:statement info\nline 2\n\n-')],
      ['statement :86: before the entries', (t) => t.replace(':61:', ':86:before\n:61:')],
      [':NS: field', (t) => t.replace(':60F:', ':NS:22foo\n33bar\n:60F:')],
      [':21:, :25P:, :28:', (t) => t.replace(':25:', ':21:REL-1\n:25P:').replace(':28C:12/1', ':28:12')],
      ['intermediate balances', (t) => t.replace(':60F:', ':60M:').replace(':62F:', ':62M:')],
      [':64: and :65:', (t) => t.replace('\n-', '\n:64:C240201EUR5,\n:65:D240202USD1,5\n-')],
      ['balance without currency', (t) => t.replace(':62F:C240201EUR', ':62F:C240201')],
      ['closing balance in another currency', (t) => t.replace(':62F:C240201EUR', ':62F:C240201USD')],
      ['currency outside ISO 4217', (t) => t.replaceAll('EUR', 'DEM')],
      ['statement without -', (t) => t.replace(/\n-\n?$/, '\n')],
      ['two statements without -', (t) => t.replace(/\n-\n?$/, '\n') + t],
      ['two statements', (t) => t + t],
      ['- with blanks', (t) => t.replace('\n-', '\n-  ')],
      ['-}', (t) => t.replace('\n-', '\n-}')],
      ['SWIFT blocks', (t) => `{1:F01X}{2:O940X}{4:\n${t}`],
      ['text between statements', (t) => `${t}junk\n${t}`],
      ['blank lines between statements', (t) => `${t}\n  \n\t\n${t}`],
      ['unknown tag', (t) => t.replace(':60F:', ':99:x\n:60F:')],
      ['tag split after its colon', (t) => t.replace(':86:Child', ':\n86:Child')],
      ['line starting with : in a narrative', (t) => t.replace('PROG-CG', ':PROG-CG')],
      ['repeated :25:', (t) => t.replace(':28C:', ':25:OTHER\n:28C:')],
      ['second opening balance', (t) => t.replace(':62F:', ':60F:C240131EUR1000,00\n:62F:')],
      ['no :20:', (t) => t.replace(':20:STMT-1\n', '')],
      ['no :25:', (t) => t.replace(/:25:.*\n/, '')],
      ['entries before the opening balance', (t) => t.replace(/(:60F:.*\n)([\s\S]*)(:62F:)/, '$2$1$3')],
      ['ETX at a line end', (t) => t.replace('PROG-CG', 'PROG-CG\u0003')],
      ['CR line ends', (t) => t.replace(/\n/g, '\r')],
      ['GVC narrative', (t) => t.replace('Child grant February', '166?00GUTSCHRIFT?20EREF+X1?21SVWZ+Grant')],
      ['slash narrative', (t) => t.replace('Child grant February', '/TRTP/SEPA/NAME/A. Diallo/REMI/grant')],
      ['digits but not a layout', (t) => t.replace('Child grant February', '123 Main Street')],
      ['huge amount', (t) => t.replace('D250,50NTRF', 'D99999999999999,NTRF')],
      ['16-character amount', (t) => t.replace('D250,50NTRF', 'D9999999999999,99NTRF')],
    ];
    let columnar = 0;
    for (const [name, change] of variants) {
      const text = change(base);
      expect(text, name).not.toBe(base);
      try {
        if (same(text)) columnar++;
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`);
      }
    }
    expect(columnar).toBeGreaterThan(10);
  });

  it('leaves irregular input to parseMt940 and serves its entries through the same accessors', () => {
    const text = writeMt940([statement([payout])])
      .replace('D250,50NTRF', 'D250,5NTRF')
      .replace(':20:', 'ABNANL2A\r\n940\r\n:20:');
    const r = parseMt940Columns(text);
    expect(r.columnar).toBe(false);
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.statements[0]!.entries.amount(0)).toBe('250.50');
    expect(r.statements[0]!.entries.amountMinor(0)).toBe(25050n);
    expect(r.statements[0]!.entries.exponent).toBe(2);
    expect(r.statements[0]!.entries.narratives(0)).toEqual(payout.narratives);
    same(text);
    expect(same('not a statement')).toBe(false);
    expect(same('')).toBe(false);
  });
});

// ---- generated statements (writer → text), as they are and damaged ----

const refChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.?+ abcxyz';
const ref = fc
  .string({ unit: fc.constantFrom(...refChars.split('')), minLength: 1, maxLength: 16 })
  .filter((s) => s.trim() === s && !s.includes('//') && !s.endsWith('/') && !/^[:\-{]/.test(s));
const narrativeLine = fc
  .string({ unit: fc.constantFrom(...`${refChars}/(),'é:?`.split('')), maxLength: 65 })
  .filter((s) => !/^[:\-{]/.test(s));
const narratives: fc.Arbitrary<string[]> = fc.oneof(
  fc.array(narrativeLine, { maxLength: 6 }).map((l) => {
    const out = [...l];
    while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
    return out;
  }),
  fc.constant<string[]>(['166?00GUTSCHRIFT?109310?20EREF+E2E-1?21SVWZ+Grant?32Amina Diallo']),
  fc.constant<string[]>([
    '/TRTP/SEPA OVERBOEKING/IBAN/NL91ABNA0417164300/',
    'NAME/Maria Kowalska/REMI/grant',
  ]),
);
const day = fc
  .date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2070-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const currencyArb = fc.constantFrom(['EUR', 2], ['JPY', 0], ['KWD', 3], ['USD', 2]) as fc.Arbitrary<
  [string, number]
>;
const amountArb = (exp: number) =>
  fc.bigInt({ min: 0n, max: 10n ** BigInt(12 - exp) }).map((minor) => {
    const s = minor.toString().padStart(exp + 1, '0');
    return exp === 0 ? s : `${s.slice(0, s.length - exp)}.${s.slice(s.length - exp)}`;
  });
const entryArb = (exp: number): fc.Arbitrary<Mt940EntryInput> =>
  fc
    .record(
      {
        valueDate: day,
        mark: fc.constantFrom('D', 'C', 'RD', 'RC') as fc.Arbitrary<'D' | 'C' | 'RD' | 'RC'>,
        fundsCode: fc.constantFrom('R', 'D', 'N'),
        amount: amountArb(exp),
        transactionType: fc.constantFrom('NTRF', 'NMSC', 'FCHG', 'S051'),
        customerReference: ref,
        bankReference: ref,
        supplementaryDetails: fc
          .string({ unit: fc.constantFrom(...'ABC xyz-09'.split('')), minLength: 1, maxLength: 34 })
          .filter((s) => s.trim() === s && !s.startsWith('-')),
        narratives,
        withEntryDate: fc.boolean(),
      },
      {
        requiredKeys: [
          'valueDate',
          'mark',
          'amount',
          'transactionType',
          'customerReference',
          'narratives',
          'withEntryDate',
        ],
      },
    )
    .map(
      ({ withEntryDate, ...e }) => (withEntryDate ? { ...e, entryDate: e.valueDate } : e) as Mt940EntryInput,
    );
const statementArb: fc.Arbitrary<Mt940StatementInput> = currencyArb.chain(([currency, exp]) =>
  fc.record({
    transactionReference: ref,
    accountIdentification: fc.constantFrom('NL91ABNA0417164300', '51210600/9223382012', 'ACC 1'),
    statementNumber: fc.integer({ min: 0, max: 99999 }).map(String),
    currency: fc.constant(currency),
    openingBalance: fc.record({
      mark: fc.constantFrom('C', 'D') as fc.Arbitrary<'C' | 'D'>,
      date: day,
      currency: fc.constant(currency),
      amount: amountArb(exp),
    }),
    entries: fc.array(entryArb(exp), { maxLength: 8 }),
    information: narratives,
  }),
);
const fileArb = fc.record({
  statements: fc.array(statementArb, { minLength: 1, maxLength: 3 }),
  lineEnding: fc.constantFrom('\r\n', '\n') as fc.Arbitrary<'\r\n' | '\n'>,
});

describe('parseMt940Columns column sizes', () => {
  it('sizes the columns from the :61: lines, not from the length of the text', () => {
    // long narratives: a length estimate (one entry per 160 characters) would allocate about 3 times over
    const long = Array.from({ length: 6 }, (_, k) =>
      `Narrative line ${k} of a long remittance text`.padEnd(65, '.'),
    );
    const entries = Array.from({ length: 3000 }, (_, k) => ({
      ...payout,
      customerReference: `DISB-${k}`,
      narratives: long,
    }));
    const text = writeMt940([statement(entries, 'EUR', '10000000.00')]);
    expect(countEntryTags(text)).toBe(3000);
    const cols = parseMt940Columns(text);
    expect(cols.columnar).toBe(true);
    const raw = cols.statements[0]!.entries.raw!;
    expect(raw.size).toBe(3000);
    // trimmed to views of the buffers allocated at the start: exactly one slot an entry
    expect(raw.amount.buffer.byteLength).toBe(3000 * 8);
    expect(raw.line.buffer.byteLength).toBe(3000 * 4);
    expect(materialiseColumns(cols)).toStrictEqual(parseMt940(text));
  });

  it('counts :61: anywhere as an upper bound, so a narrative quoting it costs a slot, not a wrong parse', () => {
    const entries = [{ ...payout, narratives: ['see :61: above', 'and again :61:'] }, payout];
    const text = writeMt940([statement(entries)]);
    expect(countEntryTags(text)).toBe(4);
    expect(same(text)).toBe(true);
    expect(parseMt940Columns(text).statements[0]!.entries.count).toBe(2);
  });

  it('counts occurrences that do not overlap, none in a text without the tag', () => {
    expect(countEntryTags('')).toBe(0);
    expect(countEntryTags(':6:1:61 :61')).toBe(0);
    expect(countEntryTags(':61::61:\n:61:')).toBe(3);
  });
});

describe('parseMt940Columns against parseMt940 (fast-check)', () => {
  it('gives the same statements, entries and problems for written statements, read in columns', () => {
    fc.assert(
      fc.property(fileArb, ({ statements, lineEnding }) => {
        expect(same(writeMt940(statements, { lineEnding }))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('gives the same result for damaged statements (a character changed, removed or added)', () => {
    const edit = fc.record({
      at: fc.nat(),
      kind: fc.constantFrom('replace', 'remove', 'insert'),
      char: fc.constantFrom(...':-{/,. 0159ADCRNX\n\r?'.split('')),
    });
    let fast = 0;
    fc.assert(
      fc.property(
        fileArb,
        fc.array(edit, { minLength: 1, maxLength: 3 }),
        ({ statements, lineEnding }, edits) => {
          let text = writeMt940(statements, { lineEnding });
          for (const e of edits) {
            const at = e.at % (text.length + 1);
            const skip = e.kind === 'insert' ? 0 : 1;
            text = text.slice(0, at) + (e.kind === 'remove' ? '' : e.char) + text.slice(at + skip);
          }
          if (same(text)) fast++;
        },
      ),
      { numRuns: 400 },
    );
    expect(fast).toBeGreaterThan(0); // some damage leaves a regular file (e.g. a changed narrative)
  });
});

describe('parseMt940Columns on the corpus', () => {
  const dir = corpusDir();
  it.skipIf(
    skipWithout(Boolean(dir), 'the MT940 corpus', 'set MT940_CORPUS_DIR or put shared/ beside the checkout'),
  )('materialises to exactly what parseMt940 gives, for every corpus file', () => {
    const files = corpusFiles(dir!);
    expect(files.length).toBeGreaterThan(0);
    let columnar = 0;
    for (const f of files) {
      const text = readStatementFile(f);
      if (same(text)) columnar++;
    }
    // how many real files the fast reader takes (the rest go through parseMt940), for docs/mt940.md
    console.info(`parseMt940Columns: ${columnar} of ${files.length} corpus files read in columns`);
  });
});
