// The JSON writer of `mt940 --compact` gives the bytes of JSON.stringify(parseMt940(text)): on the corpus,
// on written statements (columnar path) and on hostile text (quotes, backslashes, control characters,
// big amounts, funds codes, details, other currencies, many statements, fallback path).
import { describe, expect, it } from 'vitest';
import { benchmarkFile } from '../../bench/mt940/generate.js';
import { parseMt940, parseMt940Columns, writeMt940Json } from '../../src/mt940/index.js';
import { corpusDir, corpusFiles, readStatementFile } from './corpus.js';

function written(text: string, pieces?: string[]): string {
  const chunks: Uint8Array[] = [];
  // every other chunk copied and the buffer handed back for reuse: both ways give the same bytes
  writeMt940Json(parseMt940Columns(text), (chunk) => {
    const reuse = chunks.length % 2 === 1;
    chunks.push(reuse ? Uint8Array.from(chunk) : chunk);
    return reuse;
  });
  pieces?.push(...chunks.map((c) => String(c.length)));
  return Buffer.concat(chunks).toString('utf8');
}

const hostile = (body: string, currency = 'EUR') =>
  `:20:REF"1\\\r\n:25:NL00BANK0123456789\r\n:28C:1/1\r\n:60F:C240101${currency}1000,00\r\n${body}:62F:C240101${currency}1000,00\r\n-\r\n`;

describe('writeMt940Json', () => {
  it('writes the bytes of JSON.stringify for a written statement read in columns, in pieces', () => {
    const text = benchmarkFile(5000);
    expect(parseMt940Columns(text).columnar).toBe(true);
    const pieces: string[] = [];
    expect(written(text, pieces)).toBe(JSON.stringify(parseMt940(text)));
    expect(pieces.length).toBeGreaterThan(1);
  });

  it('escapes what JSON.stringify escapes in references and narratives', () => {
    const text = hostile(
      ':61:2401010101D10,00NTRFA"B\\C//BANK"REF\r\n' +
        ':86:line with "quotes" and \\ back\tslash\r\n' +
        'second line \u0001 control é ✓\r\n' +
        ':61:2401010101C10,00FNTRFNONREF//B2\r\n:86:/NAME/Someone/REMI/x\r\n' +
        ':61:240101RD0,00NTRFZERO\r\n' +
        ':61:2401010101D0,50NTRFHALF//B3\r\n:61:2401010101C0,05NTRFCENTS//B4\r\n:61:2401010101C1,00NTRFONE//B5\r\n',
    );
    expect(parseMt940Columns(text).columnar).toBe(true);
    expect(written(text)).toBe(JSON.stringify(parseMt940(text)));
    // the same with LF and with lone CR line ends (the narrative lines are cut at either)
    for (const end of ['\n', '\r']) {
      const other = text.replaceAll('\r\n', end);
      expect(written(other)).toBe(JSON.stringify(parseMt940(other)));
    }
  });

  it('keeps amounts exact beyond 2^53 minor units and in currencies of 0 or 3 decimals', () => {
    for (const [cur, amt] of [
      ['EUR', '123456789012345,67'],
      ['JPY', '9007199254740993,'],
      ['KWD', '12,345'],
      ['KWD', '0,005'],
      ['JPY', '7,'],
    ] as const) {
      const text = hostile(`:61:2401010101D${amt}NTRFBIG//B\r\n:61:2401010101C${amt}NTRFBIG//B\r\n`, cur);
      const expected = JSON.stringify(parseMt940(text));
      expect(written(text)).toBe(expected);
      expect(expected).toContain(`"amount":"${amt.replace(',', '.').replace(/\.$/, '')}`);
    }
  });

  it('writes amounts around the digit-by-digit range (below 2^31 minor units) as JSON.stringify', () => {
    const minors = [
      0n,
      1n,
      5n,
      9n,
      10n,
      99n,
      100n,
      999n,
      1000n,
      2n ** 31n - 1n,
      2n ** 31n,
      2n ** 32n,
      2n ** 40n,
    ];
    for (const [cur, decimals] of [
      ['EUR', 2],
      ['JPY', 0],
      ['KWD', 3],
    ] as const) {
      const body = minors
        .map((m, k) => {
          const digits = String(m).padStart(decimals + 1, '0');
          const amount = `${digits.slice(0, digits.length - decimals)},${digits.slice(digits.length - decimals)}`;
          // debited and credited back: the balances stay as they are
          return `:61:2401010101D${amount}NTRFAMT${k}//B\r\n:61:2401010101C${amount}NTRFAMT${k}//B\r\n`;
        })
        .join('');
      const text = hostile(body, cur);
      expect(parseMt940Columns(text).columnar).toBe(true);
      const expected = JSON.stringify(parseMt940(text));
      expect(written(text)).toBe(expected);
      expect(expected).toContain(decimals ? `"amount":"0.${'0'.repeat(decimals - 1)}1"` : '"amount":"1"');
    }
  });

  it('writes a statement the columnar reader leaves to parseMt940 the same way', () => {
    const text = ':20:X\n:25:Y\n:60F:C240101EUR1,00\n:61:240101D0,5NTRFR\n:9Z:odd\n:62F:C240101EUR0,50\n-\n';
    expect(parseMt940Columns(text).columnar).toBe(false);
    expect(written(text)).toBe(JSON.stringify(parseMt940(text)));
    expect(written('not mt940 at all')).toBe(JSON.stringify(parseMt940('not mt940 at all')));
  });

  const dir = corpusDir();
  it.runIf(dir !== undefined)('writes the bytes of JSON.stringify for every corpus statement', () => {
    const files = corpusFiles(dir!);
    expect(files.length).toBeGreaterThan(50);
    for (const file of files) {
      const text = readStatementFile(file);
      expect(written(text), file).toBe(JSON.stringify(parseMt940(text)));
    }
  });
});
