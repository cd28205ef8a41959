// The host-to-host connector over a real SFTP connection on loopback (S2's folder-backed server): a whole
// cycle through the stages, a re-sent batch (already sent, one file), DU01, partial rejects by pain.002, a
// pain.002 for an unknown message, an interrupted upload, and a wrong host key.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BankConnector } from '../../src/bank/connector.js';
import { messageIdOf } from '../../src/bank/iso20022/pain001.js';
import { createSftpConnectorFromSettings, sftpConnectorSettings } from '../../src/bank/sftp/connector.js';
import type { Db } from '../../src/db/index.js';
import { buildPayments, startWorkers, type Workers } from '../../src/pipeline/index.js';
import {
  generateSshKeyPair,
  loadOrCreateHostKey,
  publicKeyLine,
  type RunningSftpServer,
  startSftpServer,
} from '../../src/sftp/server.js';
import { connectorsOf, FakeMapper } from '../pipeline/fakes.js';
import {
  disbursements,
  resetBridge,
  seedEnvelope,
  seedProgram,
  workerContext,
} from '../pipeline/fixtures.js';
import { envelopeStatus, lifecycle, statusCounts } from '../pipeline/helpers.js';
import { testDb } from '../support/db.js';
import { pain002 } from './pain-fixtures.js';

