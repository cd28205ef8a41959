// The example bank's SFTP face over a real loopback connection: a pain.001 in, a pain.002 and the statement
// out; refused files (FF01, DU01, a failure control), partial rejects, a dropped upload.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type SFTPWrapper, utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { Db } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { generateSshKeyPair } from '../../src/sftp/server.js';
import { createExampleBank, type ExampleBank } from '../../src/simulators/example-bank/index.js';
import {
  type ExampleBankSftp,
  startExampleBankSftp,
} from '../../src/simulators/example-bank/sftp/channel.js';
import { testDb } from '../support/db.js';

const key = generateSshKeyPair();
let dir: string;
let db: Db;
let bank: ExampleBank;
let channel: ExampleBankSftp;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'example-sftp-'));
  db = await testDb();
  const log = createLogger('silent');
  channel = await startExampleBankSftp({
    db,
    log,
    settings: {
      host: '127.0.0.1',
      port: 0,
      dir,
      customers: [{ username: 'bridge', authorizedKeys: [key.public] }],
    },
  });
  bank = await createExampleBank({
    db,
    log,
    config: loadConfig({ EXAMPLE_BANK_PROCESS_INTERVAL_MS: '0' }),
    uploadStatement: channel.statementUploader(null),
  });
  await bank.openAccount({ accountNumber: 'FUND-S', currency: 'USD', openingBalance: '1000.00' });
});
afterAll(async () => {
  await channel?.close();
  await bank?.stop();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

function connect(): Promise<{ client: Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const pinned = utils.parseKey(channel.server.hostPublicKey);
    client
      .on('ready', () => client.sftp((e, sftp) => (e ? reject(e) : resolve({ client, sftp }))))
      .on('error', reject)
      .connect({
        host: '127.0.0.1',
        port: channel.server.port,
        username: 'bridge',
        privateKey: key.private,
        hostVerifier: (k: Buffer) => !(pinned instanceof Error) && k.equals(pinned.getPublicSSH()),
      });
  });
}

/** Uploads under a temporary name, then renames, as a host-to-host client does. */
async function upload(name: string, xml: string): Promise<void> {
  const { client, sftp } = await connect();
  const closed = new Promise<never>((_, reject) =>
    client.on('close', () => reject(new Error('connection closed'))),
  );
  closed.catch(() => {});
  try {
    await Promise.race([
      closed,
      new Promise<void>((resolve, reject) =>
        sftp.writeFile(`/to-bank/${name}.part`, xml, (e) => (e ? reject(e) : resolve())),
      ),
    ]);
    await new Promise<void>((resolve, reject) =>
      sftp.rename(`/to-bank/${name}.part`, `/to-bank/${name}`, (e) => (e ? reject(e) : resolve())),
    );
  } finally {
    client.end();
  }
  await channel.idle();
}

