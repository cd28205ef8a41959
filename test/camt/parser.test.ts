// camt.053 / camt.054 parser: the hand-made conformance files, hostile inputs, streaming, and a round trip.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CamtDocument,
  type CamtStreamEvent,
  detectStatementFormat,
  parseCamt,
  parseCamtStream,
} from '../../src/camt/index.js';
import { writeTestCamt053 } from './writer.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/camt/${name}`, import.meta.url));
const parse = (name: string) => parseCamt(fixture(name));
const allProblems = (d: CamtDocument) => [...d.problems, ...d.statements.flatMap((s) => s.problems)];

async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

describe('camt.053.001.08, two statements', () => {
  const doc = parse('camt053-v08-multi.xml');
  const [eur, usd] = doc.statements;

  it('reads the message, the header and both statements without problems', () => {
    expect(doc.fatal).toBeUndefined();
    expect(allProblems(doc)).toEqual([]);
    expect(doc.message).toEqual({
      kind: '053',
      version: '001.08',
      namespace: 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08',
    });
    expect(doc.groupHeader).toEqual({
      messageId: 'STMT-20250301-0001',
      createdAt: '2025-03-01T18:00:00+01:00',
    });
    expect(doc.statements.map((s) => [s.id, s.currency, s.entryCount])).toEqual([
      ['STMT-EUR-20250301', 'EUR', 4],
      ['STMT-USD-20250301', 'USD', 2],
    ]);
    expect(eur!.account).toEqual({
      iban: 'DE89370400440532013000',
      currency: 'EUR',
      ownerName: 'Ministry of Social Protection',
      servicerBic: 'COBADEFFXXX',
    });
    expect(usd!.account).toEqual({ otherId: '0012345678', currency: 'USD' });
  });

  it('checks opening + booked entries = closing, leaving the pending entry out', () => {
    expect(eur!.openingBalance?.type).toBe('OPBD');
    expect(eur!.balances.map((b) => b.type)).toEqual(['OPBD', 'CLBD', 'CLAV']);
    expect(eur!.balanceCheck).toEqual({
      ok: true,
      opening: '10000.00',
      computedClosing: '9825.50',
      expectedClosing: '9825.50',
    });
    // PRCD opening in debit, 5 decimals, a DtTm balance date
    expect(usd!.openingBalance).toMatchObject({
      type: 'PRCD',
      signedAmount: '-0.50000',
      date: { date: '2025-02-28' },
    });
    expect(usd!.balanceCheck).toMatchObject({ ok: true, computedClosing: '1234.56790' });
    expect(usd!.entries.map((e) => e.amount)).toEqual(['1235.06789', '0.00001']);
  });

  it('checks TxsSummry (booked entries here) and keeps its figures', () => {
    expect(eur!.summaryCheck).toEqual({ ok: true, mismatches: [] });
    expect(eur!.transactionsSummary).toEqual({
      total: { count: 3, sum: '425.50', netAmount: '174.50', netCreditDebit: 'DBIT' },
      credit: { count: 2, sum: '125.50' },
      debit: { count: 1, sum: '300.00' },
    });
  });

  it('reads a batch entry with every TxDtls, its refs, parties and remittance', () => {
    const batch = eur!.entries[0]!;
    expect(batch).toMatchObject({
      reference: '1',
      amount: '300.00',
      signedAmount: '-300.00',
      creditDebit: 'DBIT',
      status: 'BOOK',
      reversal: false,
      bookingDate: { date: '2025-03-01' },
      accountServicerReference: 'BANKREF-0001',
      bankTransactionCode: { domain: 'PMNT', family: 'ICDT', subFamily: 'ESCT' },
      additionalInfo: 'SEPA batch of 3',
      batches: [{ messageId: 'BATCH-7', numberOfTransactions: 3, totalAmount: '300.00', currency: 'EUR' }],
    });
    expect(batch.transactions.map((t) => [t.references.endToEndId, t.amount, t.creditor?.name])).toEqual([
      ['disb-0001-aaaaaaaaaaaaaaaaaaaaaaaaa', '100.00', 'Amina Beneficiary'],
      ['disb-0002', '150.00', 'Bo Beneficiary'],
      ['disb-0003', '50.00', undefined],
    ]);
    expect(batch.transactions[0]!.references.endToEndId).toHaveLength(35);
    expect(batch.transactions[0]!.creditor).toEqual({
      name: 'Amina Beneficiary',
      account: { iban: 'DE02120300000000202051' },
      agentBic: 'BYLADEM1001',
    });
    expect(batch.transactions[1]!.creditor?.account).toEqual({
      otherId: '254700000001',
      otherScheme: 'MSISDN',
    });
    expect(batch.transactions[1]!.remittanceUnstructured).toEqual([
      'Child benefit March 2025',
      'second line',
    ]);
  });

  it('reads returns, pending entries and reversals', () => {
    const [, ret, pending, reversal] = eur!.entries;
    expect(ret!.transactions[0]!.returnInfo).toEqual({
      reasonCode: 'AC04',
      additionalInfo: ['Account closed'],
      originalBankTransactionCode: { domain: 'PMNT', family: 'ICDT', subFamily: 'ESCT' },
    });
    expect(pending).toMatchObject({
      status: 'PDNG',
      bankTransactionCode: { proprietary: 'NTRF', proprietaryIssuer: 'SWIFT' },
    });
    expect(reversal).toMatchObject({
      reversal: true,
      creditDebit: 'CRDT',
      signedAmount: '25.50',
      bookingDate: { date: '2025-03-01', dateTime: '2025-03-01T14:30:00+01:00' },
    });
  });
});