describe('iso20022-sftp connector over loopback SFTP', () => {
  let db: Db;
  let server: RunningSftpServer;
  let root: string;
  let keyFile: string;
  let workers: Workers | undefined;
  let drop = 0;
  const env = (extra: Record<string, string> = {}) => ({
    SFTP_FAKE_HOST: server.host,
    SFTP_FAKE_PORT: String(server.port),
    SFTP_FAKE_USER: 'bridge',
    SFTP_FAKE_PRIVATE_KEY_FILE: keyFile,
    SFTP_FAKE_HOST_KEY: server.hostPublicKey,
    SFTP_FAKE_OUTBOUND: '/to-bank',
    SFTP_FAKE_INBOUND: '/from-bank',
    SFTP_FAKE_FUNDS: 'prefunded',
    SFTP_FAKE_DEBTOR_NAME: 'Ministry',
    SFTP_FAKE_TIMEOUT_MS: '10000',
    ...extra,
  });
  // The bridge's clock: each pain.001 is stamped with it (CreDtTm), never with the machine's.
  const clock = new Date('2026-03-02T10:15:30.000Z');
  const connector = (extra: Record<string, string> = {}) =>
    createSftpConnectorFromSettings(sftpConnectorSettings('FAKE', env(extra)), () => clock);
  const outbound = () => readdirSync(join(root, 'to-bank')).filter((n) => !n.startsWith('.'));
  const inbound = () => readdirSync(join(root, 'from-bank'));
  const run = async (c: BankConnector) => {
    workers = startWorkers(workerContext(db), { poll: false, mapper, connectors: connectorsOf(c) });
    await workers.runOnce();
  };
  let mapper: FakeMapper;

  beforeAll(async () => {
    db = await testDb();
    root = mkdtempSync(join(tmpdir(), 'sftp-bank-'));
    mkdirSync(join(root, 'to-bank'));
    mkdirSync(join(root, 'from-bank'));
    const client = generateSshKeyPair();
    keyFile = join(root, '..', `${root.split('/').pop()}-id`);
    writeFileSync(keyFile, client.private, { mode: 0o600 });
    server = await startSftpServer({
      hostKey: loadOrCreateHostKey(),
      users: [{ username: 'bridge', authorizedKeys: [publicKeyLine(client.public)], root }],
      beforeWrite: () => (drop-- > 0 ? 'drop' : 'continue'),
    });
  });
  beforeEach(async () => {
    await resetBridge(db);
    mapper = new FakeMapper();
    for (const n of readdirSync(join(root, 'to-bank'), { withFileTypes: true }))
      if (n.isFile()) unlinkSync(join(root, 'to-bank', n.name));
  });
  afterEach(async () => {
    await workers?.stop();
    workers = undefined;
  });
  afterAll(async () => {
    await server.close();
    await db.close();
  });

  it('a whole cycle: one pain.001, re-sent batch is already sent, pain.002 partial rejects, DU01, unknown', async () => {
    await seedProgram(db);
    await seedEnvelope(db, { id: 'E1', batches: [disbursements('a', 3, '12.50')] });
    for (const id of ['a1', 'a2', 'a3']) mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    const c = connector();
    await run(c);
    expect(await statusCounts(db, 'E1')).toEqual({ shipped: 3 });
    const files = outbound();
    expect(files).toHaveLength(1);
    const xml = readFileSync(join(root, 'to-bank', files[0]!), 'utf8');
    expect(xml).toContain('<CtrlSum>37.50</CtrlSum>');
    expect(xml).toContain('<CreDtTm>2026-03-02T10:15:30</CreDtTm>');
    const { rows } = await db.query<{ id: string }>(
      'SELECT bank_disbursement_batch_id AS id FROM bank_disbursement_batch_status',
    );
    const batchId = rows[0]!.id;
    const msgId = messageIdOf(batchId)!;
    expect(files[0]).toBe(`${msgId}.xml`);

    // A retried batch (a crash after the upload): same file name and MsgId, nothing uploaded twice.
    const built = await buildPayments({ db }, batchId, '2025-01-01');
    expect(await c.initiatePayment(batchId, built!.payments)).toEqual({ status: 'SUCCESS' });
    expect(outbound()).toHaveLength(1);

    // The bank answers: a2 rejected; a DU01 for a duplicate file; a report for a message nobody sent.
    writeFileSync(
      join(root, 'from-bank', 'sts-1.xml'),
      pain002(msgId, { status: 'PART' }, [
        ['a1', 'ACSC'],
        ['a2', 'RJCT', 'AC04'],
      ]),
    );
    writeFileSync(join(root, 'from-bank', 'sts-2.xml'), pain002(msgId, { status: 'RJCT', reason: 'DU01' }));
    writeFileSync(
      join(root, 'from-bank', 'sts-3.xml'),
      pain002('NOBODYSENTTHIS', { status: 'RJCT', reason: 'AC04' }),
    );
    await workers!.runOnce();
    expect(inbound()).toEqual([]);
    expect(await lifecycle(db, 'E1')).toEqual([
      { id: 'a1', status: 'shipped', reason: null },
      { id: 'a2', status: 'refused', reason: 'AC04' },
      { id: 'a3', status: 'shipped', reason: null },
    ]);
    expect((await envelopeStatus(db, 'E1')).number_of_disbursements_shipped).toBe(2);
    const { rows: inFiles } = await db.query<{
      file_name: string;
      outcome: string | null;
      code: string | null;
    }>(
      `SELECT file_name, outcome, file_process_error_code AS code FROM bank_inbound_file ORDER BY file_name`,
    );
    expect(inFiles).toEqual([
      { file_name: 'sts-1.xml', outcome: 'APPLIED', code: null },
      { file_name: 'sts-2.xml', outcome: 'DUPLICATE', code: null },
      { file_name: 'sts-3.xml', outcome: null, code: 'PAIN002_UNKNOWN_MESSAGE' },
    ]);

    // The same report again (the bank re-sends it): stored again under its name, changes nothing.
    writeFileSync(
      join(root, 'from-bank', 'sts-1b.xml'),
      pain002(msgId, { status: 'PART' }, [['a2', 'RJCT', 'AC04']]),
    );
    await workers!.runOnce();
    expect((await envelopeStatus(db, 'E1')).number_of_disbursements_shipped).toBe(2);
  });

  it('an upload cut mid-file fails; the retry delivers exactly one file', async () => {
    await seedProgram(db);
    await seedEnvelope(db, { id: 'E2', batches: [disbursements('b', 2)] });
    for (const id of ['b1', 'b2']) mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    drop = 1;
    const c = connector();
    await run(c);
    expect(await statusCounts(db, 'E2')).toEqual({ received: 2 });
    expect(outbound()).toEqual([]);
    await db.query(
      `UPDATE bank_disbursement_batch_status SET next_attempt_at = now(), lease_owner = NULL, lease_expires_at = NULL`,
    );
    await workers!.runOnce();
    expect(await statusCounts(db, 'E2')).toEqual({ shipped: 2 });
    expect(outbound()).toHaveLength(1);
  });

  it("checks a statement from the channel like an upload: only accounts of this bank's programs", async () => {
    await seedProgram(db); // CASH, account 1000200030 at FAKE
    await seedProgram(db, { mnemonic: 'OTHER', account: '9990001111', bankCode: 'ELSEWHERE' });
    const mt940 = (account: string) =>
      [':20:STMT1', `:25:${account}`, ':28C:1/1', ':60F:C250101USD100,00', ':62F:C250101USD100,00', '-'].join(
        '\r\n',
      );
    writeFileSync(join(root, 'from-bank', 'own.sta'), `{4:\r\n${mt940('1000200030')}}`);
    writeFileSync(join(root, 'from-bank', 'foreign.sta'), `{4:\r\n${mt940('9990001111')}}`);
    writeFileSync(join(root, 'from-bank', 'nobody.sta'), `{4:\r\n${mt940('5550001234')}}`);
    await run(connector());
    const { rows } = await db.query<{ file_name: string; outcome: string | null; code: string | null }>(
      `SELECT file_name, outcome, file_process_error_code AS code FROM bank_inbound_file
        WHERE file_name LIKE '%.sta' ORDER BY file_name`,
    );
    expect(rows).toEqual([
      { file_name: 'foreign.sta', outcome: null, code: 'forbidden.account' },
      { file_name: 'nobody.sta', outcome: null, code: 'forbidden.account' },
      { file_name: 'own.sta', outcome: 'STATEMENT', code: null },
    ]);
    const stored = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM account_statement WHERE uploaded_by = 'bank-files'",
    );
    expect(stored.rows[0]!.n).toBe(1);
    // The bank's scope goes with the statement: the statement stage checks every parsed statement against it.
    const scope = await db.query<{ codes: string[] | null }>(
      "SELECT uploader_bank_codes AS codes FROM account_statement WHERE uploaded_by = 'bank-files'",
    );
    expect(scope.rows[0]!.codes).toEqual(['FAKE']);
  });

  it('reads a pain.002 whatever its namespace quoting or prefix', async () => {
    await seedProgram(db);
    await seedEnvelope(db, { id: 'E3', batches: [disbursements('c', 2, '5.00')] });
    for (const id of ['c1', 'c2']) mapper.known.set(`BEN-${id}`, `ACC-${id}`);
    await run(connector());
    const { rows } = await db.query<{ id: string }>(
      'SELECT bank_disbursement_batch_id AS id FROM bank_disbursement_batch_status',
    );
    const msgId = messageIdOf(rows[0]!.id)!;
    const xml = pain002(msgId, { status: 'PART' }, [['c1', 'RJCT', 'AC04']]);
    const ns = /xmlns="([^"]+)"/.exec(xml)![1]!;
    // single quotes and a prefixed default-less document: every element carries the p: prefix
    const prefixed = xml
      .replace(`xmlns="${ns}"`, `xmlns:p='${ns}'`)
      .replace(/<(\/?)(?!\?)([A-Za-z])/g, '<$1p:$2');
    writeFileSync(join(root, 'from-bank', 'sts-prefixed.xml'), prefixed);
    await workers!.runOnce();
    const { rows: files } = await db.query<{ kind: string; outcome: string | null; code: string | null }>(
      `SELECT file_kind AS kind, outcome, file_process_error_code AS code FROM bank_inbound_file
        WHERE file_name = 'sts-prefixed.xml'`,
    );
    expect(files).toEqual([{ kind: 'PAIN002', outcome: 'APPLIED', code: null }]);
    expect(await lifecycle(db, 'E3')).toEqual([
      { id: 'c1', status: 'refused', reason: 'AC04' },
      { id: 'c2', status: 'shipped', reason: null },
    ]);
  });

  it('keeps a file over MAX_INBOUND_BYTES at the bank and records FILE_TOO_LARGE', async () => {
    await seedProgram(db);
    writeFileSync(join(root, 'from-bank', 'huge.xml'), `<Document>${'x'.repeat(200)}</Document>`);
    writeFileSync(join(root, 'from-bank', 'small.txt'), 'hello'); // read and acknowledged (not a statement)
    const c = connector({ SFTP_FAKE_MAX_INBOUND_BYTES: '100' });
    await run(c);
    await workers!.runOnce(); // a second poll lists it again: still one row, still at the bank
    expect(inbound()).toEqual(['huge.xml']);
    const { rows } = await db.query<{
      file_name: string;
      status: string;
      code: string | null;
      content: string;
      size_bytes: number;
    }>(
      `SELECT file_name, file_process_status AS status, file_process_error_code AS code, content, size_bytes
         FROM bank_inbound_file WHERE file_name IN ('huge.xml', 'small.txt') ORDER BY file_name`,
    );
    expect(rows).toEqual([
      { file_name: 'huge.xml', status: 'ERROR', code: 'FILE_TOO_LARGE', content: '', size_bytes: 221 },
      {
        file_name: 'small.txt',
        status: 'ERROR',
        code: 'forbidden.account',
        content: 'hello',
        size_bytes: 5,
      },
    ]);
    unlinkSync(join(root, 'from-bank', 'huge.xml'));
  });

  it('refuses a bank whose host key is not the pinned one', async () => {
    const other = publicKeyLine(generateSshKeyPair().public);
    const c = connector({ SFTP_FAKE_HOST_KEY: other });
    const r = await c.collectInbound!(10);
    expect(r).toMatchObject({ status: 'FAILURE', errorCode: 'BANK_HOST_KEY_MISMATCH' });
  });

  it('refuses incomplete settings at start, naming each', () => {
    expect(() => sftpConnectorSettings('X', {})).toThrow(/SFTP_X_HOST is required.*SFTP_X_USER/);
  });
});
