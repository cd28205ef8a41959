// Stage 2: once an envelope is complete and its schedule date has come, ask the bank whether the funding
// account holds the envelope total.
import { noBankPart, WAITS_FOR_RESOLUTION, withWalletChannels } from '../../payouts/funds.js';
import { callBank, isFailure, type StageDeps } from '../deps.js';
import type { QueueSpec } from '../queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../runner.js';
import { completeSuccess } from '../sql/complete.js';
import { ENVELOPE_READY, fundingWithConnector } from './envelope.js';

export const checkFundsQueue: QueueSpec = {
  stage: 'check_funds',
  table: 'disbursement_envelope_batch_status',
  key: 'disbursement_envelope_id',
  statusColumn: 'funds_available_with_bank',
  pendingStatuses: ['PENDING_CHECK', 'FUNDS_NOT_AVAILABLE'],
  attemptsColumn: 'funds_available_attempts',
  errorCodeColumn: 'funds_available_latest_error_code',
  timestampColumn: 'funds_available_latest_timestamp',
  // Complete: every declared disbursement received (cancellations lower the received figures, so a PBMS that
  // cancels amends the envelope's control figures to match).
  eligible: `${ENVELOPE_READY}
     AND q.number_of_disbursements_received = e.number_of_disbursements
     AND q.total_disbursement_amount_received = e.total_disbursement_amount)
     AND ${WAITS_FOR_RESOLUTION}`,
};

export function checkFundsStage(deps: StageDeps): Stage {
  const q = checkFundsQueue;
  async function run(job: Job): Promise<Outcome> {
    const funding = await fundingWithConnector(deps, job.key);
    if (isFailure(funding)) return funding;
    const { envelope, connector } = funding;
    // Payout channels: an envelope paid wholly through wallets leaves the bank nothing to check.
    const result = noBankPart(envelope.amount)
      ? ({ status: 'FUNDS_AVAILABLE' } as const)
      : await callBank(() => connector.checkFunds(envelope.account, envelope.currency, envelope.amount));
    if (isFailure(result)) return result;
    if (result.status === 'FAILURE') return failure(result.errorCode, { message: result.message });
    if (result.status === 'FUNDS_NOT_AVAILABLE')
      return failure('FUNDS_NOT_AVAILABLE', { retryStatus: 'FUNDS_NOT_AVAILABLE' });
    // completeSuccess sets next_attempt_at = now(): the block stage may take the row at once.
    expectLease(
      await completeSuccess(deps.db, q, job.key, { owner: job.owner, status: 'FUNDS_AVAILABLE' }),
      q.stage,
    );
    deps.log.info({ stage: q.stage, envelope: job.key }, 'funds available');
    return { ok: true };
  }
  // Payout channels: wallet channels' balances are checked before the bank's part (src/payouts/funds.ts).
  return { queue: q, concurrency: 4, batchSize: deps.settings.batchSize, run: withWalletChannels(deps, run) };
}
