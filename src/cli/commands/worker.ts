// `worker`: the background stages alone. Run as many as you like side by side against one PostgreSQL: rows
// are claimed with SKIP LOCKED and leases, so no two workers ever process the same row.

import { openDatabase } from '../../app.js';
import { BankConnectorConfigError, createConnectorRegistry } from '../../bank/index.js';
import { createWalletRegistry, type WalletRegistry } from '../../bank/registry.js';
import { ConfigError } from '../../config/index.js';
import type { AppContext } from '../../feature/context.js';
import { createLogger } from '../../logger.js';
import { mapperClientFromConfig } from '../../mapper/index.js';
import { STAGE_NAMES, type StageName, startWorkers } from '../../pipeline/index.js';
import { configOrReport, parseCommandArgs, untilSignal } from '../args.js';
import { boundHeapGrowth } from '../heap.js';

const HELP = `Usage: g2p-bridge worker [--once] [--stages LIST]

Runs the background stages (${STAGE_NAMES.join(', ')}) until SIGINT or SIGTERM, then finishes the rows
it holds and exits. Any number of worker processes may run at once against a PostgreSQL DATABASE_URL; the
embedded database allows one process only (use 'start' there).

  --once          run every stage until nothing is left to do (rows waiting for a retry are not waited for), then exit
  --stages LIST   comma-separated subset of the stages to run

Settings (poll interval, attempts, lease, backoff, batch sizes; bank connectors; mapper URL):
docs/configuration.md. How the stages work: docs/pipeline.md.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { once: { type: 'boolean' }, stages: { type: 'string' } }, HELP);
  if (!parsed) return 0;
  let stages: StageName[] | undefined;
  if (parsed.values.stages !== undefined) {
    const list = parsed.values.stages
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = list.filter((s) => !(STAGE_NAMES as readonly string[]).includes(s));
    if (unknown.length || list.length === 0) {
      process.stderr.write(
        `--stages: unknown stage(s) ${unknown.join(', ')}; stages: ${STAGE_NAMES.join(', ')}\n`,
      );
      return 2;
    }
    stages = list as StageName[];
  }
  const rawEnv = process.env;
  const config = configOrReport(rawEnv);
  if (!config) return 2;
  const log = createLogger(config.LOG_LEVEL, 'g2p-bridge-worker');
  // A long-running process: collect before the heap doubles, not quadruples (decision 038).
  const heapFlag = boundHeapGrowth();
  log.debug({ v8Flag: heapFlag ?? 'left to the node flags' }, 'heap growth between full collections');
  // The worker's clock, handed to everything that stamps or judges time.
  const now = () => new Date();
  // Configuration problems stop the worker here, not in the middle of a batch.
  let connectors: Awaited<ReturnType<typeof createConnectorRegistry>>;
  let wallets: WalletRegistry;
  try {
    // Bank connector modules read their own settings from the environment (ConnectorOptions.env).
    connectors = await createConnectorRegistry({ env: rawEnv, log, now });
    // Wallet providers too: a bad WALLET_<CODE>_* setting stops the worker with the problem named.
    wallets = await createWalletRegistry({ env: rawEnv, log }).catch(async (error) => {
      await connectors.close();
      throw error;
    });
  } catch (error) {
    if (error instanceof BankConnectorConfigError || error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const db = await openDatabase(config);
  if (db.kind === 'pglite') log.warn('embedded database: only this process may use DATA_DIR while it runs');
  const ctx: AppContext = { config, db, log, now, verifier: null };
  const mapper = mapperClientFromConfig(config, log, ctx.now);
  const workers = startWorkers(ctx, { connectors, wallets, mapper, stages, poll: !parsed.values.once });
  try {
    if (parsed.values.once) {
      const done = await workers.runOnce();
      log.info({ claimed: done }, 'idle; exiting');
    } else {
      log.info({ workerId: workers.workerId }, 'worker running');
      const signal = await untilSignal();
      log.info({ signal }, 'stopping: finishing the rows in hand');
      const force = () => process.exit(130);
      process.once('SIGINT', force);
      process.once('SIGTERM', force);
    }
  } finally {
    await workers.stop();
    await connectors.close();
    await wallets.close();
    await db.close();
  }
  return 0;
}
