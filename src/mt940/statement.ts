// One MT940 statement while its fields are read: each field goes to its reader (./statement-line.ts for
// :61:, ./information.ts for :86:, ./balances.ts for the balances; references and numbers here), and
// `finish` settles the statement's decimals and checks its balances.

import { currencyExponent } from '../money/index.js';
import { neededDecimals, writtenDecimals } from './amounts.js';
import { checkBalance, type RawBalance, readBalance, toBalance } from './balances.js';
import { readInformation } from './information.js';
import { StatementLineReader } from './statement-line.js';
import { moreOf, type OpenField, type ProblemSink, problem } from './tags.js';
import type { Mt940Statement } from './types.js';

/** Builds one statement while its lines are read. */
export class StatementBuilder implements ProblemSink {
  readonly stmt: Mt940Statement;
  private readonly lines: StatementLineReader;
  private readonly rawBalances: RawBalance[] = [];
  private opening?: RawBalance;
  private closing?: RawBalance;
  private closingAvailable?: RawBalance;
  private readonly forward: RawBalance[] = [];
  private closingLine = 0;
  /** A :60: / :62: tag was seen (read or not): an unreadable balance is reported as such, not as missing. */
  private sawOpening = false;
  private sawClosing = false;
  hasFields = false;
  has20 = false;
  hasAccount = false;
  lastTag = '';
  private lastInfoWasEntry = false;

  constructor(line: number) {
    this.stmt = {
      transactionReference: '',
      accountIdentification: '',
      forwardAvailableBalances: [],
      entries: [],
      information: [],
      problems: [],
      line,
      otherFields: [],
    };
    this.lines = new StatementLineReader(this.stmt.entries, this);
  }

  get hasBalances(): boolean {
    return this.opening !== undefined || this.closing !== undefined;
  }

  warn(message: string, line: number, column: number, tag?: string): void {
    this.stmt.problems.push(problem(message, line, column, 'warning', tag));
  }
  error(message: string, line: number, column: number, tag?: string): void {
    this.stmt.problems.push(problem(message, line, column, 'error', tag));
  }

  field(f: OpenField): void {
    this.hasFields = true;
    const { tag } = f;
    switch (tag) {
      case '20':
        this.has20 = true;
        this.stmt.transactionReference = this.single(f, 16);
        break;
      case '21':
        this.stmt.relatedReference = this.single(f, 16);
        break;
      case '25':
      case '25P':
        if (this.hasAccount) {
          this.warn(`repeated :${tag}: ignored (the account was given before)`, f.line, 1, tag);
        } else {
          this.hasAccount = true;
          this.stmt.accountIdentification = this.single(f, 35);
        }
        break;
      case '28':
      case '28C': {
        const v = this.single(f, 0).trim();
        const slash = v.indexOf('/');
        const num = slash < 0 ? v : v.slice(0, slash);
        const seq = slash < 0 ? undefined : v.slice(slash + 1);
        if (!/^\d{1,5}$/.test(num) || (seq !== undefined && !/^\d{1,5}$/.test(seq))) {
          this.warn(`statement number ${JSON.stringify(v)} is not 5n[/5n]`, f.line, f.col, tag);
        }
        this.stmt.statementNumber = num;
        if (seq !== undefined) this.stmt.sequenceNumber = seq;
        break;
      }
      case '60F':
      case '60M':
        this.sawOpening = true;
        this.opening = this.balance(f);
        if (this.opening?.currency && this.stmt.entries.length === 0)
          this.lines.expectCurrency(this.opening.currency, currencyExponent(this.opening.currency));
        break;
      case '62F':
      case '62M':
        this.sawClosing = true;
        this.closing = this.balance(f);
        this.closingLine = f.line;
        break;
      case '64':
        this.closingAvailable = this.balance(f);
        break;
      case '65': {
        const b = this.balance(f);
        if (b) this.forward.push(b);
        break;
      }
      case '61':
        this.lines.read(f);
        break;
      case '86':
        this.lastInfoWasEntry = readInformation(f, this.stmt, this.lastTag, this.lastInfoWasEntry, this);
        break;
      default:
        this.stmt.otherFields.push({
          tag,
          value: f.count > 1 ? f.lines.slice(0, f.count).join('\n') : f.first,
          line: f.line,
        });
    }
    this.lastTag = tag;
  }

