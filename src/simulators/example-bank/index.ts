// The example bank: a simulated sponsor bank with its own ledger, so the bridge runs end to end with
// nothing else installed. `start` mounts it under /example-bank on the bridge's port; `g2p-bridge bank`
// runs it alone. See docs/bank-connectors.md.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { type Db, migrate } from '../../db/index.js';
import { guardSimulator, type SimulatorAccess } from '../access.js';
import {
  type AccountView,
  deposit,
  listAccounts,
  type OpenAccountInput,
  openAccount,
  readAccount,
} from './accounts.js';
import type { Refusal } from './common.js';
import { Faults } from './faults.js';
import { emptyRound, type ProcessRound, processRound } from './processor.js';
import { registerRoutes } from './routes.js';
import { type ExampleBankConfig, type ExampleBankSettings, exampleBankSettings } from './settings.js';
import {
  type DeliveryResult,
  deliverStatements,
  type GeneratedStatement,
  generateStatements,
  httpUploader,
  type StatementUploader,
} from './statements.js';

export type { AccountView } from './accounts.js';
export { FAULT_MODES, FAULT_OPERATIONS, type FaultMode, type FaultOperation, Faults } from './faults.js';
export type { ExampleBankSettings } from './settings.js';
export { contentTypeOf, type StatementFormat, uploadRouteOf } from './statements.js';

export interface ExampleBankOptions {
  db: Db;
  log: Logger;
  /** Its settings, from the parsed configuration. */
  config: ExampleBankConfig;
  /** Hands a statement to the bridge in process (under `start`); else it is uploaded over HTTP. */
  uploadStatement?: StatementUploader;
  /** The bank's clock (business day of entries and statements). */
  now?: () => Date;
}

export interface ProcessResult extends ProcessRound {
  rounds: number;
  statements: StatementResult | null;
}

export interface StatementResult extends DeliveryResult {
  generated: GeneratedStatement[];
}

export interface ExampleBank {
  readonly settings: ExampleBankSettings;
  readonly faults: Faults;
  /**
   * Mounts the bank's routes under `prefix`, open to anyone or behind the admin role as `access` says
   * (src/simulators/access.ts; default open, for a process on loopback).
   */
  register(app: FastifyInstance, prefix: string, access?: SimulatorAccess): Promise<void>;
  /** Starts the processor and statement timers (per EXAMPLE_BANK_*_INTERVAL_MS). */
  start(): void;
  /** Processes every accepted payment now; then, if so configured, writes and delivers statements. */
  processNow(): Promise<ProcessResult>;
  /** Writes statements of unreported entries (one account, or every statement account) and delivers them. */
  deliverStatementNow(accountNumber?: string): Promise<StatementResult>;
  openAccount(input: OpenAccountInput): Promise<{ ok: true; account: AccountView } | Refusal>;
  deposit(accountNumber: string, amount: string): Promise<{ ok: true; account: AccountView } | Refusal>;
  getAccount(accountNumber: string): Promise<AccountView | null>;
  listAccounts(): Promise<AccountView[]>;
  stop(): Promise<void>;
}

