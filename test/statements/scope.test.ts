// Review item 1 (issue 9): a bank scoped to its sponsor bank codes may reconcile statements of its own
// accounts only. The upload scan reads :25: and :25P:, and the statement stage checks every parsed statement
// again against the scope stored with the upload (account_statement.uploader_bank_codes): a statement of
// another bank's account ends as ERROR forbidden.account with nothing reconciled.
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/index.js';
import { startWorkers, type Workers } from '../../src/pipeline/index.js';
import { FakeBank, FakeMapper } from '../pipeline/fakes.js';
import {
  seedEnvelope,
  seedProgram,
  statementText,
  uploadStatement,
  workerContext,
} from '../pipeline/fixtures.js';
import { errorRecons, lifecycle, statementRow } from '../pipeline/helpers.js';
import { type TestApp, testApp } from '../support/app.js';
import { testDb } from '../support/db.js';

const CASH = '1000200030';
const OTHER = '5550001111';

/** Two statements in one MT940 file: the first of CASH's account, the second (:25P:) of OTHER's. */
function twoStatements(otherEntries: Parameters<typeof statementText>[0]): string {
  const first = statementText([], { account: CASH, reference: 'STMT-OWN', number: '1' });
  const second = statementText(otherEntries, { account: OTHER, reference: 'STMT-OTH', number: '2' }).replace(
    `:25:${OTHER}`,
    `:25P:${OTHER}`,
  );
  expect(second).toContain(`:25P:${OTHER}`);
  return `${first.replace(/\s+$/, '')}\r\n${second}`;
}

describe('the statement stage re-checks the uploader’s bank scope', () => {
  let db: Db;
  let workers: Workers;
  let open = false;
  afterEach(async () => {
    if (!open) return;
    open = false;
    await workers.stop();
    await db.close();
  });

  async function setup() {
    db = await testDb();
    open = true;
    const bank = new FakeBank();
    workers = startWorkers(workerContext(db), {
      poll: false,
      mapper: new FakeMapper(),
      connectors: { getBankConnector: () => bank },
    });
    await seedProgram(db, { mnemonic: 'CASH', account: CASH, bankCode: 'FAKE', resolution: false });
    await seedProgram(db, { mnemonic: 'OTHP', account: OTHER, bankCode: 'OTHERBANK', resolution: false });
    await seedEnvelope(db, {
      id: 'EO',
      program: 'OTHP',
      batches: [[{ id: 'o1', beneficiaryId: 'B-o1', amount: '10.00' }]],
    });
    await workers.runOnce();
  }

  const status = async () => Object.fromEntries((await lifecycle(db, 'EO')).map((r) => [r.id, r.status]));

  it('a scoped upload naming another bank’s account ends as ERROR forbidden.account, nothing reconciled', async () => {
    await setup();
    const id = await uploadStatement(db, twoStatements([{ mark: 'D', id: 'o1' }]));
    await db.query(`UPDATE account_statement SET uploader_bank_codes = $2 WHERE statement_id = $1`, [
      id,
      ['FAKE'],
    ]);
    await workers.runOnce();
    expect(await statementRow(db, id)).toMatchObject({ status: 'ERROR', code: 'forbidden.account' });
    expect(await errorRecons(db, id)).toEqual([]);
    expect(await status()).toEqual({ o1: 'shipped' });
  });

  it('an upload whose stored scope covers every account it names reconciles', async () => {
    await setup();
    const id = await uploadStatement(db, twoStatements([{ mark: 'D', id: 'o1' }]));
    await db.query(`UPDATE account_statement SET uploader_bank_codes = $2 WHERE statement_id = $1`, [
      id,
      ['FAKE', 'OTHERBANK'],
    ]);
    await workers.runOnce();
    expect(await statementRow(db, id)).toMatchObject({ status: 'PROCESSED' });
    expect(await status()).toEqual({ o1: 'reconciled' });
  });
});

describe('the upload scan reads :25P:', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('refuses a scoped bank a file whose second statement names another bank’s account in :25P:', async () => {
    t = await testApp({ BANK_CONNECTORS: 'EXAMPLE=builtin:example,OTHER=builtin:example' });
    const suffix = Date.now().toString(36).toUpperCase();
    for (const [mnemonic, bankCode] of [
      [`SC-${suffix}`, 'EXAMPLE'],
      [`SO-${suffix}`, 'OTHER'],
    ] as const)
      await t.ctx.db.query(
        `INSERT INTO benefit_program (benefit_program_mnemonic, benefit_program_name, funding_org_code,
           funding_org_name, sponsor_bank_code, sponsor_bank_account_number, sponsor_bank_account_currency)
         VALUES ($1, $1, 'GOV', 'Government', $2, $3, 'USD')`,
        [mnemonic, bankCode, bankCode === 'EXAMPLE' ? CASH : OTHER],
      );
    const token = await new SignJWT({ roles: ['bank'], bank_codes: ['EXAMPLE'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('bank-x')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('test-secret-0123456789abcdef'));
    const upload = async (text: string) => {
      const boundary = '----scope';
      const res = await t!.app.inject({
        method: 'POST',
        url: '/upload_statement',
        payload:
          `--${boundary}\r\nContent-Disposition: form-data; name="statement_file"; filename="s.sta"\r\n\r\n` +
          `${text}\r\n--${boundary}--\r\n`,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': `multipart/form-data; boundary=${boundary}`,
        },
      });
      return res;
    };
    const hostile = twoStatements([{ mark: 'D', id: 'o1' }]);
    const refused = await upload(hostile);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json()).toMatchObject({ response_error_code: 'forbidden.account', statement_id: null });
    const single = statementText([], { account: OTHER }).replace(`:25:${OTHER}`, `:25P:${OTHER}`);
    expect((await upload(single)).statusCode).toBe(403);
    // Its own account, in either tag: stored with the caller's bank codes for the statement stage.
    const own = statementText([], { account: CASH }).replace(`:25:${CASH}`, `:25P:${CASH}`);
    const ok = await upload(own);
    expect(ok.statusCode, ok.body).toBe(200);
    const { rows } = await t.ctx.db.query<{ codes: string[] | null }>(
      'SELECT uploader_bank_codes AS codes FROM account_statement WHERE statement_id = $1',
      [ok.json().statement_id],
    );
    expect(rows[0]!.codes).toEqual(['EXAMPLE']);
  });
});
