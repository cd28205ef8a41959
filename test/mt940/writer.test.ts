import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Mt940EntryInput,
  type Mt940StatementInput,
  parseMt940,
  writeMt940,
} from '../../src/mt940/index.js';

function base(entries: Mt940EntryInput[] = []): Mt940StatementInput {
  return {
    transactionReference: 'STMT-1',
    accountIdentification: 'NL91ABNA0417164300',
    statementNumber: '12',
    sequenceNumber: '1',
    currency: 'EUR',
    openingBalance: { mark: 'C', date: '2024-01-31', currency: 'EUR', amount: '1000.00' },
    entries,
  };
}

const payout: Mt940EntryInput = {
  valueDate: '2024-02-01',
  entryDate: '2024-02-01',
  mark: 'D',
  amount: '250.5',
  transactionType: 'NTRF',
  customerReference: 'DISB-0000000001',
  bankReference: 'BNK-77',
  narratives: ['Child grant February', 'PROG-CG', '2024-02', 'BEN-000123', 'Amina Diallo', ''],
};

describe('writeMt940', () => {
  it('writes the fields with comma decimals, CRLF and a computed closing balance', () => {
    const text = writeMt940(
      base([
        payout,
        {
          ...payout,
          mark: 'RD',
          customerReference: 'DISB-0000000001',
          narratives: ['x', '', '', '', '', 'account closed'],
        },
      ]),
    );
    expect(text).toBe(
      [
        ':20:STMT-1',
        ':25:NL91ABNA0417164300',
        ':28C:12/1',
        ':60F:C240131EUR1000,00',
        ':61:2402010201D250,50NTRFDISB-0000000001//BNK-77',
        ':86:Child grant February',
        'PROG-CG',
        '2024-02',
        'BEN-000123',
        'Amina Diallo',
        ':61:2402010201RD250,50NTRFDISB-0000000001//BNK-77',
        ':86:x',
        '',
        '',
        '',
        '',
        'account closed',
        ':62F:C240201EUR1000,00',
        '-',
        '',
      ].join('\r\n'),
    );
    const s = parseMt940(text).statements[0]!;
    expect(s.balanceCheck?.ok).toBe(true);
    expect(s.entries[1]?.narratives[5]).toBe('account closed');
  });

  it('wraps statements in SWIFT blocks and uses LF on request', () => {
    const text = writeMt940([base(), { ...base(), transactionReference: 'STMT-2' }], {
      swiftBlocks: true,
      lineEnding: '\n',
      bic: 'BANKBEBB',
    });
    expect(text.startsWith('{1:F01BANKBEBBAXXX0000000000}{2:I940BANKBEBBAXXXN}{4:\n:20:STMT-1\n')).toBe(true);
    expect(text).not.toContain('\r');
    const r = parseMt940(text);
    expect(r.statements.map((s) => s.transactionReference)).toEqual(['STMT-1', 'STMT-2']);
    expect(r.problems).toEqual([]);
  });

  it('writes JPY without decimals and an unknown currency with the decimals given', () => {
    const jpy = writeMt940({
      ...base([{ ...payout, amount: '1500' }]),
      currency: 'JPY',
      openingBalance: { mark: 'C', date: '2024-01-31', currency: 'JPY', amount: '2000' },
    });
    expect(jpy).toContain(':61:2402010201D1500,NTRF');
    expect(jpy).toContain(':62F:C240201JPY500,');
    const xau = writeMt940({
      ...base([{ ...payout, amount: '0.125' }]),
      currency: 'XTS',
      openingBalance: { mark: 'C', date: '2024-01-31', currency: 'XTS', amount: '1' },
    });
    expect(xau).toContain(':62F:C240201XTS0,875');
  });

  it('writes a negative closing balance with the D mark', () => {
    const text = writeMt940(base([{ ...payout, amount: '1000.01' }]));
    expect(text).toContain(':62F:D240201EUR0,01');
  });

  it('accepts a consistent closing balance and refuses an inconsistent one', () => {
    const ok = {
      ...base([payout]),
      closingBalance: { mark: 'C' as const, date: '2024-02-01', currency: 'EUR', amount: '749.50' },
    };
    expect(writeMt940(ok)).toContain(':62F:C240201EUR749,50');
    expect(() => writeMt940({ ...ok, closingBalance: { ...ok.closingBalance, amount: '749.51' } })).toThrow(
      /closingBalance C 749.51 does not equal openingBalance plus entries \(749.50\)/,
    );
  });

  it('wraps long narrative lines at word boundaries when asked', () => {
    const long = `${'word '.repeat(20)}end`;
    const text = writeMt940(base([{ ...payout, narratives: [long] }]), { wrapNarratives: true });
    const s = parseMt940(text).statements[0]!;
    expect(s.entries[0]?.narratives.every((l) => l.length <= 65)).toBe(true);
    expect(s.entries[0]?.narratives.join(' ')).toBe(long);
  });

  const refusals: Array<[string, (s: Mt940StatementInput) => Mt940StatementInput, RegExp]> = [
    [
      'customer reference over 16',
      (s) => ({ ...s, entries: [{ ...payout, customerReference: 'DISB-00000000001X' }] }),
      /statement 1, entry 1: customerReference is 17 characters, more than 16/,
    ],
    [
      'narrative over 65',
      (s) => ({ ...s, entries: [{ ...payout, narratives: ['x'.repeat(66)] }] }),
      /narratives line 1 is 66 characters, more than 65/,
    ],
    [
      'seven narrative lines',
      (s) => ({ ...s, entries: [{ ...payout, narratives: ['1', '2', '3', '4', '5', '6', '7'] }] }),
      /narratives has 7 lines, more than 6/,
    ],
    [
      'narrative line that looks like a tag',
      (s) => ({ ...s, entries: [{ ...payout, narratives: [':20:x'] }] }),
      /must not start with ':'/,
    ],
    [
      'line break in a narrative',
      (s) => ({ ...s, entries: [{ ...payout, narratives: ['a\nb'] }] }),
      /line break/,
    ],
    [
      'negative amount',
      (s) => ({ ...s, entries: [{ ...payout, amount: '-1' }] }),
      /non-negative decimal string/,
    ],
    [
      'binary float amount',
      (s) => ({ ...s, entries: [{ ...payout, amount: 1.5 as unknown as string }] }),
      /non-negative decimal string/,
    ],
    [
      'too many decimals',
      (s) => ({ ...s, entries: [{ ...payout, amount: '1.001' }] }),
      /more than 2 decimals/,
    ],
    [
      'amount over 15 characters',
      (s) => ({ ...s, entries: [{ ...payout, amount: '1234567890123.45' }] }),
      /longer than 15/,
    ],
    [
      'bad mark',
      (s) => ({ ...s, entries: [{ ...payout, mark: 'X' as 'D' }] }),
      /mark must be D, C, RD or RC/,
    ],
    [
      'bad transaction type',
      (s) => ({ ...s, entries: [{ ...payout, transactionType: 'TRF' }] }),
      /transactionType/,
    ],
    [
      'bad date',
      (s) => ({ ...s, entries: [{ ...payout, valueDate: '2024-02-30' }] }),
      /valueDate 2024-02-30 is not a date/,
    ],
    [
      'entry date too far',
      (s) => ({ ...s, entries: [{ ...payout, entryDate: '2025-02-01' }] }),
      /too far from valueDate/,
    ],
    [
      'reference with //',
      (s) => ({ ...s, entries: [{ ...payout, customerReference: 'A//B' }] }),
      /must not contain '\/\/'/,
    ],
    [
      'supplementary over 34',
      (s) => ({ ...s, entries: [{ ...payout, supplementaryDetails: 'x'.repeat(35) }] }),
      /supplementaryDetails is 35 characters/,
    ],
    [
      ':20: over 16',
      (s) => ({ ...s, transactionReference: 'X'.repeat(17) }),
      /transactionReference \(:20:\) is 17 characters/,
    ],
    [
      'no opening balance',
      (s) => ({ ...s, openingBalance: undefined }),
      /openingBalance \(:60F:\) is required/,
    ],
    ['currency mismatch', (s) => ({ ...s, currency: 'USD' }), /is in EUR, the statement in USD/],
    [
      'bad statement number',
      (s) => ({ ...s, statementNumber: '123456' }),
      /statementNumber must be 1 to 5 digits/,
    ],
  ];
  for (const [name, change, message] of refusals) {
    it(`throws a clear error on ${name}`, () => {
      expect(() => writeMt940(change(base()))).toThrow(message);
    });
  }

  it('writes NONREF for an empty customer reference', () => {
    expect(writeMt940(base([{ ...payout, customerReference: '', bankReference: undefined }]))).toContain(
      'D250,50NTRFNONREF\r\n',
    );
  });
});

