// camt.053.001.08 statements: the writer (exact amounts, escaping, its checks, streaming), every file it and the
// example bank write validated against the official XSD with xmllint, random ledgers, and the example bank's
// layout (batch entries, returns with ISO reason codes, the bank-wide setting and the per-account override).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCamt } from '../../src/camt/index.js';
import {
  type Camt053Entry,
  Camt053Writer,
  type CamtWriteError,
  fitText,
  isIban,
  summariseEntries,
  writeCamt053,
} from '../../src/camt/writer.js';
import { RETURN_REASON_CODES } from '../../src/simulators/example-bank/camt.js';
import { sharedFile } from '../support/shared.js';
import { type BankHarness, bankHarness, payment } from './harness.js';

const XSD = sharedFile('spec/iso20022/camt.053.001.08.xsd') ?? 'spec/iso20022/camt.053.001.08.xsd';
const xmllint = spawnSync('xmllint', ['--version'], { encoding: 'utf8' });
const CAN_VALIDATE = !xmllint.error && existsSync(XSD);
if (!CAN_VALIDATE)
  console.warn(
    `camt-statements: XSD validation SKIPPED: ${xmllint.error ? 'xmllint is not installed (Debian: apt-get install libxml2-utils; .ci/run installs it)' : `no schema at ${XSD}`}`,
  );

/** Validates documents against camt.053.001.08.xsd in one xmllint run; the output names each failing file. */
function validate(documents: string[]): { ok: boolean; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'camt-xsd-'));
  try {
    const files = documents.map((text, i) => {
      const file = join(dir, `doc-${i}.xml`);
      writeFileSync(file, text, 'utf8');
      return file;
    });
    const run = spawnSync('xmllint', ['--noout', '--schema', XSD, ...files], { encoding: 'utf8' });
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function expectValid(documents: string[]) {
  if (!CAN_VALIDATE) return;
  const result = validate(documents);
  expect(result.output).not.toMatch(/fails to validate|error/i);
  expect(result.ok).toBe(true);
}

const payCode = { domain: { code: 'PMNT', family: 'ICDT', subFamily: 'DMCT' } };
const header = { messageId: 'MSG-1', createdAt: '2026-03-02T18:00:00.000Z' };
const account = { id: 'FUND-1', currency: 'USD' };
const balances = (opening: string, closing: string) => [
  { type: 'OPBD', amount: opening, date: '2026-03-02' },
  { type: 'CLBD', amount: closing, date: '2026-03-02' },
];

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as CamtWriteError).code ?? (error as Error).message;
  }
  return undefined;
}