export async function createExampleBank(options: ExampleBankOptions): Promise<ExampleBank> {
  const { db } = options;
  const log = options.log.child({ component: 'example-bank' });
  const now = options.now ?? (() => new Date());
  const settings = exampleBankSettings(options.config);
  const faults = new Faults();
  await migrate(db, 'example_bank');

  for (const account of settings.openingAccounts) {
    if (await readAccount(db, account.accountNumber)) continue;
    const opened = await openAccount(
      db,
      {
        accountNumber: account.accountNumber,
        currency: account.currency,
        openingBalance: account.openingBalance,
        statementsEnabled: true,
      },
      now(),
    );
    if (!opened.ok && opened.errorCode !== 'ACCOUNT_EXISTS')
      throw new Error(`EXAMPLE_BANK_ACCOUNTS: ${account.accountNumber}: ${opened.message}`);
  }

  const upload: StatementUploader | null = !settings.deliverStatements
    ? null
    : (options.uploadStatement ?? httpUploader(settings.bridgeUrl, settings.bridgeToken));

  // One job at a time: timers and admin calls queue behind each other.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(job: () => Promise<T>): Promise<T> => {
    const run = queue.then(job, job);
    queue = run.catch(() => {});
    return run;
  };

  const statementsFor = async (accountNumber?: string, fullOnly = false): Promise<StatementResult> => {
    const generated = await generateStatements(db, {
      accountNumber,
      maxEntries: settings.statementMaxEntries,
      now: now(),
      defaults: settings.statementDefaults,
      fullOnly,
    });
    // While posting, deliver only when something was written (a failed delivery is retried then, or at the end).
    const delivery =
      upload && (!fullOnly || generated.length > 0)
        ? await deliverStatements(db, upload, faults, log, accountNumber)
        : { delivered: 0, failed: 0, pending: 0 };
    return { generated, ...delivery };
  };

  const processAll = async (): Promise<ProcessResult> => {
    const total: ProcessResult = { ...emptyRound(), rounds: 0, statements: null };
    const accounts = new Set<string>();
    const merged: StatementResult = { generated: [], delivered: 0, failed: 0, pending: 0 };
    const statementsOf = async (touched: Iterable<string>, fullOnly: boolean) => {
      for (const account of touched) {
        const r = await statementsFor(account, fullOnly);
        merged.generated.push(...r.generated);
        merged.delivered += r.delivered;
        merged.failed += r.failed;
        // Pending is what is left after the last attempt: the final pass's figure replaces earlier ones.
        if (!fullOnly) merged.pending += r.pending;
      }
    };
    for (;;) {
      const round = await processRound(db, {
        bankCode: settings.bankCode,
        reversalRate: settings.reversalRate,
        seed: settings.seed,
        batchSize: settings.processBatchSize,
        now: now(),
      });
      if (round.processed === 0) break;
      total.rounds++;
      total.processed += round.processed;
      total.credited += round.credited;
      total.paidOut += round.paidOut;
      total.reversed += round.reversed;
      total.batchesCompleted += round.batchesCompleted;
      for (const a of round.fundingAccounts) accounts.add(a);
      if (round.processed < settings.processBatchSize) break;
      // A backlog takes many rounds: every full statement is written and delivered as soon as its entries
      // are posted, so that the bridge reconciles while the bank still posts (not all of it at the end).
      if (settings.statementAfterProcessing) await statementsOf(round.fundingAccounts, true);
    }
    total.fundingAccounts = [...accounts].sort();
    if (total.processed > 0) {
      log.info(
        {
          processed: total.processed,
          credited: total.credited,
          paidOut: total.paidOut,
          reversed: total.reversed,
          batchesCompleted: total.batchesCompleted,
        },
        'example bank: payments processed',
      );
    }
    if (settings.statementAfterProcessing && accounts.size > 0) {
      await statementsOf(accounts, false);
      total.statements = merged;
    }
    return total;
  };

  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;
  const every = (ms: number, name: string, job: () => Promise<unknown>) => {
    if (ms <= 0) return;
    const tick = () => {
      const timer = setTimeout(async () => {
        try {
          await job();
        } catch (error) {
          log.error({ err: error, job: name }, 'example bank: background job failed');
        }
        if (!stopped) tick();
      }, ms);
      timer.unref();
      timers.set(name, timer);
    };
    tick();
  };

  const bank: ExampleBank = {
    settings,
    faults,
    async register(app, prefix, access = { open: true, why: 'loopback' }) {
      await app.register(
        async (scope) => {
          guardSimulator(scope, access, (reply, status, code, message) =>
            reply.code(status).send({ status: 'FAILURE', error_code: code, message }),
          );
          await registerRoutes(scope, '', {
            db,
            log,
            faults,
            now,
            processNow: () => bank.processNow(),
            deliverStatementNow: (account) => bank.deliverStatementNow(account),
          });
        },
        { prefix },
      );
    },
    start() {
      if (timers.size > 0) return; // already running
      stopped = false;
      every(settings.processIntervalMs, 'process', () => bank.processNow());
      every(settings.statementIntervalMs, 'statements', () => bank.deliverStatementNow());
    },
    processNow: () => serial(processAll),
    deliverStatementNow: (accountNumber) => serial(() => statementsFor(accountNumber)),
    openAccount: (input) => openAccount(db, input, now()),
    deposit: (accountNumber, amount) => deposit(db, accountNumber, amount, now()),
    getAccount: (accountNumber) => readAccount(db, accountNumber),
    listAccounts: () => listAccounts(db),
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t);
      timers.clear();
      faults.wakeAll();
      await queue;
    },
  };
  return bank;
}
