// Public types of the camt module (ISO 20022 camt.053 statements and camt.054 notifications, as parsed).
// Amounts are exact decimal strings ("1234.50", up to 5 fraction digits as in the XSD), never binary floats.

/** The messages and versions the parser reads. */
export type CamtMessageKind = '053' | '054';
export type CamtVersion = '001.02' | '001.04' | '001.08';

export interface CamtMessageInfo {
  kind: CamtMessageKind;
  version: CamtVersion;
  /** e.g. urn:iso:std:iso:20022:tech:xsd:camt.053.001.08 */
  namespace: string;
}

/**
 * `fatal` problems stop the parse (the file is not a readable camt document: DOCTYPE, not well-formed,
 * cut short, unknown message or version, limits exceeded); `error` problems leave the values usable but
 * not trustworthy (a failed balance check, a bad amount); `warning` is informational.
 */
export type CamtSeverity = 'fatal' | 'error' | 'warning';

export type CamtProblemCode =
  | 'camt.not_xml' // not well-formed XML, or not XML at all
  | 'camt.doctype' // a DOCTYPE / DTD: refused, so no entity can be declared or expanded
  | 'camt.entity' // a reference to an entity that is not one of the five predefined ones
  | 'camt.truncated' // the document ends before its root element is closed
  | 'camt.unknown_message' // root is not Document, or Document holds something other than camt.053/.054
  | 'camt.unknown_version' // a camt.053/.054 namespace with a version we do not read
  | 'camt.too_deep' // element nesting beyond the limit
  | 'camt.too_large' // a text node or attribute value beyond the limit
  | 'camt.too_many_problems' // the problem list is bounded; this is its last element
  | 'camt.missing' // a required element is absent
  | 'camt.bad_amount' // not an xs:decimal with at most 5 fraction digits and 18 digits in all
  | 'camt.bad_currency'
  | 'camt.bad_date'
  | 'camt.bad_code' // CdtDbtInd, Sts, RvslInd ... with a value outside its code list
  | 'camt.currency_mismatch' // a balance or entry in another currency than the statement's
  | 'camt.balance_check' // opening + booked entries != closing
  | 'camt.summary_check' // TxsSummry counts or sums differ from the entries
  | 'camt.batch_check'; // NtryDtls/Btch NbOfTxs / TtlAmt differ from the TxDtls, or TxDtls amounts from the entry

/** Something wrong with the input, with where it is (1-based line and column of the element's start tag). */
export interface CamtProblem {
  code: CamtProblemCode;
  message: string;
  severity: CamtSeverity;
  line: number;
  column: number;
  /** Element path where it was found, e.g. Document/BkToCstmrStmt/Stmt/Ntry/Amt */
  path?: string;
}

export type CamtCreditDebit = 'CRDT' | 'DBIT';
/** v02 `Sts` is this code; v08 `Sts/Cd` is an external code list that may hold others (kept as given). */
export type CamtEntryStatus = 'BOOK' | 'PDNG' | 'INFO' | (string & {});

/** An ISODate or ISODateTime element: `date` is always YYYY-MM-DD; `dateTime` as given when it was a DtTm. */
export interface CamtDate {
  date: string;
  dateTime?: string;
}

export interface CamtAmount {
  /** Exact decimal, non-negative, as given but normalised (no leading '+', no exponent): "1234.5" stays "1234.5". */
  amount: string;
  currency: string;
}

/** Acct/Id as IBAN, or Othr/Id (with its scheme when given). */
export interface CamtAccount {
  iban?: string;
  otherId?: string;
  otherScheme?: string;
  currency?: string;
  name?: string;
  ownerName?: string;
  servicerBic?: string;
}

export interface CamtBalance {
  /** Tp/CdOrPrtry/Cd (OPBD, PRCD, CLBD, CLAV, ITBD, FWAV ...) or the proprietary type. */
  type: string;
  proprietary?: boolean;
  /** Tp/SubTp/Cd when given. */
  subType?: string;
  amount: string;
  currency: string;
  creditDebit: CamtCreditDebit;
  /** Signed exact decimal: negative for DBIT. */
  signedAmount: string;
  date: CamtDate;
  line: number;
  column: number;
}

export interface CamtSummaryFigure {
  count?: number;
  sum?: string;
}

/** TxsSummry: what the bank says the entries add up to (a second check besides the balances). */
export interface CamtTransactionsSummary {
  total?: CamtSummaryFigure & { netAmount?: string; netCreditDebit?: CamtCreditDebit };
  credit?: CamtSummaryFigure;
  debit?: CamtSummaryFigure;
}

export interface CamtBankTransactionCode {
  domain?: string;
  family?: string;
  subFamily?: string;
  proprietary?: string;
  proprietaryIssuer?: string;
}

/** Refs of a TxDtls. `endToEndId` carries the disbursement id (Max35Text). */
export interface CamtReferences {
  messageId?: string;
  accountServicerReference?: string;
  paymentInformationId?: string;
  instructionId?: string;
  endToEndId?: string;
  uetr?: string;
  transactionId?: string;
  mandateId?: string;
  chequeNumber?: string;
  clearingSystemReference?: string;
}

export interface CamtParty {
  /** Dbtr/Nm (v02, v04) or Dbtr/Pty/Nm (v08). */
  name?: string;
  /** DbtrAcct / CdtrAcct */
  account?: CamtAccount;
  /** DbtrAgt / CdtrAgt BIC (BIC in v02/v04, BICFI in v08) */
  agentBic?: string;
}