describe('camt.053 writer', () => {
  it.runIf(CAN_VALIDATE)('is checked by a validator that does refuse a file breaking the schema', () => {
    const good = writeCamt053({
      header,
      statements: [{ id: 'S', account, balances: balances('0', '0'), entries: [] }],
    });
    expect(validate([good]).ok).toBe(true);
    const bad = validate([good.replace('<CdtDbtInd>CRDT</CdtDbtInd>', '<CdtDbtInd>CREDIT</CdtDbtInd>')]);
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/fails to validate/);
  });

  it('writes hostile text safely and amounts exactly, and the file validates', () => {
    const hostile = 'Ana & "Bo" <b>]]></b> \u0001\u0007\ud800 tab\there 😀';
    const xml = writeCamt053({
      header,
      statements: [
        {
          id: 'STMT-<1>&',
          electronicSequenceNumber: 7,
          createdAt: '2026-03-02T18:00:00Z',
          from: '2026-03-02T00:00:00Z',
          to: '2026-03-02T18:00:00Z',
          account: { id: 'GB82WEST12345698765432', currency: 'EUR', ownerName: hostile },
          balances: balances('999999999999.99999', '999999999999.00009'),
          entries: [
            {
              amount: '0.99990',
              creditDebit: 'DBIT',
              bookingDate: '2026-03-02',
              valueDate: '2026-03-02',
              accountServicerReference: 'EB1',
              bankTransactionCode: payCode,
              transactions: [
                {
                  references: { endToEndId: 'D&<>"\'-35-characters-long-id-xxxxx' },
                  amount: '0.99990',
                  creditor: { name: `${hostile}${'x'.repeat(200)}`, id: 'BEN<1>', account: 'ACC&1' },
                  remittance: [hostile, '   ', '\u0000'],
                },
              ],
              additionalInfo: hostile,
            },
          ],
        },
      ],
    });
    expect(xml).toContain('<Id>STMT-&lt;1&gt;&amp;</Id>');
    expect(xml).toContain('<EndToEndId>D&amp;&lt;&gt;"\'-35-characters-long-id-xxxxx</EndToEndId>');
    expect(xml).toContain('<IBAN>GB82WEST12345698765432</IBAN>');
    expect(xml).toContain('<Amt Ccy="EUR">0.99990</Amt>');
    expect(xml).toContain('<Amt Ccy="EUR">999999999999.99999</Amt>');
    // TxsSummry: sums at the precision written, never through a float.
    expect(xml).toContain('<Sum>0.99990</Sum>');
    // Control characters and the lone surrogate are gone; the emoji stays whole.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: what must not be there
    expect(xml).not.toMatch(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
    expect(xml).not.toMatch(/\ud800(?![\udc00-\udfff])/);
    expect(xml).toContain('😀');
    expect(xml).not.toContain(']]>');
    const name = /<Cdtr><Pty><Nm>([^<]*)<\/Nm>/.exec(xml)![1]!;
    expect([...name.replace(/&amp;|&lt;|&gt;/g, '_')].length).toBe(140);
    expect(xml.match(/<Ustrd>/g)).toHaveLength(1);
    expectValid([xml]);
  });

  it('refuses what it cannot write faithfully, with a code', () => {
    const entry = (over: Partial<Camt053Entry>): Camt053Entry => ({
      amount: '1.00',
      creditDebit: 'DBIT',
      bankTransactionCode: payCode,
      ...over,
    });
    const write =
      (e: Camt053Entry, closing = '-1.00') =>
      () =>
        writeCamt053({
          header,
          statements: [{ id: 'S', account, balances: balances('0', closing), entries: [e] }],
        });
    expect(codeOf(write(entry({ amount: '1.000001' })))).toBe('camt_write.invalid_amount');
    expect(codeOf(write(entry({ amount: '1234567890123456789' })))).toBe('camt_write.invalid_amount');
    expect(codeOf(write(entry({ amount: '-1.00' })))).toBe('camt_write.invalid_amount');
    expect(codeOf(write(entry({ amount: '1e3' })))).toBe('camt_write.invalid_amount');
    expect(codeOf(write(entry({ amount: '0.1 ' })))).toBe('camt_write.invalid_amount');
    expect(codeOf(write(entry({ bookingDate: '2026-02-29' })))).toBe('camt_write.invalid_date');
    expect(codeOf(write(entry({ accountServicerReference: 'x'.repeat(36) })))).toBe(
      'camt_write.invalid_text',
    );
    expect(
      codeOf(write(entry({ transactions: [{ references: { endToEndId: 'bad\nid' }, amount: '1.00' }] }))),
    ).toBe('camt_write.invalid_text');
    expect(
      codeOf(write(entry({ transactions: [{ references: { endToEndId: ' padded' }, amount: '1.00' }] }))),
    ).toBe('camt_write.invalid_text');
    // opening 0 - 1.00 is not a closing of -0.99
    expect(codeOf(write(entry({}), '-0.99'))).toBe('camt_write.balance_check');
    // a batch whose payments do not add up to the entry
    expect(
      codeOf(
        write(
          entry({
            batch: {},
            transactions: [{ amount: '0.50' }, { amount: '0.49' }],
          }),
        ),
      ),
    ).toBe('camt_write.batch_check');
    expect(codeOf(write(entry({ batch: {}, transactions: [] })))).toBe('camt_write.batch_check');
    expect(
      codeOf(() =>
        writeCamt053({
          header,
          statements: [
            {
              id: 'S',
              account: { id: 'A', currency: 'usd' },
              balances: balances('0', '0'),
              entries: [],
            },
          ],
        }),
      ),
    ).toBe('camt_write.invalid_currency');
    // A declared TxsSummry must be what the entries add up to.
    const declared = summariseEntries([entry({ amount: '2.00' })]);
    expect(
      codeOf(() =>
        writeCamt053({
          header,
          statements: [
            { id: 'S', account, balances: balances('0', '-1.00'), summary: declared, entries: [entry({})] },
          ],
        }),
      ),
    ).toBe('camt_write.summary_check');
  });

  it('streams an entry at a time and refuses calls out of order', () => {
    const chunks: string[] = [];
    const w = new Camt053Writer((c) => chunks.push(c), header);
    expect(
      codeOf(() => w.writeEntry({ amount: '1', creditDebit: 'CRDT', bankTransactionCode: payCode })),
    ).toBe('camt_write.sequence');
    const entries: Camt053Entry[] = Array.from({ length: 50 }, (_, i) => ({
      amount: `${i + 1}.5`,
      creditDebit: i % 3 === 0 ? 'DBIT' : 'CRDT',
      bankTransactionCode: payCode,
    }));
    let net = 0n;
    for (const e of entries) net += (e.creditDebit === 'CRDT' ? 1n : -1n) * BigInt(e.amount.replace('.', ''));
    w.beginStatement({
      id: 'S',
      account,
      balances: balances(
        '10',
        `${net < 0n ? '-' : ''}${(net < 0n ? -net : net) / 10n + 10n}.${(net < 0n ? -net : net) % 10n}`,
      ),
      summary: summariseEntries(entries),
    });
    const before = chunks.length;
    for (const e of entries) w.writeEntry(e);
    expect(chunks.length - before).toBe(entries.length);
    expect(chunks.at(-1)).toMatch(/^<Ntry>.*<\/Ntry>\n$/);
    w.endStatement();
    w.end();
    expect(codeOf(() => w.end())).toBe('camt_write.sequence');
    expectValid([chunks.join('')]);
  });

  it('names an account by IBAN only when it is one', () => {
    expect(isIban('GB82WEST12345698765432')).toBe(true);
    expect(isIban('GB82WEST12345698765433')).toBe(false);
    expect(isIban('DE89370400440532013000')).toBe(true);
    expect(isIban('FUND-001')).toBe(false);
    const xml = (id: string) =>
      writeCamt053({
        header,
        statements: [
          { id: 'S', account: { id, currency: 'USD' }, balances: balances('0', '0'), entries: [] },
        ],
      });
    expect(xml('GB82WEST12345698765433')).toContain('<Othr><Id>GB82WEST12345698765433</Id></Othr>');
    expect(codeOf(() => xml('x'.repeat(35)))).toBe('camt_write.invalid_text');
  });
});

