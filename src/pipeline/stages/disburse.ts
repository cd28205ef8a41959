// Stage 4: ship one bank batch (one create_disbursements call) in one initiate_payment call.
//
// Exactly once: the bank batch id is the idempotency key of initiate_payment. The outcome is committed only
// after the bank's acknowledgement, guarded by our lease. If the process dies between the acknowledgement and
// the commit, the row is still PENDING; its lease runs out, another worker claims it, rebuilds the very same
// payments (cancellation is closed once the schedule date is reached, resolution is finished) and re-sends
// them under the same batch id; the bank recognises the id and acknowledges without paying again. The shipped
// counter moves in the same transaction as the PROCESSED status, so it is counted once too.
//
// One bad payment does not hold back its batch: a payment that breaks the connector's declared limits is not
// sent (refused by the bridge), and one the bank refuses in its acknowledgement is recorded with the bank's
// code; both land in disbursement_bank_refusal in the same transaction as PROCESSED, and the rest is shipped.
// A re-sent batch gets the same refusals back (the bank answers a known batch id with its first answer), and
// the limits are the same, so a takeover after a crash records the same refusals.
import type { BeneficiaryAccountType, Payment, PaymentRefusal } from '../../bank/connector.js';
import { amountProblem, referenceProblem, resolveLimits } from '../../bank/limits.js';
import { decimalToMinor, minorUnitsOf } from '../../money/index.js';
import { isPayoutFailure } from '../../payouts/deps.js';
import {
  type RefusedBy,
  recordWalletShipments,
  shipWalletParts,
  type WalletShipment,
} from '../../payouts/ship.js';
import { callBank, connectorFor, isFailure, type StageDeps } from '../deps.js';
import type { QueueSpec } from '../queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../runner.js';
import { completeSuccess } from '../sql/complete.js';
import { ENVELOPE_READY } from './envelope.js';

export const disburseQueue: QueueSpec = {
  stage: 'disburse',
  table: 'bank_disbursement_batch_status',
  key: 'bank_disbursement_batch_id',
  statusColumn: 'disbursement_status',
  pendingStatuses: ['PENDING'],
  attemptsColumn: 'disbursement_attempts',
  errorCodeColumn: 'latest_error_code',
  timestampColumn: 'disbursement_time_stamp',
  eligible: `${ENVELOPE_READY}
       AND EXISTS (SELECT 1 FROM disbursement_envelope_batch_status s
                    WHERE s.disbursement_envelope_id = e.disbursement_envelope_id
                      AND s.funds_blocked_with_bank = 'FUNDS_BLOCK_SUCCESS'))
     AND NOT EXISTS (SELECT 1 FROM disbursement d
                       JOIN mapper_resolution_batch_status m USING (mapper_resolution_batch_id)
                      WHERE d.bank_disbursement_batch_id = q.bank_disbursement_batch_id
                        AND m.resolution_status <> 'PROCESSED')`,
};

interface BatchHeader {
  bankCode: string;
  currency: string;
}

interface PaymentRow {
  disbursement_id: string;
  amount: string;
  beneficiary_id: string;
  beneficiary_name: string;
  narrative: string;
  fa_type: BeneficiaryAccountType;
  bank_account_number: string | null;
  bank_code: string | null;
  branch_code: string | null;
  mobile_number: string | null;
  mobile_wallet_provider: string | null;
  email_address: string | null;
  email_wallet_provider: string | null;
  program: string;
  cycle: string;
  remitting_account: string;
  remitting_currency: string;
  block_reference: string;
}