describe('older versions and camt.054', () => {
  it.each(['camt053-v02.xml', 'camt053-v04.xml'])(
    '%s: Sts code, Nm without Pty, amounts of TxDtls',
    (name) => {
      const doc = parse(name);
      expect(allProblems(doc)).toEqual([]);
      const [st] = doc.statements;
      expect(st!.account.servicerBic).toBe('KCBLKENXXXX');
      expect(st!.balanceCheck?.ok).toBe(true);
      expect(st!.summaryCheck?.ok).toBe(true);
      expect(st!.transactionsSummary?.total).toEqual({
        count: 2,
        sum: '3500.00',
        netAmount: '2500.00',
        netCreditDebit: 'DBIT',
      });
      const [batch, ret] = st!.entries;
      expect(batch!.status).toBe('BOOK');
      expect(batch!.transactions.map((t) => [t.amount, t.currency])).toEqual([
        ['1000.00', 'KES'],
        ['2000.00', 'KES'],
      ]);
      expect(batch!.transactions[0]!.debtor?.name).toBe('Ministry of Social Protection');
      expect(batch!.transactions[0]!.creditor?.name).toBe('Wanjiru Beneficiary');
      expect(batch!.transactions[1]!.remittanceStructured).toEqual(['RF18539007547034']);
      expect(ret!.transactions[0]!.returnInfo?.reasonCode).toBe('MD07');
    },
  );

  it('v02 has no TxDtls/Amt: TxAmt, else InstdAmt, stands for it; v04 reads TxDtls/Amt and CdtDbtInd', () => {
    const v02 = parse('camt053-v02.xml').statements[0]!.entries[0]!.transactions;
    expect(v02[0]!.transactionAmount).toEqual({ amount: '1000.00', currency: 'KES' });
    expect(v02[1]!.instructedAmount).toEqual({ amount: '2000.00', currency: 'KES' });
    expect(v02[0]!.creditDebit).toBeUndefined();
    const v04 = parse('camt053-v04.xml').statements[0]!.entries[0]!.transactions;
    expect(v04[0]!.creditDebit).toBe('DBIT');
  });

  it('camt.054 v08 and v02: notifications without balances', () => {
    const v08 = parse('camt054-v08.xml');
    expect(allProblems(v08)).toEqual([]);
    expect(v08.message?.kind).toBe('054');
    const n = v08.statements[0]!;
    expect(n).toMatchObject({ kind: 'notification', id: 'NTF-0001-1', balances: [], currency: 'EUR' });
    expect(n.balanceCheck).toBeUndefined();
    expect(n.entries.map((e) => e.status)).toEqual(['BOOK', 'PDNG']);
    expect(n.entries[0]!.transactions[0]!.references).toEqual({
      instructionId: 'INSTR-1',
      endToEndId: 'ntf-disb-1',
      uetr: '3f1a1c4e-8b0f-4a8e-9a55-0c5d3f1b2a77',
      transactionId: 'TX-1',
    });
    expect(n.entries[0]!.transactions[0]!.debtor?.name).toBe('Ministry of Social Protection');
    const v02 = parse('camt054-v02.xml');
    expect(allProblems(v02)).toEqual([]);
    expect(v02.statements[0]!.account).toEqual({ otherId: '7700123' });
    expect(v02.statements[0]!.currency).toBe('PHP');
    expect(v02.statements[0]!.entries[0]!.transactions[0]!.returnInfo?.reasonCode).toBe('AC01');
  });
});