interface Tx {
  id: string;
  amount: string;
  account?: string | null;
}
function pain001(msgId: string, txs: Tx[], opts: { ctrlSum?: string; nbOfTxs?: string } = {}): string {
  const sum = (txs.reduce((s, t) => s + BigInt(t.amount.replace('.', '')), 0n) / 1n).toString();
  const ctrl = opts.ctrlSum ?? `${sum.slice(0, -2) || '0'}.${sum.slice(-2).padStart(2, '0')}`;
  const body = txs
    .map(
      (t) => `<CdtTrfTxInf><PmtId><EndToEndId>${t.id}</EndToEndId></PmtId>
      <Amt><InstdAmt Ccy="USD">${t.amount}</InstdAmt></Amt>
      <CdtrAgt><FinInstnId><BIC>OTHRUS33</BIC></FinInstnId></CdtrAgt><Cdtr><Nm>B</Nm></Cdtr>
      ${t.account === null ? '' : `<CdtrAcct><Id><Othr><Id>${t.account ?? `ACC-${t.id}`}</Id></Othr></Id></CdtrAcct>`}
      <RmtInf><Ustrd>benefit</Ustrd></RmtInf></CdtTrfTxInf>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn>
<GrpHdr><MsgId>${msgId}</MsgId><CreDtTm>2026-01-05T10:00:00</CreDtTm><NbOfTxs>${opts.nbOfTxs ?? txs.length}</NbOfTxs><CtrlSum>${ctrl}</CtrlSum><InitgPty><Nm>G2P</Nm></InitgPty></GrpHdr>
<PmtInf><PmtInfId>${msgId}</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>${txs.length}</NbOfTxs><CtrlSum>${ctrl}</CtrlSum>
<ReqdExctnDt>2026-01-05</ReqdExctnDt><Dbtr><Nm>G2P</Nm></Dbtr><DbtrAcct><Id><Othr><Id>FUND-S</Id></Othr></Id></DbtrAcct>
<DbtrAgt><FinInstnId><BIC>EXMPUS33</BIC></FinInstnId></DbtrAgt>${body}</PmtInf>
</CstmrCdtTrfInitn></Document>`;
}

const inbound = async (name: string) => readFile(join(channel.foldersOf('bridge').inbound, name), 'utf8');
const txStatuses = (xml: string) =>
  [
    ...xml.matchAll(
      /<OrgnlEndToEndId>([^<]+)<\/OrgnlEndToEndId>\s*<TxSts>(\w+)<\/TxSts>(?:\s*<StsRsnInf><Rsn><Cd>(\w+))?/g,
    ),
  ].map((m) => [m[1], m[2], m[3] ?? null]);
const paymentCount = async (batch: string) =>
  Number(
    (
      await db.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM example_bank.payment WHERE batch_id = $1',
        [batch],
      )
    ).rows[0]!.n,
  );