/** RtrInf of a returned payment. */
export interface CamtReturnInfo {
  /** Rsn/Cd: ExternalReturnReason1Code (AC01, AC04, AM04, MD07 ...). */
  reasonCode?: string;
  /** Rsn/Prtry */
  reasonProprietary?: string;
  additionalInfo: string[];
  originalBankTransactionCode?: CamtBankTransactionCode;
}

/** One TxDtls of an entry: a batch entry carries one per payment. */
export interface CamtTransaction {
  references: CamtReferences;
  /** TxDtls/Amt (v04+), exact decimal. */
  amount?: string;
  currency?: string;
  /** TxDtls/CdtDbtInd (v04+) */
  creditDebit?: CamtCreditDebit;
  /** AmtDtls/InstdAmt/Amt */
  instructedAmount?: CamtAmount;
  /** AmtDtls/TxAmt/Amt */
  transactionAmount?: CamtAmount;
  bankTransactionCode?: CamtBankTransactionCode;
  debtor?: CamtParty;
  creditor?: CamtParty;
  ultimateDebtor?: CamtParty;
  ultimateCreditor?: CamtParty;
  /** RmtInf/Ustrd lines as given. */
  remittanceUnstructured: string[];
  /** RmtInf/Strd/CdtrRefInf/Ref and AddtlRmtInf, as given. */
  remittanceStructured: string[];
  returnInfo?: CamtReturnInfo;
  /** AddtlTxInf */
  additionalInfo?: string;
  line: number;
  column: number;
}

/** NtryDtls/Btch */
export interface CamtBatch {
  messageId?: string;
  paymentInformationId?: string;
  numberOfTransactions?: number;
  totalAmount?: string;
  currency?: string;
  creditDebit?: CamtCreditDebit;
}

export interface CamtEntry {
  /** NtryRef */
  reference?: string;
  amount: string;
  currency: string;
  creditDebit: CamtCreditDebit;
  /** Signed exact decimal: negative for DBIT. A reversal keeps the sign of its CdtDbtInd. */
  signedAmount: string;
  /** RvslInd=true: this entry reverses an earlier one. */
  reversal: boolean;
  status: CamtEntryStatus;
  bookingDate?: CamtDate;
  valueDate?: CamtDate;
  accountServicerReference?: string;
  bankTransactionCode?: CamtBankTransactionCode;
  /** One per NtryDtls that has a Btch. */
  batches: CamtBatch[];
  /** Every TxDtls of every NtryDtls, in document order. */
  transactions: CamtTransaction[];
  /** AddtlNtryInf */
  additionalInfo?: string;
  line: number;
  column: number;
}

/** A camt.053 Stmt or a camt.054 Ntfctn (the latter without balances as a rule). */
export interface CamtStatement {
  kind: 'statement' | 'notification';
  id: string;
  electronicSequenceNumber?: string;
  legalSequenceNumber?: string;
  createdAt?: string;
  fromDateTime?: string;
  toDateTime?: string;
  account: CamtAccount;
  /** Statement currency: Acct/Ccy, else that of the opening/closing balance, else of the first entry. */
  currency?: string;
  balances: CamtBalance[];
  /** OPBD, else PRCD. */
  openingBalance?: CamtBalance;
  /** CLBD */
  closingBalance?: CamtBalance;
  transactionsSummary?: CamtTransactionsSummary;
  entries: CamtEntry[];
  /** Number of entries read (equals entries.length except when streaming, where entries stay empty). */
  entryCount: number;
  additionalInfo?: string;
  /** Opening + booked entries vs closing, as signed decimals. Absent when either balance is missing. */
  balanceCheck?: { ok: boolean; opening: string; computedClosing: string; expectedClosing: string };
  /** TxsSummry vs the entries. Absent when there is no TxsSummry. */
  summaryCheck?: { ok: boolean; mismatches: string[] };
  problems: CamtProblem[];
  line: number;
  column: number;
}

export interface CamtGroupHeader {
  messageId: string;
  createdAt?: string;
  additionalInfo?: string;
}

export interface CamtDocument {
  /** Absent only when the message could not be identified (then `fatal` says why). */
  message?: CamtMessageInfo;
  groupHeader?: CamtGroupHeader;
  statements: CamtStatement[];
  /** Document-level problems, including the fatal one if any. Statement problems stay in each statement. */
  problems: CamtProblem[];
  /** Set when the parse stopped: the statements read so far are kept but the file is not usable. */
  fatal?: CamtProblem;
}

export interface CamtParseOptions {
  /** Deepest element nesting accepted (Document is depth 1). Default 64; the deepest camt path is ~15. */
  maxDepth?: number;
  /** Longest text node or attribute value, in characters. Default 100,000 (Max140Text is the usual limit). */
  maxTextLength?: number;
  /** Problems kept per statement and per document; past it one camt.too_many_problems is added. Default 1,000. */
  maxProblems?: number;
}

/** What `parseCamtStream` yields, in document order. Statements arrive with `entries: []`. */
export type CamtStreamEvent =
  | { type: 'header'; message: CamtMessageInfo; groupHeader: CamtGroupHeader }
  | { type: 'entry'; statementIndex: number; entry: CamtEntry }
  | { type: 'statement'; statementIndex: number; statement: CamtStatement };

export type StatementFormat =
  | { format: 'mt940' }
  | { format: 'camt'; kind: CamtMessageKind; version: CamtVersion; namespace: string }
  | { format: 'unknown'; reason: string };
