import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError, parseCsv } from '../../src/simulators/mapper/csv.js';

async function rows(source: Parameters<typeof parseCsv>[0]) {
  const out: { line: number; fields: string[] }[] = [];
  for await (const row of parseCsv(source)) out.push(row);
  return out;
}

const quote = (f: string) => (/[",\r\n]/.test(f) || f === '' ? `"${f.replace(/"/g, '""')}"` : f);

describe('parseCsv', () => {
  it('reads quoted fields, doubled quotes, line breaks in quotes, CRLF and blank lines', async () => {
    const text = '\uFEFFid,fa,name\r\n1,"account:1@b","Doe, Jane"\r\n\r\n2,"x ""y""",\n3,"multi\nline",z';
    expect(await rows(text)).toEqual([
      { line: 1, fields: ['id', 'fa', 'name'] },
      { line: 2, fields: ['1', 'account:1@b', 'Doe, Jane'] },
      { line: 4, fields: ['2', 'x "y"', ''] },
      { line: 5, fields: ['3', 'multi\nline', 'z'] },
    ]);
  });

  it('keeps a row that is one quoted empty field', async () => {
    expect((await rows('""\n')).map((r) => r.fields)).toEqual([['']]);
  });

  it.each([
    ['a,"b\nc', /line 1: a quoted field is not closed/],
    ['a,b"c\n', /line 1: a quote inside an unquoted field/],
    ['a\n"b"c\n', /line 2: unexpected character after a closing quote/],
  ])('rejects %j', async (text, message) => {
    const error = await rows(text).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CsvError);
    expect((error as Error).message).toMatch(message);
  });

  it('gives the same rows however the bytes are split into chunks', async () => {
    const field = fc.string({ unit: fc.constantFrom('a', 'é', ',', '"', '\n', ' ', '€', '1'), maxLength: 6 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(field, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat({ max: 40 }), { maxLength: 6 }),
        fc.boolean(),
        async (table, cuts, crlf) => {
          const text = table.map((r) => r.map(quote).join(',')).join(crlf ? '\r\n' : '\n');
          const bytes = new TextEncoder().encode(text);
          const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
          const chunks: Uint8Array[] = [];
          let from = 0;
          for (const p of [...points, bytes.length]) {
            chunks.push(bytes.slice(from, p));
            from = p;
          }
          const parsed = await rows(chunks);
          expect(parsed.map((r) => r.fields)).toEqual(table);
        },
      ),
      { numRuns: 200 },
    );
  });
});