// ---- property-based round trip: writer → parser gives back the same statements ----

const refChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.?+ abcxyz';
const textChars = `${refChars}/(),'é:`;
const ref = fc
  .string({ unit: fc.constantFrom(...refChars.split('')), minLength: 1, maxLength: 16 })
  .filter((s) => s.trim() === s && !s.includes('//') && !s.endsWith('/') && !/^[:\-{]/.test(s));
const narrativeLine = fc
  .string({ unit: fc.constantFrom(...textChars.split('')), maxLength: 65 })
  .filter((s) => !/^[:\-{]/.test(s));
const narratives = fc.array(narrativeLine, { maxLength: 6 }).map((l) => {
  const out = [...l];
  while (out.length > 0 && out[out.length - 1]!.trim() === '') out.pop();
  return out;
});
const day = fc.date({
  min: new Date('1990-01-01T00:00:00Z'),
  max: new Date('2070-12-31T00:00:00Z'),
  noInvalidDate: true,
});
const iso = (d: Date) => d.toISOString().slice(0, 10);

const currencyArb = fc.constantFrom(['EUR', 2], ['JPY', 0], ['KWD', 3], ['USD', 2]) as fc.Arbitrary<
  [string, number]
>;
const amountArb = (exp: number) =>
  fc.bigInt({ min: 0n, max: 10n ** BigInt(12 - exp) }).map((minor) => {
    const s = minor.toString().padStart(exp + 1, '0');
    return exp === 0 ? s : `${s.slice(0, s.length - exp)}.${s.slice(s.length - exp)}`;
  });

const entryArb = (exp: number) =>
  fc.record(
    {
      value: day,
      entryOffset: fc.option(fc.integer({ min: -3, max: 3 }), { nil: undefined }),
      mark: fc.constantFrom('D', 'C', 'RD', 'RC') as fc.Arbitrary<'D' | 'C' | 'RD' | 'RC'>,
      fundsCode: fc.option(fc.constantFrom('R', 'D', 'N'), { nil: undefined }),
      amount: amountArb(exp),
      transactionType: fc.constantFrom('NTRF', 'NMSC', 'FCHG', 'S051', 'NRTI'),
      customerReference: ref,
      bankReference: fc.option(ref, { nil: undefined }),
      supplementaryDetails: fc.option(
        fc
          .string({ unit: fc.constantFrom(...'ABC xyz-09'.split('')), minLength: 1, maxLength: 34 })
          .filter((s) => s.trim() === s && !s.startsWith('-')),
        { nil: undefined },
      ),
      narratives,
    },
    { requiredKeys: ['value', 'mark', 'amount', 'transactionType', 'customerReference', 'narratives'] },
  );

const statementArb = fc.tuple(currencyArb, fc.integer({ min: 1, max: 3 })).chain(([[currency, exp]]) =>
  fc.record({
    transactionReference: ref,
    accountIdentification: fc.constantFrom('NL91ABNA0417164300', '51210600/9223382012', 'ACC 1'),
    statementNumber: fc.integer({ min: 0, max: 99999 }).map(String),
    sequenceNumber: fc.option(fc.integer({ min: 0, max: 99999 }).map(String), { nil: undefined }),
    opening: fc.tuple(fc.constantFrom('C', 'D') as fc.Arbitrary<'C' | 'D'>, day, amountArb(exp)),
    entries: fc.array(entryArb(exp), { maxLength: 8 }),
    information: narratives,
    currency: fc.constant(currency),
  }),
);

type Generated = typeof statementArb extends fc.Arbitrary<infer T> ? T : never;

function toInput(g: Generated): Mt940StatementInput {
  const entries: Mt940EntryInput[] = g.entries.map((e) => {
    const out: Mt940EntryInput = {
      valueDate: iso(e.value),
      mark: e.mark,
      amount: e.amount,
      transactionType: e.transactionType,
      customerReference: e.customerReference,
      narratives: e.narratives,
    };
    if (e.entryOffset !== undefined)
      out.entryDate = iso(new Date(e.value.getTime() + e.entryOffset * 86400000));
    if (e.fundsCode !== undefined) out.fundsCode = e.fundsCode;
    if (e.bankReference !== undefined) out.bankReference = e.bankReference;
    if (e.supplementaryDetails !== undefined) out.supplementaryDetails = e.supplementaryDetails;
    return out;
  });
  const st: Mt940StatementInput = {
    transactionReference: g.transactionReference,
    accountIdentification: g.accountIdentification,
    statementNumber: g.statementNumber,
    currency: g.currency,
    openingBalance: {
      mark: g.opening[0],
      date: iso(g.opening[1]),
      currency: g.currency,
      amount: g.opening[2],
    },
    entries,
    information: g.information,
  };
  if (g.sequenceNumber !== undefined) st.sequenceNumber = g.sequenceNumber;
  return st;
}

describe('round trip (fast-check)', () => {
  it('writer → parser gives back the same statements, entries and exact amounts', () => {
    fc.assert(
      fc.property(
        fc.array(statementArb, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        (gs, blocks, lf) => {
          const inputs = gs.map(toInput);
          const text = writeMt940(inputs, { swiftBlocks: blocks, lineEnding: lf ? '\n' : '\r\n' });
          const r = parseMt940(text);
          expect(r.problems).toEqual([]);
          expect(r.statements).toHaveLength(inputs.length);
          r.statements.forEach((s, i) => {
            const input = inputs[i]!;
            expect(s.problems.filter((p) => p.severity === 'error')).toEqual([]);
            expect(s.balanceCheck?.ok).toBe(true);
            expect(s.transactionReference).toBe(input.transactionReference);
            expect(s.accountIdentification).toBe(input.accountIdentification);
            expect(s.statementNumber).toBe(input.statementNumber);
            expect(s.sequenceNumber).toBe(input.sequenceNumber);
            expect(s.openingBalance).toEqual(input.openingBalance);
            expect(s.information).toEqual(input.information);
            expect(s.entries.map(({ line, details, signedAmount, ...rest }) => rest)).toEqual(
              input.entries.map((e) => {
                const { signedAmount, ...rest } = e;
                return rest;
              }),
            );
            for (const e of s.entries) {
              expect(e.signedAmount).toBe(
                e.mark === 'D' || e.mark === 'RC'
                  ? /^[0.]+$/.test(e.amount)
                    ? e.amount
                    : `-${e.amount}`
                  : e.amount,
              );
            }
          });
          // writing what was read gives the same text again
          expect(writeMt940(r.statements, { swiftBlocks: blocks, lineEnding: lf ? '\n' : '\r\n' })).toBe(
            text,
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
