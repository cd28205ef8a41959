// Statements the parser must not misread (issue 9 §7): German amounts followed by a blank, CR-only and mixed
// line ends on every entry point, statements cut short, the German GVC code alone on the first :86: line, and
// a long line fed to the stream parser in tiny chunks. Each reading is checked on parseMt940, the stream
// parser and the columnar parse alike.

import { describe, expect, it } from 'vitest';
import {
  type Mt940ParseResult,
  type Mt940Statement,
  materialiseColumns,
  parseMt940,
  parseMt940Columns,
  parseMt940Stream,
} from '../../src/mt940/index.js';
import { Mt940LineSplitter } from '../../src/mt940/lines.js';

async function streamed(text: string, size: number): Promise<Mt940Statement[]> {
  async function* chunks() {
    for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
  }
  const out: Mt940Statement[] = [];
  for await (const s of parseMt940Stream(chunks())) out.push(s);
  return out;
}

/** parseMt940, the stream parser (several chunk sizes) and the columnar parse agree; returns parseMt940's. */
async function everywhere(text: string): Promise<Mt940ParseResult> {
  const whole = parseMt940(text);
  for (const size of [1, 2, 3, 7, 64, text.length || 1]) {
    expect(await streamed(text, size), `chunks of ${size}`).toStrictEqual(whole.statements);
  }
  expect(materialiseColumns(parseMt940Columns(text))).toStrictEqual(whole);
  return whole;
}

const errorsOf = (s: Mt940Statement) => s.problems.filter((p) => p.severity === 'error');

const GERMAN = [
  ':20:STARTUMSE',
  ':25:10020030/1234567',
  ':28C:00001/001',
  ':60F:C210330EUR100,00',
  ':61:2103310331C50,00 NTRFNONREF//ABC',
  ':86:166?00GUTSCHRIFT?20EREF+E1',
  ':61:2103310331D12,35 NRTIKREF+//X',
  ':86:109?00LASTSCHRIFT',
  ':62F:C210331EUR137,65',
  '-',
].join('\r\n');

describe('German statement lines with a blank between the amount and the transaction type', () => {
  it('reads the entries, and the statement balances', async () => {
    const r = await everywhere(GERMAN);
    const s = r.statements[0]!;
    expect(errorsOf(s)).toEqual([]);
    expect(
      s.entries.map((e) => [e.mark, e.amount, e.transactionType, e.customerReference, e.bankReference]),
    ).toEqual([
      ['C', '50.00', 'NTRF', 'NONREF', 'ABC'],
      ['D', '12.35', 'NRTI', 'KREF+', 'X'],
    ]);
    expect(s.balanceCheck).toEqual({ ok: true, expectedClosing: '137.65', computedClosing: '137.65' });
  });

  it('is read in columns too (not a reason to leave the fast reader)', () => {
    expect(parseMt940Columns(GERMAN).columnar).toBe(true);
  });

  it('entries that cancel each other do not make the balance check pass when they are dropped', async () => {
    // two unreadable entries (the value date is no date) whose amounts cancel: the sums agree, but the
    // statement was not read completely, so the check must not say balanced
    const text = [
      ':20:S',
      ':25:ACC',
      ':60F:C210330EUR100,00',
      ':61:2113310331C50,00NTRFA',
      ':61:2113310331D50,00NTRFB',
      ':61:210331C1,00NTRFC',
      ':62F:C210331EUR101,00',
      '-',
    ].join('\n');
    const s = (await everywhere(text)).statements[0]!;
    expect(s.entries).toHaveLength(1);
    expect(s.balanceCheck?.ok).toBe(false);
    expect(errorsOf(s).some((p) => /2 entries .*could not be read/.test(p.message))).toBe(true);
  });
});

const LF = [
  ':20:S1',
  ':25:ACC',
  ':60F:C240101EUR10,00',
  ':61:240102D1,00NTRFA//B',
  'SUPP',
  ':86:line one',
  'line two',
  '',
  ':61:240102C2,00NTRFC',
  ':62F:C240102EUR11,00',
  '-',
  ':20:S2',
  ':25:ACC',
  ':60F:C240102EUR11,00',
  ':62F:C240102EUR11,00',
  '-',
  '',
].join('\n');

describe('line ends: CR, LF and CRLF are the same line break everywhere', () => {
  const variants: Record<string, string> = {
    LF,
    CRLF: LF.replace(/\n/g, '\r\n'),
    CR: LF.replace(/\n/g, '\r'),
    mixed: LF.split('\n')
      .map((l, i) => l + ['\r\n', '\n', '\r'][i % 3])
      .join(''),
  };
  const reference = parseMt940(LF);

  it('the LF text reads as expected', () => {
    expect(reference.statements).toHaveLength(2);
    expect(reference.statements[0]!.entries).toHaveLength(2);
    expect(reference.statements[0]!.entries[0]!.narratives).toEqual(['line one', 'line two']);
    expect(reference.statements.flatMap(errorsOf)).toEqual([]);
  });

  for (const [name, text] of Object.entries(variants)) {
    it(`${name}: whole text, stream (any chunk size) and columns give the LF reading`, async () => {
      expect(await everywhere(text)).toStrictEqual(reference);
    });
  }

  it('a CRLF split across two chunks is one line break', async () => {
    const text = variants.CRLF!;
    for (let cut = 1; cut < text.length; cut++) {
      if (text[cut - 1] !== '\r') continue;
      async function* two() {
        yield text.slice(0, cut);
        yield text.slice(cut);
      }
      const out: Mt940Statement[] = [];
      for await (const s of parseMt940Stream(two())) out.push(s);
      expect(out, `cut at ${cut}`).toStrictEqual(reference.statements);
    }
  });

  it('a lone CR ends a line even inside an LF file', () => {
    const s = parseMt940(':20:A\n:25:X\r:60F:C240101EUR1,00\n:62F:C240101EUR1,00\n-\n').statements[0]!;
    expect(s.accountIdentification).toBe('X');
    expect(s.openingBalance?.amount).toBe('1.00');
    expect(s.problems).toEqual([]);
  });
});

