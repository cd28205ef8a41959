// The bank connector: the one seam through which the bridge reaches any sponsor bank. A bank integrator
// implements this interface in its own module and names it in BANK_CONNECTORS; see docs/bank-connectors.md.
import type { Logger } from 'pino';
import type { CamtEntry, CamtTransaction } from '../camt/index.js';

/** A failure the bridge records on the driving row and retries later (timeouts, refusals, HTTP 5xx, bad answers). */
export interface ConnectorFailure {
  status: 'FAILURE';
  /** Short stable code, e.g. BANK_TIMEOUT, BANK_UNAVAILABLE, BANK_HTTP_503, BANK_BAD_RESPONSE, or the bank's own. */
  errorCode: string;
  message?: string;
}

export type CheckFundsResult =
  | { status: 'FUNDS_AVAILABLE' }
  | { status: 'FUNDS_NOT_AVAILABLE' }
  | ConnectorFailure;

export type BlockFundsResult = { status: 'SUCCESS'; blockReference: string } | ConnectorFailure;

/** One payment of an acknowledged batch that the bank will not pay, with the bank's own code. */
export interface PaymentRefusal {
  disbursementId: string;
  /** Short stable code, e.g. INVALID_PAYMENT_REFERENCE, AMOUNT_TOO_LARGE, BLOCK_EXCEEDED. */
  errorCode: string;
}

/**
 * SUCCESS: the bank took the batch. `refused` lists the payments it took out of it (each with its code); every
 * other payment of the batch goes on to be paid. A retried batch must be answered with the same refusals.
 * FAILURE: nothing of the batch was taken; the bridge retries the whole batch later.
 */
export type InitiatePaymentResult = { status: 'SUCCESS'; refused?: PaymentRefusal[] } | ConnectorFailure;

/**
 * What a bank can carry, declared by its connector so that the bridge refuses an item at create_disbursements
 * (per item) instead of shipping a payment that would come back refused, or that no statement could report.
 * A connector that declares nothing gets DEFAULT_CONNECTOR_LIMITS (src/bank/limits.ts).
 */
export interface ConnectorLimits {
  /** Longest payment reference (the disbursement id) the bank carries end to end; e.g. 35 (ISO 20022 Max35Text). */
  maxReferenceLength: number;
  /** Characters the bank takes in a reference: the whole id must match (e.g. /^[A-Za-z0-9.:/-]+$/). */
  referencePattern: RegExp;
  /**
   * Most digits of an amount written with its currency's decimals; 14 for MT940's 15-character amount field
   * (digits and the decimal comma), i.e. at most 999,999,999,999.99 in a 2-decimal currency.
   */
  maxAmountDigits: number;
}

export type BeneficiaryAccountType = 'BANK_ACCOUNT' | 'MOBILE_WALLET' | 'EMAIL_WALLET';

/** One payment of a bank batch. Amounts are exact decimal strings in the currency's minor units ("1500.00"). */
export interface Payment {
  disbursementId: string;
  remittingAccount: string;
  remittingAccountCurrency: string;
  paymentAmount: string;
  fundsBlockedReferenceNumber: string;
  beneficiaryId: string;
  beneficiaryName: string;
  beneficiaryAccount: string | null;
  beneficiaryAccountCurrency: string;
  beneficiaryAccountType: BeneficiaryAccountType;
  beneficiaryBankCode: string | null;
  beneficiaryBranchCode: string | null;
  beneficiaryMobileWalletProvider: string | null;
  beneficiaryPhoneNo: string | null;
  beneficiaryEmail: string | null;
  beneficiaryEmailWalletProvider: string | null;
  disbursementNarrative: string;
  benefitProgramMnemonic: string;
  cycleCodeMnemonic: string;
  /** YYYY-MM-DD */
  paymentDate: string;
}

