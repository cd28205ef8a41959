// The wallet connector: the seam through which the bridge pays mobile wallets at one wallet provider (issue 15).
// A provider is named in WALLET_PROVIDERS with a builtin (builtin:gsma-mmapi) or an operator's module, loaded
// like a bank connector (src/bank/registry.ts). Results are values, never throws: a FAILURE is retried later
// with backoff by the stage that met it; a REFUSED batch ends every payment of it with the provider's code.
import type { Logger } from 'pino';
import type { ConnectorFailure } from './connector.js';

/** One payment to a wallet. Amounts are exact decimal strings ("1500.00"), never numbers. */
export interface WalletPayment {
  /** Our reference, carried end to end (GSMA requestingOrganisationTransactionReference). */
  disbursementId: string;
  /** The beneficiary's wallet number (GSMA creditParty msisdn). */
  msisdn: string;
  amount: string;
  currency: string;
  narrative: string;
}

export interface WalletBatch {
  /**
   * The client correlation id: a UUID derived from the bank batch id and the provider, the same on every
   * retry. The connector sends it so the provider recognises a re-sent batch, and looks it up before sending.
   */
  correlationId: string;
  /** The program's funding account at the provider, as a GSMA account id (`accountid@2999`). */
  debitPartyAccount: string;
  title: string;
  payments: WalletPayment[];
}

/** Where the provider answers about a batch: its request-state id and (once known) its batch id. */
export interface WalletBatchRef {
  correlationId: string;
  serverCorrelationId: string | null;
  providerBatchId: string | null;
}

/**
 * ACCEPTED: the provider took the batch (`adopted`: it had it already, from an earlier attempt whose answer
 * was lost; nothing was sent twice). REFUSED: it will never take it (a GSMA business or validation error);
 * every payment of it ends rejected with that code.
 */
export type SendBatchResult =
  | {
      status: 'ACCEPTED';
      serverCorrelationId: string | null;
      providerBatchId: string | null;
      adopted: boolean;
    }
  | { status: 'REFUSED'; errorCategory: string; errorCode: string }
  | ConnectorFailure;

export type BatchStateResult =
  | { status: 'PENDING' }
  /** The provider has finished the batch: its completions and rejections can be read. */
  | { status: 'COMPLETED'; providerBatchId: string }
  /** The whole request failed at the provider: every payment of it is rejected with this error. */
  | { status: 'FAILED'; errorCategory: string; errorCode: string }
  | ConnectorFailure;

/** One transaction the provider reports paid. */
export interface WalletCompletion {
  /** Our reference as the provider echoes it; null when it did not. */
  disbursementId: string | null;
  providerTransactionReference: string;
  /** Credit party msisdn as the provider reports it (null when it names none). */
  msisdn: string | null;
  /** Exact amount and currency paid, as the provider states them for this transaction. */
  amount: string | null;
  currency: string | null;
}

/** One transaction the provider reports not paid. */
export interface WalletRejection {
  disbursementId: string | null;
  providerTransactionReference: string | null;
  errorCategory: string | null;
  errorCode: string;
}

export interface OutcomePage<T> {
  items: T[];
  /** The provider's X-Records-Available-Count when it sends one. */
  available: number | null;
}

/**
 * One posted transaction of a funding account, as the provider's ledger lists it (GSMA
 * `/accounts/{id}/transactions`): the independent source the day's wallet payments are reconciled against.
 */
export interface LedgerTransaction {
  providerTransactionReference: string;
  /** Our reference as the ledger carries it (requestingOrganisationTransactionReference); null when none. */
  disbursementId: string | null;
  /** DEBIT: money left the account asked about; CREDIT: money came in; null when the parties do not say. */
  direction: 'DEBIT' | 'CREDIT' | null;
  type: string | null;
  /** GSMA transactionStatus ("completed" for posted money); null when the provider names none. */
  status: string | null;
  /** Exact decimal string as the provider wrote it; null when it wrote none (matches no amount). */
  amount: string | null;
  currency: string | null;
  /** When the provider posted it (creationDate), ISO 8601; null when absent or unreadable. */
  postedAt: string | null;
}

/** The window of one ledger read: [from, to), instants. */
export interface LedgerWindow {
  from: Date;
  to: Date;
}

export type BalanceResult =
  | { status: 'SUCCESS'; available: string; currency: string; accountStatus: string | null }
  | ConnectorFailure;

export interface WalletConnector {
  readonly providerCode: string;
  /** Seconds between two polls of a batch that has no outcome yet. */
  readonly pollSeconds: number;
  /** Our public base URL for this provider's callbacks; null or absent: no callbacks, outcomes are polled. */
  readonly callbackBaseUrl?: string | null;
  /** The funding account's balance (available, else current). GSMA has no reservation: nothing is held. */
  balance(debitPartyAccount: string): Promise<BalanceResult>;
  /**
   * Sends one batch (POST /batchtransactions). Idempotent by `batch.correlationId`: before re-sending, the
   * connector asks the provider whether a request under that id exists and adopts it instead.
   * `callbackUrl`: where the provider should PUT its result (null: we poll).
   */
  sendBatch(batch: WalletBatch, callbackUrl: string | null): Promise<SendBatchResult>;
  batchState(ref: WalletBatchRef): Promise<BatchStateResult>;
  completions(
    providerBatchId: string,
    offset: number,
    limit: number,
  ): Promise<OutcomePage<WalletCompletion> | ConnectorFailure>;
  rejections(
    providerBatchId: string,
    offset: number,
    limit: number,
  ): Promise<OutcomePage<WalletRejection> | ConnectorFailure>;
  /**
   * Optional: one page of the posted transactions of `account` (a GSMA account id) within `window`, oldest
   * first. Read-only and repeatable: the same window and offset give the same page while no new transaction
   * is posted in it. A connector without it leaves its channels without the daily ledger reconciliation;
   * so does one that answers LEDGER_NOT_SUPPORTED (the provider does not serve the route).
   */
  accountTransactions?(
    account: string,
    window: LedgerWindow,
    offset: number,
    limit: number,
  ): Promise<OutcomePage<LedgerTransaction> | ConnectorFailure>;
  close?(): Promise<void>;
}

/** What a wallet connector module receives when it is built. */
export interface WalletConnectorOptions {
  providerCode: string;
  /** The process environment: a connector reads its own settings (WALLET_<CODE>_URL ...) from it. */
  env: Record<string, string | undefined>;
  log: Logger;
}

export type WalletConnectorFactory = (
  options: WalletConnectorOptions,
) => WalletConnector | Promise<WalletConnector>;

/** Where the stages get a provider's connector (the registry built from WALLET_PROVIDERS, or a test's fake). */
export interface WalletConnectorSource {
  get(providerCode: string): WalletConnector | undefined;
  codes(): string[];
}

/**
 * The failure code of accountTransactions when the provider does not serve account transactions at all: the
 * ledger stage ends the day COMPLETED with this code instead of retrying it into ERROR every day.
 */
export const LEDGER_NOT_SUPPORTED = 'LEDGER_NOT_SUPPORTED';

export const isConnectorFailure = (v: unknown): v is ConnectorFailure =>
  typeof v === 'object' && v !== null && (v as ConnectorFailure).status === 'FAILURE';