describe('a statement cut short', () => {
  it('without a closing balance is an error', async () => {
    const text = ':20:A\n:25:X\n:60F:C240101EUR1,00\n:61:240101C1,00NTRFX\n';
    const s = (await everywhere(text)).statements[0]!;
    expect(errorsOf(s).map((p) => p.message)).toEqual([expect.stringMatching(/no closing balance/)]);
  });

  it('without an opening balance is an error', async () => {
    const text = ':20:A\n:25:X\n:61:240101C1,00NTRFX\n:62F:C240101EUR1,00\n-\n';
    const s = (await everywhere(text)).statements[0]!;
    expect(errorsOf(s).map((p) => p.message)).toEqual([expect.stringMatching(/no opening balance/)]);
  });

  it('an unreadable balance is reported once (as unreadable), not again as missing', () => {
    const s = parseMt940(':20:A\n:25:X\n:60F:X240101EUR1,00\n:62F:C240101EUR1,00\n-\n').statements[0]!;
    expect(errorsOf(s)).toHaveLength(1);
    expect(errorsOf(s)[0]!.message).toMatch(/must start with C or D/);
  });

  it('an MT942 interim report has no balances by design and is not an error', () => {
    const text =
      ':20:A\n:25:X\n:28C:1\n:34F:EURD0,00\n:13D:2401011200+0100\n:61:240101C1,00NTRFX\n:90C:1EUR1,00\n-\n';
    expect(errorsOf(parseMt940(text).statements[0]!)).toEqual([]);
  });
});

describe(':86: with the German transaction code alone on its first line', () => {
  it('reads the ?NN subfields of the following lines', async () => {
    const text = [
      ':20:A',
      ':25:X',
      ':60F:C210330EUR0,00',
      ':61:210331C1,00NTRFNONREF',
      ':86:109',
      '?00SEPA-UEBERWEISUNG',
      '?100599',
      '?20EREF+E2E-1',
      '?21SVWZ+Kindergeld Maerz',
      '?30GENODEF1XXX',
      '?31DE02120300000000202051',
      '?32Max Muster',
      ':62F:C210331EUR1,00',
      '-',
    ].join('\r\n');
    const e = (await everywhere(text)).statements[0]!.entries[0]!;
    expect(e.details).toMatchObject({
      code: '109',
      postingText: 'SEPA-UEBERWEISUNG',
      primaNota: '0599',
      EREF: 'E2E-1',
      purpose: 'Kindergeld Maerz',
      counterpartyBic: 'GENODEF1XXX',
      counterpartyAccount: 'DE02120300000000202051',
      counterpartyName: 'Max Muster',
    });
  });

  it('a three-digit narrative that is just text stays without details', () => {
    const text =
      ':20:A\n:25:X\n:60F:C210330EUR0,00\n:61:210331C1,00NTRFX\n:86:109\nthank you\n:62F:C210331EUR1,00\n-\n';
    expect(parseMt940(text).statements[0]!.entries[0]!.details).toBeUndefined();
  });
});

describe('the stream parser is linear in the input', () => {
  it('one long line fed one character at a time costs work proportional to its length', () => {
    const n = 200_000;
    const line = `:86:${'x'.repeat(n)}`;
    const splitter = new Mt940LineSplitter();
    const got: string[] = [];
    const take = (t: string, a: number, b: number) => {
      got.push(t.slice(a, b));
    };
    for (let i = 0; i < line.length; i++) splitter.push(line[i]!, take);
    splitter.push('\r', take);
    splitter.push('\n', take);
    splitter.push(':20:B', take);
    splitter.end(take);
    expect(got).toEqual([line, ':20:B']);
    expect(splitter.work).toBeLessThanOrEqual(4 * (line.length + 10));
  });

  it('a long :86: line in one-character chunks reads as the whole text does', async () => {
    const text = `:20:A\n:25:X\n:60F:C210330EUR0,00\n:61:210331C1,00NTRFX\n:86:${'y'.repeat(20_000)}\n:62F:C210331EUR1,00\n-\n`;
    const whole = parseMt940(text);
    expect(await streamed(text, 1)).toStrictEqual(whole.statements);
    expect(whole.statements[0]!.entries[0]!.narratives[0]).toHaveLength(20_000);
  });

  it('a :61: wrapped over very many short lines is not re-read once per line', () => {
    // hostile: the amount's digits one per line; the reader stops joining after the longest statement line
    const text = `:20:A\n:25:X\n:60F:C210330EUR0,00\n:61:210331C\n${'1\n'.repeat(50_000)}:62F:C210331EUR1,00\n-\n`;
    const s = parseMt940(text).statements[0]!;
    expect(s.entries).toHaveLength(0);
    expect(errorsOf(s).length).toBeGreaterThan(0);
  });
});
