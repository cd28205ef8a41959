import { describe, expect, it } from 'vitest';
import { type Mt940Statement, parseMt940, parseMt940Stream } from '../../src/mt940/index.js';

const lines = (...l: string[]) => l.join('\r\n');

const BASIC = lines(
  ':20:STMT-0001',
  ':21:REL-9',
  ':25:NL91ABNA0417164300',
  ':28C:00042/001',
  ':60F:C240131EUR1000,00',
  ':61:2401310201D250,5NTRFDISB-0000001//BNK123',
  'PAYOUT',
  ':86:Child grant',
  'PROG-7',
  ':61:240201C0,05NMSCNONREF',
  ':62F:C240201EUR749,55',
  ':64:C240201EUR749,55',
  ':65:C240202EUR749,55',
  ':65:C240203EUR749,55',
  ':86:statement info',
  '-',
);

/** The problems other than the missing balances of a fragment (these tests read fragments on purpose). */
const notBalances = (s: Mt940Statement) =>
  s.problems.filter((p) => !/^statement has no (opening|closing) balance/.test(p.message));

function one(text: string): Mt940Statement {
  const r = parseMt940(text);
  expect(r.statements).toHaveLength(1);
  return r.statements[0]!;
}

describe('parseMt940: header tags', () => {
  it('reads :20: :21: :25: :28C: and the balances', () => {
    const s = one(BASIC);
    expect(s).toMatchObject({
      transactionReference: 'STMT-0001',
      relatedReference: 'REL-9',
      accountIdentification: 'NL91ABNA0417164300',
      statementNumber: '00042',
      sequenceNumber: '001',
      currency: 'EUR',
      openingBalance: { mark: 'C', date: '2024-01-31', currency: 'EUR', amount: '1000.00' },
      closingBalance: { mark: 'C', date: '2024-02-01', currency: 'EUR', amount: '749.55' },
      closingAvailableBalance: { mark: 'C', date: '2024-02-01', currency: 'EUR', amount: '749.55' },
      information: ['statement info'],
      line: 1,
    });
    expect(s.forwardAvailableBalances.map((b) => b.date)).toEqual(['2024-02-02', '2024-02-03']);
    expect(s.problems).toEqual([]);
    expect(s.balanceCheck).toEqual({ ok: true, expectedClosing: '749.55', computedClosing: '749.55' });
  });

  it('reads :28: (old tag) and a statement number without a sequence', () => {
    const s = one(lines(':20:A', ':25:X', ':28:7'));
    expect(s.statementNumber).toBe('7');
    expect(s.sequenceNumber).toBeUndefined();
  });

  it('marks intermediate balances :60M: / :62M:', () => {
    const s = one(lines(':20:A', ':25:X', ':28C:1/2', ':60M:D240101USD5,', ':62M:D240101USD5,'));
    expect(s.openingBalance).toEqual({
      mark: 'D',
      date: '2024-01-01',
      currency: 'USD',
      amount: '5.00',
      intermediate: true,
    });
    expect(s.balanceCheck?.ok).toBe(true);
    expect(s.balanceCheck?.expectedClosing).toBe('-5.00');
  });

  it('keeps :NS: and MT942 fields in otherFields and takes an MT942 currency from :34F:', () => {
    const s = one(
      lines(':20:A', ':25:X', ':28C:1', ':34F:EURD0,00', ':13D:1610301730+0000', ':NS:22Name', '23More'),
    );
    expect(s.currency).toBe('EUR');
    expect(s.otherFields).toEqual([
      { tag: '34F', value: 'EURD0,00', line: 4 },
      { tag: '13D', value: '1610301730+0000', line: 5 },
      { tag: 'NS', value: '22Name\n23More', line: 6 },
    ]);
  });
});

