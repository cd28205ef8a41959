// Conformance against the real-world corpus (../shared/corpus/mt940 or $MT940_CORPUS_DIR), field by field
// against each .expected.json produced by the peer parser (Python mt-940). Skips when the corpus is absent.

import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseMt940, parseMt940Stream } from '../../src/mt940/index.js';
import { skipWithout } from '../support/prerequisites.js';
import { compareWithExpected, corpusDir, corpusFiles, readStatementFile } from './corpus.js';

const dir = corpusDir();

/**
 * Where we knowingly differ from the peer, and why. Each entry is a file and a prefix of the mismatch
 * text; anything else that differs fails the suite.
 */
const DEVIATIONS: Array<{ file: string; field: string; why: string }> = [
  {
    file: 'betterplace/sepa_mt9401.sta',
    field: 'transactions[5].amount',
    why: 'RC is a reversal of a credit, i.e. a debit: we sign it negative (and the balance check then holds); the peer signs it positive',
  },
  { file: 'betterplace/sepa_mt9401.sta', field: 'transactions[18].amount', why: 'same RC sign as above' },
  {
    file: 'betterplace/sepa_snippet_broken.sta',
    field: 'statement.account_identification',
    why: 'a second :25: (damaged :86: text) after a :61: is reported and ignored; the peer lets it overwrite the account',
  },
  {
    file: 'jejik/ing.sta',
    field: 'transactions[6].transaction_details',
    why: 'an :86: after :62F: is statement information; the peer appends it to the last entry',
  },
  {
    file: 'self-provided/multiline.sta',
    field: 'transactions[0].transaction_details',
    why: 'an :86: after :62F:/:64: is statement information; the peer replaces the entry narrative with it',
  },
  {
    file: 'self-provided/multiline.sta',
    field: 'transactions[0].additional_purpose',
    why: 'we join ?60..?63 (as the peer does elsewhere); here the peer stops at ?60 because of the unknown ?64/?65',
  },
  {
    file: 'self-provided/multiline.sta',
    field: 'statement.account_identification',
    why: 'we keep the whole 37-character :25: (with a warning); the peer cuts it at 35',
  },
  {
    file: 'self-provided/multiline.sta',
    field: 'transactions[1].currency',
    why: 'the :61: after "-" starts a fragment statement without balances, so it has no currency; the peer carries EUR over',
  },
  {
    file: 'self-provided/long_statement_number.sta',
    field: 'statement.statement_number',
    why: ':28:1810118101 has no "/": we read it as the statement number (with a warning); the peer splits it arbitrarily',
  },
  {
    file: 'self-provided/long_statement_number.sta',
    field: 'statement.sequence_number',
    why: 'same as above',
  },
  {
    file: 'self-provided/malformed_details.sta',
    field: 'transactions[0].additional_purpose',
    why: 'a trailing "?" that opens no subfield is text to us; the peer drops it',
  },
  {
    file: 'self-provided/raphaelm.sta',
    field: 'statement.final_closing_balance',
    why: ':62F:C02032495000,00 has no currency: we use the statement currency (DEM); the peer reads "950" as the currency',
  },
  {
    file: 'self-provided/raphaelm.sta',
    field: 'statement.intermediate_closing_balance',
    why: 'same missing currency in :62M:',
  },
];

const CORPUS_HINT = 'set MT940_CORPUS_DIR or put shared/ beside the checkout';