/** A random ledger: entries (some batches, some returns, a few pending) and the balances they imply. */
const ledgerArbitrary = fc
  .record({
    decimals: fc.constantFrom(0, 2, 3, 5),
    opening: fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }),
    entries: fc.array(
      fc.record({
        direction: fc.constantFrom('CRDT', 'DBIT') as fc.Arbitrary<'CRDT' | 'DBIT'>,
        status: fc.constantFrom('BOOK', 'BOOK', 'BOOK', 'PDNG', 'INFO') as fc.Arbitrary<
          'BOOK' | 'PDNG' | 'INFO'
        >,
        parts: fc.array(fc.bigInt({ min: 1n, max: 10n ** 10n }), { minLength: 1, maxLength: 4 }),
        returned: fc.option(fc.constantFrom(...Object.values(RETURN_REASON_CODES)), { nil: undefined }),
        name: fc.string({ unit: 'binary', maxLength: 30 }),
        id: fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9/._-]{0,33}[A-Za-z0-9]$/),
      }),
      { maxLength: 25 },
    ),
  })
  .map(({ decimals, opening, entries }) => {
    const fmt = (units: bigint) => {
      const neg = units < 0n;
      const digits = (neg ? -units : units).toString().padStart(decimals + 1, '0');
      const whole = digits.slice(0, digits.length - decimals);
      return `${neg ? '-' : ''}${whole}${decimals ? `.${digits.slice(digits.length - decimals)}` : ''}`;
    };
    let closing = opening;
    const written: Camt053Entry[] = entries.map((e, i) => {
      const total = e.parts.reduce((a, b) => a + b, 0n);
      if (e.status === 'BOOK') closing += e.direction === 'CRDT' ? total : -total;
      const batch = e.parts.length > 1;
      return {
        amount: fmt(total),
        creditDebit: e.direction,
        status: e.status,
        bookingDate: '2026-03-02',
        valueDate: '2026-03-02',
        accountServicerReference: `REF${i}`,
        bankTransactionCode: payCode,
        ...(batch ? { batch: { messageId: 'BATCH-1' } } : {}),
        transactions: e.parts.map((p, j) => ({
          references: {
            endToEndId: `${e.id}`.slice(0, 30) + (batch ? `-${j}` : ''),
            accountServicerReference: `REF${i}/${j}`,
          },
          amount: fmt(p),
          creditor: { name: e.name },
          ...(e.returned && e.direction === 'CRDT' && !batch
            ? { returnInfo: { reasonCode: e.returned } }
            : {}),
        })),
      };
    });
    return {
      decimals,
      document: {
        header,
        statements: [
          {
            id: 'STMT-P',
            electronicSequenceNumber: 1,
            account,
            balances: [
              { type: 'OPBD', amount: fmt(opening), date: '2026-03-01' },
              { type: 'CLBD', amount: fmt(closing), date: '2026-03-02' },
            ],
            entries: written,
          },
        ],
      },
    };
  });