describe('parseMt940: :61: statement line', () => {
  it('reads every subfield, the supplementary details line and the :86: narratives', () => {
    const [e1, e2] = one(BASIC).entries;
    expect(e1).toEqual({
      valueDate: '2024-01-31',
      entryDate: '2024-02-01',
      mark: 'D',
      amount: '250.50',
      signedAmount: '-250.50',
      transactionType: 'NTRF',
      customerReference: 'DISB-0000001',
      bankReference: 'BNK123',
      supplementaryDetails: 'PAYOUT',
      narratives: ['Child grant', 'PROG-7'],
      line: 6,
    });
    expect(e2).toMatchObject({
      valueDate: '2024-02-01',
      mark: 'C',
      amount: '0.05',
      narratives: [],
      line: 10,
    });
    expect(e2!.entryDate).toBeUndefined();
    expect(e2!.bankReference).toBeUndefined();
  });

  it('infers the entry year across a year end, both ways', () => {
    const s = one(lines(':20:A', ':25:X', ':61:2312310102C1,NTRFX', ':61:2401021231D1,NTRFY'));
    expect(s.entries[0]).toMatchObject({ valueDate: '2023-12-31', entryDate: '2024-01-02' });
    expect(s.entries[1]).toMatchObject({ valueDate: '2024-01-02', entryDate: '2023-12-31' });
  });

  it('reads RD and RC with their signs, and a funds code', () => {
    const s = one(
      lines(
        ':20:A',
        ':25:X',
        ':60F:C240101EUR10,',
        ':61:240101RD1,NTRFA',
        ':61:240101RCR2,NTRFB',
        ':62F:C240101EUR9,',
      ),
    );
    expect(s.entries.map((e) => [e.mark, e.fundsCode, e.signedAmount])).toEqual([
      ['RD', undefined, '1.00'],
      ['RC', 'R', '-2.00'],
    ]);
    expect(s.balanceCheck?.ok).toBe(true);
  });

  it('reads CR / DR as the mark and the funds code (German banks)', () => {
    const e = one(lines(':20:A', ':25:X', ':61:0709040904DR1500,00NTRFKREF+//536D80EFEC56ACF8')).entries[0]!;
    expect([e.mark, e.fundsCode, e.amount, e.customerReference, e.bankReference]).toEqual([
      'D',
      'R',
      '1500.00',
      'KREF+',
      '536D80EFEC56ACF8',
    ]);
  });

  it('accepts a blank entry date padded with spaces, and an empty bank reference', () => {
    const e = one(lines(':20:A', ':25:X', ':61:240312    DD212,39NMSCNONREF//', '/ABC/DEF/MISC')).entries[0]!;
    expect(e).toMatchObject({
      valueDate: '2024-03-12',
      mark: 'D',
      fundsCode: 'D',
      bankReference: '',
      supplementaryDetails: '/ABC/DEF/MISC',
    });
    expect(e.entryDate).toBeUndefined();
  });

  it('splits a long reference without // into 16 characters and supplementary details (Rabobank)', () => {
    const e = one(lines(':20:A', ':25:X', ':61:110527D000000001213,28N0440121470966      W.P. Jansen'))
      .entries[0]!;
    expect(e).toMatchObject({
      amount: '1213.28',
      transactionType: 'N044',
      customerReference: '0121470966',
      supplementaryDetails: 'W.P. Jansen',
    });
  });

  it('keeps an over-long reference whole when the details are on the next line, with a warning', () => {
    const s = one(lines(':20:A', ':25:X', ':61:2001010101D65,00NOVBNL47INGB9999999999', 'hr paulissen'));
    expect(s.entries[0]).toMatchObject({
      customerReference: 'NL47INGB9999999999',
      supplementaryDetails: 'hr paulissen',
    });
    expect(notBalances(s)).toEqual([
      expect.objectContaining({ severity: 'warning', line: 3, column: 25, tag: '61' }),
    ]);
  });

  it('reads a transaction type with blanks and an empty reference', () => {
    const s = one(lines(':20:A', ':25:X', ':61:1710111011DF2402,00S   X', ':61:180417CF2066637,00N527'));
    expect(s.entries.map((e) => [e.transactionType, e.customerReference])).toEqual([
      ['S   ', 'X'],
      ['N527', ''],
    ]);
  });

  it('joins a statement line wrapped before the amount, and a tag split after its colon', () => {
    const s = one(
      lines(
        ':20:A',
        ':25:X',
        ':61:1811261126CR',
        '30,00N062NONREF',
        ':',
        '86:166?00GUTSCHR. UEBERWEISUNG?20SVWZ+Test',
      ),
    );
    const e = s.entries[0]!;
    expect(e).toMatchObject({ amount: '30.00', transactionType: 'N062', customerReference: 'NONREF' });
    expect(e.details).toMatchObject({ code: '166', postingText: 'GUTSCHR. UEBERWEISUNG', purpose: 'Test' });
    expect(notBalances(s).every((p) => p.severity === 'warning')).toBe(true);
  });

  it('clamps an impossible day to the month end with a warning (February 30)', () => {
    const s = one(lines(':20:A', ':25:X', ':61:1602300301DR6,00N024NONREF'));
    expect(s.entries[0]).toMatchObject({ valueDate: '2016-02-29', entryDate: '2016-03-01' });
    expect(s.problems[0]).toMatchObject({ severity: 'warning', line: 3, column: 5 });
  });

  it('reports an unreadable statement line with line and column, and keeps the rest', () => {
    const r = parseMt940(lines(':20:A', ':25:X', ':61:240101X5,00NTRFA', ':61:240102C7,NTRFB', '-'));
    const s = r.statements[0]!;
    expect(s.entries.map((e) => e.customerReference)).toEqual(['B']);
    expect(notBalances(s)).toEqual([
      {
        message: 'debit/credit mark must be D, C, RD or RC, found "X5"',
        line: 3,
        column: 11,
        tag: '61',
        severity: 'error',
      },
    ]);
  });
});

