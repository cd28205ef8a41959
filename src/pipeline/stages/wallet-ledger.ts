// Stage: the wallet providers' ledgers reconcile the day (issue 15, part 3; rules in src/payouts/ledger.ts).
// The driving row is a wallet_ledger_day: one funding account at one provider for one calendar day. Each poll
// first collects: once per date, yesterday's rows are made for every funding account of a configured provider
// (the admin route asks for any day on demand). Each claim reads the account's transactions of the window page
// by page from the offset already staged (each page staged with its new offset in one transaction, guarded by
// our lease, so a crash resumes at the first page not staged), then reconciles the day in one transaction.
// A provider whose connector cannot list account transactions, or that answers that it does not serve them
// (LEDGER_NOT_SUPPORTED: a 404 or 501 from the route), leaves its days COMPLETED with LEDGER_NOT_SUPPORTED,
// so an operator sees why nothing was reconciled instead of a row retried into ERROR every day.
import { isConnectorFailure, LEDGER_NOT_SUPPORTED } from '../../bank/wallet-connector.js';
import { addDays, localDate } from '../../g2p/dates.js';
import { ledgerDay, reconcileLedgerDay, scheduleLedgerDays, stageLedgerPage } from '../../payouts/ledger.js';
import type { StageDeps } from '../deps.js';
import type { QueueSpec } from '../queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../runner.js';

export const walletLedgerQueue: QueueSpec = {
  stage: 'wallet_ledger',
  table: 'wallet_ledger_day',
  key: 'ledger_day_id',
  statusColumn: 'ledger_status',
  pendingStatuses: ['PENDING'],
  attemptsColumn: 'ledger_attempts',
  errorCodeColumn: 'latest_error_code',
  timestampColumn: 'ledger_time_stamp',
  errorMessageColumn: 'latest_error_message',
  eligible: 'true',
};

/** Transactions asked for per page. */
const PAGE_SIZE = 500;
/** Pages per claim, so one huge day cannot hold a worker for ever (the rest on the next claim, at once). */
const MAX_PAGES = 200;

export interface WalletLedgerStage extends Stage {
  /** Makes yesterday's day rows (once per date and process); returns the rows made. */
  collect(): Promise<number>;
}

export function walletLedgerStage(deps: StageDeps): WalletLedgerStage {
  const q = walletLedgerQueue;
  let scheduledFor: string | null = null;

  async function collect(): Promise<number> {
    const codes = deps.wallets?.codes() ?? [];
    if (codes.length === 0) return 0;
    const yesterday = addDays(localDate(deps.now(), deps.settings.timeZone), -1);
    if (scheduledFor === yesterday) return 0;
    const made = await scheduleLedgerDays(deps.db, yesterday, deps.settings.timeZone, codes);
    scheduledFor = yesterday;
    if (made > 0)
      deps.log.info({ stage: q.stage, date: yesterday, days: made }, 'wallet ledger days scheduled');
    return made;
  }

  async function finish(job: Job, code: string | null): Promise<void> {
    expectLease(
      await deps.db.query(
        `UPDATE wallet_ledger_day
            SET ledger_status = 'COMPLETED', ledger_time_stamp = now(), ledger_attempts = 0,
                latest_error_code = $3, latest_error_message = NULL, lease_owner = NULL, lease_expires_at = NULL
          WHERE ledger_day_id = $1::uuid AND lease_owner = $2`,
        [job.key, job.owner, code],
      ),
      q.stage,
    );
  }

  async function run(job: Job): Promise<Outcome> {
    const day = await ledgerDay(deps.db, job.key);
    if (!day) return failure('LEDGER_DAY_NOT_FOUND', { permanent: true });
    const connector = deps.wallets?.get(day.providerCode);
    if (!connector) return failure('WALLET_PROVIDER_NOT_CONFIGURED');
    if (!connector.accountTransactions) {
      await finish(job, LEDGER_NOT_SUPPORTED);
      return { ok: true };
    }

    let offset = day.entriesOffset;
    let complete = false;
    for (let page = 0; page < MAX_PAGES; page++) {
      const got = await connector.accountTransactions(
        day.debitPartyAccount,
        { from: day.windowStart, to: day.windowEnd },
        offset,
        PAGE_SIZE,
      );
      if (isConnectorFailure(got)) {
        if (got.errorCode !== LEDGER_NOT_SUPPORTED) return failure(got.errorCode, { message: got.message });
        await finish(job, LEDGER_NOT_SUPPORTED);
        return { ok: true };
      }
      if (got.items.length > 0)
        await deps.db.transaction(async (tx) => {
          expectLease(
            await tx.query(
              `UPDATE wallet_ledger_day SET entries_offset = entries_offset + $3
                WHERE ledger_day_id = $1::uuid AND lease_owner = $2`,
              [job.key, job.owner, got.items.length],
            ),
            q.stage,
          );
          await stageLedgerPage(tx, day, got.items);
        });
      offset += got.items.length;
      if (got.items.length < PAGE_SIZE) {
        complete = true;
        break;
      }
    }
    if (!complete) {
      // More pages: give the row back due now, not counted as a failure.
      expectLease(
        await deps.db.query(
          `UPDATE wallet_ledger_day SET next_attempt_at = now(), ledger_attempts = 0, lease_owner = NULL,
                  lease_expires_at = NULL
            WHERE ledger_day_id = $1::uuid AND lease_owner = $2`,
          [job.key, job.owner],
        ),
        q.stage,
      );
      return { ok: true };
    }

    // The outcome and the reconciliation commit together; a worker whose lease ran out writes nothing.
    const summary = await deps.db.transaction(async (tx) => {
      expectLease(
        await tx.query(
          `UPDATE wallet_ledger_day
              SET ledger_status = 'COMPLETED', ledger_time_stamp = now(), ledger_attempts = 0,
                  latest_error_code = NULL, latest_error_message = NULL, lease_owner = NULL, lease_expires_at = NULL
            WHERE ledger_day_id = $1::uuid AND lease_owner = $2`,
          [job.key, job.owner],
        ),
        q.stage,
      );
      return reconcileLedgerDay(tx, job.key);
    });
    const log = {
      stage: q.stage,
      walletProvider: day.providerCode,
      date: day.ledgerDate,
      debits: summary.debits,
      confirmed: summary.confirmed,
      errors: summary.errors,
    };
    if (Object.keys(summary.newErrors).length > 0)
      deps.log.warn({ ...log, newErrors: summary.newErrors }, 'wallet ledger contradicts the bridge');
    else deps.log.info(log, 'wallet ledger day reconciled');
    return { ok: true };
  }

  return { queue: q, concurrency: 1, batchSize: deps.settings.batchSize, run, collect };
}
