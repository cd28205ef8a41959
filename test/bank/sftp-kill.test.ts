// A worker process killed with SIGKILL in the middle of a pain.001 upload to the example bank's SFTP face
// (PostgreSQL: the worker is a child process on the same database). The bank holds the first chunk of the
// upload until the worker is dead, so what it leaves is a half-written temporary file; a new worker takes the
// batch over once its lease runs out, uploads it again, and every disbursement is paid exactly once.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { generateSshKeyPair } from '../../src/sftp/server.js';
import {
  type ExampleBankSftp,
  startExampleBankSftp,
} from '../../src/simulators/example-bank/sftp/channel.js';
import { BRIDGE_CUSTOMER, sftpConnectorEnv } from '../../src/simulators/example-bank/sftp/setup.js';
import { type Stack, startStack } from '../pipeline/stack.js';
import { onPostgres } from '../support/db.js';

const FUNDING = 'FUNDK0001';

function spawnWorker(env: Record<string, string | undefined>): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH,
      ...env,
      LOG_LEVEL: 'warn',
      LEASE_SECONDS: '2',
      WORKER_POLL_INTERVAL_SECONDS: '0.2',
      RETRY_BACKOFF_BASE_SECONDS: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout?.on('data', (d) => child.output.push(String(d)));
  child.stderr?.on('data', (d) => child.output.push(String(d)));
  return child;
}

const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!onPostgres())('SIGKILL during a pain.001 upload (PostgreSQL)', () => {
  let s: Stack;
  let face: ExampleBankSftp;
  let dir: string;
  let workerEnv: Record<string, string | undefined>;
  const children: ChildProcess[] = [];
  const today = new Date().toISOString().slice(0, 10);

  beforeAll(async () => {
    s = await startStack({}, { workers: false });
    dir = await mkdtemp(join(tmpdir(), 'sftp-kill-'));
    const key = generateSshKeyPair();
    const keyFile = join(dir, 'id_ed25519');
    await writeFile(keyFile, key.private, { mode: 0o600 });
    face = await startExampleBankSftp({
      db: s.db,
      log: createLogger('silent'),
      settings: {
        host: '127.0.0.1',
        port: 0,
        dir: join(dir, 'bank'),
        customers: [{ username: BRIDGE_CUSTOMER, authorizedKeys: [key.public] }],
      },
    });
    workerEnv = sftpConnectorEnv(s.env, 'EXAMPLE', {
      host: face.server.host,
      port: face.server.port,
      hostPublicKey: face.server.hostPublicKey,
      privateKeyFile: keyFile,
    });
    const program = await s.admin('POST', '/admin/programs', {
      benefit_program_mnemonic: 'CASH-K',
      benefit_program_name: 'Cash',
      funding_org_code: 'MOF',
      funding_org_name: 'Ministry of Finance',
      sponsor_bank_code: 'EXAMPLE',
      sponsor_bank_account_number: FUNDING,
      sponsor_bank_account_currency: 'USD',
      id_mapper_resolution_required: true,
    });
    expect(program.status, JSON.stringify(program.body)).toBe(201);
    await s.bank.openAccount({ accountNumber: FUNDING, currency: 'USD', openingBalance: '100000.00' });
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await face?.close();
    await s?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('pays the batch once: the retry after the kill uploads it again, the bank takes one file', async () => {
    const n = 20;
    const created = await s.call('create_disbursement_envelope', {
      benefit_program_mnemonic: 'CASH-K',
      disbursement_frequency: 'OnDemand',
      cycle_code_mnemonic: 'KILLSFTP',
      number_of_beneficiaries: n,
      number_of_disbursements: n,
      total_disbursement_amount: `${n * 5}.00`,
      disbursement_currency_code: 'USD',
      disbursement_schedule_date: today,
    });
    expect(created.body.header.status, JSON.stringify(created.body)).toBe('succ');
    const envelope = created.body.message.disbursement_envelope_id as string;
    await s.mapper.link(
      Array.from({ length: n }, (_, i) => ({
        id: `K-${i}`,
        fa: `account_number:A${i}.branch_code:B.bank_code:OTHERBANK.mobile_number:.email_address:.fa_type:BANK_ACCOUNT`,
      })),
    );
    const res = await s.call(
      'create_disbursements',
      Array.from({ length: n }, (_, i) => ({
        disbursement_envelope_id: envelope,
        beneficiary_id: `K-${i}`,
        beneficiary_name: 'Someone',
        disbursement_amount: '5.00',
        narrative: 'Benefit',
      })),
    );
    expect(res.body.header.status, JSON.stringify(res.body)).toBe('succ');

    // The bank holds every upload chunk until released: the first worker dies with its upload half done.
    face.faults.setLatency(3_600_000);
    const outbound = join(dir, 'bank', BRIDGE_CUSTOMER, 'to-bank');
    const first = spawnWorker(workerEnv);
    children.push(first);
    await until('the upload to begin', async () => {
      if (first.exitCode !== null) throw new Error(`worker exited early:\n${first.output.join('')}`);
      return (await readdir(outbound)).some((f) => f.endsWith('.part'));
    });
    first.kill('SIGKILL');
    await exited(first);
    face.faults.clear(); // wakes the held chunk: its connection is gone
    await face.idle();
    expect(face.handled).toEqual([]);
    const batch = await s.db.query<{ status: string; owner: string | null }>(
      `SELECT disbursement_status AS status, lease_owner AS owner FROM bank_disbursement_batch_status
        WHERE disbursement_envelope_id = $1`,
      [envelope],
    );
    expect(batch.rows).toEqual([{ status: 'PENDING', owner: expect.any(String) }]);

    const second = spawnWorker(workerEnv);
    children.push(second);
    await until('the batch shipped and the bank answered', async () => {
      const { rows } = await s.db.query<{ status: string }>(
        `SELECT disbursement_status AS status FROM bank_disbursement_batch_status WHERE disbursement_envelope_id = $1`,
        [envelope],
      );
      return rows[0]?.status === 'PROCESSED' && face.handled.length > 0;
    });
    await face.idle();
    second.kill('SIGTERM');
    await exited(second);

    // One payable file reached the bank, and each disbursement was paid once.
    expect(face.handled.map((h) => ({ status: h.status, accepted: h.accepted }))).toEqual([
      { status: 'ACCP', accepted: n },
    ]);
    expect(await readdir(join(outbound, 'archive'))).toHaveLength(1);
    const { rows: paid } = await s.db.query<{ n: number; refs: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT payment_reference)::int AS refs
         FROM example_bank.payment p JOIN disbursement d ON d.disbursement_id = p.payment_reference
        WHERE d.disbursement_envelope_id = $1`,
      [envelope],
    );
    expect(paid[0]).toEqual({ n, refs: n });
    const { rows: shipped } = await s.db.query<{ n: number }>(
      `SELECT number_of_disbursements_shipped AS n FROM disbursement_envelope_batch_status
        WHERE disbursement_envelope_id = $1`,
      [envelope],
    );
    expect(shipped[0]!.n).toBe(n);
  });
});