/** Every payable disbursement of the batch (resolved, not cancelled) in one query. */
const PAYMENTS_SQL = `
  SELECT d.disbursement_id, round(d.disbursement_amount, $2)::text AS amount, d.beneficiary_id,
         d.beneficiary_name, d.narrative, m.mapper_resolved_fa_type AS fa_type, m.bank_account_number,
         m.bank_code, m.branch_code, m.mobile_number, m.mobile_wallet_provider, m.email_address,
         m.email_wallet_provider, e.benefit_program_mnemonic AS program, e.cycle_code_mnemonic AS cycle,
         p.sponsor_bank_account_number AS remitting_account,
         trim(p.sponsor_bank_account_currency) AS remitting_currency,
         s.funds_blocked_reference_number AS block_reference
    FROM disbursement d
    JOIN mapper_resolution_details m ON m.disbursement_id = d.disbursement_id AND m.resolved
    JOIN disbursement_envelope e ON e.disbursement_envelope_id = d.disbursement_envelope_id
    JOIN benefit_program p ON p.benefit_program_mnemonic = e.benefit_program_mnemonic
    JOIN disbursement_envelope_batch_status s ON s.disbursement_envelope_id = d.disbursement_envelope_id
   WHERE d.bank_disbursement_batch_id = $1 AND d.cancellation_status = 'Not_Cancelled'
   ORDER BY d.disbursement_id`;

function accountOf(r: PaymentRow): string | null {
  if (r.fa_type === 'MOBILE_WALLET') return r.mobile_number;
  if (r.fa_type === 'EMAIL_WALLET') return r.email_address;
  return r.bank_account_number;
}

export function toPayment(r: PaymentRow, currency: string, paymentDate: string): Payment {
  return {
    disbursementId: r.disbursement_id,
    remittingAccount: r.remitting_account,
    remittingAccountCurrency: r.remitting_currency,
    paymentAmount: r.amount,
    fundsBlockedReferenceNumber: r.block_reference,
    beneficiaryId: r.beneficiary_id,
    beneficiaryName: r.beneficiary_name,
    beneficiaryAccount: accountOf(r),
    beneficiaryAccountCurrency: currency,
    beneficiaryAccountType: r.fa_type,
    beneficiaryBankCode: r.bank_code,
    beneficiaryBranchCode: r.branch_code,
    beneficiaryMobileWalletProvider: r.mobile_wallet_provider,
    beneficiaryPhoneNo: r.mobile_number,
    beneficiaryEmail: r.email_address,
    beneficiaryEmailWalletProvider: r.email_wallet_provider,
    disbursementNarrative: r.narrative,
    benefitProgramMnemonic: r.program,
    cycleCodeMnemonic: r.cycle,
    paymentDate,
  };
}

/** The payments of one bank batch, exactly as initiate_payment receives them (also used by the bench). */
export async function buildPayments(
  deps: Pick<StageDeps, 'db'>,
  batchId: string,
  paymentDate: string,
): Promise<{ header: BatchHeader; payments: Payment[] } | null> {
  const { rows } = await deps.db.query<BatchHeader>(
    `SELECT p.sponsor_bank_code AS "bankCode", trim(e.disbursement_currency_code) AS currency
       FROM bank_disbursement_batch_status b
       JOIN disbursement_envelope e USING (disbursement_envelope_id)
       JOIN benefit_program p USING (benefit_program_mnemonic)
      WHERE b.bank_disbursement_batch_id = $1`,
    [batchId],
  );
  const header = rows[0];
  if (!header) return null;
  const exponent = minorUnitsOf(header.currency);
  const { rows: found } = await deps.db.query<PaymentRow>(PAYMENTS_SQL, [batchId, exponent]);
  return { header, payments: found.map((r) => toPayment(r, header.currency, paymentDate)) };
}

