// Rows for pipeline tests written straight into the tables (what the PBMS API would have stored), a worker
// context with fast, test-friendly settings, and the set-up a suite of pipeline tests shares (pipelineSuite).
import { createHash, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import type { Db } from '../../src/db/index.js';
import type { AppContext } from '../../src/feature/context.js';
import { createLogger } from '../../src/logger.js';
import { writeMt940 } from '../../src/mt940/index.js';
import { startWorkers, type Workers } from '../../src/pipeline/index.js';
import { testDb } from '../support/db.js';
import { connectorsOf, FakeBank, FakeMapper } from './fakes.js';

export function workerContext(db: Db, env: Record<string, string> = {}): AppContext {
  const config = loadConfig({
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    WORKER_POLL_INTERVAL_SECONDS: '0.1',
    RETRY_BACKOFF_BASE_SECONDS: '5',
    ...env,
  });
  return { config, db, log: createLogger(config.LOG_LEVEL), now: () => new Date(), verifier: null };
}

export interface ProgramSeed {
  mnemonic?: string;
  account?: string;
  currency?: string;
  bankCode?: string;
  resolution?: boolean;
}

export async function seedProgram(db: Db, p: ProgramSeed = {}) {
  const program = {
    mnemonic: p.mnemonic ?? 'CASH',
    account: p.account ?? '1000200030',
    currency: p.currency ?? 'USD',
    bankCode: p.bankCode ?? 'FAKE',
    resolution: p.resolution ?? true,
  };
  await db.query(
    `INSERT INTO benefit_program (benefit_program_mnemonic, benefit_program_name, funding_org_code, funding_org_name,
       sponsor_bank_code, sponsor_bank_account_number, sponsor_bank_account_currency, id_mapper_resolution_required)
     VALUES ($1, 'Cash transfer', 'GOV', 'Government', $2, $3, $4, $5)`,
    [program.mnemonic, program.bankCode, program.account, program.currency, program.resolution],
  );
  return program;
}

export interface DisbursementSeed {
  id: string;
  beneficiaryId: string;
  amount: string;
}

/**
 * An envelope with its disbursements, one mapper and bank batch per element of `batches`, complete (received
 * figures equal the declared ones) and scheduled for `scheduleDate` (default today).
 */
export async function seedEnvelope(
  db: Db,
  o: {
    id: string;
    program?: string;
    batches: DisbursementSeed[][];
    scheduleDate?: string;
    currency?: string;
  },
) {
  const all = o.batches.flat();
  const total = all.reduce((s, d) => s + Number(d.amount) * 100, 0) / 100;
  await db.query(
    `INSERT INTO disbursement_envelope (disbursement_envelope_id, benefit_program_mnemonic, disbursement_frequency,
       cycle_code_mnemonic, number_of_beneficiaries, number_of_disbursements, total_disbursement_amount,
       disbursement_currency_code, disbursement_schedule_date)
     VALUES ($1, $2, 'Monthly', 'MAR-2026', $3, $3, $4, $5, coalesce($6::date, current_date))`,
    [o.id, o.program ?? 'CASH', all.length, total.toFixed(2), o.currency ?? 'USD', o.scheduleDate ?? null],
  );
  await db.query(
    `INSERT INTO disbursement_envelope_batch_status
       (disbursement_envelope_id, number_of_disbursements_received, total_disbursement_amount_received)
     VALUES ($1, $2, $3)`,
    [o.id, all.length, total.toFixed(2)],
  );
  for (const [i, batch] of o.batches.entries()) {
    const batchId = `${o.id}-B${i + 1}`;
    await db.query(
      `INSERT INTO mapper_resolution_batch_status (mapper_resolution_batch_id, disbursement_envelope_id) VALUES ($1, $2)`,
      [`${batchId}-M`, o.id],
    );
    await db.query(
      `INSERT INTO bank_disbursement_batch_status (bank_disbursement_batch_id, disbursement_envelope_id) VALUES ($1, $2)`,
      [batchId, o.id],
    );
    await db.query(
      `INSERT INTO disbursement (disbursement_id, disbursement_envelope_id, mapper_resolution_batch_id,
         bank_disbursement_batch_id, beneficiary_id, beneficiary_name, disbursement_amount, narrative)
       SELECT u.id, $1, $2, $3, u.ben, 'Name ' || u.ben, u.amount, 'Benefit MAR-2026'
         FROM unnest($4::text[], $5::text[], $6::numeric[]) AS u(id, ben, amount)`,
      [
        o.id,
        `${batchId}-M`,
        batchId,
        batch.map((d) => d.id),
        batch.map((d) => d.beneficiaryId),
        batch.map((d) => d.amount),
      ],
    );
  }
}

export const disbursements = (prefix: string, n: number, amount = '10.00'): DisbursementSeed[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `${prefix}${i + 1}`,
    beneficiaryId: `BEN-${prefix}${i + 1}`,
    amount,
  }));