describe('parseMt940: amounts', () => {
  it('reads comma amounts exactly, with the currency decimals', () => {
    const s = one(
      lines(
        ':20:A',
        ':25:X',
        ':60F:C240101EUR0000000000000,1',
        ':61:240101C123456789012,3NTRFA',
        ':62F:C240101EUR123456789012,40',
      ),
    );
    expect(s.openingBalance?.amount).toBe('0.10');
    expect(s.entries[0]?.amount).toBe('123456789012.30');
    expect(s.balanceCheck?.ok).toBe(true);
  });

  it('uses the currency exponent (JPY 0, KWD 3) and the written decimals for unknown currencies', () => {
    expect(one(lines(':20:A', ':25:X', ':60F:C240101JPY1500,')).openingBalance?.amount).toBe('1500');
    expect(one(lines(':20:A', ':25:X', ':60F:C240101KWD1,5')).openingBalance?.amount).toBe('1.500');
    const dem = one(
      lines(':20:A', ':25:X', ':60F:C240101DEM10,', ':61:240101D1,25NTRFA', ':62F:C240101DEM8,75'),
    );
    expect(dem.openingBalance?.amount).toBe('10.00');
    expect(dem.entries[0]?.amount).toBe('1.25');
    expect(dem.balanceCheck?.ok).toBe(true);
  });

  it('reports a failed balance check without throwing', () => {
    const s = one(
      lines(':20:A', ':25:X', ':60F:C240101EUR10,', ':61:240101D0,1NTRFA', ':62F:C240101EUR9,99'),
    );
    expect(s.balanceCheck).toEqual({ ok: false, expectedClosing: '9.99', computedClosing: '9.90' });
    expect(s.problems).toEqual([expect.objectContaining({ severity: 'error', line: 5, tag: '62F' })]);
  });

  it('adds 0.1 and 0.2 exactly a million times over', () => {
    const body = [':20:A', ':25:X', ':60F:C240101EUR0,'];
    for (let i = 0; i < 1000; i++) body.push(':61:240101C0,1NTRFA', ':61:240101C0,2NTRFB');
    body.push(':62F:C240101EUR300,');
    expect(one(lines(...body)).balanceCheck?.ok).toBe(true);
  });

  it('formats amounts while reading, and all of them again when a later one needs more decimals', () => {
    const s = one(
      lines(
        ':20:A',
        ':25:X',
        ':60F:C240101EUR10,00',
        ':61:240101D1,25NTRFA',
        ':61:240101C0,125NTRFB',
        ':62F:C240101EUR8,875',
      ),
    );
    expect(s.entries.map((e) => [e.amount, e.signedAmount])).toEqual([
      ['1.250', '-1.250'],
      ['0.125', '0.125'],
    ]);
    expect(s.openingBalance?.amount).toBe('10.000');
    expect(s.balanceCheck).toEqual({ ok: true, expectedClosing: '8.875', computedClosing: '8.875' });
    expect(s.problems).toEqual([
      expect.objectContaining({ severity: 'warning', message: expect.stringContaining('3 decimals') }),
    ]);
  });

  it('reads leading zeros, a missing integer part and zero debits', () => {
    const s = one(
      lines(
        ':20:A',
        ':25:X',
        ':60F:C240101EUR100,00',
        ':61:240101D0001,50NTRFA',
        ':61:240101D,50NTRFB',
        ':61:240101D0,00NTRFC',
        ':61:240101RC0,00NTRFD',
        ':61:240101C12,5NTRFE',
        ':62F:C240101EUR110,50',
      ),
    );
    expect(s.entries.map((e) => [e.amount, e.signedAmount])).toEqual([
      ['1.50', '-1.50'],
      ['0.50', '-0.50'],
      ['0.00', '0.00'],
      ['0.00', '0.00'],
      ['12.50', '12.50'],
    ]);
    expect(s.balanceCheck?.ok).toBe(true);
  });

  it('sums amounts exactly past 2^53 minor units', () => {
    const body = [':20:A', ':25:X', ':60F:C240101EUR100000000000000,00', ':61:240101D99999999999999,NTRFA'];
    for (let i = 0; i < 1000; i++) body.push(':61:240101C99999999999,99NTRFB');
    body.push(':62F:C240101EUR99999999999991,00');
    const s = one(lines(...body));
    expect(s.entries[0]).toMatchObject({ amount: '99999999999999.00', signedAmount: '-99999999999999.00' });
    expect(s.entries[1]?.amount).toBe('99999999999.99');
    expect(s.balanceCheck).toEqual({
      ok: true,
      expectedClosing: '99999999999991.00',
      computedClosing: '99999999999991.00',
    });
  });

  it('gives the same amounts when the currency is only known from the closing balance', () => {
    const entries = [':61:240101D1,25NTRFA', ':61:240101C0,5NTRFB', ':61:240101D7,NTRFC'];
    const early = one(lines(':20:A', ':25:X', ':60F:C240101EUR10,', ...entries, ':62F:C240101EUR2,25'));
    const late = one(lines(':20:A', ':25:X', ...entries, ':62F:C240101EUR2,25'));
    const pick = (st: Mt940Statement) => st.entries.map((e) => [e.amount, e.signedAmount]);
    expect(pick(late)).toEqual(pick(early));
    expect(pick(early)).toEqual([
      ['1.25', '-1.25'],
      ['0.50', '0.50'],
      ['7.00', '-7.00'],
    ]);
    expect(early.balanceCheck?.ok).toBe(true);
  });

  it('reads a balance without currency with the statement currency (warning)', () => {
    const s = one(lines(':20:A', ':25:X', ':60F:C020324DEM145000,00', ':62F:C02032495000,00'));
    expect(s.closingBalance).toMatchObject({ currency: 'DEM', amount: '95000.00' });
  });
});

