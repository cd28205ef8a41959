// The stage runner: claim eligible rows (short transaction, SKIP LOCKED, lease), do the work outside any
// transaction, then write the outcome guarded by the lease. Failures back off in SQL; past the attempt limit
// a row becomes ERROR with its last error code.
import type { Logger } from 'pino';
import type { Db, QueryResult } from '../db/index.js';
import { localDate } from '../g2p/dates.js';
import type { Failure } from '../result.js';
import type { QueueSpec } from './queue.js';
import type { PipelineSettings } from './settings.js';
import { type ClaimedRow, claimRows } from './sql/claim.js';
import { expireAbandoned } from './sql/expire.js';
import { postponeRow } from './sql/postpone.js';
import { releaseFailure } from './sql/release.js';
import { renewLeases } from './sql/renew.js';

export interface Job extends ClaimedRow {
  /** The lease holder: every outcome write is guarded by `lease_owner = owner`. */
  owner: string;
  /** Today in the deployment's time zone, as the claim judged it. */
  today: string;
}

/** A failed attempt (the shape of src/result.ts); `message` is for operators, never beneficiary data. */
export interface StageFailure extends Failure {
  retryStatus?: string;
  permanent?: boolean;
  /**
   * Not a failure of this row: something else must happen first (a statement naming a batch whose shipping
   * outcome is not known yet). The row waits this many seconds and keeps its attempts.
   */
  postponeSeconds?: number;
}

export type Outcome = { ok: true } | StageFailure;

export interface Stage {
  queue: QueueSpec;
  /** Claimed rows processed at the same time. */
  concurrency: number;
  /** Rows claimed per poll. */
  batchSize: number;
  /** Does the work; on success writes the outcome itself (guarded by the lease, see `expectLease`). */
  run(job: Job): Promise<Outcome>;
}

/** The row's lease went to another worker (ours ran out): our outcome is dropped, theirs counts. */
export class LeaseLostError extends Error {
  constructor(stage: string) {
    super(`${stage}: lease lost before the outcome was written`);
    this.name = 'LeaseLostError';
  }
}

/** Throws LeaseLostError when a lease-guarded write touched no row; inside a transaction it rolls back. */
export function expectLease<T>(result: QueryResult<T>, stage: string): QueryResult<T> {
  if (result.rowCount === 0) throw new LeaseLostError(stage);
  return result;
}

export const failure = (
  errorCode: string,
  extra: Omit<StageFailure, 'ok' | 'errorCode'> = {},
): StageFailure => ({ ok: false, errorCode, ...extra });

/** What a runner needs besides its stage: the database, a logger, the settings and the clock. */
export interface RunnerDeps {
  db: Db;
  log: Logger;
  settings: PipelineSettings;
  now: () => Date;
}

export interface StageRunner {
  stage: string;
  /** One poll: expire abandoned rows, claim a batch, process it. Returns the number of rows claimed. */
  pollOnce(): Promise<number>;
}

export function createStageRunner(stage: Stage, deps: RunnerDeps, owner: string): StageRunner {
  const { db, settings } = deps;
  const q = stage.queue;
  const log = deps.log.child({ stage: q.stage });

  async function process(job: Job): Promise<void> {
    let outcome: Outcome;
    try {
      outcome = await stage.run(job);
    } catch (error) {
      if (error instanceof LeaseLostError) {
        log.warn({ key: job.key }, 'lease lost; another worker owns the row now');
        return;
      }
      log.error({ key: job.key, err: error }, 'stage failed unexpectedly');
      outcome = failure('INTERNAL_ERROR', { message: (error as Error).message?.slice(0, 500) });
    }
    if (outcome.ok) return;
    if (outcome.postponeSeconds !== undefined) {
      const waiting = await postponeRow(db, q, job.key, {
        owner,
        reason: outcome.errorCode,
        delaySeconds: outcome.postponeSeconds,
      });
      const fields = { key: job.key, errorCode: outcome.errorCode, waitSeconds: outcome.postponeSeconds };
      if (waiting === null) log.warn(fields, 'postponed, but the lease was lost');
      else log.info({ ...fields, message: outcome.message }, 'postponed; the attempt is not counted');
      return;
    }
    const status = await releaseFailure(db, q, job.key, {
      owner,
      errorCode: outcome.errorCode,
      message: outcome.message,
      retryStatus: outcome.retryStatus,
      permanent: outcome.permanent,
      maxAttempts: settings.maxAttempts,
      backoffBaseSeconds: settings.backoffBaseSeconds,
      backoffMaxSeconds: settings.backoffMaxSeconds,
    });
    const fields = { key: job.key, errorCode: outcome.errorCode, attempts: job.attempts, status };
    if (status === 'ERROR') log.error(fields, 'attempt failed; row is now ERROR');
    else if (status === null) log.warn(fields, 'attempt failed and the lease was lost');
    else log.warn(fields, 'attempt failed; will retry');
  }

  async function pollOnce(): Promise<number> {
    const today = localDate(deps.now(), settings.timeZone);
    const expired = await expireAbandoned(db, q, settings.maxAttempts);
    if (expired > 0) log.error({ rows: expired }, 'rows abandoned on their last attempt marked ERROR');
    const claimed = await claimRows(db, q, {
      owner,
      leaseSeconds: settings.leaseSeconds,
      limit: stage.batchSize,
      maxAttempts: settings.maxAttempts,
      today,
    });
    if (claimed.length === 0) return 0;
    log.debug({ rows: claimed.length }, 'claimed');
    const keys = claimed.map((c) => c.key);
    // Renew the batch's leases while it is worked on, so only a dead worker's rows are ever taken over.
    const renewal = setInterval(
      () => {
        renewLeases(db, q, owner, keys, settings.leaseSeconds).catch((err) =>
          log.warn({ err }, 'lease renewal failed'),
        );
      },
      Math.max(250, (settings.leaseSeconds * 1000) / 3),
    );
    renewal.unref();
    try {
      const queue = claimed.map((c) => ({ ...c, owner, today }));
      const lanes = Array.from({ length: Math.min(stage.concurrency, queue.length) }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) await process(job);
      });
      await Promise.all(lanes);
    } finally {
      clearInterval(renewal);
    }
    return claimed.length;
  }

  return { stage: q.stage, pollOnce };
}