describe('checks that fail', () => {
  it('a closing balance one cent off is a balance_check error at the CLBD', () => {
    const st = parse('camt053-v08-broken-balance.xml').statements[0]!;
    expect(st.balanceCheck).toEqual({
      ok: false,
      opening: '10000.00',
      computedClosing: '9825.50',
      expectedClosing: '9825.51',
    });
    expect(st.problems).toEqual([
      expect.objectContaining({ code: 'camt.balance_check', severity: 'error', line: 45 }),
    ]);
  });

  it('a TxsSummry that matches neither all nor booked entries is a summary_check error', () => {
    const st = parse('camt053-v08-summary-mismatch.xml').statements[0]!;
    expect(st.summaryCheck?.ok).toBe(false);
    expect(st.summaryCheck?.mismatches).toEqual([
      'TtlNtries/Sum is 425.05, the entries give 425.50',
      'TtlDbtNtries/NbOfNtries is 2, the entries give 1',
    ]);
    expect(st.problems.map((p) => [p.code, p.severity])).toEqual([['camt.summary_check', 'error']]);
  });

  it('a batch whose NbOfTxs and TtlAmt disagree with its TxDtls is a batch_check error', () => {
    const st = parse('camt053-v08-batch-mismatch.xml').statements[0]!;
    expect(st.problems.map((p) => [p.code, p.message])).toEqual([
      ['camt.batch_check', 'entry "1": Btch/NbOfTxs says 4, 3 TxDtls follow'],
      ['camt.batch_check', 'entry "1": Btch/TtlAmt is 310.00, its TxDtls add up to 300.00'],
    ]);
  });

  it('refuses amounts that are not exact decimals of at most 5 fraction digits and 18 digits', () => {
    const base = fixture('camt053-v08-multi.xml').toString();
    for (const bad of ['1.000001', '1e3', '-5.00', '12,50', '1234567890123456789', '']) {
      const st = parseCamt(base.replace('<Amt Ccy="USD">0.00001</Amt>', `<Amt Ccy="USD">${bad}</Amt>`))
        .statements[1]!;
      expect(st.entryCount, bad).toBe(1);
      expect(
        st.problems.map((p) => p.code),
        bad,
      ).toContain('camt.bad_amount');
      expect(st.balanceCheck?.ok, bad).toBe(false);
    }
    // trailing zeros beyond 5 digits are the same value: accepted
    const ok = parseCamt(base.replace('<Amt Ccy="USD">0.00001</Amt>', '<Amt Ccy="USD">0.0000100</Amt>'));
    expect(ok.statements[1]!.entries[1]!.amount).toBe('0.00001');
    expect(ok.statements[1]!.balanceCheck?.ok).toBe(true);
  });

  it('an entry in another currency than its statement fails the balance check', () => {
    const base = fixture('camt053-v08-multi.xml').toString();
    const st = parseCamt(base.replace('<Amt Ccy="USD">0.00001</Amt>', '<Amt Ccy="EUR">0.00001</Amt>'))
      .statements[1]!;
    expect(st.currency).toBe('USD');
    expect(st.balanceCheck?.ok).toBe(false);
    expect(st.problems.map((p) => p.code)).toEqual(['camt.currency_mismatch', 'camt.balance_check']);
    expect(st.problems[1]!.message).toContain('EUR');
  });

  it('reports bad codes and dates with their line', () => {
    const base = fixture('camt053-v08-multi.xml').toString();
    const st = parseCamt(
      base
        .replace('<RvslInd>true</RvslInd>', '<RvslInd>yes</RvslInd>')
        .replace('<Dt>2025-03-02</Dt>', '<Dt>2025-02-30</Dt>'),
    ).statements[0]!;
    expect(st.problems.map((p) => [p.code, p.line])).toEqual([
      ['camt.bad_date', 247],
      ['camt.bad_code', 269],
    ]);
  });
});