export function disburseStage(deps: StageDeps): Stage {
  const q = disburseQueue;

  async function markShipped(
    job: Job,
    envelopeShipped: number,
    refusals: Array<PaymentRefusal & { by: RefusedBy }>,
    wallets: WalletShipment[] = [],
  ): Promise<void> {
    await deps.db.transaction(async (tx) => {
      const { rows } = expectLease(
        await completeSuccess<{ envelope: string }>(tx, q, job.key, {
          owner: job.owner,
          status: 'PROCESSED',
          returning: 'disbursement_envelope_id AS envelope',
        }),
        q.stage,
      );
      if (refusals.length > 0)
        await tx.query(
          `INSERT INTO disbursement_bank_refusal (disbursement_id, bank_disbursement_batch_id, error_code, refused_by)
           SELECT r.id, $1, r.code, r.by FROM unnest($2::text[], $3::text[], $4::text[]) AS r(id, code, by)
           JOIN disbursement d ON d.disbursement_id = r.id AND d.bank_disbursement_batch_id = $1
           ON CONFLICT (disbursement_id) DO NOTHING`,
          [
            job.key,
            refusals.map((r) => r.disbursementId),
            refusals.map((r) => r.errorCode.slice(0, 64)),
            refusals.map((r) => r.by),
          ],
        );
      // Payout channels: the wallet parts sent, recorded with the shipment (src/payouts/ship.ts).
      if (wallets.length > 0) await recordWalletShipments(tx, job.key, rows[0]!.envelope, wallets);
      if (envelopeShipped > 0)
        await tx.query(
          `UPDATE disbursement_envelope_batch_status
              SET number_of_disbursements_shipped = number_of_disbursements_shipped + $2
            WHERE disbursement_envelope_id = $1`,
          [rows[0]!.envelope, envelopeShipped],
        );
    });
  }

  async function run(job: Job): Promise<Outcome> {
    const built = await buildPayments(deps, job.key, job.today);
    if (!built) return failure('BATCH_NOT_FOUND', { permanent: true });
    const { header, payments } = built;
    const refusals: Array<PaymentRefusal & { by: RefusedBy }> = [];
    let shipped = 0;
    // Payout channels: wallet payments go to their providers, the rest to the sponsor bank.
    const split = await shipWalletParts(deps, job.key, payments, header.currency);
    if (isPayoutFailure(split)) return split;
    refusals.push(...split.refusals);
    for (const w of split.wallets) if (!w.refused) shipped += w.payments.length;
    const bankPayments = split.bank;
    // Nothing payable (all cancelled or unresolved): done without troubling the bank.
    if (bankPayments.length > 0) {
      const connector = await connectorFor(deps, header.bankCode);
      if (isFailure(connector)) return connector;
      const send = withinLimits(bankPayments, resolveLimits(connector.limits), header.currency, refusals);
      if (send.length > 0) {
        const result = await callBank(() => connector.initiatePayment(job.key, send));
        if (isFailure(result)) return result;
        if (result.status === 'FAILURE') return failure(result.errorCode, { message: result.message });
        // Only refusals of payments of this batch count, each once.
        const sent = new Set(send.map((p) => p.disbursementId));
        for (const r of result.refused ?? []) {
          if (!sent.delete(r.disbursementId)) continue;
          refusals.push({ disbursementId: r.disbursementId, errorCode: r.errorCode, by: 'BANK' });
        }
        shipped += sent.size;
      }
    }
    await markShipped(job, shipped, refusals, split.wallets);
    deps.log.info(
      { stage: q.stage, batch: job.key, payments: shipped, refused: refusalSummary(refusals) },
      'bank batch shipped',
    );
    return { ok: true };
  }

  return { queue: q, concurrency: 2, batchSize: deps.settings.batchSize, run };
}

/** The payments the connector's limits let through; the others are added to `refusals` (never sent). */
function withinLimits(
  payments: Payment[],
  limits: ReturnType<typeof resolveLimits>,
  currency: string,
  refusals: Array<PaymentRefusal & { by: RefusedBy }>,
): Payment[] {
  const exponent = minorUnitsOf(currency);
  return payments.filter((p) => {
    const code =
      referenceProblem(limits, p.disbursementId) ??
      amountProblem(limits, decimalToMinor(p.paymentAmount, exponent), exponent);
    if (code) refusals.push({ disbursementId: p.disbursementId, errorCode: code, by: 'BRIDGE' });
    return code === null;
  });
}

/** Refusals counted per code, for the log (ids and beneficiaries stay out of it). */
function refusalSummary(refusals: PaymentRefusal[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of refusals) out[r.errorCode] = (out[r.errorCode] ?? 0) + 1;
  return out;
}
