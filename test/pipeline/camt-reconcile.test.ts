// camt.053 statements reconcile by the same rules as MT940 (issue 11 §2): each hostile case as a bank could
// write it, through the statement stage with a fake bank, on a fresh database per test.
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { startWorkers, type Workers } from '../../src/pipeline/index.js';
import { testDb } from '../support/db.js';
import { type CamtNtry, camt053, debit } from './camt-xml.js';
import { connectorsOf, FakeBank, FakeMapper } from './fakes.js';
import { seedEnvelope, seedProgram, uploadStatement, workerContext } from './fixtures.js';
import { envelopeStatus, errorRecons, lifecycle, statementRow } from './helpers.js';

describe('camt.053 reconciliation', () => {
  let db: Db;
  let workers: Workers;
  let open = false;

  async function close() {
    if (!open) return;
    open = false;
    await workers.stop();
    await db.close();
  }

  /** A fresh database with program CASH (account 1000200030, USD) and workers over a fake bank. */
  async function setup(env: Record<string, string> = {}) {
    await close();
    db = await testDb();
    open = true;
    workers = startWorkers(workerContext(db, env), {
      poll: false,
      mapper: new FakeMapper(),
      connectors: connectorsOf(new FakeBank()),
    });
    await seedProgram(db, { resolution: false });
  }
  afterEach(close);

  /** Ships envelope E of the given disbursements (amount 10.00 unless said). */
  async function ship(ids: string[], amount = '10.00', envelope = 'E', program = 'CASH') {
    await seedEnvelope(db, {
      id: envelope,
      program,
      batches: [ids.map((id) => ({ id, beneficiaryId: `BEN-${id}`, amount }))],
    });
    await workers.runOnce();
  }

  async function report(xml: string, expected = 'PROCESSED') {
    const id = await uploadStatement(db, xml);
    await workers.runOnce();
    expect((await statementRow(db, id)).status).toBe(expected);
    return id;
  }

  const status = async (envelope = 'E') =>
    Object.fromEntries((await lifecycle(db, envelope)).map((r) => [r.id, r.status]));

  it('reconciles a booked debit by its EndToEndId, even one longer than MT940 carries', async () => {
    await setup();
    const long = 'DISB-2026-03-000000000000000000001'; // 34 characters
    await ship(['d1', long]);
    const st = await report(camt053([{ entries: [debit('d1'), debit(long)] }]));
    expect(await errorRecons(db, st)).toEqual([]);
    expect(await status()).toEqual({ d1: 'reconciled', [long]: 'reconciled' });
    const { rows } = await db.query(
      `SELECT disbursement_id AS id, beneficiary_name_from_bank AS name, remittance_reference_number AS ref,
              remittance_statement_number AS number, remittance_entry_sequence AS seq
         FROM disbursement_recon ORDER BY remittance_entry_sequence`,
    );
    expect(rows).toEqual([
      { id: 'd1', name: 'Name d1', ref: 'STMT-1-1', number: '1', seq: 1 },
      { id: long, name: `Name ${long}`, ref: 'STMT-1-2', number: '1', seq: 2 },
    ]);
    const { rows: fmt } = await db.query<{ format: string; reference: string; account: string }>(
      `SELECT statement_format AS format, reference_number AS reference, account_number AS account
         FROM account_statement WHERE statement_id = $1`,
      [st],
    );
    expect(fmt[0]).toEqual({ format: 'CAMT053', reference: 'STMT-1', account: '1000200030' });
  });

  it('a debit of another amount, currency or account reconciles nothing', async () => {
    await setup();
    await seedProgram(db, { mnemonic: 'OTHER', account: '5550001111', resolution: false });
    await ship(['a1', 'a2', 'a3', 'a4']);
    await ship(['o1'], '10.00', 'EO', 'OTHER');
    const st = await report(
      camt053([
        {
          entries: [
            debit('a1', '10.01'),
            debit('a2', '10.00', { currency: 'EUR' }),
            debit('o1'), // OTHER's disbursement on CASH's account
            debit('nobody'),
            debit('a4', '9.99999'),
          ],
        },
      ]),
    );
    expect(await errorRecons(db, st)).toEqual([
      { reason: 'AMOUNT_MISMATCH', id: 'a1', seq: 1 },
      { reason: 'CURRENCY_MISMATCH', id: 'a2', seq: 2 },
      { reason: 'STATEMENT_ACCOUNT_MISMATCH', id: 'o1', seq: 3 },
      { reason: 'INVALID_DISBURSEMENT_ID', id: 'nobody', seq: 4 },
      { reason: 'AMOUNT_MISMATCH', id: 'a4', seq: 5 },
    ]);
    expect(await status()).toEqual({ a1: 'shipped', a2: 'shipped', a3: 'shipped', a4: 'shipped' });
    expect(await status('EO')).toEqual({ o1: 'shipped' });
    const { rows } = await db.query<{ amount: string; currency: string }>(
      `SELECT entry_amount::text AS amount, entry_currency AS currency FROM disbursement_error_recon
        WHERE statement_id = $1 AND entry_sequence IN (2, 5) ORDER BY entry_sequence`,
      [st],
    );
    expect(rows).toEqual([
      { amount: '10.00', currency: 'EUR' },
      { amount: '9.99999', currency: 'USD' },
    ]);
    // A statement of an account no program owns is not read at all.
    const unknown = await report(camt053([{ account: '999999', entries: [debit('a3')] }]), 'ERROR');
    expect(await statementRow(db, unknown)).toMatchObject({ code: 'UNKNOWN_ACCOUNT', account: '999999' });
    expect(await status()).toMatchObject({ a3: 'shipped' });
  });

  it('pending and information-only entries never count as paid', async () => {
    await setup();
    await ship(['p1', 'p2']);
    const pending = await report(
      camt053([
        { entries: [debit('p1', '10.00', { status: 'PDNG' }), debit('p2', '10.00', { status: 'INFO' })] },
      ]),
    );
    expect(await errorRecons(db, pending)).toEqual([]);
    expect(await status()).toEqual({ p1: 'shipped', p2: 'shipped' });
    expect(await envelopeStatus(db, 'E')).toMatchObject({ number_of_disbursements_reconciled: 0 });
    // Booked later, the same payment reconciles.
    const booked = await report(camt053([{ id: 'STMT-B', entries: [debit('p1')] }]));
    expect(await errorRecons(db, booked)).toEqual([]);
    expect(await status()).toEqual({ p1: 'reconciled', p2: 'shipped' });
  });

  it('each transaction of a batch entry is checked on its own amount', async () => {
    await setup();
    await ship(['b1', 'b2', 'b3', 'b4']);
    const batch: CamtNtry = {
      mark: 'DBIT',
      amount: '40.01',
      ref: 'BATCH-1',
      txs: [
        { e2e: 'b1', amount: '10.00' },
        { e2e: 'b2', amount: '10.01' },
        { e2e: 'ghost', amount: '10.00' },
        { e2e: 'b3', amount: '10.00', currency: 'EUR' },
      ],
    };
    // A batch whose transactions carry no amount: the entry's total is not their payments' sum.
    const bare: CamtNtry = {
      mark: 'DBIT',
      amount: '20.01',
      txs: [
        { e2e: 'b4', amount: null },
        { e2e: 'b2', amount: null },
      ],
    };
    const st = await report(camt053([{ entries: [batch, bare] }]));
    expect(await errorRecons(db, st)).toEqual([
      { reason: 'AMOUNT_MISMATCH', id: 'b2', seq: 2 },
      { reason: 'INVALID_DISBURSEMENT_ID', id: 'ghost', seq: 3 },
      { reason: 'CURRENCY_MISMATCH', id: 'b3', seq: 4 },
      { reason: 'AMOUNT_MISMATCH', id: 'b4', seq: 5 },
      { reason: 'AMOUNT_MISMATCH', id: 'b2', seq: 6 },
    ]);
    expect(await status()).toEqual({ b1: 'reconciled', b2: 'shipped', b3: 'shipped', b4: 'shipped' });
    const { rows } = await db.query(`SELECT remittance_reference_number AS ref FROM disbursement_recon`);
    expect(rows).toEqual([{ ref: 'BATCH-1/1' }]);
    // One transaction alone stands for its entry: the entry's amount is its amount.
    const single = await report(
      camt053([
        { id: 'S2', entries: [{ mark: 'DBIT', amount: '10.00', txs: [{ e2e: 'b4', amount: null }] }] },
      ]),
    );
    expect(await errorRecons(db, single)).toEqual([]);
    expect((await status()).b4).toBe('reconciled');
  });

  it("a batch without amounts reconciles only when its total is exactly its payments' sum", async () => {
    await setup();
    await ship(['k1', 'k2', 'k3', 'm1', 'm2', 'g1', 'x1', 'x2'], '10.00');
    await ship(['k4'], '2.50', 'E2');
    const bare = (amount: string, ids: string[]): CamtNtry => ({
      mark: 'DBIT',
      amount,
      txs: ids.map((e2e) => ({ e2e, amount: null })),
    });
    const st = await report(
      camt053([
        {
          entries: [
            bare('32.50', ['k1', 'k2', 'k3', 'k4']), // exact: each item carries its own amount
            bare('20.01', ['m1', 'm2']), // a cent off: every item a mismatch
            bare('20.00', ['g1', 'ghost']), // an unknown id: the sum cannot be made
            bare('20.00', ['x1', 'x1']), // one payment named twice is no sum of two
          ],
        },
      ]),
    );
    expect(await errorRecons(db, st)).toEqual([
      { reason: 'AMOUNT_MISMATCH', id: 'm1', seq: 5 },
      { reason: 'AMOUNT_MISMATCH', id: 'm2', seq: 6 },
      { reason: 'AMOUNT_MISMATCH', id: 'g1', seq: 7 },
      { reason: 'INVALID_DISBURSEMENT_ID', id: 'ghost', seq: 8 },
      { reason: 'AMOUNT_MISMATCH', id: 'x1', seq: 9 },
      { reason: 'AMOUNT_MISMATCH', id: 'x1', seq: 10 },
    ]);
    expect(await status()).toMatchObject({
      k1: 'reconciled',
      k2: 'reconciled',
      k3: 'reconciled',
      m1: 'shipped',
    });
    expect((await status('E2')).k4).toBe('reconciled');
  });

  it('a return with AC04 reverses the payment as ACCOUNT_CLOSED; the table decides, unknown codes pass', async () => {
    await setup();
    await ship(['r1', 'r2', 'r3']);
    await report(camt053([{ entries: [debit('r1'), debit('r2'), debit('r3')] }]));
    const ret = (id: string, code: string): CamtNtry => ({
      mark: 'CRDT',
      amount: '10.00',
      txs: [{ e2e: id, amount: '10.00', returnCode: code }],
    });
    await db.query(
      `INSERT INTO statement_return_reason (return_code, reversal_reason) VALUES ('XT99', 'BANK_SAYS_NO')`,
    );
    const st = await report(
      camt053([{ id: 'RET', entries: [ret('r1', 'AC04'), ret('r2', 'ZZ01'), ret('r3', 'XT99')] }]),
    );
    expect(await errorRecons(db, st)).toEqual([]);
    const { rows } = await db.query(
      `SELECT disbursement_id AS id, reversal_reason AS reason, reversal_entry_sequence AS seq
         FROM disbursement_recon ORDER BY 1`,
    );
    expect(rows).toEqual([
      { id: 'r1', reason: 'ACCOUNT_CLOSED', seq: 1 },
      { id: 'r2', reason: 'ZZ01', seq: 2 },
      { id: 'r3', reason: 'BANK_SAYS_NO', seq: 3 },
    ]);
    expect(await envelopeStatus(db, 'E')).toMatchObject({
      number_of_disbursements_reconciled: 3,
      number_of_disbursements_reversed: 3,
    });
  });

  it('an RvslInd entry reverses its debit; a credit without RtrInf is a top-up; a reversal needs its debit', async () => {
    await setup();
    await ship(['v1', 'v2']);
    const st = await report(
      camt053([
        {
          entries: [
            debit('v1'),
            { mark: 'CRDT', amount: '10.00', reversal: true, txs: [{ e2e: 'v1', amount: '10.00' }] },
            { mark: 'CRDT', amount: '500.00', txs: [{ e2e: 'v2', amount: '500.00' }] },
            { mark: 'CRDT', amount: '10.00', reversal: true, txs: [{ e2e: 'v2', amount: '10.00' }] },
          ],
        },
      ]),
    );
    expect(await errorRecons(db, st)).toEqual([{ reason: 'INVALID_REVERSAL', id: 'v2', seq: 4 }]);
    expect(await status()).toEqual({ v1: 'reversed', v2: 'shipped' });
  });

  it('a statement uploaded twice, or with the same account, Stmt/Id and ElctrncSeqNb, counts once', async () => {
    await setup();
    await ship(['u1', 'u2']);
    const xml = camt053([{ id: 'DAY-1', seq: '7', entries: [debit('u1')] }]);
    const first = await report(xml);
    const copy = await report(xml);
    // Another message id, same statement: the bank re-sent it.
    const resent = await report(
      camt053([{ id: 'DAY-1', seq: '7', entries: [debit('u1'), debit('u2')] }], 'MSG-2'),
    );
    for (const id of [copy, resent]) expect((await statementRow(db, id)).duplicate_of).toBe(first);
    expect(await errorRecons(db)).toEqual([]);
    expect(await status()).toEqual({ u1: 'reconciled', u2: 'shipped' });
    // The next sequence number is a new statement.
    await report(camt053([{ id: 'DAY-1', seq: '8', entries: [debit('u2', '10.00', { ref: 'DAY-1/8-1' })] }]));
    expect(await status()).toEqual({ u1: 'reconciled', u2: 'reconciled' });
  });

  it('a file that cannot be read is kept with its error', async () => {
    await setup();
    await ship(['x1']);
    const whole = camt053([{ entries: [debit('x1')] }]);
    const cut = whole.slice(0, whole.indexOf('</Ntry>'));
    const truncated = await report(cut, 'ERROR');
    const row = await statementRow(db, truncated);
    expect(row).toMatchObject({ code: 'STATEMENT_PARSE_ERROR', text: cut });
    expect(row.message).toMatch(/line \d+/);
    const doctype = whole.replace('<Document', '<!DOCTYPE d [<!ENTITY x "y">]>\n<Document');
    expect((await statementRow(db, await report(doctype, 'ERROR'))).code).toBe('STATEMENT_PARSE_ERROR');
    const pain = '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>';
    expect((await statementRow(db, await report(pain, 'ERROR'))).code).toBe('STATEMENT_PARSE_ERROR');
    expect(await status()).toEqual({ x1: 'shipped' });
  });

  it('in chunks of 2 gives what one chunk gives, debits before reversals across statements', async () => {
    const run = async (chunk: string) => {
      await setup({ STATEMENT_CHUNK_ENTRIES: chunk });
      await ship(['c1', 'c2', 'c3', 'c4', 'c5']);
      const st = await report(
        camt053([
          {
            entries: [
              { mark: 'CRDT', amount: '10.00', txs: [{ e2e: 'c1', amount: '10.00', returnCode: 'AC01' }] },
              debit('c1'),
              { mark: 'DBIT', amount: '20.00', txs: [{ e2e: 'c2' }, { e2e: 'c3' }] },
              debit('c2'),
            ],
          },
          {
            account: '1000200030',
            entries: [debit('c4', '10.00', { status: 'PDNG' }), debit('c5'), debit('c9')],
          },
        ]),
      );
      const { rows } = await db.query(
        `SELECT disbursement_id, remittance_entry_sequence, reversal_found, reversal_reason, reversal_entry_sequence
           FROM disbursement_recon ORDER BY 1`,
      );
      return { recons: rows, errors: await errorRecons(db, st), status: await status() };
    };
    const whole = await run('2000');
    expect(whole.errors).toEqual([
      { reason: 'DUPLICATE_DISBURSEMENT', id: 'c2', seq: 5 },
      { reason: 'INVALID_DISBURSEMENT_ID', id: 'c9', seq: 8 },
    ]);
    expect(whole.status).toEqual({
      c1: 'reversed',
      c2: 'reconciled',
      c3: 'reconciled',
      c4: 'shipped',
      c5: 'reconciled',
    });
    expect(await run('2')).toEqual(whole);
    expect(await run('1')).toEqual(whole);
  });
});
