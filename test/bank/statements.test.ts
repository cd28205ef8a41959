// The example bank's statements: reversals as RD entries, the layout the example connector reads back,
// own-customer credits and returns, delivery (in process and over HTTP), download, and retry after failure.
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerReferenceFor,
  narrativeText,
  paymentNarratives,
  REVERSAL_REASONS,
} from '../../src/bank/example/layout.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { parseMt940 } from '../../src/mt940/index.js';
import { decideOutcome } from '../../src/simulators/example-bank/processor.js';
import { httpUploader } from '../../src/simulators/example-bank/statements.js';
import { readForm } from '../../src/statements/multipart.js';
import { type BankHarness, bankHarness, payment } from './harness.js';

describe('statement layout', () => {
  it('keeps a reference on :61: only when it fits 16x safely', () => {
    expect(customerReferenceFor('D0000000000000AB')).toBe('D0000000000000AB');
    expect(customerReferenceFor('D0000000000000ABC')).toBe('NONREF');
    expect(customerReferenceFor('A/B')).toBe('NONREF');
    expect(customerReferenceFor('A_B')).toBe('NONREF');
    expect(customerReferenceFor('NONREF')).toBe('NONREF');
  });

  it('makes any text a safe narrative line without shifting positions', () => {
    expect(narrativeText('José Álvarez Núñez')).toBe('Jose Alvarez Nunez');
    expect(narrativeText(':61:not a tag')).toBe('.:61:not a tag');
    expect(narrativeText('-')).toBe('.-');
    expect(narrativeText('{1:block')).toBe('.{1:block');
    expect(narrativeText('  ')).toBe('NOTPROVIDED');
    expect(narrativeText('line\r\nbreak\tand 漢字')).toBe('line break and ??');
    expect(narrativeText('x'.repeat(80))).toHaveLength(65);
    const lines = paymentNarratives({
      reference: 'R'.repeat(35),
      narrative: 'n',
      program: 'p',
      cycle: 'c',
      beneficiaryId: 'b',
      beneficiaryName: 'name',
      reversalReason: 'ACCOUNT_DECEASED',
    });
    expect(lines).toHaveLength(6);
    expect(Math.max(...lines.map((l) => l.length))).toBeLessThanOrEqual(65);
  });
});

describe('reversal draws', () => {
  const candidate = (ref: string) => ({
    payment_id: 1,
    payment_reference: ref,
    account_number: 'FUND',
    beneficiary_bank_code: 'OTHER',
    beneficiary_account_type: 'BANK_ACCOUNT',
    beneficiary_account: 'X',
    currency: 'USD',
    internal_account: null,
    internal_currency: null,
    internal_status: null,
  });
  const options = { bankCode: 'EXAMPLE', reversalRate: 0.3, seed: 's1' };

  it('are reproducible from the seed and the reference, and near the configured rate', () => {
    const refs = Array.from({ length: 2000 }, (_, i) => `R${i}`);
    const first = refs.map((r) => decideOutcome(candidate(r), options));
    expect(refs.map((r) => decideOutcome(candidate(r), options))).toEqual(first);
    const reversed = first.filter((o) => o.status === 'REVERSED');
    expect(reversed.length / refs.length).toBeGreaterThan(0.26);
    expect(reversed.length / refs.length).toBeLessThan(0.34);
    expect(new Set(reversed.map((o) => o.reason))).toEqual(new Set(REVERSAL_REASONS));
    const other = refs.map((r) => decideOutcome(candidate(r), { ...options, seed: 's2' }));
    expect(other).not.toEqual(first);
    expect(
      refs.every((r) => decideOutcome(candidate(r), { ...options, reversalRate: 0 }).status === 'PAID_OUT'),
    ).toBe(true);
    expect(
      refs.every((r) => decideOutcome(candidate(r), { ...options, reversalRate: 1 }).status === 'REVERSED'),
    ).toBe(true);
  });
});