/** An exact decimal as bigint units of 10^-5, to compare amounts whatever their written precision. */
const units = (text: string) => {
  const [whole = '0', fraction = ''] = text.replace('-', '').split('.');
  const u = BigInt(whole + fraction.padEnd(5, '0'));
  return text.startsWith('-') ? -u : u;
};

describe('camt.053 writer over random ledgers', () => {
  it('writes every ledger so that it parses back to the same entries and balances; a sample validates', () => {
    const sample: string[] = [];
    fc.assert(
      fc.property(ledgerArbitrary, ({ document }) => {
        const xml = writeCamt053(document);
        if (sample.length < 8) sample.push(xml);
        const written = document.statements[0]!;
        const parsed = parseCamt(xml);
        expect(parsed.fatal).toBeUndefined();
        expect(parsed.problems).toEqual([]);
        expect(parsed.message).toMatchObject({ kind: '053', version: '001.08' });
        expect(parsed.statements).toHaveLength(1);
        const st = parsed.statements[0]!;
        expect(st.problems).toEqual([]);
        expect(st.balanceCheck?.ok).toBe(true);
        expect(st.summaryCheck?.ok).toBe(true);
        expect(st.account.otherId).toBe(account.id);
        expect(st.currency).toBe('USD');
        expect(units(st.openingBalance!.signedAmount)).toBe(units(written.balances[0]!.amount));
        expect(units(st.closingBalance!.signedAmount)).toBe(units(written.balances[1]!.amount));
        expect(st.entries).toHaveLength(written.entries.length);
        st.entries.forEach((e, i) => {
          const w = written.entries[i]!;
          expect(units(e.amount)).toBe(units(w.amount));
          expect(e.creditDebit).toBe(w.creditDebit);
          expect(e.status).toBe(w.status);
          expect(e.accountServicerReference).toBe(w.accountServicerReference);
          expect(e.batches.length).toBe(w.batch ? 1 : 0);
          if (w.batch) expect(e.batches[0]!.numberOfTransactions).toBe(w.transactions!.length);
          expect(
            e.transactions.map((t) => ({
              id: t.references.endToEndId,
              amount: units(t.amount!),
              name: t.creditor?.name,
              code: t.returnInfo?.reasonCode,
            })),
          ).toEqual(
            w.transactions!.map((t) => ({
              id: t.references!.endToEndId,
              amount: units(t.amount!),
              name: fitText(t.creditor!.name, 140),
              code: t.returnInfo?.reasonCode,
            })),
          );
        });
      }),
      { numRuns: 200 },
    );
    expectValid(sample);
  });
});