describe.skipIf(skipWithout(Boolean(dir), 'the MT940 corpus', CORPUS_HINT))(
  'MT940 conformance corpus',
  () => {
    const root = dir ?? '';
    const files = dir ? corpusFiles(dir) : [];

    it('has the 54 statements', () => {
      expect(files.length).toBe(54);
    });

    for (const path of files) {
      const name = relative(root, path);
      const expected = JSON.parse(readFileSync(`${path}.expected.json`, 'utf8'));
      if (expected.error) continue;
      it(`${name} matches the peer field by field`, () => {
        const result = parseMt940(readStatementFile(path));
        const mismatches = compareWithExpected(result, expected).filter(
          (m) => !DEVIATIONS.some((d) => d.file === name && m.startsWith(d.field)),
        );
        expect(mismatches).toEqual([]);
      });
    }

    it('every documented deviation still happens (none is stale)', () => {
      for (const d of DEVIATIONS) {
        const path = `${root}/${d.file}`;
        const expected = JSON.parse(readFileSync(`${path}.expected.json`, 'utf8'));
        const mismatches = compareWithExpected(parseMt940(readStatementFile(path)), expected);
        expect(
          mismatches.some((m) => m.startsWith(d.field)),
          `${d.file} ${d.field}`,
        ).toBe(true);
      }
    });

    it('balance checks hold where the file is consistent, and RC entries make sepa_mt9401 balance', () => {
      const r = parseMt940(readStatementFile(`${root}/betterplace/sepa_mt9401.sta`));
      const checks = r.statements.map((s) => s.balanceCheck?.ok);
      expect(checks.length).toBeGreaterThan(0);
      expect(checks.every((ok) => ok === true)).toBe(true);
    });

    it('a statement without its opening or closing balance is an error (snippets and fragments), MT942 aside', () => {
      for (const path of files) {
        for (const s of parseMt940(readStatementFile(path)).statements) {
          const interim = s.otherFields.some((o) => o.tag === '34F' || o.tag === '13D');
          const complete = s.openingBalance !== undefined && s.closingBalance !== undefined;
          const errors = s.problems.filter((p) => p.severity === 'error');
          if (!complete && !interim)
            expect(errors.length, `${relative(root, path)} line ${s.line}`).toBeGreaterThan(0);
          if (s.balanceCheck?.ok) expect(errors, `${relative(root, path)} line ${s.line}`).toEqual([]);
        }
      }
    });

    it('streaming gives the same statements as parsing the whole text, for every file', async () => {
      for (const path of files) {
        const text = readStatementFile(path);
        const whole = parseMt940(text);
        async function* chunks() {
          for (let i = 0; i < text.length; i += 7) yield text.slice(i, i + 7);
        }
        const streamed = [];
        try {
          for await (const s of parseMt940Stream(chunks())) streamed.push(s);
        } catch {
          expect(whole.statements).toEqual([]);
        }
        expect(streamed, relative(root, path)).toEqual(whole.statements);
      }
    });

    describe('the two statements the peer could not read', () => {
      for (const file of ['ASNB/mt940.txt', 'ASNB/mt940_with_spaces_for_entry_date.txt']) {
        it(`${file}: supplementary details on the continuation line, every statement balanced`, () => {
          const text = readStatementFile(`${root}/${file}`);
          const r = parseMt940(text);
          const lines61 = text.split(/\r?\n/).filter((l) => l.startsWith(':61:')).length;
          expect(r.problems).toEqual([]);
          expect(r.statements.length).toBeGreaterThan(1);
          const entries = r.statements.flatMap((s) => s.entries);
          expect(entries.length).toBe(lines61);
          for (const s of r.statements) {
            expect(s.balanceCheck?.ok, `statement at line ${s.line}`).toBe(true);
            expect(s.problems.filter((p) => p.severity === 'error')).toEqual([]);
          }
          const first = entries[0]!;
          expect(first).toMatchObject({
            valueDate: '2020-01-01',
            mark: 'D',
            amount: '65.00',
            signedAmount: '-65.00',
            transactionType: 'NOVB',
            customerReference: 'NL47INGB9999999999',
            supplementaryDetails: 'hr gjlm paulissen',
            narratives: ['NL47INGB9999999999 hr gjlm paulissen', '', 'Betaling sieraden'],
          });
          if (file.includes('spaces')) expect(first.entryDate).toBeUndefined();
          else expect(first.entryDate).toBe('2020-01-01');
          // every entry with a counterparty account carries its name on the continuation line
          for (const e of entries.filter((x) => x.customerReference !== '')) {
            expect(e.supplementaryDetails, `line ${e.line}`).toBeTruthy();
          }
        });
      }
    });
  },
);
