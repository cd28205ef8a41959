// Public types of the MT940 module. Amounts are exact decimal strings ("1234.50"), never binary floats.

export type Mt940Severity = 'error' | 'warning';

/** Something wrong with the input, with where it is (1-based line and column). */
export interface Mt940Problem {
  message: string;
  line: number;
  column: number;
  tag?: string;
  severity: Mt940Severity;
}

export interface Mt940Balance {
  mark: 'C' | 'D';
  /** YYYY-MM-DD */
  date: string;
  currency: string;
  /** Exact decimal, non-negative, with the currency's decimals (e.g. "1234.50"). */
  amount: string;
  /** True for an intermediate balance (:60M: / :62M:). Absent for a final one (:60F: / :62F:). */
  intermediate?: boolean;
}

export type Mt940Mark = 'D' | 'C' | 'RD' | 'RC';

export interface Mt940Entry {
  /** YYYY-MM-DD ("" only when the date could not be read, with a problem reported). */
  valueDate: string;
  /** YYYY-MM-DD; the year is inferred from the value date, across a year end. */
  entryDate?: string;
  mark: Mt940Mark;
  fundsCode?: string;
  /** Exact decimal string, non-negative. */
  amount: string;
  /** Signed exact decimal: negative for D and RC (money leaving the account), positive for C and RD. */
  signedAmount: string;
  /** e.g. NTRF, NMSC, FCHG */
  transactionType: string;
  /** Reference for the account owner (16x) as given, trailing blanks removed ("NONREF" by convention when none; "" if the bank left it out). */
  customerReference: string;
  bankReference?: string;
  supplementaryDetails?: string;
  /** The :86: lines of this entry as given (trailing blank lines dropped); [] when none. */
  narratives: string[];
  /** Structured :86: subfields where the bank uses them (see docs/mt940.md). */
  details?: Record<string, string>;
  /** 1-based line of the :61: */
  line: number;
}

/** A field the parser keeps but does not interpret (:NS:, MT942 :34F: / :13D: / :90D: / :90C:, ...). */
export interface Mt940OtherField {
  tag: string;
  value: string;
  line: number;
}

export interface Mt940Statement {
  transactionReference: string;
  relatedReference?: string;
  accountIdentification: string;
  statementNumber?: string;
  sequenceNumber?: string;
  /** Currency of the opening balance (else of the closing balances). */
  currency?: string;
  openingBalance?: Mt940Balance;
  closingBalance?: Mt940Balance;
  closingAvailableBalance?: Mt940Balance;
  forwardAvailableBalances: Mt940Balance[];
  entries: Mt940Entry[];
  /** Statement-level :86: lines (an :86: that does not follow a :61:). */
  information: string[];
  /** Opening balance + entries vs closing balance, as signed decimals. Absent when a balance is missing. */
  balanceCheck?: { ok: boolean; expectedClosing: string; computedClosing: string };
  problems: Mt940Problem[];
  /** 1-based line where the statement starts. */
  line: number;
  /** Fields outside the MT940 core kept as text (:NS:, MT942 tags, ...). */
  otherFields: Mt940OtherField[];
}

export interface Mt940ParseResult {
  statements: Mt940Statement[];
  /** File-level problems: not MT940 at all, text between statements. */
  problems: Mt940Problem[];
}

export type Mt940EntryInput = Omit<Mt940Entry, 'line' | 'details' | 'signedAmount'> & {
  signedAmount?: string;
};

export type Mt940StatementInput = Omit<
  Mt940Statement,
  | 'problems'
  | 'line'
  | 'balanceCheck'
  | 'entries'
  | 'forwardAvailableBalances'
  | 'information'
  | 'otherFields'
> & {
  entries: Array<Mt940EntryInput>;
  forwardAvailableBalances?: Mt940Balance[];
  information?: string[];
};

export interface Mt940WriteOptions {
  /** Wrap each statement in SWIFT blocks {1:..}{2:..}{4: ... -}. Default false. */
  swiftBlocks?: boolean;
  /** Default '\r\n' (SWIFT). */
  lineEnding?: '\r\n' | '\n';
  /** Word-wrap :86: lines longer than 65 characters instead of throwing. Default false. */
  wrapNarratives?: boolean;
  /** BIC for the SWIFT block headers (8 or 11 characters); default XXXXXXXXXXX. */
  bic?: string;
}