describe('camt.053 delivery over HTTP', () => {
  it('posts camt.053 to /upload_statement as XML, MT940 to /upload_mt940 as text', async () => {
    const { default: Fastify } = await import('fastify');
    const { readForm } = await import('../../src/statements/multipart.js');
    const { httpUploader } = await import('../../src/simulators/example-bank/statements.js');
    const received: Array<{ route: string; type: string | null; fileName: string | null; text: string }> = [];
    const bridge = Fastify();
    bridge.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    for (const route of ['/upload_statement', '/upload_mt940'])
      bridge.post(route, async (request) => {
        const form = readForm(request.body as Buffer, request.headers['content-type'] ?? '');
        const part = form.ok ? form.parts[0]! : null;
        received.push({
          route,
          type: part?.contentType ?? null,
          fileName: part?.filename ?? null,
          text: part?.content.toString('utf8') ?? '',
        });
        return {};
      });
    await bridge.listen({ port: 0, host: '127.0.0.1' });
    const address = bridge.server.address();
    const base = `http://127.0.0.1:${address && typeof address === 'object' ? address.port : 0}`;
    try {
      const upload = httpUploader(base, 'T');
      await upload('<Document/>', 'A-00001.camt053.xml', 'camt053');
      await upload(':20:X\r\n', 'A-00002.mt940', 'mt940');
      await upload(':20:Y\r\n', 'A-00003.mt940');
      expect(received.map((r) => [r.route, r.type?.split(';')[0], r.fileName, r.text])).toEqual([
        ['/upload_statement', 'application/xml', 'A-00001.camt053.xml', '<Document/>'],
        ['/upload_mt940', 'text/plain', 'A-00002.mt940', ':20:X\r\n'],
        ['/upload_mt940', 'text/plain', 'A-00003.mt940', ':20:Y\r\n'],
      ]);
    } finally {
      await bridge.close();
    }
  });
});

