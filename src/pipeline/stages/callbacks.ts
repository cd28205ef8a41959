// Stage `callbacks`: delivers queued G2P Connect callbacks (g2p_connect_callback) to the sender's configured
// callback URL (G2P_CONNECT_SENDERS), never to one taken from a message. A non-2xx answer or an unreachable
// receiver is retried with the runner's backoff; the body, and so its header.message_id, is the same on every
// attempt, so the receiver can drop a duplicate. Redirects are not followed. Before each poll, status changes
// of subscribed senders' transactions are queued as on-status (one set-based push, src/g2p-connect/callbacks.ts).
import { enqueueStatusChanges } from '../../g2p-connect/callbacks.js';
import { signOutgoing } from '../../g2p-connect/signing.js';
import type { StageDeps } from '../deps.js';
import type { QueueSpec } from '../queue.js';
import {
  createStageRunner,
  expectLease,
  failure,
  type Job,
  type Outcome,
  type Stage,
  type StageRunner,
} from '../runner.js';

export const callbacksQueue: QueueSpec = {
  stage: 'callbacks',
  table: 'g2p_connect_callback',
  key: 'message_id',
  statusColumn: 'delivery_status',
  pendingStatuses: ['PENDING'],
  attemptsColumn: 'delivery_attempts',
  errorCodeColumn: 'latest_error_code',
  timestampColumn: 'status_time_stamp',
  errorMessageColumn: 'latest_error_message',
  eligible: 'true',
  orderBy: 'q.created_at',
};

const CALLBACK_TIMEOUT_MS = 10_000;

export function callbacksStage(deps: StageDeps): Stage {
  const q = callbacksQueue;
  async function run(job: Job): Promise<Outcome> {
    const { rows } = await deps.db.query<{
      sender_id: string;
      path: string;
      body: { header: unknown; message: unknown };
    }>('SELECT sender_id, path, body FROM g2p_connect_callback WHERE message_id = $1', [job.key]);
    const row = rows[0];
    if (!row) return failure('CALLBACK_NOT_FOUND', { permanent: true });
    const sender = deps.g2pSenders?.get(row.sender_id);
    if (!sender?.callbackBaseUrl) return failure('CALLBACK_SENDER_NOT_CONFIGURED', { permanent: true });
    const key = deps.signingKey ? await deps.signingKey() : null;
    const body = { ...row.body, signature: signOutgoing(row.body, key) };
    let status: number;
    try {
      const res = await fetch(sender.callbackBaseUrl + row.path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        redirect: 'manual',
        signal: AbortSignal.timeout(CALLBACK_TIMEOUT_MS),
      });
      status = res.status;
      await res.body?.cancel();
    } catch (error) {
      return failure('CALLBACK_UNREACHABLE', { message: String((error as Error).message).slice(0, 200) });
    }
    if (status < 200 || status >= 300) return failure(`CALLBACK_HTTP_${status}`);
    expectLease(
      await deps.db.query(
        `UPDATE g2p_connect_callback
            SET delivery_status = 'DELIVERED', delivered_at = now(), status_time_stamp = now(),
                latest_error_code = NULL, lease_owner = NULL, lease_expires_at = NULL
          WHERE message_id = $1 AND lease_owner = $2`,
        [job.key, job.owner],
      ),
      q.stage,
    );
    return { ok: true };
  }
  return { queue: q, concurrency: 4, batchSize: deps.settings.batchSize, run };
}

/** The stage's runner, which first queues on-status for what changed since the last push. */
export function callbacksRunner(stage: Stage, deps: StageDeps, owner: string): StageRunner {
  const inner = createStageRunner(stage, deps, owner);
  const subscribed = [...(deps.g2pSenders ?? new Map())]
    .filter(([, s]) => s.subscribeStatus)
    .map(([id]) => id);
  return {
    stage: inner.stage,
    async pollOnce() {
      const queued = await enqueueStatusChanges(deps.db, subscribed, deps.now());
      if (queued > 0)
        deps.log.info({ stage: stage.queue.stage, queued }, 'status changes queued as on-status');
      return (await inner.pollOnce()) + queued;
    },
  };
}
