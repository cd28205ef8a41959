// The format-neutral statement model: what the statement stage needs of a file, whether the bank wrote MT940
// or ISO 20022 camt.053 / camt.054. An adapter (./from-mt940.ts, ./from-camt.ts) reads the file once to check
// it and to describe its statements (account, currency, references, balances), then hands out its
// transactions in file order, as often as asked, without holding them all: MT940 from compact columns over
// the text, camt by streaming the XML again. Reconciliation (./process.ts, ./reconcile.ts) sees only this.
import type { CamtEntry, CamtTransaction } from '../camt/index.js';

/** How a statement file was written; stored in account_statement.statement_format. */
export type StatementFormatName = 'MT940' | 'CAMT053' | 'CAMT054';

/** D debit, C credit, RD reversal (or return) of a debit, RC reversal of a credit. */
export type TransactionMark = 'D' | 'C' | 'RD' | 'RC';

/** BOOK booked; PDNG pending and INFO information only are not booked, so never reconcile. MT940: always BOOK. */
export type TransactionStatus = 'BOOK' | 'PDNG' | 'INFO' | (string & {});

/** One statement of a file (an MT940 :20:…:62F:, a camt Stmt or Ntfctn), without its transactions. */
export interface StatementSummary {
  /** The account as the bank wrote it: the :25:, or Acct/Id/IBAN (else Acct/Id/Othr/Id). */
  account: string;
  /** MT940: its :60F:/:62F: balances' (null when they disagree); camt: Acct/Ccy, else the balances'. */
  currency: string | null;
  /** :20:, or Stmt/Id (Ntfctn/Id). */
  reference: string | null;
  /** :28C: statement number, or ElctrncSeqNb (else LglSeqNb). */
  number: string | null;
  /** :28C: sequence number; null for camt. */
  sequence: string | null;
  /** YYYY-MM-DD: the closing balance's date, else the last entry's (MT940) or the statement's end (camt). */
  date: string | null;
  /** Opening balance plus booked entries equal the closing balance; null when a balance is missing. */
  balanceOk: boolean | null;
  /** Where it starts, for messages ("line 12"). */
  where: string;
}

/** What a connector may read besides the common fields, as the format gives it. */
export type TransactionSource =
  | { format: 'MT940'; customerReference: string; narratives: string[] }
  | {
      format: 'CAMT';
      entry: CamtEntry;
      /** The TxDtls this transaction is; null for an entry without any. */
      transaction: CamtTransaction | null;
    };

/**
 * One transaction as reconciliation sees it. An MT940 :61: is one; a camt entry is one per TxDtls of its
 * batch (one when it has none), each with its own amount.
 */
export interface StatementTransaction {
  /** Index of its statement in StatementFile.statements. */
  statement: number;
  /** 1-based position in the file, all statements and all transactions (credits, pending) counted. */
  position: number;
  mark: TransactionMark;
  status: TransactionStatus;
  /** Exact decimal as the bank wrote it ("1000.00"); null when a batch transaction carries none. */
  amount: string | null;
  /**
   * camt: an item of a batch entry none of whose TxDtls carries an amount — the entry's first item's position,
   * its number of items and its total, so reconciliation can check the total against its payments' sum.
   */
  batch?: BatchOfEntry | null;
  /** The amount's currency (camt: its Ccy); MT940: the statement's currency. */
  currency: string | null;
  /** The bank's reference of the booking (:61: //ref, AcctSvcrRef); unique per transaction of a batch. */
  bankReference: string | null;
  /** Our reference where the format puts it: camt EndToEndId; MT940 the :61: customer reference (not NONREF). */
  reference: string | null;
  /** The beneficiary's name where the format puts it (camt Cdtr/Nm); MT940: null (the connector reads :86:). */
  name: string | null;
  /** The return's reason code (camt RtrInf/Rsn/Cd, else Prtry); null for MT940 and plain reversals. */
  returnCode: string | null;
  entryDate: string | null;
  valueDate: string | null;
  source: TransactionSource;
}

/** Something that makes a file unusable (or only worth a warning), with where it is. */
export interface StatementProblem {
  message: string;
  where: string;
  severity: 'error' | 'warning';
}

export interface StatementFile {
  format: StatementFormatName;
  statements: readonly StatementSummary[];
  /** Error-level problems: the file is not reconciled at all when there is one. */
  errors: readonly StatementProblem[];
  warnings: readonly StatementProblem[];
  /** Booked debits and booked reversals of debits in the file: what reconciliation applies. */
  counts: { D: number; RD: number; notBooked: number };
  /**
   * Every transaction of the file in file order, read afresh on each call (memory stays bounded); with `only`,
   * just those of that mark (cheaper), positions unchanged.
   */
  transactions(only?: 'D' | 'RD'): AsyncIterable<StatementTransaction>;
}

/** A transaction reconciliation applies: a booked debit or a booked reversal of one. */
export function applies(t: StatementTransaction, mark: 'D' | 'RD'): boolean {
  return t.mark === mark && t.status === 'BOOK';
}

/** "line 3, column 7: message; …", at most five, within 2,000 characters. */
export function describeProblems(problems: readonly StatementProblem[]): string {
  const shown = problems.slice(0, 5).map((p) => `${p.where}: ${p.message}`);
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return `${shown.join('; ')}${more}`.slice(0, 2000);
}

/** A batch entry whose items carry no amounts (see StatementTransaction.batch). */
export interface BatchOfEntry {
  first: number;
  size: number;
  total: string;
}