/** Stores a statement as upload_mt940 does: header row PENDING plus the text unchanged. */
export async function uploadStatement(db: Db, text: string): Promise<string> {
  const id = `ST-${randomUUID()}`;
  await db.query(
    `INSERT INTO account_statement (statement_id, content_sha256, size_bytes) VALUES ($1, $2, $3)`,
    [id, createHash('sha256').update(text).digest('hex'), Buffer.byteLength(text)],
  );
  await db.query(`INSERT INTO account_statement_lob (statement_id, statement_lob) VALUES ($1, $2)`, [
    id,
    text,
  ]);
  return id;
}

export interface EntrySeed {
  mark: 'D' | 'RD' | 'C';
  id: string;
  amount?: string;
  bankRef?: string;
  reason?: string;
}

/** An MT940 for the program's account: D entries carry the disbursement id as customer reference. */
export function statementText(
  entries: EntrySeed[],
  o: { account?: string; reference?: string; number?: string; currency?: string } = {},
): string {
  let n = 0;
  return writeMt940({
    transactionReference: o.reference ?? `STMT${Date.now().toString(36)}`.slice(0, 16),
    accountIdentification: o.account ?? '1000200030',
    statementNumber: o.number ?? '1',
    sequenceNumber: '1',
    currency: o.currency ?? 'USD',
    openingBalance: { mark: 'C', date: '2026-03-01', currency: o.currency ?? 'USD', amount: '100000.00' },
    entries: entries.map((e) => {
      n++;
      return {
        valueDate: '2026-03-02',
        mark: e.mark,
        amount: e.amount ?? '10.00',
        transactionType: 'NTRF',
        customerReference: e.id,
        bankReference: e.bankRef ?? `BR${n}${Date.now().toString(36)}`.slice(0, 16),
        narratives: e.mark === 'RD' ? ['Benefit', 'Name', e.reason ?? 'ACCOUNT_CLOSED'] : ['Benefit', 'Name'],
      };
    }),
  });
}

/** Empties every bridge table the pipeline touches, so one cloned database serves a whole test file. */
export async function resetBridge(db: Db): Promise<void> {
  await db.query('TRUNCATE benefit_program, account_statement, disbursement CASCADE');
}

/** One suite's database, fakes and workers; the fields are set by the hooks pipelineSuite registers. */
export interface PipelineSuite<B extends FakeBank, M extends FakeMapper> {
  db: Db;
  bank: B;
  mapper: M;
  /** The workers of the last start() of this test (none before it). */
  workers: Workers;
  /** Workers on this suite's database, bank and mapper, not polling; `env` sets config, `now` their clock. */
  start(options?: { env?: Record<string, string>; now?: () => Date }): Workers;
}

/**
 * The set-up every suite that runs the stages against fakes repeats, as hooks of the calling `describe`: one
 * cloned database for the file, emptied before each test with a fresh bank and mapper; workers stopped after
 * each test; the database closed at the end.
 */
export function pipelineSuite<B extends FakeBank = FakeBank, M extends FakeMapper = FakeMapper>(
  make: { bank?: () => B; mapper?: () => M } = {},
): PipelineSuite<B, M> {
  const suite = {
    start({ env = {}, now }: { env?: Record<string, string>; now?: () => Date } = {}) {
      const ctx = workerContext(suite.db, env);
      suite.workers = startWorkers(now ? { ...ctx, now } : ctx, {
        poll: false,
        mapper: suite.mapper,
        connectors: connectorsOf(suite.bank),
      });
      return suite.workers;
    },
  } as PipelineSuite<B, M>;
  beforeAll(async () => {
    suite.db = await testDb();
  });
  beforeEach(async () => {
    await resetBridge(suite.db);
    suite.bank = make.bank?.() ?? (new FakeBank() as B);
    suite.mapper = make.mapper?.() ?? (new FakeMapper() as M);
  });
  afterEach(async () => {
    await suite.workers?.stop();
    suite.workers = undefined as unknown as Workers;
  });
  afterAll(async () => {
    await suite.db?.close();
  });
  return suite;
}