describe('statements of the example bank', () => {
  let h: BankHarness;
  beforeAll(async () => {
    h = await bankHarness({
      EXAMPLE_BANK_REVERSAL_RATE: '0.5',
      EXAMPLE_BANK_SEED: 'statements',
      EXAMPLE_BANK_ACCOUNTS: 'FUND-S:USD:5000.00, OWN-ACTIVE:USD:0, OWN-CLOSED:USD:0',
    });
  });
  afterAll(async () => h?.close());

  it('opens the configured accounts at start', async () => {
    expect((await h.bank.getAccount('FUND-S'))?.book_balance).toBe('5000.00');
    expect((await h.bank.getAccount('OWN-ACTIVE'))?.statements_enabled).toBe(true);
  });

  it('reports debits and reversals so that the connector reads every payment back', async () => {
    const closed = await fetch(`${h.url}/admin/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ account_number: 'OWN-GONE', currency: 'USD', status: 'CLOSED' }),
    });
    expect(closed.status).toBe(201);
    const block = await h.connector.blockFunds('FUND-S', 'USD', '1000.00', 'ENV-S');
    if (block.status !== 'SUCCESS') throw new Error('block failed');
    const ref = block.blockReference;
    const external = Array.from({ length: 20 }, () =>
      payment({ remittingAccount: 'FUND-S', fundsBlockedReferenceNumber: ref, paymentAmount: '12.34' }),
    );
    const long = payment({
      remittingAccount: 'FUND-S',
      fundsBlockedReferenceNumber: ref,
      disbursementId: 'PBMS-2026-03-LONG-ID-000001',
      beneficiaryName: 'José Álvarez',
    });
    const own = payment({
      remittingAccount: 'FUND-S',
      fundsBlockedReferenceNumber: ref,
      beneficiaryBankCode: 'EXAMPLE',
      beneficiaryAccount: 'OWN-ACTIVE',
      paymentAmount: '100.00',
    });
    const ownClosed = payment({
      remittingAccount: 'FUND-S',
      fundsBlockedReferenceNumber: ref,
      beneficiaryBankCode: 'EXAMPLE',
      beneficiaryAccount: 'OWN-GONE',
    });
    const ownMissing = payment({
      remittingAccount: 'FUND-S',
      fundsBlockedReferenceNumber: ref,
      beneficiaryBankCode: 'EXAMPLE',
      beneficiaryAccount: 'NOBODY',
    });
    const all = [...external, long, own, ownClosed, ownMissing];
    expect(await h.connector.initiatePayment('BATCH-S', all)).toEqual({ status: 'SUCCESS' });
    const uploadsBefore = h.uploads.length;
    const result = await h.bank.processNow();
    expect(result).toMatchObject({ processed: all.length, credited: 1, batchesCompleted: 1 });
    expect(result.statements?.delivered).toBeGreaterThan(0);

    const uploaded = h.uploads.slice(uploadsBefore);
    const fundingStatement = uploaded.find((u) => u.fileName.startsWith('FUND-S-'))!;
    const parsed = parseMt940(fundingStatement.text);
    expect(parsed.problems).toEqual([]);
    const st = parsed.statements[0]!;
    expect(st.accountIdentification).toBe('FUND-S');
    expect(st.balanceCheck?.ok).toBe(true);
    expect(st.closingBalance?.amount).toBe((await h.bank.getAccount('FUND-S'))!.book_balance);

    const c = h.connector;
    const debits = st.entries.filter((e) => e.mark === 'D');
    const reversals = st.entries.filter((e) => e.mark === 'RD');
    expect(debits).toHaveLength(all.length);
    expect(
      new Set(
        debits.map((e) =>
          c.retrieveDisbursementId(e.bankReference ?? null, e.customerReference, e.narratives),
        ),
      ),
    ).toEqual(new Set(all.map((p) => p.disbursementId)));
    expect(debits.every((e) => c.retrieveReversalReason(e.narratives) === null)).toBe(true);
    // Reversals: the two own customers who cannot receive money, and a seeded share of the rest.
    expect(reversals.length).toBe(result.reversed);
    expect(result.reversed).toBeGreaterThan(2);
    const reasonOf = new Map(
      reversals.map((e) => [
        c.retrieveDisbursementId(e.bankReference ?? null, e.customerReference, e.narratives),
        c.retrieveReversalReason(e.narratives),
      ]),
    );
    expect(reasonOf.get(ownClosed.disbursementId)).toBe('ACCOUNT_CLOSED');
    expect(reasonOf.get(ownMissing.disbursementId)).toBe('ACCOUNT_NOT_FOUND');
    expect(reasonOf.has(own.disbursementId)).toBe(false);
    for (const reason of reasonOf.values()) expect(REVERSAL_REASONS).toContain(reason);
    // The long id travels as NONREF plus the narrative; the name as the bank can write it.
    const longEntry = debits.find((e) => e.customerReference === 'NONREF')!;
    expect(c.retrieveDisbursementId(longEntry.bankReference ?? null, 'NONREF', longEntry.narratives)).toBe(
      long.disbursementId,
    );
    expect(c.retrieveBeneficiaryName(longEntry.narratives)).toBe('Jose Alvarez');
    // Bank references are unique per entry.
    expect(new Set(st.entries.map((e) => e.bankReference)).size).toBe(st.entries.length);

    // The own customer got the money, on its own statement.
    expect((await h.bank.getAccount('OWN-ACTIVE'))!.book_balance).toBe('100.00');
    const ownStatement = uploaded.find((u) => u.fileName.startsWith('OWN-ACTIVE-'));
    expect(ownStatement).toBeUndefined(); // delivered only for the accounts the round debited
    const onDemand = await h.bank.deliverStatementNow('OWN-ACTIVE');
    expect(onDemand.generated).toHaveLength(1);
    const credit = parseMt940(h.uploads.at(-1)!.text).statements[0]!.entries.find((e) => e.mark === 'C')!;
    expect(c.retrieveDisbursementId(null, credit.customerReference, credit.narratives)).toBe(
      own.disbursementId,
    );

    // Offered for download, byte for byte.
    const list = (await fetch(`${h.url}/statements?account_number=FUND-S`).then((r) => r.json())) as {
      statements: Array<{ statement_id: number }>;
    };
    const id = list.statements[0]!.statement_id;
    const download = await fetch(`${h.url}/statements/${id}`);
    expect(download.headers.get('content-disposition')).toContain('.mt940');
    expect(await download.text()).toBe(fundingStatement.text);
    expect((await fetch(`${h.url}/statements/999999`)).status).toBe(404);
  });

  it('chains statements and retries a failed delivery in order', async () => {
    await h.bank.deposit('FUND-S', '1.00');
    await h.bank.deposit('FUND-S', '2.00');
    h.bank.faults.failNext('deliver_statement', 1);
    const before = h.uploads.length;
    const failed = await h.bank.deliverStatementNow('FUND-S');
    expect(failed).toMatchObject({ delivered: 0, failed: 1, pending: 1 });
    expect(h.uploads.length).toBe(before);
    await h.bank.deposit('FUND-S', '3.00');
    const retried = await h.bank.deliverStatementNow('FUND-S');
    expect(retried).toMatchObject({ delivered: 2, failed: 0 });
    const [first, second] = h.uploads.slice(before).map((u) => parseMt940(u.text).statements[0]!);
    expect(Number(second!.statementNumber)).toBe(Number(first!.statementNumber) + 1);
    expect(second!.openingBalance).toMatchObject({ amount: first!.closingBalance!.amount });
    const { rows } = await h.db.query<{ delivery_attempts: number; delivery_error: string | null }>(
      `SELECT delivery_attempts, delivery_error FROM example_bank.statement WHERE statement_number = $1
       AND account_number = 'FUND-S'`,
      [Number(first!.statementNumber)],
    );
    expect(rows[0]).toEqual({ delivery_attempts: 2, delivery_error: null });
  });

  it('answers the admin endpoints', async () => {
    const accounts = (await fetch(`${h.url}/admin/accounts`).then((r) => r.json())) as {
      accounts: Array<{ account_number: string }>;
    };
    expect(accounts.accounts.map((a) => a.account_number)).toContain('FUND-S');
    const one = (await fetch(`${h.url}/admin/accounts/FUND-S`).then((r) => r.json())) as {
      blocks: unknown[];
    };
    expect(one.blocks[0]).toMatchObject({ idempotency_key: 'ENV-S', amount: '1000.00' });
    const dep = await fetch(`${h.url}/admin/accounts/FUND-S/deposit`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ amount: '0.001' }),
    });
    expect(dep.status).toBe(400);
    expect(await dep.json()).toMatchObject({ error_code: 'INVALID_AMOUNT' });
    const processed = await fetch(`${h.url}/admin/process`, { method: 'POST' }).then((r) => r.json());
    expect(processed).toMatchObject({ processed: 0 });
    const dup = await fetch(`${h.url}/admin/accounts`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ account_number: 'FUND-S', currency: 'USD' }),
    });
    expect(dup.status).toBe(409);
    const bad = await fetch(`${h.url}/check_funds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"account_number": ',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ status: 'FAILURE', error_code: 'INVALID_REQUEST' });
  });
});

describe('HTTP delivery', () => {
  it('posts the statement as multipart field statement_file with the bearer token', async () => {
    const received: Array<{ field: string; fileName: string; text: string; auth?: string }> = [];
    const bridge = Fastify();
    // the bridge's own multipart reader: what the simulator sends is what upload_mt940 reads
    bridge.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );
    bridge.post('/upload_mt940', async (request, reply) => {
      const form = readForm(request.body as Buffer, request.headers['content-type'] ?? '');
      const file = form.ok ? form.parts[0] : undefined;
      if (!file || file.filename === null) return reply.code(400).send({});
      received.push({
        field: file.name,
        fileName: file.filename,
        text: file.content.toString('utf8'),
        auth: request.headers.authorization,
      });
      return { message: { statement_id: 'S1' } };
    });
    bridge.post('/refusing/upload_mt940', async (_request, reply) =>
      reply.code(403).send({ error: 'forbidden' }),
    );
    await bridge.listen({ port: 0, host: '127.0.0.1' });
    const address = bridge.server.address();
    const base = `http://127.0.0.1:${address && typeof address === 'object' ? address.port : 0}`;
    try {
      await httpUploader(base, 'TOKEN-1')(':20:X\r\n', 'ACC-00001.mt940');
      expect(received).toEqual([
        { field: 'statement_file', fileName: 'ACC-00001.mt940', text: ':20:X\r\n', auth: 'Bearer TOKEN-1' },
      ]);
      await expect(httpUploader(`${base}/refusing`, undefined)('x', 'f.mt940')).rejects.toThrow(/HTTP 403/);
    } finally {
      await bridge.close();
    }
  });

  it('is what a bank without an in-process uploader uses (EXAMPLE_BANK_BRIDGE_URL)', async () => {
    const { createExampleBank } = await import('../../src/simulators/example-bank/index.js');
    const { testDb } = await import('../support/db.js');
    const db = await testDb();
    try {
      const bank = await createExampleBank({
        db,
        log: createLogger('silent'),
        config: loadConfig({
          EXAMPLE_BANK_BRIDGE_URL: 'http://127.0.0.1:9/',
          EXAMPLE_BANK_ACCOUNTS: 'F1:EUR:10.00',
        }),
      });
      expect(bank.settings.bridgeUrl).toBe('http://127.0.0.1:9');
      const r = await bank.deliverStatementNow();
      expect(r).toMatchObject({ generated: [{ accountNumber: 'F1', entries: 1 }], delivered: 0, failed: 1 });
      await bank.stop();
    } finally {
      await db.close();
    }
  });

  it('processes and delivers on its own timers once started, and stops cleanly', async () => {
    const { createExampleBank } = await import('../../src/simulators/example-bank/index.js');
    const { blockFunds, initiatePayment } = await import('../../src/simulators/example-bank/operations.js');
    const { testDb } = await import('../support/db.js');
    const db = await testDb();
    const delivered: string[] = [];
    try {
      const bank = await createExampleBank({
        db,
        log: createLogger('silent'),
        config: loadConfig({
          EXAMPLE_BANK_PROCESS_INTERVAL_MS: '50',
          EXAMPLE_BANK_ACCOUNTS: 'T1:KES:100.00',
        }),
        uploadStatement: async (_text, fileName) => {
          delivered.push(fileName);
        },
      });
      const block = await blockFunds(db, {
        accountNumber: 'T1',
        currency: 'KES',
        amount: '10.00',
        idempotencyKey: 'E',
      });
      if (!block.ok) throw new Error(block.message);
      const p = {
        disbursement_id: 'TIMER-1',
        remitting_account: 'T1',
        remitting_account_currency: 'KES',
        payment_amount: '10.00',
        funds_blocked_reference_number: block.blockReference,
        beneficiary_id: 'B',
        beneficiary_name: 'N',
        beneficiary_account_type: 'MOBILE_WALLET',
        beneficiary_phone_no: '+254700000000',
        beneficiary_mobile_wallet_provider: 'MPESA',
        disbursement_narrative: 'n',
        benefit_program_mnemonic: 'p',
        cycle_code_mnemonic: 'c',
      };
      expect((await initiatePayment(db, 'TIMER-BATCH', [p])).ok).toBe(true);
      bank.start();
      const deadline = Date.now() + 10_000;
      while (delivered.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      await bank.stop();
      expect(delivered).toEqual(['T1-00001.mt940']);
      const { rows } = await db.query<{ status: string }>(
        `SELECT status FROM example_bank.payment WHERE payment_reference = 'TIMER-1'`,
      );
      expect(['PAID_OUT', 'REVERSED']).toContain(rows[0]!.status);
    } finally {
      await db.close();
    }
  });
});