describe('hostile and unreadable input', () => {
  const fatal = (input: string | Uint8Array, options?: Parameters<typeof parseCamt>[1]) =>
    parseCamt(input, options).fatal;

  it('refuses any DOCTYPE before reading it: billion laughs, external entity', () => {
    expect(fatal(fixture('billion-laughs.xml'))).toMatchObject({ code: 'camt.doctype', severity: 'fatal' });
    const ext = parseCamt(fixture('external-entity.xml'));
    expect(ext.fatal?.code).toBe('camt.doctype');
    expect(JSON.stringify(ext)).not.toContain('root:');
    expect(fatal('<!DOCTYPE Document SYSTEM "http://example.invalid/x.dtd"><Document/>')?.code).toBe(
      'camt.doctype',
    );
  });

  it('an entity that is not predefined is an error, never a lookup', () => {
    expect(fatal(fixture('undeclared-entity.xml'))).toMatchObject({ code: 'camt.entity', line: 5 });
    // the five predefined ones and character references are fine
    const doc = parseCamt(
      fixture('camt053-v08-multi.xml').toString().replace('Amina Beneficiary', 'A &amp; B &lt;&#65;&gt;'),
    );
    expect(doc.statements[0]!.entries[0]!.transactions[0]!.creditor?.name).toBe('A & B <A>');
  });

  it('bounds the depth of nesting', () => {
    const deep = `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt>${'<a>'.repeat(100_000)}`;
    expect(fatal(deep)).toMatchObject({ code: 'camt.too_deep' });
    expect(fatal(deep, { maxDepth: 8 })?.message).toContain('deeper than 8');
  });

  it('bounds a huge text node before it is buffered whole', () => {
    const head =
      '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>';
    expect(fatal(`${head}${'x'.repeat(5_000_000)}</MsgId>`)).toMatchObject({ code: 'camt.too_large' });
    expect(fatal(`${head}${'x'.repeat(2_000)}</MsgId>`, { maxTextLength: 1_000 })?.code).toBe(
      'camt.too_large',
    );
    expect(fatal(`<Document a="${'x'.repeat(5_000_000)}"/>`)?.code).toBe('camt.too_large');
  });

  it('bounds the number of problems', () => {
    const base = fixture('camt053-v08-multi.xml').toString();
    const bad = base.replace(/<RvslInd>true<\/RvslInd>/, `${'<RvslInd>maybe</RvslInd>'.repeat(50)}`);
    const st = parseCamt(bad, { maxProblems: 10 }).statements[0]!;
    expect(st.problems).toHaveLength(11);
    expect(st.problems[10]!.code).toBe('camt.too_many_problems');
  });

  it('names an unknown message or version', () => {
    expect(fatal(fixture('unknown-version.xml'))).toMatchObject({
      code: 'camt.unknown_version',
      message: expect.stringContaining('camt.053.001.03'),
    });
    expect(fatal(fixture('unknown-message.xml'))).toMatchObject({
      code: 'camt.unknown_message',
      message: expect.stringContaining('camt.052'),
    });
    expect(fatal('<Document xmlns="urn:example"/>')?.code).toBe('camt.unknown_message');
    expect(fatal('<Foo/>')?.code).toBe('camt.unknown_message');
  });

  it('a truncated file is a fatal camt.truncated, keeping what was read before', () => {
    const doc = parse('truncated.xml');
    expect(doc.fatal).toMatchObject({
      code: 'camt.truncated',
      path: 'Document/BkToCstmrStmt/Stmt/Ntry/NtryDtls/TxDtls',
    });
    expect(doc.statements).toEqual([]);
  });

  it('not XML, not UTF-8, empty', () => {
    expect(fatal(':20:REF\n:25:ACC\n')?.code).toBe('camt.not_xml');
    expect(fatal(new Uint8Array([0x3c, 0xff, 0xfe, 0x3e]))?.code).toBe('camt.not_xml');
    expect(fatal('')?.code).toBe('camt.not_xml');
    expect(
      fatal('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt></Document>')
        ?.code,
    ).toBe('camt.not_xml');
  });
});

