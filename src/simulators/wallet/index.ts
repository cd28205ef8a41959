// The wallet-provider simulator: a mobile money provider that speaks the GSMA Mobile Money API 1.2
// (disbursements), with its own wallets, disbursement accounts and ledger in schema example_wallet, so the
// bridge's gsma-mmapi connector runs end to end with nothing else installed. `start` mounts it under
// /wallet-provider; `g2p-bridge wallet` runs it alone. See docs/wallet-simulator.md.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Db, migrate } from '../../db/index.js';
import { guardSimulator, type SimulatorAccess } from '../access.js';
import {
  type AccountView,
  type AdminRefusal,
  findAccount,
  fund,
  openDisbursementAccount,
  openWallets,
  setWalletState,
  type WalletInput,
  type WalletState,
} from './accounts.js';
import { adminRoutes } from './admin.js';
import { WalletAuth } from './auth.js';
import { type CallbackView, deliverDueCallbacks, listCallbacks } from './callbacks.js';
import { WalletFaults } from './faults.js';
import type { AccountKey } from './gsma.js';
import { type ProcessedBatch, processNextBatch } from './processor.js';
import { gsmaRoutes } from './routes.js';
import { type WalletSettings, type WalletSimulatorConfig, walletSettings } from './settings.js';

export type { AccountView, WalletInput, WalletState } from './accounts.js';
export type { CallbackView } from './callbacks.js';
export { REFUSAL_STATUSES, type RefusalStatus, type WalletFaultState, WalletFaults } from './faults.js';
export type { WalletSettings, WalletSimulatorConfig } from './settings.js';

export interface WalletSimulatorOptions {
  db: Db;
  log: Logger;
  /** Its settings, from the parsed configuration. */
  config: WalletSimulatorConfig;
  /** The provider's clock (dates of batches, movements, token expiry, callback retries). */
  now?: () => Date;
  /** Accepted as an X-API-Key besides the configured ones: `start`'s key for its own connector. */
  processKey?: string;
  /** Overrides WALLET_SIMULATOR_CALLBACK_API_KEY. */
  callbackApiKey?: string;
  /** Deadline of one callback PUT (default 10 s). */
  callbackTimeoutMs?: number;
}

export interface WalletSimulator {
  readonly settings: WalletSettings;
  readonly faults: WalletFaults;
  readonly auth: WalletAuth;
  /**
   * Mounts the GSMA API under `prefix` (it checks its own credentials: API key or OAuth token) and the admin
   * routes under `prefix`/admin, open or behind the admin role as `access` says (src/simulators/access.ts).
   */
  register(app: FastifyInstance, prefix: string, access?: SimulatorAccess): Promise<void>;
  /** Starts processing and callback delivery on a timer (WALLET_SIMULATOR_PROCESS_INTERVAL_MS). */
  start(): void;
  /** Processes every pending batch now. */
  processNow(): Promise<{ batches: ProcessedBatch[] }>;
  /** Sends every callback due now. */
  deliverCallbacksNow(): Promise<{ delivered: number; failed: number; lost: number }>;
  openWallets(
    wallets: WalletInput[],
  ): Promise<{ ok: true; opened: number; existing: string[] } | AdminRefusal>;
  setWalletState(
    msisdn: string,
    state: WalletState,
  ): Promise<{ ok: true; account: AccountView } | AdminRefusal>;
  openAccount(input: {
    accountId: string;
    currency: string;
    name?: string;
    openingBalance?: string;
  }): Promise<{ ok: true; account: AccountView } | AdminRefusal>;
  fund(accountId: string, amount: string): Promise<{ ok: true; account: AccountView } | AdminRefusal>;
  getAccount(key: AccountKey, value: string): Promise<AccountView | null>;
  callbacks(batchId?: string): Promise<CallbackView[]>;
  /** Stops the timers, cuts waits and in-flight callbacks short, and waits for the current round. */
  stop(): Promise<void>;
}