describe('parseMt940: :86:', () => {
  it('keeps the lines as given, interior blanks included, trailing blanks dropped', () => {
    const s = one(lines(':20:A', ':25:X', ':61:240101C1,NTRFA', ':86:one', '', 'three  ', '', ''));
    expect(s.entries[0]?.narratives).toEqual(['one', '', 'three  ']);
  });

  it('collects one :86: per line (Rabobank) into the same entry', () => {
    const s = one(
      lines(':20:A', ':25:X', ':61:240101C1,NTRFA', ':86:a', ':86:b', ':62F:C240101EUR1,', ':86:info'),
    );
    expect(s.entries[0]?.narratives).toEqual(['a', 'b']);
    expect(s.information).toEqual(['info']);
  });

  it('reads text that looks like an unknown tag as part of the narrative', () => {
    const s = one(lines(':20:A', ':25:X', ':61:240101C1,NTRFA', ':86:time 12-09-2014T16', ':26:37 more'));
    expect(s.entries[0]?.narratives).toEqual(['time 12-09-2014T16', ':26:37 more']);
  });

  it('splits German ?NN subfields and SEPA keywords', () => {
    const s = one(
      lines(
        ':20:A',
        ':25:X',
        ':61:240101D1,NTRFA',
        ':86:105?00Basislastschrift?10931?20EREF+123/45?21MREF+M1?22CRED+DE99ZZZ?23SVWZ+Tax 2024',
        '?30BYLADEMM?31DE99700500000000012345?32Finanzamt Muenchen Abteilun?33g Erhebung?34992',
      ),
    );
    expect(s.entries[0]?.details).toMatchObject({
      code: '105',
      postingText: 'Basislastschrift',
      primaNota: '931',
      EREF: '123/45',
      MREF: 'M1',
      CRED: 'DE99ZZZ',
      SVWZ: 'Tax 2024',
      purpose: 'Tax 2024',
      counterpartyBic: 'BYLADEMM',
      counterpartyAccount: 'DE99700500000000012345',
      counterpartyName: 'Finanzamt Muenchen Abteilung Erhebung',
      textKeyExtension: '992',
      '?20': 'EREF+123/45',
    });
  });

  it('splits SWIFT slash subfields', () => {
    const s = one(
      lines(
        ':20:A',
        ':25:X',
        ':61:240101C1,NTRFA',
        ':86:/TRTP/SEPA OVERBOEKING/IBAN/NL12INGB0001234567/BIC/INGBNL2A/NAME/J. DOE/REMI/inv 12/2',
        '024/EREF/E2E-1',
      ),
    );
    expect(s.entries[0]?.details).toEqual({
      TRTP: 'SEPA OVERBOEKING',
      IBAN: 'NL12INGB0001234567',
      BIC: 'INGBNL2A',
      NAME: 'J. DOE',
      REMI: 'inv 12/2024',
      EREF: 'E2E-1',
    });
  });

  it('gives no details for plain text', () => {
    expect(
      one(lines(':20:A', ':25:X', ':61:240101C1,NTRFA', ':86:Child grant')).entries[0]?.details,
    ).toBeUndefined();
  });
});