describe('streaming', () => {
  it('yields the same entries and statements as the whole-file parse, whatever the chunk size', async () => {
    const text = fixture('camt053-v08-multi.xml').toString();
    const whole = parseCamt(text);
    for (const size of [1, 7, 64, 100_000]) {
      const events: CamtStreamEvent[] = [];
      for await (const e of parseCamtStream(chunked(text, size))) events.push(e);
      expect(events[0]).toMatchObject({ type: 'header', groupHeader: whole.groupHeader });
      const entries = events.flatMap((e) => (e.type === 'entry' ? [e.entry] : []));
      expect(entries).toEqual(whole.statements.flatMap((s) => s.entries));
      const statements = events.flatMap((e) => (e.type === 'statement' ? [e.statement] : []));
      expect(statements).toEqual(whole.statements.map((s) => ({ ...s, entries: [] })));
    }
  });

  it('throws CamtFormatError after yielding what came before a fatal problem', async () => {
    const seen: string[] = [];
    await expect(async () => {
      for await (const e of parseCamtStream(chunked(fixture('truncated.xml').toString(), 500)))
        seen.push(e.type);
    }).rejects.toMatchObject({ name: 'CamtFormatError', code: 'camt.truncated' });
    expect(seen).toEqual(['header', 'entry']);
  });

  it('refuses a DOCTYPE split across chunks', async () => {
    await expect(async () => {
      for await (const _ of parseCamtStream(chunked(fixture('billion-laughs.xml').toString(), 3))) {
        // nothing is yielded
      }
    }).rejects.toMatchObject({ code: 'camt.doctype' });
  });
});

describe('detectStatementFormat', () => {
  it('tells camt versions, MT940 and the rest apart from the head', () => {
    expect(detectStatementFormat(fixture('camt053-v08-multi.xml'))).toEqual({
      format: 'camt',
      kind: '053',
      version: '001.08',
      namespace: 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08',
    });
    expect(detectStatementFormat(fixture('camt054-v02.xml'))).toMatchObject({
      kind: '054',
      version: '001.02',
    });
    expect(
      detectStatementFormat(
        '\uFEFF<?xml version="1.0"?><!-- x --><c:Document xmlns:c="urn:iso:std:iso:20022:tech:xsd:camt.053.001.04">',
      ),
    ).toMatchObject({ format: 'camt', version: '001.04' });
    expect(detectStatementFormat(':20:STMT\r\n:25:DE89370400440532013000\r\n')).toEqual({ format: 'mt940' });
    expect(detectStatementFormat('{1:F01BANKBEBBAXXX0000000000}{4:\r\n:20:X')).toEqual({ format: 'mt940' });
    expect(detectStatementFormat(fixture('unknown-version.xml'))).toMatchObject({
      format: 'unknown',
      reason: expect.stringContaining('camt.053.001.03'),
    });
    expect(detectStatementFormat('<html><body/></html>')).toMatchObject({ format: 'unknown' });
  });
});