export interface BankConnector {
  readonly bankCode: string;
  /** The bank's limits; each field left out takes its default (DEFAULT_CONNECTOR_LIMITS). */
  readonly limits?: Partial<ConnectorLimits>;
  checkFunds(account: string, currency: string, amount: string): Promise<CheckFundsResult>;
  /**
   * Blocks the whole envelope total. `idempotencyKey` (the envelope id) lets the bank answer a retried call
   * with the block it already placed instead of blocking twice.
   */
  blockFunds(
    account: string,
    currency: string,
    amount: string,
    idempotencyKey: string,
  ): Promise<BlockFundsResult>;
  /**
   * Hands one bank batch to the bank. Only an acknowledgement: the outcome arrives on the statement.
   * `batchId` is an idempotency key: the same batch sent twice (after a crash) must be paid once, and answered
   * with the same `refused` list. A payment the bank will not take is refused on its own (SUCCESS with
   * `refused`), never by failing the whole batch: a FAILURE is retried, so one bad payment would hold back
   * every other payment of the batch.
   */
  initiatePayment(batchId: string, payments: Payment[]): Promise<InitiatePaymentResult>;
  /** Where this bank puts our reference on its statement: usually the :61: customer reference. */
  retrieveDisbursementId(
    bankReference: string | null,
    customerReference: string,
    narratives: string[],
  ): string | null;
  retrieveBeneficiaryName(narratives: string[]): string | null;
  retrieveReversalReason(narratives: string[]): string | null;
  // ISO 20022 statements (camt.053 / camt.054). Each is optional: without it the bridge reads the standard
  // place (docs/bank-connectors.md, "camt statements"). Pure functions of their input, like the MT940 ones.
  /** Our reference in one transaction of an entry; default Refs/EndToEndId (unless NOTPROVIDED). */
  retrieveDisbursementIdFromTransaction?(t: CamtTransactionView): string | null;
  /** The beneficiary's name on a debit; default the creditor's name (Cdtr, else UltmtCdtr). */
  retrieveBeneficiaryNameFromTransaction?(t: CamtTransactionView): string | null;
  /** The return's reason code; default RtrInf/Rsn/Cd, else Rsn/Prtry. */
  retrieveReturnCodeFromTransaction?(t: CamtTransactionView): string | null;
  /**
   * A reversal reason for a return code the operators' table (statement_return_reason) has no row for, e.g.
   * the bank's own proprietary codes; null (or absent): the code itself is the reason.
   */
  reversalReasonFromReturnCode?(code: string): string | null;
  // File channels (host-to-host SFTP). Both optional: a connector without them has no inbound folder.
  /**
   * The files the bank has left for us (pain.002 status reports, statements), oldest first, at most `limit`.
   * Read-only: listing twice returns the same files until they are acknowledged.
   */
  collectInbound?(limit: number): Promise<InboundFile[] | ConnectorFailure>;
  /**
   * Removes one collected file from the bank's inbound folder, called only after the bridge has stored it.
   * Idempotent: acknowledging a file that is already gone succeeds.
   */
  acknowledgeInbound?(name: string): Promise<{ status: 'SUCCESS' } | ConnectorFailure>;
  close?(): Promise<void>;
}

/** One file from a bank's inbound folder, as collected (its name is unique within the folder at a time). */
export interface InboundFile {
  name: string;
  content: string;
  /** Set (content '') for a file over the connector's size limit: left unread at the bank, never acknowledged. */
  tooLarge?: { sizeBytes: number; limitBytes: number };
}

/** One transaction of a camt entry: the TxDtls of a batch entry, or the entry alone (transaction null). */
export interface CamtTransactionView {
  entry: CamtEntry;
  transaction: CamtTransaction | null;
}

/** What a connector module receives when the factory builds it. */
export interface ConnectorOptions {
  bankCode: string;
  /** The process environment: a connector reads its own settings (URLs, keys) from it. */
  env: Record<string, string | undefined>;
  log: Logger;
  /** The bridge's clock, for what a connector stamps (a pain.001's creation time); absent: the system clock. */
  now?: () => Date;
}

/** A connector module's default export (or its `createConnector` export). */
export type ConnectorModuleFactory = (options: ConnectorOptions) => BankConnector | Promise<BankConnector>;