describe('example bank over SFTP', () => {
  it('takes a pain.001, answers ACCP per transaction and delivers the statement to from-bank', async () => {
    await upload(
      'batch1.xml',
      pain001('MSG1', [
        { id: 'D-1', amount: '10.00' },
        { id: 'D-2', amount: '15.50' },
      ]),
    );
    const report = await inbound('pain002_MSG1.xml');
    expect(report).toContain('xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03"');
    expect(report).toContain('<GrpSts>ACCP</GrpSts>');
    expect(txStatuses(report)).toEqual([
      ['D-1', 'ACCP', null],
      ['D-2', 'ACCP', null],
    ]);
    expect(await paymentCount('MSG1')).toBe(2);
    expect((await bank.getAccount('FUND-S'))!.blocked_amount).toBe('25.50');
    expect(await readdir(join(channel.foldersOf('bridge').outbound, 'archive'))).toContain('batch1.xml');

    const processed = await bank.processNow();
    expect(processed.processed).toBe(2);
    const statements = (await readdir(channel.foldersOf('bridge').inbound)).filter((n) =>
      n.startsWith('FUND-S-'),
    );
    expect(statements.length).toBe(1);
    const statement = await inbound(statements[0]!);
    expect(statement).toContain('D-1');
    expect(statement).toContain('D-2');
  });

  it('refuses a repeated MsgId with DU01 and pays nothing twice', async () => {
    await upload('batch1-again.xml', pain001('MSG1', [{ id: 'D-1', amount: '10.00' }]));
    expect(channel.handled.at(-1)).toMatchObject({
      file: 'batch1-again.xml',
      status: 'RJCT',
      reason: 'DU01',
    });
    const report = await inbound('pain002_MSG1_DU01.xml');
    expect(report).toContain('<GrpSts>RJCT</GrpSts>');
    expect(report).toContain('<Cd>DU01</Cd>');
    expect(await paymentCount('MSG1')).toBe(2);
  });

  it('refuses a file whose CtrlSum or NbOfTxs is not exact with FF01', async () => {
    await upload('bad-sum.xml', pain001('MSG2', [{ id: 'D-3', amount: '1.00' }], { ctrlSum: '1.001' }));
    expect(await inbound('pain002_MSG2_FF01.xml')).toContain('<Cd>FF01</Cd>');
    await upload('bad-count.xml', pain001('MSG3', [{ id: 'D-4', amount: '1.00' }], { nbOfTxs: '2' }));
    expect(await inbound('pain002_MSG3_FF01.xml')).toContain('<Cd>FF01</Cd>');
    await upload('doctype.xml', '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><Document/>');
    expect(channel.handled.at(-1)).toMatchObject({ file: 'doctype.xml', status: 'RJCT', reason: 'FF01' });
    expect(await paymentCount('MSG2')).toBe(0);
    expect(await paymentCount('MSG3')).toBe(0);
  });

  it('rejects single transactions (no account, a failure control, insufficient funds) and pays the rest', async () => {
    channel.faults.rejectNextTransactions(1, 'AC04');
    await upload(
      'partial.xml',
      pain001('MSG4', [
        { id: 'D-5', amount: '1.00' },
        { id: 'D-6', amount: '2.00', account: null },
        { id: 'D-7', amount: '3.00' },
      ]),
    );
    const report = await inbound('pain002_MSG4.xml');
    expect(report).toContain('<GrpSts>PART</GrpSts>');
    expect(txStatuses(report)).toEqual([
      ['D-5', 'RJCT', 'AC04'],
      ['D-6', 'RJCT', 'AC01'],
      ['D-7', 'ACCP', null],
    ]);
    expect(await paymentCount('MSG4')).toBe(1);

    await upload('too-much.xml', pain001('MSG5', [{ id: 'D-8', amount: '999999.00' }]));
    expect(txStatuses(await inbound('pain002_MSG5.xml'))).toEqual([['D-8', 'RJCT', 'AM04']]);
    expect(await paymentCount('MSG5')).toBe(0);
  });

  it('refuses a whole file on a failure control', async () => {
    channel.faults.refuseNextFiles(1, 'FF01');
    await upload('refused.xml', pain001('MSG6', [{ id: 'D-9', amount: '1.00' }]));
    expect(await inbound('pain002_MSG6_FF01.xml')).toContain('<GrpSts>RJCT</GrpSts>');
    expect(await paymentCount('MSG6')).toBe(0);
  });

  it('drops the connection mid-upload: nothing is taken, the retried upload is', async () => {
    channel.faults.dropNextUploads(1);
    await expect(upload('cut.xml', pain001('MSG7', [{ id: 'D-10', amount: '1.00' }]))).rejects.toThrow();
    await channel.idle();
    expect(await paymentCount('MSG7')).toBe(0);
    await upload('cut.xml', pain001('MSG7', [{ id: 'D-10', amount: '1.00' }]));
    expect(txStatuses(await inbound('pain002_MSG7.xml'))).toEqual([['D-10', 'ACCP', null]]);
    expect(await paymentCount('MSG7')).toBe(1);
  });

  it('still knows after a restart which customer pays from which account (statements by SFTP)', async () => {
    await channel.close();
    channel = await startExampleBankSftp({
      db,
      log: createLogger('silent'),
      settings: {
        host: '127.0.0.1',
        port: 0,
        dir,
        customers: [{ username: 'bridge', authorizedKeys: [key.public] }],
      },
    });
    const others: string[] = [];
    const deliver = channel.statementUploader(async (_text, name) => {
      others.push(name);
    });
    await deliver(':20:X\r\n:25:FUND-S\r\n-', 'FUND-S-9001.sta');
    await deliver(':20:X\r\n:25:ELSEWHERE\r\n-', 'ELSEWHERE-1.sta');
    expect(await inbound('FUND-S-9001.sta')).toContain(':25:FUND-S');
    expect(others).toEqual(['ELSEWHERE-1.sta']);
  });
});
