// Guards of the MT940 balance check (issue 13): opening balance plus entries must equal the closing balance
// exactly, in both directions. A check that passes when the computed balance is above the closing one
// (`computed >= closing`) was noticed only by the columnar parser's differential test; here each reader is
// asked directly, and the statement stage must refuse such a file before it reconciles anything.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { materialiseColumns, parseMt940, parseMt940Columns } from '../../src/mt940/index.js';
import { startWorkers, type Workers } from '../../src/pipeline/index.js';
import { connectorsOf, FakeBank, FakeMapper } from '../pipeline/fakes.js';
import {
  disbursements,
  resetBridge,
  seedEnvelope,
  seedProgram,
  statementText,
  uploadStatement,
  workerContext,
} from '../pipeline/fixtures.js';
import { envelopeStatus, errorRecons, lifecycle, statementRow } from '../pipeline/helpers.js';
import { testDb } from '../support/db.js';

/** Opening 100,00 C; a debit of 30,00 and a credit of 5,25: the closing balance must be C 75,25. */
const statement = (closing: string) =>
  [
    ':20:GUARD1',
    ':25:1000200030',
    ':28C:1/1',
    ':60F:C260301USD100,00',
    ':61:2603020302D30,00NTRFD1//B1',
    ':86:Benefit',
    ':61:2603020302C5,25NTRFTOPUP//B2',
    ':62F:' + closing,
    '-',
  ].join('\n');

const readers = {
  parseMt940: (text: string) => parseMt940(text),
  parseMt940Columns: (text: string) => materialiseColumns(parseMt940Columns(text)),
};

describe.each(Object.entries(readers))('%s balance check', (_name, read) => {
  const check = (closing: string) => {
    const s = read(statement(closing)).statements[0]!;
    const errors = s.problems.filter((p) => p.severity === 'error').map((p) => p.message);
    return { check: s.balanceCheck, errors };
  };

  it('passes when opening plus entries is exactly the closing balance', () => {
    expect(check('C260302USD75,25')).toEqual({
      check: { ok: true, expectedClosing: '75.25', computedClosing: '75.25' },
      errors: [],
    });
  });

  it.each([
    ['one cent below the computed balance', 'C260302USD75,24', '75.24'],
    ['far below it', 'C260302USD0,01', '0.01'],
    ['on the other side of zero', 'D260302USD75,25', '-75.25'],
  ])('fails when the closing balance is %s (computed above closing)', (_why, closing, expected) => {
    const { check: c, errors } = check(closing);
    expect(c).toEqual({ ok: false, expectedClosing: expected, computedClosing: '75.25' });
    expect(errors).toEqual([
      `balance check failed: opening balance plus entries is 75.25, closing balance is ${expected}`,
    ]);
  });

  it.each([
    ['one cent above the computed balance', 'C260302USD75,26', '75.26'],
    ['far above it', 'C260302USD1000075,25', '1000075.25'],
  ])('fails when the closing balance is %s (computed below closing)', (_why, closing, expected) => {
    const { check: c, errors } = check(closing);
    expect(c).toEqual({ ok: false, expectedClosing: expected, computedClosing: '75.25' });
    expect(errors).toHaveLength(1);
  });
});

describe('the statement stage and the balance check', () => {
  let db: Db;
  let workers: Workers;

  beforeAll(async () => {
    db = await testDb();
  });
  beforeEach(async () => {
    await resetBridge(db);
    workers = startWorkers(workerContext(db), {
      poll: false,
      mapper: new FakeMapper(),
      connectors: connectorsOf(new FakeBank()),
    });
  });
  afterEach(async () => {
    await workers.stop();
  });
  afterAll(async () => {
    await db.close();
  });

  /** The bank's statement debiting every payment of E, with its closing balance moved by `shift` cents. */
  async function upload(shiftCents: number, reference: string) {
    const text = statementText(
      [
        { mark: 'D', id: 'g1', amount: '10.00' },
        { mark: 'D', id: 'g2', amount: '10.00' },
      ],
      { reference, number: reference.slice(1) },
    );
    // opening C 100000.00 less 20.00 of debits
    const closing = ((10_000_000 - 2_000 + shiftCents) / 100).toFixed(2).replace('.', ',');
    const shifted = text.replace(/(:62F:C\d{6}USD)99980,00/, `$1${closing}`);
    expect(shifted === text).toBe(shiftCents === 0);
    const id = await uploadStatement(db, shifted);
    await workers.runOnce();
    return id;
  }

  it('refuses a statement whose entries add up to more than its closing balance, and reconciles nothing', async () => {
    await seedProgram(db, { resolution: false });
    await seedEnvelope(db, { id: 'E', batches: [disbursements('g', 2, '10.00')] });
    await workers.runOnce();
    expect((await lifecycle(db, 'E')).map((r) => r.status)).toEqual(['shipped', 'shipped']);

    for (const [shift, reference] of [
      [-1, 'S1'],
      [1, 'S2'],
    ] as const) {
      const id = await upload(shift, reference);
      const row = await statementRow(db, id);
      expect(row.status, reference).toBe('ERROR');
      expect(row.message, reference).toMatch(/balance check failed/);
      expect(await errorRecons(db, id)).toEqual([]);
      expect((await envelopeStatus(db, 'E')).number_of_disbursements_reconciled).toBe(0);
    }

    // The same debits with the right closing balance reconcile.
    const good = await upload(0, 'S3');
    expect((await statementRow(db, good)).status).toBe('PROCESSED');
    expect((await lifecycle(db, 'E')).map((r) => r.status)).toEqual(['reconciled', 'reconciled']);
  });
});