describe('property: written statements parse back to the same values', () => {
  // exact arithmetic of the test itself: bigint units of 10^-5
  const units = (a: string) => {
    const [w, f = ''] = a.split('.');
    return BigInt(w!) * 100000n + BigInt(f.padEnd(5, '0'));
  };
  const formatUnits5 = (c: bigint) => {
    const abs = c < 0n ? -c : c;
    return `${c < 0n ? '-' : ''}${abs / 100000n}.${(abs % 100000n).toString().padStart(5, '0')}`;
  };
  const amount = fc
    .tuple(fc.bigInt({ min: 0n, max: 10n ** 11n }), fc.integer({ min: 0, max: 5 }))
    .map(([units, digits]) => {
      const s = units.toString().padStart(digits + 1, '0');
      return digits ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
    });
  const text = fc
    .string({ minLength: 1, maxLength: 35 })
    .filter((s) => /^[\x20-\x7e\u00c0-\u017f]+$/.test(s) && s.trim() === s);
  const tx = fc.record({
    endToEndId: text,
    amount,
    name: fc.option(text, { nil: undefined }),
    returnCode: fc.option(fc.constantFrom('AC01', 'AC04', 'AM04', 'MD07'), { nil: undefined }),
    remittance: fc.option(text, { nil: undefined }),
  });
  const entry = fc
    .record({
      amount,
      credit: fc.boolean(),
      status: fc.constantFrom('BOOK' as const, 'PDNG' as const, 'INFO' as const),
      reversal: fc.boolean(),
      bookingDate: fc.constantFrom('2024-02-29', '2025-01-01', '2025-12-31'),
      txs: fc.array(tx, { maxLength: 4 }),
    })
    // an entry with transactions is their sum, as a bank books it
    .map((e) =>
      e.txs.length ? { ...e, amount: formatUnits5(e.txs.reduce((a, t) => a + units(t.amount), 0n)) } : e,
    );
  const statement = fc.record({
    id: text,
    iban: fc.constantFrom('DE89370400440532013000', 'KE12345678901234567890'),
    currency: fc.constantFrom('EUR', 'KES', 'USD'),
    opening: amount,
    entries: fc.array(entry, { maxLength: 6 }),
  });

  it('round-trips ids, amounts, statuses, parties, returns; the balance check is exact', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('001.02' as const, '001.04' as const, '001.08' as const),
        fc.array(statement, { minLength: 1, maxLength: 3 }),
        (version, sts) => {
          // closing = opening + booked entries, computed with bigint units of 10^-5
          const units = (a: string) => {
            const [w, f = ''] = a.split('.');
            return BigInt(w!) * 100000n + BigInt(f.padEnd(5, '0'));
          };
          const withClosing = sts.map((s) => {
            let c = units(s.opening);
            for (const e of s.entries)
              if (e.status === 'BOOK') c += e.credit ? units(e.amount) : -units(e.amount);
            const neg = c < 0n;
            const abs = neg ? -c : c;
            const closing = `${neg ? '-' : ''}${abs / 100000n}.${(abs % 100000n).toString().padStart(5, '0')}`;
            return { ...s, closing };
          });
          const doc = parseCamt(writeTestCamt053(version, withClosing));
          expect(doc.fatal).toBeUndefined();
          expect(doc.statements).toHaveLength(sts.length);
          doc.statements.forEach((st, i) => {
            const s = withClosing[i]!;
            expect(st.problems).toEqual([]);
            expect(st.id).toBe(s.id);
            expect(st.balanceCheck?.ok).toBe(true);
            expect(
              st.entries.map((e) => [e.amount, e.creditDebit, e.status, e.reversal, e.bookingDate?.date]),
            ).toEqual(
              s.entries.map((e) => [
                e.amount,
                e.credit ? 'CRDT' : 'DBIT',
                e.status,
                e.reversal,
                e.bookingDate,
              ]),
            );
            expect(
              st.entries.map((e) =>
                e.transactions.map((t) => [
                  t.references.endToEndId,
                  t.amount,
                  t.creditor?.name,
                  t.returnInfo?.reasonCode,
                  t.remittanceUnstructured[0],
                ]),
              ),
            ).toEqual(
              s.entries.map((e) =>
                e.txs.map((t) => [t.endToEndId, t.amount, t.name, t.returnCode, t.remittance]),
              ),
            );
          });
        },
      ),
      { numRuns: 150 },
    );
  });
});
