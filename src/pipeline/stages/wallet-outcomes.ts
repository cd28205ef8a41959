// Stage: outcomes of the batches sent to wallet providers (issue 15). The driving row is a wallet_batch; a
// provider's callback only makes it due now (src/payouts/callbacks.ts), so lost callbacks cost a poll interval.
//
// Each claim: ask where the batch stands (request state, or the batch id the provider already gave); a failed
// request rejects every payment still open with the provider's error; otherwise read completions, then
// rejections, page by page from the offsets already applied. Each page is verified and applied set-based in one
// transaction together with its new offset, guarded by our lease (src/payouts/outcomes.ts), so a crash resumes
// at the first page not applied and nothing is applied twice. When every payment of the batch has an outcome
// the row is COMPLETED; until then it waits the provider's poll interval. A poll that makes progress (or finds
// the provider still busy) is not a failed attempt: attempts count failures in a row.

import { isConnectorFailure, type WalletConnector } from '../../bank/wallet-connector.js';
import type { Queryable } from '../../db/index.js';
import { applyCompletions, applyRejections } from '../../payouts/outcomes.js';
import type { StageDeps } from '../deps.js';
import type { QueueSpec } from '../queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../runner.js';

export const walletOutcomesQueue: QueueSpec = {
  stage: 'wallet_outcomes',
  table: 'wallet_batch',
  key: 'wallet_batch_id',
  statusColumn: 'outcome_status',
  pendingStatuses: ['PENDING'],
  attemptsColumn: 'outcome_attempts',
  errorCodeColumn: 'latest_error_code',
  timestampColumn: 'outcome_time_stamp',
  errorMessageColumn: 'latest_error_message',
  eligible: 'true',
};

interface BatchRow {
  provider_code: string;
  server_correlation_id: string | null;
  provider_batch_id: string | null;
  completions_offset: number;
  rejections_offset: number;
}

/** Pages read per claim and kind, so one huge batch cannot hold a worker for ever (the rest next claim). */
const MAX_PAGES = 50;
/** Outcomes asked for per page (GSMA's default is 50). */
const PAGE_SIZE = 500;

