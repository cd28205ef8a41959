import type { Config } from '../config/index.js';

/** The knobs of the stage runner, in seconds (see docs/pipeline.md). */
export interface PipelineSettings {
  pollIntervalSeconds: number;
  maxAttempts: number;
  leaseSeconds: number;
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** Rows one stage claims per poll (processed concurrently, up to the stage's own concurrency). */
  batchSize: number;
  /** Statements claimed per poll (each is reconciled on its own, one after the other). */
  statementBatchSize: number;
  /** Statement entries reconciled per transaction (a large statement is applied in chunks of this many). */
  statementChunkEntries: number;
  timeZone: string;
}

type PipelineConfig = Pick<
  Config,
  | 'WORKER_POLL_INTERVAL_SECONDS'
  | 'STAGE_MAX_ATTEMPTS'
  | 'LEASE_SECONDS'
  | 'RETRY_BACKOFF_BASE_SECONDS'
  | 'RETRY_BACKOFF_MAX_SECONDS'
  | 'WORKER_BATCH_SIZE'
  | 'STATEMENT_BATCH_SIZE'
  | 'STATEMENT_CHUNK_ENTRIES'
  | 'TIME_ZONE'
>;

export function pipelineSettings(config: PipelineConfig): PipelineSettings {
  return {
    pollIntervalSeconds: config.WORKER_POLL_INTERVAL_SECONDS,
    maxAttempts: config.STAGE_MAX_ATTEMPTS,
    leaseSeconds: config.LEASE_SECONDS,
    backoffBaseSeconds: config.RETRY_BACKOFF_BASE_SECONDS,
    backoffMaxSeconds: config.RETRY_BACKOFF_MAX_SECONDS,
    batchSize: config.WORKER_BATCH_SIZE,
    statementBatchSize: config.STATEMENT_BATCH_SIZE,
    statementChunkEntries: config.STATEMENT_CHUNK_ENTRIES,
    timeZone: config.TIME_ZONE,
  };
}