  /** A one-line field; extra lines are reported and joined with a space. */
  private single(f: OpenField, max: number): string {
    let v = f.first;
    const more = moreOf(f);
    if (more) {
      const extra = more.slice(1).filter((l) => l.trim() !== '');
      if (extra.length > 0) {
        this.warn(`:${f.tag}: continues on ${extra.length} more line(s); joined`, f.line + 1, 1, f.tag);
        v = [v, ...extra].join(' ');
      }
    }
    v = v.trimEnd();
    if (max > 0 && v.length > max) {
      this.warn(`:${f.tag}: is ${v.length} characters, more than ${max}`, f.line, f.col + max, f.tag);
    }
    return v;
  }

  private balance(f: OpenField): RawBalance | undefined {
    const b = readBalance(f, this);
    if (b) this.rawBalances.push(b);
    return b;
  }

  /** Normalises amounts with the currency's decimals and checks the balances. */
  finish(endLine: number): Mt940Statement {
    const st = this.stmt;
    if (!this.has20) this.warn('statement has no :20: transaction reference', st.line, 1, '20');
    if (!this.hasAccount) this.warn('statement has no :25: account identification', st.line, 1, '25');
    // a statement without its balances is a file cut short (or a fragment): its entries cannot be trusted
    // as complete. MT942 interim reports have no balances by design.
    const interim = st.otherFields.some(
      (o) => o.tag === '34F' || o.tag === '13D' || o.tag === '13' || o.tag === '90D' || o.tag === '90C',
    );
    if (!interim) {
      if (!this.sawOpening)
        this.error(
          'statement has no opening balance (:60F: or :60M:); the file may be cut short',
          st.line,
          1,
          '60F',
        );
      if (!this.sawClosing)
        this.error(
          'statement has no closing balance (:62F: or :62M:); the file may be cut short',
          st.line,
          1,
          '62F',
        );
    }
    let currency =
      this.opening?.currency || this.closing?.currency || this.closingAvailable?.currency || undefined;
    if (currency === undefined) {
      // MT942 has no balances: its floor limit (:34F:) starts with the currency
      const floor = st.otherFields.find((o) => o.tag === '34F');
      if (floor && /^[A-Z]{3}/.test(floor.value)) currency = floor.value.slice(0, 3);
    }
    if (currency !== undefined) {
      st.currency = currency;
      for (const b of this.rawBalances) if (b.currency === '') b.currency = currency;
    }
    // decimals per currency: ISO 4217 where known, else as many as written (never fewer than needed)
    const exponents = new Map<string, number>();
    const need = (cur: string | undefined, n: number) => {
      const key = cur ?? '';
      const prev = exponents.get(key);
      if (prev === undefined || n > prev) exponents.set(key, n);
    };
    for (const b of this.rawBalances) need(b.currency, neededDecimals(b.amount));
    if (st.entries.length > 0) need(currency, this.lines.entryNeeded);
    const warnedDecimals = new Set<string>();
    const exponentOf = (cur: string | undefined): number => {
      const needed = exponents.get(cur ?? '') ?? 0;
      const iso = cur === undefined ? undefined : currencyExponent(cur);
      if (iso === undefined) {
        // unknown currency: the decimals written (the longest fraction seen)
        let written = needed;
        for (const b of this.rawBalances)
          if (b.currency === cur) written = Math.max(written, writtenDecimals(b.amount));
        if (cur === currency && st.entries.length > 0) written = Math.max(written, this.lines.entryWritten);
        return Math.min(written, 6);
      }
      if (needed > iso) {
        // said once per currency (this runs for the entries and for each balance)
        if (!warnedDecimals.has(cur!)) {
          warnedDecimals.add(cur!);
          this.warn(
            `amounts in ${cur} have ${needed} decimals, more than the ${iso} of the currency`,
            st.line,
            1,
          );
        }
        return needed;
      }
      return iso;
    };
    const exp = exponentOf(currency);
    // amounts formatted while reading are kept when they were right
    const total = this.lines.total(exp, currency ?? '');
    const balance = (b: RawBalance | undefined) => (b ? toBalance(b, exponentOf(b.currency)) : undefined);
    const opening = balance(this.opening);
    const closing = balance(this.closing);
    const available = balance(this.closingAvailable);
    if (opening) st.openingBalance = opening;
    if (closing) st.closingBalance = closing;
    if (available) st.closingAvailableBalance = available;
    for (const b of this.forward) st.forwardAvailableBalances.push(balance(b)!);
    if (this.opening && this.closing)
      checkBalance(
        st,
        this.opening,
        this.closing,
        exp,
        total,
        this.lines.unreadEntries,
        this.closingLine,
        this,
      );
    void endLine;
    return st;
  }
}
