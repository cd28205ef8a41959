// readStatementPieces reads a statement from its stored pieces, cut anywhere, to exactly what readStatement
// reads from the whole text (statements, problems, counts, every transaction in order, each mark's own), and
// refuses to go on when a second reading of the pieces differs from the first.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { writeMt940 } from '../../src/mt940/index.js';
import type { StatementFile } from '../../src/statements/model.js';
import { readStatement, readStatementPieces, StatementTextChanged } from '../../src/statements/read.js';
import { camt053, debit } from '../pipeline/camt-xml.js';

const entry = (mark: 'D' | 'C' | 'RD', ref: string, narratives: string[], amount = '10.00') => ({
  valueDate: '2026-03-02',
  entryDate: '2026-03-02',
  mark,
  amount,
  transactionType: 'NTRF',
  customerReference: ref,
  bankReference: `B${ref}`,
  narratives,
});

const mt940 = writeMt940([
  {
    transactionReference: 'ONE',
    accountIdentification: '1000200030',
    statementNumber: '7',
    sequenceNumber: '1',
    currency: 'USD',
    openingBalance: { mark: 'C', date: '2026-03-01', currency: 'USD', amount: '1000.00' },
    entries: [
      entry('RD', 'k3', ['Benefit', 'Name', 'ACCOUNT_CLOSED']),
      entry('D', 'k1', ['Benefit', 'Zoë Ndiaye €']),
      entry('D', 'k2', ['Benefit', 'Ana 😀']),
      entry('C', 'TOPUP', [], '500.00'),
      entry('D', 'NONREF', []),
    ],
  },
  {
    transactionReference: 'TWO',
    accountIdentification: '1000200031',
    statementNumber: '8',
    currency: 'USD',
    openingBalance: { mark: 'C', date: '2026-03-01', currency: 'USD', amount: '1000.00' },
    entries: [entry('D', 'k4', ['Benefit', 'Name']), entry('RD', 'k1', ['Benefit', 'Name', 'R'])],
  },
]).replace(/(:62F:C\d{6}USD)1000,00/, '$1999,00'); // the second statement does not add up: an error

async function* from(pieces: readonly string[]): AsyncGenerator<string> {
  for (const p of pieces) yield p;
}

async function all(file: StatementFile, only?: 'D' | 'RD') {
  const out = [];
  for await (const t of file.transactions(only)) out.push(t);
  return out;
}

/** What a reader gives: everything but the transactions' function, and the transactions of each kind. */
async function view(file: StatementFile) {
  const { transactions: _, ...rest } = file;
  return { ...rest, all: await all(file), D: await all(file, 'D'), RD: await all(file, 'RD') };
}

/** Reads `pieces` as stored pieces and checks the result against readStatement of their join. */
async function same(pieces: readonly string[]) {
  const text = pieces.join('');
  const read = await readStatementPieces(() => from(pieces));
  expect(await view(read.file)).toStrictEqual(await view(await readStatement(text)));
  return read;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('readStatementPieces', () => {
  it('reads MT940 cut into two pieces at every position as the whole text, streaming', async () => {
    expect((await view(await readStatement(mt940))).all).toHaveLength(7);
    for (const text of [mt940, mt940.replace(/\r\n/g, '\n')])
      for (let p = 0; p <= text.length; p++) {
        const read = await same([text.slice(0, p), text.slice(p)]);
        expect(read.streamed).toBe(true);
        // a cut inside a surrogate pair is not UTF-8 on its own: the hash is of the whole characters
        const c = text.charCodeAt(p - 1);
        if (!(c >= 0xd800 && c <= 0xdbff)) expect(read.sha256).toBe(sha(text));
      }
  });

  it('reads pieces of one character, and many pieces of one statement line each', async () => {
    expect((await same([...mt940])).streamed).toBe(true);
    expect((await same(mt940.split(/(?<=\n)/))).streamed).toBe(true);
  });

  it('reads camt and irregular MT940 from the joined text, as readStatement does', async () => {
    const camt = camt053([
      {
        id: 'S1',
        account: '1000200030',
        entries: [debit('k1'), debit('k2', '20.00')],
      },
    ]);
    const warned = mt940.replace('D10,00NTRF', 'D10,005NTRF'); // more decimals than USD has
    for (const text of [camt, warned, 'not a statement', '   \n', '\uFEFF'])
      for (let p = 0; p <= text.length; p += 13) {
        const read = await same([text.slice(0, p), text.slice(p)]);
        expect(read.streamed).toBe(false);
        expect(read.sha256).toBe(sha(text));
      }
    // past the first 1,024 characters an '<' does not make XML
    const late = `${' '.repeat(1100)}<x/>`;
    expect((await same([late.slice(0, 600), late.slice(600)])).file.errors[0]?.message).toMatch(/MT940/);
  });

  it('refuses a second reading that differs from the first, before using a changed piece', async () => {
    const third = Math.floor(mt940.length / 3);
    const cut = [mt940.slice(0, third), mt940.slice(third, 2 * third), mt940.slice(2 * third)];
    expect(cut[1]).toContain('k2');
    const changes: Array<[string, (p: string[]) => string[]]> = [
      ['a piece changed', (p) => [p[0]!, p[1]!.replace('k2', 'k9'), p[2]!]],
      ['a piece missing', (p) => [p[0]!, p[2]!]],
      ['a piece more', (p) => [...p, ':20:MORE\r\n']],
      ['the last piece gone', (p) => p.slice(0, 2)],
    ];
    for (const [name, change] of changes) {
      let readings = 0;
      const read = await readStatementPieces(() => from(readings++ === 0 ? cut : change(cut)));
      expect(read.streamed, name).toBe(true);
      const seen: string[] = [];
      const reading = (async () => {
        for await (const t of read.file.transactions()) seen.push(t.reference ?? '-');
      })();
      await expect(reading, name).rejects.toBeInstanceOf(StatementTextChanged);
      expect(seen, name).not.toContain('k9');
    }
    // the joined-text path checks its second reading too
    let readings = 0;
    const warned = mt940.replace('D10,00NTRF', 'D10,005NTRF');
    const pieces = [warned.slice(0, 500), warned.slice(500)];
    await expect(
      readStatementPieces(() => from(readings++ === 0 ? pieces : [pieces[0]!, `${pieces[1]!}x`])),
    ).rejects.toBeInstanceOf(StatementTextChanged);
  });
});
