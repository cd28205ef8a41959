// The background workers: every stage polls its driving table on its own loop. Any number of processes may
// run them side by side on PostgreSQL: claims use SKIP LOCKED and leases, outcomes are guarded by the lease.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { purgeAudit } from '../audit/index.js';
import { createConnectorRegistry, createWalletRegistry } from '../bank/registry.js';
import type { WalletConnectorSource } from '../bank/wallet-connector.js';
import type { Queryable } from '../db/index.js';
import type { AppContext } from '../feature/context.js';
import { purgeStoredAnswers } from '../g2p/idempotency.js';
import { loadBridgeKeys } from '../g2p/keys.js';
import type { SigningKey } from '../g2p/signing.js';
import { mapperClientFromConfig } from '../mapper/index.js';
import type { MapperClient } from '../mapper/types.js';
import { purgeAbandonedUploads } from '../statements/upload.js';
import type { ConnectorSource, StageDeps } from './deps.js';
import type { QueueSpec } from './queue.js';
import { createStageRunner, type Stage, type StageRunner } from './runner.js';
import { pipelineSettings } from './settings.js';
import { requeueErrored } from './sql/requeue.js';
import { bankFilesQueue, bankFilesStage } from './stages/bank-files.js';
import { blockFundsQueue, blockFundsStage } from './stages/block-funds.js';
import { callbacksQueue, callbacksRunner, callbacksStage } from './stages/callbacks.js';
import { checkFundsQueue, checkFundsStage } from './stages/check-funds.js';
import { disburseQueue, disburseStage } from './stages/disburse.js';
import { mapperResolutionQueue, mapperResolutionStage } from './stages/mapper-resolution.js';
import { statementQueue, statementStage } from './stages/statements.js';
import { walletLedgerQueue, walletLedgerStage } from './stages/wallet-ledger.js';
import { walletOutcomesQueue, walletOutcomesStage } from './stages/wallet-outcomes.js';

export { localDate } from '../g2p/dates.js';
export type { ConnectorSource, StageDeps } from './deps.js';
export type { QueueSpec } from './queue.js';
export { LeaseLostError, type Outcome, type Stage } from './runner.js';
export { type PipelineSettings, pipelineSettings } from './settings.js';
export { buildPayments } from './stages/disburse.js';