describe('parseMt940: files and framing', () => {
  it('reads several statements in SWIFT blocks, LF line ends, the last without "-"', () => {
    const text = [
      '{1:F01BANKBEBBAXXX0000000000}{2:O9401200BANKBEBBAXXX00000000002401011200N}{4:',
      ':20:ONE',
      ':25:X',
      '-}{5:}',
      '{1:F01BANKBEBBAXXX0000000000}{2:I940BANKBEBBAXXXN}{4:',
      ':20:TWO',
      ':25:Y',
    ].join('\n');
    const r = parseMt940(text);
    expect(r.statements.map((s) => [s.transactionReference, s.accountIdentification, s.line])).toEqual([
      ['ONE', 'X', 2],
      ['TWO', 'Y', 6],
    ]);
    expect(r.problems).toEqual([]);
  });

  it('tolerates non-SWIFT header lines, SOH/ETX and a BOM, with a warning per block of junk', () => {
    const r = parseMt940('\uFEFF\u0001\r\nABNANL2A\r\n940\r\n:20:A\r\n:25:X\r\n-\u0003\r\n');
    expect(r.statements).toHaveLength(1);
    expect(r.problems).toEqual([
      { message: 'text outside a statement ignored: "ABNANL2A"', line: 2, column: 1, severity: 'warning' },
    ]);
  });

  it('starts a new statement on :20:, and on an opening balance after balances', () => {
    const r = parseMt940(lines(':20:A', ':25:X', ':60F:C240101EUR1,', ':60F:C240102EUR2,', ':20:B'));
    expect(r.statements.map((s) => s.transactionReference)).toEqual(['A', '', 'B']);
    expect(r.statements[1]!.problems).toEqual([
      expect.objectContaining({ tag: '20', severity: 'warning', line: 4 }),
      expect.objectContaining({ tag: '25', severity: 'warning', line: 4 }),
      expect.objectContaining({
        tag: '62F',
        severity: 'error',
        message: expect.stringMatching(/no closing balance/),
      }),
    ]);
  });

  it('says where a file is not MT940 at all', () => {
    expect(parseMt940('%PDF-1.7\n1 0 obj\n')).toEqual({
      statements: [],
      problems: [
        {
          message:
            'not an MT940 statement: expected a field tag such as :20: at the start of a line, found "%PDF-1.7"',
          line: 1,
          column: 1,
          severity: 'error',
        },
      ],
    });
    expect(parseMt940('').problems[0]?.severity).toBe('error');
    expect(parseMt940('\n\n').problems[0]?.message).toMatch(/no field tags/);
  });

  it('reports a damaged balance with its column and still reads the rest', () => {
    const s = one(lines(':20:A', ':25:X', ':60F:C24013XEUR1,00', ':61:240101C1,NTRFA', ':62F:C240101EUR1,'));
    expect(s.openingBalance).toBeUndefined();
    expect(s.balanceCheck).toBeUndefined();
    expect(s.entries).toHaveLength(1);
    expect(s.problems).toEqual([
      expect.objectContaining({
        line: 3,
        column: 7,
        tag: '60F',
        severity: 'error',
        message: expect.stringMatching(/YYMMDD/),
      }),
    ]);
  });
});