export async function createWalletSimulator(options: WalletSimulatorOptions): Promise<WalletSimulator> {
  const { db } = options;
  const log = options.log.child({ component: 'wallet-simulator' });
  const now = options.now ?? (() => new Date());
  const settings = walletSettings(options.config);
  await migrate(db, 'example_wallet');
  const faults = new WalletFaults();
  const auth = new WalletAuth(settings, now);
  if (options.processKey) auth.addApiKey(options.processKey);

  for (const account of settings.openingAccounts) {
    if (await findAccount(db, 'accountid', account.accountId)) continue;
    const opened = await openDisbursementAccount(db, account, now());
    if (!opened.ok) throw new Error(`WALLET_SIMULATOR_ACCOUNTS: ${account.accountId}: ${opened.message}`);
  }

  let stopper = new AbortController();
  // One round at a time: timers, kicks and admin calls queue behind each other.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const run = queue.then(job, job);
    queue = run.catch(() => {});
    return run;
  };
  const processAll = async () => {
    const batches: ProcessedBatch[] = [];
    for (;;) {
      if (stopper.signal.aborted) break;
      const done = await processNextBatch(db, now());
      if (!done) break;
      log.info(done, 'wallet simulator: batch processed');
      batches.push(done);
    }
    return { batches };
  };
  const callbackOptions = {
    attempts: settings.callbackAttempts,
    backoffMs: settings.callbackBackoffMs,
    apiKey: options.callbackApiKey ?? settings.callbackApiKey,
    timeoutMs: options.callbackTimeoutMs ?? 10_000,
  };
  const deliver = () => deliverDueCallbacks(db, faults, callbackOptions, log, now, stopper.signal);

  let timer: NodeJS.Timeout | null = null;
  let running = false;
  const tick = async () => {
    timer = null;
    try {
      await serial(processAll);
      await serial(deliver);
    } catch (error) {
      log.error({ err: error }, 'wallet simulator: background round failed');
    }
    schedule(settings.processIntervalMs);
  };
  const schedule = (ms: number) => {
    if (!running || timer || ms <= 0) return;
    timer = setTimeout(tick, ms);
    timer.unref();
  };

  const sim: WalletSimulator = {
    settings,
    faults,
    auth,
    async register(app, prefix, access = { open: true, why: 'loopback' }) {
      await app.register(
        async (scope) => {
          scope.addHook('preClose', async () => faults.wakeAll());
          await scope.register(
            async (admin) => {
              guardSimulator(admin, access, (reply, status, code, message) =>
                reply.code(status).send({ error: code, message }),
              );
              await adminRoutes({
                db,
                faults,
                now,
                processNow: () => sim.processNow(),
                deliverCallbacksNow: () => sim.deliverCallbacksNow(),
              })(admin);
            },
            { prefix: '/admin' },
          );
          await scope.register(
            gsmaRoutes({
              db,
              log,
              auth,
              faults,
              now,
              kick: () => {
                if (settings.processIntervalMs <= 0) return;
                if (timer) clearTimeout(timer);
                timer = null;
                schedule(1);
              },
            }),
          );
        },
        { prefix },
      );
    },
    start() {
      if (running) return;
      running = true;
      stopper = new AbortController();
      schedule(Math.min(settings.processIntervalMs, 1));
    },
    processNow: () => serial(processAll),
    deliverCallbacksNow: () => serial(deliver),
    openWallets: (wallets) => openWallets(db, wallets),
    setWalletState: (msisdn, state) => setWalletState(db, msisdn, state),
    openAccount: (input) => openDisbursementAccount(db, input, now()),
    fund: (accountId, amount) => fund(db, accountId, amount, now()),
    getAccount: (key, value) => findAccount(db, key, value),
    callbacks: (batchId) => listCallbacks(db, batchId),
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = null;
      stopper.abort();
      faults.wakeAll();
      await queue;
    },
  };
  return sim;
}