export const STAGE_NAMES = [
  'mapper_resolution',
  'check_funds',
  'block_funds',
  'disburse',
  'bank_files',
  'statement',
  'callbacks',
  'wallet_outcomes',
  'wallet_ledger',
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Each stage's driving table, for operators' tools (backlog, ERROR rows, requeue). */
export const STAGE_QUEUES: Record<StageName, QueueSpec> = {
  mapper_resolution: mapperResolutionQueue,
  check_funds: checkFundsQueue,
  block_funds: blockFundsQueue,
  disburse: disburseQueue,
  bank_files: bankFilesQueue,
  statement: statementQueue,
  callbacks: callbacksQueue,
  wallet_outcomes: walletOutcomesQueue,
  wallet_ledger: walletLedgerQueue,
};

/** Requeues ERROR rows of one stage by key (see docs/pipeline.md, "Operators and ERROR rows"). */
export function requeue(db: Queryable, stage: StageName, keys: readonly string[]): Promise<string[]> {
  return requeueErrored(db, STAGE_QUEUES[stage], keys);
}

export interface WorkerDeps {
  /** Bank connectors by sponsor bank code; default: the registry built from BANK_CONNECTORS. */
  connectors?: ConnectorSource;
  /** Wallet providers' connectors; default: the registry built from WALLET_PROVIDERS (src/payouts). */
  wallets?: WalletConnectorSource;
  /** The mapper client; default: built from the parsed configuration (MAPPER_URL and friends). */
  mapper?: MapperClient;
  /** false: no background polling, drive the stages with runOnce() (tests). Default true. */
  poll?: boolean;
  /** Only these stages (default all). */
  stages?: readonly StageName[];
  /** The lease owner name; default host:pid:random. */
  workerId?: string;
  /**
   * The raw environment the default bank and wallet connectors read their own settings from (a connector
   * module's public contract, ConnectorOptions.env in src/bank/connector.ts); default process.env.
   */
  rawEnv?: Record<string, string | undefined>;
  /** The bridge's signing key for callbacks; default: the keys `g2p-bridge keys` stored (src/g2p/keys.ts). */
  signingKey?: () => Promise<SigningKey | null>;
}

/**
 * The bridge's signing key, read when a callback first needs it and kept once found; while `g2p-bridge keys`
 * has not made one, it is looked for again on the next callback (and callbacks go unsigned meanwhile).
 */
function bridgeSigningKey(ctx: AppContext): () => Promise<SigningKey | null> {
  let found: SigningKey | null = null;
  return async () => {
    if (!found) found = (await loadBridgeKeys(ctx.config, ctx.db))?.signing ?? null;
    return found;
  };
}

export interface Workers {
  readonly workerId: string;
  /** Graceful: stops polling, lets in-flight work finish (its outcome is written), then resolves. */
  stop(): Promise<void>;
  /** Runs every stage until none finds work (rows waiting for a backoff are not waited for). */
  runOnce(): Promise<Record<StageName, number>>;
}

export function buildStages(deps: StageDeps): Record<StageName, Stage> {
  return {
    mapper_resolution: mapperResolutionStage(deps),
    check_funds: checkFundsStage(deps),
    block_funds: blockFundsStage(deps),
    disburse: disburseStage(deps),
    bank_files: bankFilesStage(deps),
    statement: statementStage(deps),
    callbacks: callbacksStage(deps),
    wallet_outcomes: walletOutcomesStage(deps),
    wallet_ledger: walletLedgerStage(deps),
  };
}

export function startWorkers(ctx: AppContext, deps: WorkerDeps = {}): Workers {
  const log = ctx.log.child({ component: 'pipeline' });
  const rawEnv = deps.rawEnv ?? process.env;
  const settings = pipelineSettings(ctx.config);
  const workerId = deps.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const cleanup: Array<() => Promise<void>> = [];

  let connectors = deps.connectors;
  if (!connectors) {
    // Built lazily so startWorkers stays synchronous; a bad BANK_CONNECTORS shows on the rows it affects
    // (callers that want to fail at start build the registry themselves and pass it in, as `worker` does).
    const registry = createConnectorRegistry({ env: rawEnv, log, now: ctx.now });
    registry.catch((err) => log.error({ err }, 'bank connectors could not be loaded'));
    connectors = { getBankConnector: async (code) => (await registry).getBankConnector(code) };
    cleanup.push(async () => {
      await (await registry.catch(() => null))?.close();
    });
  }
  let wallets = deps.wallets;
  if (!wallets && rawEnv.WALLET_PROVIDERS) {
    // Like the bank connectors: built lazily; until loaded (or when loading failed) a wallet part waits.
    let loaded: WalletConnectorSource | null = null;
    const registry = createWalletRegistry({ env: rawEnv, log });
    registry
      .then((r) => (loaded = r))
      .catch((err) => log.error({ err }, 'wallet connectors could not be loaded'));
    wallets = { get: (code) => loaded?.get(code), codes: () => loaded?.codes() ?? [] };
    cleanup.push(async () => {
      await (await registry.catch(() => null))?.close();
    });
  }
  const mapper = deps.mapper ?? mapperClientFromConfig(ctx.config, log, ctx.now);

  const stageDeps: StageDeps = {
    db: ctx.db,
    log,
    settings,
    now: ctx.now,
    connectors,
    wallets,
    mapper,
    g2pSenders: ctx.config.G2P_CONNECT_SENDERS,
    signingKey: deps.signingKey ?? bridgeSigningKey(ctx),
  };
  const stages = buildStages(stageDeps);
  const names = deps.stages ?? STAGE_NAMES;
  const runners: StageRunner[] = names.map((n) => {
    const runner =
      n === 'callbacks'
        ? callbacksRunner(stages[n], stageDeps, workerId)
        : createStageRunner(stages[n], stageDeps, workerId);
    const collect = (stages[n] as Partial<ReturnType<typeof bankFilesStage>>).collect;
    if (!collect) return runner;
    // Work found before each claim: the banks' inbound folders (./stages/bank-files.ts), yesterday's wallet
    // ledger days (./stages/wallet-ledger.ts). The log line says which.
    const what =
      n === 'bank_files'
        ? 'collecting inbound files'
        : n === 'wallet_ledger'
          ? 'scheduling wallet ledger days'
          : 'collecting work';
    return {
      stage: runner.stage,
      async pollOnce() {
        await collect().catch((err) =>
          log.error({ err, stage: runner.stage }, `${what} failed (stage ${runner.stage})`),
        );
        return runner.pollOnce();
      },
    };
  });

  let stopping = false;
  const wakers = new Set<() => void>();
  // A sleep begun after stop() (a loop that was mid-query when it came) must not wait out its interval.
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (stopping) return resolve();
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });

  async function loop(runner: StageRunner): Promise<void> {
    while (!stopping) {
      let claimed = 0;
      try {
        claimed = await runner.pollOnce();
      } catch (err) {
        log.error({ err, stage: runner.stage }, 'poll failed; retrying after the interval');
      }
      // A full batch means more may be waiting: poll again at once.
      if (claimed === 0 && !stopping) await sleep(settings.pollIntervalSeconds * 1000);
    }
  }

  // Housekeeping: stored idempotent answers and audit rows past their retention are removed (hourly; cheap
  // with the indexes on their ages).
  async function housekeeping(): Promise<void> {
    while (!stopping) {
      try {
        const purged = await purgeStoredAnswers(ctx.db, ctx.config.IDEMPOTENCY_RETENTION_DAYS);
        if (purged > 0) log.info({ purged }, 'old idempotent answers purged');
      } catch (err) {
        log.error({ err }, 'purging old idempotent answers failed');
      }
      try {
        const purged = await purgeAudit(ctx.db, ctx.config.AUDIT_RETENTION_DAYS);
        if (purged > 0) log.info({ purged }, 'audit rows past AUDIT_RETENTION_DAYS purged');
      } catch (err) {
        log.error({ err }, 'purging old audit rows failed');
      }
      try {
        const purged = await purgeAbandonedUploads(ctx.db);
        if (purged > 0) log.info({ purged }, 'staged pieces of abandoned statement uploads purged');
      } catch (err) {
        log.error({ err }, 'purging abandoned statement uploads failed');
      }
      await sleep(3600_000);
    }
  }

  const loops = deps.poll === false ? [] : [...runners.map((r) => loop(r)), housekeeping()];
  if (loops.length > 0) log.info({ workerId, stages: names }, 'workers started');

  return {
    workerId,
    async stop() {
      stopping = true;
      for (const wake of [...wakers]) wake();
      await Promise.all(loops);
      for (const fn of cleanup) await fn();
      if (loops.length > 0) log.info({ workerId }, 'workers stopped');
    },
    async runOnce() {
      const totals = Object.fromEntries(STAGE_NAMES.map((n) => [n, 0])) as Record<StageName, number>;
      for (;;) {
        let claimed = 0;
        for (const r of runners) {
          const n = await r.pollOnce();
          totals[r.stage as StageName] += n;
          claimed += n;
        }
        if (claimed === 0) return totals;
      }
    },
  };
}
