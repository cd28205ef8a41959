// Stage 3: block the envelope total on the funding account; every payment of the envelope draws on it.
import { noBankPart } from '../../payouts/funds.js';
import { callBank, isFailure, type StageDeps } from '../deps.js';
import type { QueueSpec } from '../queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../runner.js';
import { completeSuccess } from '../sql/complete.js';
import { ENVELOPE_READY, fundingWithConnector } from './envelope.js';

export const blockFundsQueue: QueueSpec = {
  stage: 'block_funds',
  table: 'disbursement_envelope_batch_status',
  key: 'disbursement_envelope_id',
  statusColumn: 'funds_blocked_with_bank',
  pendingStatuses: ['PENDING_CHECK', 'FUNDS_BLOCK_FAILURE'],
  attemptsColumn: 'funds_blocked_attempts',
  errorCodeColumn: 'funds_blocked_latest_error_code',
  timestampColumn: 'funds_blocked_latest_timestamp',
  eligible: `q.funds_available_with_bank = 'FUNDS_AVAILABLE' AND ${ENVELOPE_READY})`,
};

export function blockFundsStage(deps: StageDeps): Stage {
  const q = blockFundsQueue;
  async function run(job: Job): Promise<Outcome> {
    const funding = await fundingWithConnector(deps, job.key);
    if (isFailure(funding)) return funding;
    const { envelope, connector } = funding;
    // The envelope id is the idempotency key: a retry after a crash gets the block already placed.
    // Payout channels: nothing to block at the bank when every payment goes to a wallet (no reference then).
    const result = noBankPart(envelope.amount)
      ? ({ status: 'SUCCESS', blockReference: null } as const)
      : await callBank(() =>
          connector.blockFunds(envelope.account, envelope.currency, envelope.amount, envelope.envelopeId),
        );
    if (isFailure(result)) return { ...result, retryStatus: 'FUNDS_BLOCK_FAILURE' };
    if (result.status === 'FAILURE')
      return failure(result.errorCode, { message: result.message, retryStatus: 'FUNDS_BLOCK_FAILURE' });
    const done = await completeSuccess(deps.db, q, job.key, {
      owner: job.owner,
      status: 'FUNDS_BLOCK_SUCCESS',
      set: 'funds_blocked_reference_number = $3',
      params: [result.blockReference],
    });
    expectLease(done, q.stage);
    deps.log.info({ stage: q.stage, envelope: job.key }, 'funds blocked');
    return { ok: true };
  }
  return { queue: q, concurrency: 4, batchSize: deps.settings.batchSize, run };
}
