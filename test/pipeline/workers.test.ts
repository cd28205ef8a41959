// Worker processes against PostgreSQL: one killed with SIGKILL while the bank's acknowledgement is in flight
// (after the bank committed the batch, before we did) and a new one started, after which every disbursement
// has been paid exactly once; and two workers side by side never processing the same row.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onPostgres } from '../support/db.js';
import { type Stack, startStack } from './stack.js';

const FUNDING = 'FUNDW0001';

function spawnWorker(env: Record<string, string>, logLevel = 'warn'): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH,
      ...env,
      LOG_LEVEL: logLevel,
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
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 45_000) {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!onPostgres())('worker processes on PostgreSQL', () => {
  let s: Stack;
  const children: ChildProcess[] = [];
  const today = new Date().toISOString().slice(0, 10);

  /** An envelope of `batches` × `size` disbursements to resolvable beneficiaries, scheduled today. */
  async function envelope(tag: string, batches: number, size: number): Promise<string> {
    const n = batches * size;
    const created = await s.call('create_disbursement_envelope', {
      benefit_program_mnemonic: 'CASH-W',
      disbursement_frequency: 'OnDemand',
      cycle_code_mnemonic: tag,
      number_of_beneficiaries: n,
      number_of_disbursements: n,
      total_disbursement_amount: `${n * 5}.00`,
      disbursement_currency_code: 'USD',
      disbursement_schedule_date: today,
    });
    expect(created.body.header.status, JSON.stringify(created.body)).toBe('succ');
    const id = created.body.message.disbursement_envelope_id as string;
    await s.mapper.link(
      Array.from({ length: n }, (_, i) => ({
        id: `${tag}-${i}`,
        fa: `account_number:A${i}.branch_code:B.bank_code:OTHERBANK.mobile_number:.email_address:.fa_type:BANK_ACCOUNT`,
      })),
    );
    for (let b = 0; b < batches; b++) {
      const res = await s.call(
        'create_disbursements',
        Array.from({ length: size }, (_, k) => ({
          disbursement_envelope_id: id,
          beneficiary_id: `${tag}-${b * size + k}`,
          beneficiary_name: 'Someone',
          disbursement_amount: '5.00',
          narrative: 'Benefit',
        })),
      );
      expect(res.body.header.status, JSON.stringify(res.body)).toBe('succ');
    }
    return id;
  }

  const batchStates = async (envelopeId: string) =>
    (
      await s.db.query<{ id: string; status: string; attempts: number; owner: string | null }>(
        `SELECT bank_disbursement_batch_id AS id, disbursement_status AS status, disbursement_attempts AS attempts,
                lease_owner AS owner
           FROM bank_disbursement_batch_status WHERE disbursement_envelope_id = $1 ORDER BY 1`,
        [envelopeId],
      )
    ).rows;

  beforeAll(async () => {
    s = await startStack({}, { workers: false });
    const program = await s.admin('POST', '/admin/programs', {
      benefit_program_mnemonic: 'CASH-W',
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
    await s?.close();
  });

  it('pays every disbursement exactly once when a worker is killed between the bank ack and our commit', async () => {
    const id = await envelope('KILL', 4, 25);
    const hold = s.holdNextPaymentAnswer();
    const first = spawnWorker(s.env);
    children.push(first);
    // The bank has committed the held batch; our side is still waiting for its answer. (The worker ships two
    // batches at a time, so another one may have gone through meanwhile.)
    const inFlight = await Promise.race([
      hold.held,
      exited(first).then((): never => {
        throw new Error(`worker exited early:\n${first.output.join('')}`);
      }),
    ]);
    const { rows: atBank } = await s.db.query<{ batch_id: string }>(
      `SELECT batch_id FROM example_bank.payment_batch`,
    );
    expect(atBank.map((r) => r.batch_id)).toContain(inFlight);
    first.kill('SIGKILL');
    await exited(first);
    hold.release();
    const stuck = (await batchStates(id)).find((b) => b.id === inFlight)!;
    expect(stuck.status).toBe('PENDING');
    expect(stuck.owner).not.toBeNull();

    const second = spawnWorker(s.env);
    children.push(second);
    await until('every batch shipped', async () =>
      (await batchStates(id)).every((b) => b.status === 'PROCESSED'),
    );
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);

    const states = await batchStates(id);
    expect(states.find((b) => b.id === inFlight)!.attempts).toBe(2); // re-sent after the lease ran out
    const { rows: payments } = await s.db.query<{ n: number; refs: number }>(
      `SELECT count(*)::int AS n, count(DISTINCT payment_reference)::int AS refs
         FROM example_bank.payment p JOIN disbursement d ON d.disbursement_id = p.payment_reference
        WHERE d.disbursement_envelope_id = $1`,
      [id],
    );
    expect(payments[0]).toEqual({ n: 100, refs: 100 });
    // The re-sent batch was recognised by its id: the bank holds four batches of 25, each stored once.
    const { rows: bankBatches } = await s.db.query<{ id: string; n: number }>(
      `SELECT batch_id AS id, payment_count AS n FROM example_bank.payment_batch WHERE batch_id = ANY($1::text[])
        ORDER BY 1`,
      [states.map((b) => b.id)],
    );
    expect(bankBatches).toEqual(states.map((b) => ({ id: b.id, n: 25 })));
    const { rows: shipped } = await s.db.query<{ n: number }>(
      `SELECT number_of_disbursements_shipped AS n FROM disbursement_envelope_batch_status
        WHERE disbursement_envelope_id = $1`,
      [id],
    );
    expect(shipped[0]!.n).toBe(100);
  });

  it('two worker processes side by side never process the same row', async () => {
    const id = await envelope('PAIR', 30, 4);
    s.bank.faults.setLatency('initiate_payment', 30); // keep both workers busy at the same time
    const a = spawnWorker(s.env, 'info');
    const b = spawnWorker(s.env, 'info');
    children.push(a, b);
    await until('every batch shipped', async () =>
      (await batchStates(id)).every((x) => x.status === 'PROCESSED'),
    );
    a.kill('SIGTERM');
    b.kill('SIGTERM');
    expect(await exited(a)).toBe(0);
    expect(await exited(b)).toBe(0);
    s.bank.faults.setLatency('initiate_payment', 0);
    // Both took part, and between them shipped each batch once.
    const shippedBy = [a, b].map((c) => c.output.join('').split('bank batch shipped').length - 1);
    expect(shippedBy[0]! + shippedBy[1]!).toBe(30);
    expect(Math.min(...shippedBy)).toBeGreaterThan(0);
    // Every claim counts an attempt: one attempt per row means no row was ever claimed twice.
    expect((await batchStates(id)).map((x) => x.attempts)).toEqual(Array(30).fill(1));
    const { rows: mapperAttempts } = await s.db.query<{ attempts: number }>(
      `SELECT resolution_attempts AS attempts FROM mapper_resolution_batch_status WHERE disbursement_envelope_id = $1`,
      [id],
    );
    expect(mapperAttempts.map((r) => r.attempts)).toEqual(Array(30).fill(1));
    const { rows: dup } = await s.db.query<{ n: number; dups: number }>(
      `SELECT count(*)::int AS n, coalesce(sum(duplicate_count), 0)::int AS dups
         FROM example_bank.payment_batch pb
        WHERE EXISTS (SELECT 1 FROM bank_disbursement_batch_status b
                       WHERE b.bank_disbursement_batch_id = pb.batch_id AND b.disbursement_envelope_id = $1)`,
      [id],
    );
    expect(dup[0]).toEqual({ n: 30, dups: 0 });
  });
});