describe('parseMt940Stream', () => {
  async function* chunked(text: string, size: number) {
    for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
  }

  it('yields the same statements as parseMt940 whatever the chunk size (CRLF split across chunks)', async () => {
    const text = `${BASIC}\r\n${BASIC.replace('STMT-0001', 'STMT-0002')}`;
    const whole = parseMt940(text).statements;
    for (const size of [1, 2, 3, 5, 64, 100000]) {
      const got: Mt940Statement[] = [];
      for await (const s of parseMt940Stream(chunked(text, size))) got.push(s);
      expect(got).toEqual(whole);
    }
  });

  it('yields a statement as soon as it is closed', async () => {
    const seen: string[] = [];
    async function* source() {
      yield ':20:A\n:25:X\n-\n';
      seen.push('second chunk requested');
      yield ':20:B\n:25:Y\n';
    }
    for await (const s of parseMt940Stream(source())) seen.push(s.transactionReference);
    expect(seen).toEqual(['A', 'second chunk requested', 'B']);
  });

  it('throws Mt940FormatError with problems when nothing is MT940, and reports junk through onProblem', async () => {
    await expect(async () => {
      for await (const _ of parseMt940Stream(chunked('hello\nworld\n', 3))) void _;
    }).rejects.toThrow(/not an MT940 statement.*line 1, column 1/);
    const problems: unknown[] = [];
    for await (const _ of parseMt940Stream(chunked('junk\n:20:A\n:25:X\n', 4), (p) => problems.push(p)))
      void _;
    expect(problems).toHaveLength(1);
  });
});