export function walletOutcomesStage(deps: StageDeps): Stage {
  const q = walletOutcomesQueue;

  /** Gives the row back, due again in `seconds`, counting this claim as no failure. */
  async function later(job: Job, seconds: number): Promise<void> {
    expectLease(
      await deps.db.query(
        `UPDATE wallet_batch
            SET next_attempt_at = now() + make_interval(secs => $3::double precision), outcome_attempts = 0,
                latest_error_code = NULL, latest_error_message = NULL, lease_owner = NULL, lease_expires_at = NULL
          WHERE wallet_batch_id = $1::uuid AND lease_owner = $2`,
        [job.key, job.owner, seconds],
      ),
      q.stage,
    );
  }

  /** Applies one page and moves the offset in one transaction, guarded by the lease. */
  async function applyPage(
    job: Job,
    kind: 'completions' | 'rejections',
    read: number,
    apply: (tx: Queryable) => Promise<unknown>,
  ): Promise<void> {
    const column = kind === 'completions' ? 'completions_offset' : 'rejections_offset';
    await deps.db.transaction(async (tx) => {
      expectLease(
        await tx.query(
          `UPDATE wallet_batch SET ${column} = ${column} + $3
            WHERE wallet_batch_id = $1::uuid AND lease_owner = $2`,
          [job.key, job.owner, read],
        ),
        q.stage,
      );
      await apply(tx);
    });
  }

  async function readAll(
    job: Job,
    connector: WalletConnector,
    providerBatchId: string,
    kind: 'completions' | 'rejections',
    offset: number,
  ): Promise<Outcome> {
    const limit = PAGE_SIZE;
    for (let page = 0; page < MAX_PAGES; page++) {
      const got =
        kind === 'completions'
          ? await connector.completions(providerBatchId, offset, limit)
          : await connector.rejections(providerBatchId, offset, limit);
      if (isConnectorFailure(got)) return failure(got.errorCode, { message: got.message });
      if (got.items.length === 0) break;
      await applyPage(job, kind, got.items.length, async (tx) => {
        const r =
          kind === 'completions'
            ? await applyCompletions(tx, job.key, got.items as Parameters<typeof applyCompletions>[2])
            : await applyRejections(tx, job.key, got.items as Parameters<typeof applyRejections>[2]);
        if (r.refused > 0)
          deps.log.warn(
            { stage: q.stage, walletBatch: job.key, kind, refused: r.refused },
            'wallet outcomes refused by verification (wallet_outcome_error)',
          );
      });
      offset += got.items.length;
      if (got.items.length < limit) break;
    }
    return { ok: true };
  }

  async function run(job: Job): Promise<Outcome> {
    const { rows } = await deps.db.query<BatchRow>(
      `SELECT provider_code, server_correlation_id, provider_batch_id, completions_offset, rejections_offset
         FROM wallet_batch WHERE wallet_batch_id = $1::uuid`,
      [job.key],
    );
    const batch = rows[0];
    if (!batch) return failure('WALLET_BATCH_NOT_FOUND', { permanent: true });
    const connector = deps.wallets?.get(batch.provider_code);
    if (!connector) return failure('WALLET_PROVIDER_NOT_CONFIGURED');

    const state = await connector.batchState({
      correlationId: job.key,
      serverCorrelationId: batch.server_correlation_id,
      providerBatchId: batch.provider_batch_id,
    });
    if (isConnectorFailure(state)) return failure(state.errorCode, { message: state.message });
    if (state.status === 'PENDING') {
      await later(job, connector.pollSeconds);
      return { ok: true };
    }
    if (state.status === 'FAILED') {
      await deps.db.transaction(async (tx) => {
        expectLease(
          await tx.query(
            `UPDATE wallet_batch SET outcome_status = 'COMPLETED', outcome_time_stamp = now(), outcome_attempts = 0,
                    latest_error_code = $3, lease_owner = NULL, lease_expires_at = NULL
              WHERE wallet_batch_id = $1::uuid AND lease_owner = $2`,
            [job.key, job.owner, state.errorCode.slice(0, 64)],
          ),
          q.stage,
        );
        await applyRejections(tx, job.key, null, state);
      });
      deps.log.warn({ stage: q.stage, walletBatch: job.key, code: state.errorCode }, 'wallet batch failed');
      return { ok: true };
    }
    if (state.providerBatchId !== batch.provider_batch_id)
      expectLease(
        await deps.db.query(
          `UPDATE wallet_batch SET provider_batch_id = $3 WHERE wallet_batch_id = $1::uuid AND lease_owner = $2`,
          [job.key, job.owner, state.providerBatchId],
        ),
        q.stage,
      );
    for (const [kind, offset] of [
      ['completions', batch.completions_offset],
      ['rejections', batch.rejections_offset],
    ] as const) {
      const read = await readAll(job, connector, state.providerBatchId, kind, offset);
      if (!read.ok) return read;
    }
    // Done when every payment of the batch has its outcome; else the provider is still at it.
    const { rows: done } = await deps.db.query<{ open: number }>(
      `SELECT count(*)::int AS open FROM wallet_payment WHERE wallet_batch_id = $1::uuid AND outcome IS NULL`,
      [job.key],
    );
    if (done[0]!.open > 0) {
      await later(job, connector.pollSeconds);
      return { ok: true };
    }
    expectLease(
      await deps.db.query(
        `UPDATE wallet_batch SET outcome_status = 'COMPLETED', outcome_time_stamp = now(), outcome_attempts = 0,
                latest_error_code = NULL, latest_error_message = NULL, lease_owner = NULL, lease_expires_at = NULL
          WHERE wallet_batch_id = $1::uuid AND lease_owner = $2`,
        [job.key, job.owner],
      ),
      q.stage,
    );
    deps.log.info({ stage: q.stage, walletBatch: job.key }, 'wallet batch outcomes complete');
    return { ok: true };
  }

  return { queue: q, concurrency: 2, batchSize: deps.settings.batchSize, run };
}