describe('the example bank writing camt.053', () => {
  let h: BankHarness;
  beforeAll(async () => {
    h = await bankHarness({
      EXAMPLE_BANK_STATEMENT_FORMAT: 'camt053',
      EXAMPLE_BANK_BATCH_BOOKING: 'true',
      EXAMPLE_BANK_REVERSAL_RATE: '0.4',
      EXAMPLE_BANK_SEED: 'camt',
      EXAMPLE_BANK_ACCOUNTS: 'FUND-C:USD:5000.00, OWN-OK:USD:0',
    });
  });
  afterAll(async () => h?.close());

  const post = (path: string, body: unknown, method = 'POST') =>
    fetch(`${h.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('books a batch as one entry with a TxDtls per payment, and returns with ISO reason codes', async () => {
    for (const [number, status] of [
      ['OWN-SHUT', 'CLOSED'],
      ['OWN-SLEEP', 'DORMANT'],
      ['OWN-RIP', 'DECEASED'],
    ] as const)
      expect(
        (await post('/admin/accounts', { account_number: number, currency: 'USD', status })).status,
      ).toBe(201);
    const block = await h.connector.blockFunds('FUND-C', 'USD', '2000.00', 'ENV-C');
    if (block.status !== 'SUCCESS') throw new Error('block failed');
    const ref = block.blockReference;
    const pay = (over: Parameters<typeof payment>[0] extends infer P ? Partial<P> : never) =>
      payment({ remittingAccount: 'FUND-C', fundsBlockedReferenceNumber: ref, ...over });
    const external = Array.from({ length: 12 }, (_, i) =>
      pay({ paymentAmount: `${10 + i}.25`, beneficiaryName: i === 0 ? 'Zoë & <Sons> "Ltd"' : `B ${i}` }),
    );
    const own = [
      pay({ beneficiaryBankCode: 'EXAMPLE', beneficiaryAccount: 'OWN-OK', paymentAmount: '100.00' }),
      pay({ beneficiaryBankCode: 'EXAMPLE', beneficiaryAccount: 'OWN-SHUT' }),
      pay({ beneficiaryBankCode: 'EXAMPLE', beneficiaryAccount: 'OWN-SLEEP' }),
      pay({ beneficiaryBankCode: 'EXAMPLE', beneficiaryAccount: 'OWN-RIP' }),
      pay({ beneficiaryBankCode: 'EXAMPLE', beneficiaryAccount: 'NOBODY' }),
      pay({ disbursementId: 'PBMS-2026-03-A-35-CHARACTER-ID-0001' }),
      // Ids the statement cannot name are left out rather than cut; free text is cleaned.
      pay({
        beneficiaryId: `BEN-${'9'.repeat(60)}`,
        beneficiaryAccount: 'ACC WITH BLANKS AND MORE THAN 34 CHARACTERS',
        beneficiaryName: 'Line\r\nbreak\u0007 and\ttab',
        disbursementNarrative: '<![CDATA[ & ]]>',
      }),
    ];
    const all = [...external, ...own];
    expect(await h.connector.initiatePayment('BATCH-C1', all)).toEqual({ status: 'SUCCESS' });
    const before = h.uploads.length;
    const result = await h.bank.processNow();
    expect(result.processed).toBe(all.length);
    const uploaded = h.uploads.slice(before);
    const statement = uploaded.find((u) => u.fileName.startsWith('FUND-C-'))!;
    expect(statement.fileName).toMatch(/^FUND-C-\d{5}\.camt053\.xml$/);
    const xml = statement.text;
    expect(xml).toContain('<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">');
    expect(xml).toContain('<Othr><Id>FUND-C</Id></Othr>');

    const ntries = xml.match(/<Ntry>[\s\S]*?<\/Ntry>/g)!;
    const debits = ntries.filter((n) => n.includes('<CdtDbtInd>DBIT</CdtDbtInd>'));
    const credits = ntries.filter((n) => !n.includes('<CdtDbtInd>DBIT</CdtDbtInd>'));
    // One batch entry carries every payment of the batch.
    expect(debits).toHaveLength(1);
    const batch = debits[0]!;
    expect(batch).toContain(`<NbOfTxs>${all.length}</NbOfTxs>`);
    const total = all.reduce((n, p) => n + BigInt(p.paymentAmount.replace('.', '')), 0n);
    const totalText = `${total / 100n}.${String(total % 100n).padStart(2, '0')}`;
    expect(batch).toContain(`<TtlAmt Ccy="USD">${totalText}</TtlAmt>`);
    expect(batch).toContain(`<Amt Ccy="USD">${totalText}</Amt>`);
    const ids = [...batch.matchAll(/<EndToEndId>([^<]*)<\/EndToEndId>/g)].map((m) => m[1]);
    expect(ids).toEqual(all.map((p) => p.disbursementId));
    expect(batch).toContain('<Nm>Zoë &amp; &lt;Sons&gt; "Ltd"</Nm>');
    expect(batch).toContain('<Nm>Line break and tab</Nm>');
    expect(batch).toContain('<Ustrd>&lt;![CDATA[ &amp; ]]&gt;</Ustrd>');
    expect(batch).not.toContain('BEN-999');
    expect(batch).not.toContain('ACC WITH BLANKS');
    // Returns: one credit each, with the ISO code the bridge maps back to the bank's reason.
    const returns = credits.filter((n) => n.includes('<RtrInf>'));
    expect(returns).toHaveLength(result.reversed);
    const returnOf = (id: string) => returns.find((n) => n.includes(`<EndToEndId>${id}</EndToEndId>`));
    expect(returnOf(own[1]!.disbursementId)).toContain('<Rsn><Cd>AC04</Cd></Rsn>');
    expect(returnOf(own[2]!.disbursementId)).toContain('<Rsn><Cd>AC06</Cd></Rsn>');
    expect(returnOf(own[3]!.disbursementId)).toContain('<Rsn><Cd>MD07</Cd></Rsn>');
    expect(returnOf(own[4]!.disbursementId)).toContain('<Rsn><Cd>AC01</Cd></Rsn>');
    expect(returnOf(own[0]!.disbursementId)).toBeUndefined();
    for (const n of returns) {
      expect(n).toContain('<SubFmlyCd>RRTN</SubFmlyCd>');
      const code = /<Rsn><Cd>(\w+)<\/Cd><\/Rsn><AddtlInf>(\w+)<\/AddtlInf>/.exec(n)!;
      expect(RETURN_REASON_CODES[code[2] as keyof typeof RETURN_REASON_CODES]).toBe(code[1]);
    }
    // What the bridge's parser reads: the balances add up, and the closing one is the account's book balance.
    const parsed = parseCamt(xml);
    expect(parsed.problems).toEqual([]);
    const st = parsed.statements[0]!;
    expect(st.problems).toEqual([]);
    expect(st.balanceCheck?.ok).toBe(true);
    expect(st.summaryCheck?.ok).toBe(true);
    expect(st.closingBalance?.amount).toBe((await h.bank.getAccount('FUND-C'))!.book_balance);
    const batchEntry = st.entries.find((e) => e.creditDebit === 'DBIT')!;
    expect(batchEntry.batches[0]).toMatchObject({ numberOfTransactions: all.length, totalAmount: totalText });
    expect(batchEntry.transactions.map((t) => t.references.endToEndId)).toEqual(
      all.map((p) => p.disbursementId),
    );
    expect(batchEntry.transactions[0]!.creditor?.name).toBe('Zoë & <Sons> "Ltd"');
    expect(
      st.entries
        .filter((e) => e.transactions[0]?.returnInfo)
        .map((e) => e.transactions[0]!.returnInfo!.reasonCode)
        .sort(),
    ).toEqual(returns.map((n) => /<Rsn><Cd>(\w+)<\/Cd>/.exec(n)![1]).sort());
    expectValid([xml]);
  });

  it('switches one account to MT940 or to an entry per payment through the admin API', async () => {
    const patched = await post('/admin/accounts/FUND-C', { batch_booking: false }, 'PATCH');
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ statement_format: null, batch_booking: false });
    const block = await h.connector.blockFunds('FUND-C', 'USD', '100.00', 'ENV-C2');
    if (block.status !== 'SUCCESS') throw new Error('block failed');
    const two = [1, 2].map(() =>
      payment({ remittingAccount: 'FUND-C', fundsBlockedReferenceNumber: block.blockReference }),
    );
    await h.connector.initiatePayment('BATCH-C2', two);
    let before = h.uploads.length;
    await h.bank.processNow();
    const single = h.uploads.slice(before).find((u) => u.fileName.startsWith('FUND-C-'))!.text;
    expect(single).not.toContain('<Btch>');
    expect(single.match(/<CdtDbtInd>DBIT<\/CdtDbtInd><Sts>/g)).toHaveLength(2);

    expect((await post('/admin/accounts/FUND-C', { statement_format: 'mt940' }, 'PATCH')).status).toBe(200);
    before = h.uploads.length;
    await h.bank.deposit('FUND-C', '1.00');
    await h.bank.deliverStatementNow('FUND-C');
    const mt = h.uploads.slice(before)[0]!;
    expect(mt.fileName).toMatch(/\.mt940$/);
    expect(mt.text).toMatch(/^:20:/);

    expect((await post('/admin/accounts/FUND-C', { statement_format: 'xml' }, 'PATCH')).status).toBe(400);
    expect((await post('/admin/accounts/NOBODY', { statement_format: 'mt940' }, 'PATCH')).status).toBe(404);
    expect((await post('/admin/accounts/FUND-C', { statement_format: null }, 'PATCH')).status).toBe(200);
  });

  it('writes only files that validate, and offers them for download as XML', async () => {
    await h.bank.deposit('FUND-C', '2.00');
    await h.bank.deposit('OWN-OK', '3.00');
    await h.bank.deliverStatementNow();
    await h.bank.deliverStatementNow('SETTLEMENT-USD');
    const { rows } = await h.db.query<{ statement_id: number; mt940: string; format: string }>(
      `SELECT statement_id, mt940, format FROM example_bank.statement ORDER BY statement_id`,
    );
    const camt = rows.filter((r) => r.format === 'camt053');
    expect(camt.length).toBeGreaterThanOrEqual(4);
    expect(rows.filter((r) => r.format === 'mt940').length).toBeGreaterThanOrEqual(1);
    expectValid(camt.map((r) => r.mt940));
    const download = await fetch(`${h.url}/statements/${camt[0]!.statement_id}`);
    expect(download.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(download.headers.get('content-disposition')).toContain('.camt053.xml');
    expect(await download.text()).toBe(camt[0]!.mt940);
  });
});
