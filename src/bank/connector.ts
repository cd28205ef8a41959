// The bank connector: the one seam through which the bridge reaches any sponsor bank. A bank integrator
// implements this interface in its own module and names it in BANK_CONNECTORS; see docs/bank-connectors.md.
import type { Logger } from 'pino';

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

export type InitiatePaymentResult = { status: 'SUCCESS' } | ConnectorFailure;

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
   * `batchId` is an idempotency key: the same batch sent twice (after a crash) must be paid once.
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
  close?(): Promise<void>;
}

/** What a connector module receives when the factory builds it. */
export interface ConnectorOptions {
  bankCode: string;
  /** The process environment: a connector reads its own settings (URLs, keys) from it. */
  env: Record<string, string | undefined>;
  log: Logger;
}

/** A connector module's default export (or its `createConnector` export). */
export type ConnectorModuleFactory = (options: ConnectorOptions) => BankConnector | Promise<BankConnector>;
