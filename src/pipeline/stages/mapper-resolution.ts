// Stage 1: resolve one mapper batch (one create_disbursements call) in one resolve call. Programs that do not
// use the mapper get their rows straight from the disbursements: the beneficiary id is the bank account.
import { MapperTransportError, type ResolveOutcome } from '../../mapper/types.js';
import type { StageDeps } from '../deps.js';
import type { QueueSpec } from '../queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../runner.js';
import { completeSuccess } from '../sql/complete.js';

export const mapperResolutionQueue: QueueSpec = {
  stage: 'mapper_resolution',
  table: 'mapper_resolution_batch_status',
  key: 'mapper_resolution_batch_id',
  statusColumn: 'resolution_status',
  pendingStatuses: ['PENDING'],
  attemptsColumn: 'resolution_attempts',
  errorCodeColumn: 'latest_error_code',
  timestampColumn: 'resolution_time_stamp',
  // Nothing more happens to a cancelled envelope.
  eligible: `EXISTS (SELECT 1 FROM disbursement_envelope e
                      WHERE e.disbursement_envelope_id = q.disbursement_envelope_id
                        AND e.cancellation_status = 'Not_Cancelled')`,
};

export function mapperResolutionStage(deps: StageDeps): Stage {
  const q = mapperResolutionQueue;

  async function run(job: Job): Promise<Outcome> {
    const { rows } = await deps.db.query<{ required: boolean }>(
      `SELECT p.id_mapper_resolution_required AS required
         FROM mapper_resolution_batch_status b
         JOIN disbursement_envelope e USING (disbursement_envelope_id)
         JOIN benefit_program p USING (benefit_program_mnemonic)
        WHERE b.mapper_resolution_batch_id = $1`,
      [job.key],
    );
    if (!rows[0]) return failure('BATCH_NOT_FOUND', { permanent: true });
    if (!rows[0].required) return copyFromDisbursements(job);
    return resolveWithMapper(job);
  }

  /** No mapper: one INSERT ... SELECT writes a resolved BANK_ACCOUNT row per disbursement of the batch. */
  async function copyFromDisbursements(job: Job): Promise<Outcome> {
    await deps.db.transaction(async (tx) => {
      const done = await completeSuccess(tx, q, job.key, { owner: job.owner, status: 'PROCESSED' });
      expectLease(done, q.stage);
      await tx.query(
        `INSERT INTO mapper_resolution_details
           (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved, mapper_resolved_fa,
            mapper_resolved_fa_type, bank_account_number)
         SELECT d.disbursement_id, d.mapper_resolution_batch_id, d.beneficiary_id, true, d.beneficiary_id,
                'BANK_ACCOUNT', d.beneficiary_id
           FROM disbursement d
          WHERE d.mapper_resolution_batch_id = $1 AND d.cancellation_status = 'Not_Cancelled'
         ON CONFLICT (disbursement_id) DO NOTHING`,
        [job.key],
      );
    });
    return { ok: true };
  }

  async function resolveWithMapper(job: Job): Promise<Outcome> {
    if (!deps.mapper) return failure('MAPPER_NOT_CONFIGURED');
    const { rows: items } = await deps.db.query<{ referenceId: string; beneficiaryId: string }>(
      `SELECT disbursement_id AS "referenceId", beneficiary_id AS "beneficiaryId"
         FROM disbursement
        WHERE mapper_resolution_batch_id = $1 AND cancellation_status = 'Not_Cancelled'
        ORDER BY disbursement_id`,
      [job.key],
    );
    let outcomes: ResolveOutcome[] = [];
    if (items.length > 0) {
      try {
        outcomes = await deps.mapper.resolve(items);
      } catch (error) {
        if (error instanceof MapperTransportError) return failure(error.code, { message: error.message });
        return failure('MAPPER_ERROR', { message: (error as Error).message?.slice(0, 500) });
      }
    }
    // Answers are matched by our reference id; an item the mapper left out is unresolved, not lost.
    const byRef = new Map(outcomes.map((o) => [o.referenceId, o]));
    const cols = {
      id: [] as string[],
      beneficiary: [] as string[],
      resolved: [] as boolean[],
      reason: [] as (string | null)[],
      fa: [] as (string | null)[],
      name: [] as (string | null)[],
      faType: [] as (string | null)[],
      account: [] as (string | null)[],
      bankCode: [] as (string | null)[],
      branchCode: [] as (string | null)[],
      mobile: [] as (string | null)[],
      walletProvider: [] as (string | null)[],
      email: [] as (string | null)[],
      emailProvider: [] as (string | null)[],
    };
    for (const item of items) {
      const o = byRef.get(item.referenceId);
      const ok = o?.resolved === true ? o : null;
      const a = ok?.address;
      cols.id.push(item.referenceId);
      cols.beneficiary.push(item.beneficiaryId);
      cols.resolved.push(ok !== null);
      cols.reason.push(ok ? null : o && !o.resolved ? o.reason : 'MAPPER_NO_ANSWER');
      cols.fa.push(ok?.fa ?? null);
      cols.name.push(ok?.name ?? null);
      cols.faType.push(a?.faType ?? null);
      cols.account.push(a?.accountNumber ?? null);
      cols.bankCode.push(a?.bankCode ?? null);
      cols.branchCode.push(a?.branchCode ?? null);
      cols.mobile.push(a?.mobileNumber ?? null);
      cols.walletProvider.push(a?.walletProvider ?? null);
      cols.email.push(a?.emailAddress ?? null);
      cols.emailProvider.push(a?.emailWalletProvider ?? null);
    }
    await deps.db.transaction(async (tx) => {
      const done = await completeSuccess(tx, q, job.key, { owner: job.owner, status: 'PROCESSED' });
      expectLease(done, q.stage);
      if (items.length === 0) return;
      await tx.query(
        `INSERT INTO mapper_resolution_details
           (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved, unresolved_reason,
            mapper_resolved_fa, mapper_resolved_name, mapper_resolved_fa_type, bank_account_number, bank_code,
            branch_code, mobile_number, mobile_wallet_provider, email_address, email_wallet_provider)
         SELECT u.id, $1, u.beneficiary, u.resolved, u.reason, u.fa, u.name, u.fa_type, u.account, u.bank_code,
                u.branch_code, u.mobile, u.wallet_provider, u.email, u.email_provider
           FROM unnest($2::text[], $3::text[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[])
                AS u(id, beneficiary, resolved, reason, fa, name, fa_type, account, bank_code, branch_code,
                     mobile, wallet_provider, email, email_provider)
         ON CONFLICT (disbursement_id) DO UPDATE SET
           resolved = EXCLUDED.resolved, unresolved_reason = EXCLUDED.unresolved_reason,
           mapper_resolved_fa = EXCLUDED.mapper_resolved_fa, mapper_resolved_name = EXCLUDED.mapper_resolved_name,
           mapper_resolved_fa_type = EXCLUDED.mapper_resolved_fa_type,
           bank_account_number = EXCLUDED.bank_account_number, bank_code = EXCLUDED.bank_code,
           branch_code = EXCLUDED.branch_code, mobile_number = EXCLUDED.mobile_number,
           mobile_wallet_provider = EXCLUDED.mobile_wallet_provider, email_address = EXCLUDED.email_address,
           email_wallet_provider = EXCLUDED.email_wallet_provider, resolved_at = now()`,
        [
          job.key,
          cols.id,
          cols.beneficiary,
          cols.resolved,
          cols.reason,
          cols.fa,
          cols.name,
          cols.faType,
          cols.account,
          cols.bankCode,
          cols.branchCode,
          cols.mobile,
          cols.walletProvider,
          cols.email,
          cols.emailProvider,
        ],
      );
    });
    const unresolved = cols.resolved.filter((r) => !r).length;
    deps.log.info(
      { stage: q.stage, batch: job.key, resolved: items.length - unresolved, unresolved },
      'mapper batch resolved',
    );
    return { ok: true };
  }

  return { queue: q, concurrency: 4, batchSize: deps.settings.batchSize, run };
}
