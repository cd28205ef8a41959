// Delivery of batch callbacks: a PUT of the batch's final representation to the client's X-Callback-URL,
// with the spec's headers (X-Date, X-CorrelationID of the client's request, X-Content-Hash: SHA-256 hex of
// the body, X-API-Key when one is configured). Anything but a 2xx answer is retried after a wait that
// doubles each time, up to a number of attempts; the armed faults can drop, slow down or double a callback.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Db } from '../../db/index.js';
import type { WalletFaults } from './faults.js';

export interface CallbackOptions {
  attempts: number;
  backoffMs: number;
  apiKey?: string;
  /** Deadline of one PUT. */
  timeoutMs: number;
}

export interface CallbackView {
  callbackId: number;
  batchId: string;
  url: string;
  status: 'due' | 'delivered' | 'lost' | 'abandoned';
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  deliveredAt: string | null;
}

interface Due {
  callback_id: number;
  url: string;
  body: string;
  client_correlation_id: string | null;
  attempts: number;
}

/** Sends every callback due at `now`; returns how many were delivered, failed (to retry or given up) or lost. */
export async function deliverDueCallbacks(
  db: Db,
  faults: WalletFaults,
  options: CallbackOptions,
  log: Logger,
  now: () => Date,
  stopping: AbortSignal,
): Promise<{ delivered: number; failed: number; lost: number }> {
  const result = { delivered: 0, failed: 0, lost: 0 };
  const { rows } = await db.query<Due>(
    `SELECT callback_id::int8 AS callback_id, url, body, client_correlation_id::text, attempts
       FROM example_wallet.callback WHERE status = 'due' AND next_attempt_at <= $1
      ORDER BY next_attempt_at, callback_id LIMIT 100`,
    [now()],
  );
  for (const due of rows) {
    if (stopping.aborted) break;
    if (faults.take('loseCallbacks')) {
      await db.query(`UPDATE example_wallet.callback SET status = 'lost' WHERE callback_id = $1`, [
        due.callback_id,
      ]);
      log.info({ callbackId: due.callback_id }, 'wallet simulator: callback lost on purpose');
      result.lost++;
      continue;
    }
    await faults.wait(faults.callbackDelayMs);
    const copies = faults.take('duplicateCallbacks') ? 2 : 1;
    let error = 'not sent';
    let taken = false;
    for (let i = 0; i < copies; i++) {
      const problem = await put(due, options, stopping);
      if (problem === null) taken = true;
      else error = problem;
    }
    const attempts = due.attempts + 1;
    if (taken) {
      await db.query(
        `UPDATE example_wallet.callback SET status = 'delivered', attempts = $2, delivered_at = $3,
           last_error = NULL WHERE callback_id = $1`,
        [due.callback_id, attempts, now()],
      );
      result.delivered++;
      continue;
    }
    const giveUp = attempts >= options.attempts;
    const next = new Date(now().getTime() + options.backoffMs * 2 ** (attempts - 1));
    await db.query(
      `UPDATE example_wallet.callback SET status = $2, attempts = $3, next_attempt_at = $4, last_error = $5
        WHERE callback_id = $1`,
      [due.callback_id, giveUp ? 'abandoned' : 'due', attempts, next, error.slice(0, 500)],
    );
    log.warn(
      { callbackId: due.callback_id, attempts, giveUp, error },
      'wallet simulator: callback not accepted',
    );
    result.failed++;
  }
  return result;
}

/** One PUT; null when the receiver took it (2xx), else what went wrong. */
async function put(due: Due, options: CallbackOptions, stopping: AbortSignal): Promise<string | null> {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'x-date': new Date().toISOString(),
    'x-content-hash': createHash('sha256').update(due.body).digest('hex'),
  };
  if (due.client_correlation_id) headers['x-correlationid'] = due.client_correlation_id;
  if (options.apiKey) headers['x-api-key'] = options.apiKey;
  try {
    const res = await fetch(due.url, {
      method: 'PUT',
      headers,
      body: due.body,
      redirect: 'manual',
      signal: AbortSignal.any([stopping, AbortSignal.timeout(options.timeoutMs)]),
    });
    await res.arrayBuffer().catch(() => undefined);
    return res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}`;
  } catch (error) {
    return (error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).message;
  }
}

export async function listCallbacks(db: Db, batchId?: string): Promise<CallbackView[]> {
  const { rows } = await db.query<CallbackView>(
    `SELECT callback_id::int8 AS "callbackId", batch_id AS "batchId", url, status, attempts,
            to_char(next_attempt_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "nextAttemptAt",
            last_error AS "lastError",
            to_char(delivered_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "deliveredAt"
       FROM example_wallet.callback WHERE ($1::text IS NULL OR batch_id = $1)
      ORDER BY callback_id LIMIT 1000`,
    [batchId ?? null],
  );
  return rows;
}
