// MT940 parser: a hand-written line scanner feeding a small state machine. No regular expressions on the
// hot path, no I/O. `parseMt940` reads a whole string; `parseMt940Stream` reads chunks and yields each
// statement as soon as it is complete, so a large file never needs more than one statement in memory.

import { currencyExponent, formatMinorUnits } from '../money/index.js';
import { readEntryDate, readYYMMDD } from './dates.js';
import { parseDetails } from './details.js';
import { Mt940LineSplitter, TextLines } from './lines.js';
import type {
  Mt940Balance,
  Mt940Entry,
  Mt940Mark,
  Mt940ParseResult,
  Mt940Problem,
  Mt940Statement,
} from './types.js';

/** Tags the parser understands. Other `:NN:` lines inside free text (:86:, :61:) are text. */
export const KNOWN_TAGS: ReadonlySet<string> = new Set([
  '20',
  '21',
  '25',
  '25P',
  '28',
  '28C',
  '60F',
  '60M',
  '61',
  '62F',
  '62M',
  '64',
  '65',
  '86',
  'NS',
  '13',
  '13D',
  '34F',
  '90D',
  '90C',
]);

/** An amount as written: digits with an optional comma and fraction ("1234,5", "100,", "7"). */
type RawAmount = string;

interface RawBalance {
  mark: 'C' | 'D';
  date: string;
  currency: string;
  amount: RawAmount;
  intermediate: boolean;
  line: number;
  tag: string;
}

interface OpenField {
  tag: string;
  /** The first line's content; for a :61: only once `firstOf` was called (see `src`). */
  first: string;
  /**
   * The first line's content as src[at, end). A :61: is read straight from there (no copy of the line, and
   * flat text reads faster than a slice); src[end] is the line break (or the end of src).
   */
  src: string;
  at: number;
  end: number;
  /** true while `first` has not been taken from src yet */
  lazyFirst: boolean;
  /**
   * Scratch list reused from field to field: when the field has more than one line, lines[0..count) are
   * all of them, the first included. Only read up to `count`.
   */
  lines: string[];
  /** Number of lines in the field (1 = only `first`). */
  count: number;
  line: number;
  /** 1-based column where the field content starts */
  col: number;
}

function firstOf(f: OpenField): string {
  if (f.lazyFirst) {
    f.first = f.src.slice(f.at, f.end);
    f.lazyFirst = false;
  }
  return f.first;
}

/** All lines of a multi-line field as a new array, or null for a one-line field (rare paths only). */
function moreOf(f: OpenField): string[] | null {
  return f.count > 1 ? f.lines.slice(0, f.count) : null;
}

function problem(
  message: string,
  line: number,
  column: number,
  severity: 'error' | 'warning',
  tag?: string,
): Mt940Problem {
  return tag === undefined ? { message, line, column, severity } : { message, line, column, tag, severity };
}

function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Set by readAmount: whether the amount had a decimal comma, and where (-1 when none). */
let amountHadComma = false;
let amountComma = -1;

/** Reads an amount "digits[,digits]" at pos and returns where it ends, or -1 when there are no digits. */
function readAmount(s: string, pos: number): number {
  let i = pos;
  while (isDigit(s.charCodeAt(i))) i++;
  const intEnd = i;
  amountHadComma = false;
  amountComma = -1;
  if (s.charCodeAt(i) === 44) {
    amountHadComma = true;
    amountComma = i;
    i++;
    while (isDigit(s.charCodeAt(i))) i++;
  }
  if (intEnd === pos && i <= intEnd + 1) return -1; // no digits at all
  return i;
}

/**
 * Where the decimal separator of an amount is: ',' as written, or '.' in an amount already formatted with
 * the currency's decimals (entries are formatted while they are read when the currency is known).
 */
function separatorOf(a: RawAmount): number {
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c === 44 || c === 46) return i;
  }
  return -1;
}

/** Number of decimals an amount really needs (trailing zeros do not count). */
function neededDecimals(a: RawAmount): number {
  const comma = separatorOf(a);
  if (comma < 0) return 0;
  let n = a.length;
  while (n > comma + 1 && a.charCodeAt(n - 1) === 48) n--;
  return n - comma - 1;
}

function writtenDecimals(a: RawAmount): number {
  const comma = separatorOf(a);
  return comma < 0 ? 0 : a.length - comma - 1;
}

/** Minor units of `a` at `exponent` decimals (exponent >= neededDecimals(a)). */
function toMinor(a: RawAmount, exponent: number): bigint {
  const comma = separatorOf(a);
  const int = comma < 0 ? a : a.slice(0, comma);
  const frac = comma < 0 ? '' : a.slice(comma + 1);
  const f = frac.length >= exponent ? frac.slice(0, exponent) : frac.padEnd(exponent, '0');
  return BigInt((int || '0') + f);
}

/**
 * Minor units of an amount of at most 15 characters, read digit by digit with integer arithmetic. -1 when
 * it has more decimals than `exponent` would keep or the result is not below 2^53 (the caller then takes
 * the BigInt path); every intermediate is smaller than the result, so a result below 2^53 is exact.
 */
function smallMinor(a: RawAmount, exponent: number): number {
  let v = 0;
  let i = 0;
  const len = a.length;
  for (; i < len; i++) {
    const c = a.charCodeAt(i);
    if (c === 44 || c === 46) break;
    v = v * 10 + (c - 48);
  }
  let decimals = 0;
  for (i++; i < len && decimals < exponent; i++, decimals++) v = v * 10 + (a.charCodeAt(i) - 48);
  if (i < len) return -1;
  for (; decimals < exponent; decimals++) v *= 10;
  return v <= Number.MAX_SAFE_INTEGER ? v : -1;
}

/** Exact formatting with `exponent` decimals: "1234,5" → "1234.50" (leading zeros dropped). */
function formatAmount(a: RawAmount, exponent: number): string {
  const comma = separatorOf(a);
  const intEnd = comma < 0 ? a.length : comma;
  let k = 0;
  while (k < intEnd - 1 && a.charCodeAt(k) === 48) k++;
  const fracLen = comma < 0 ? 0 : a.length - comma - 1;
  if (comma > 0 && fracLen === exponent && exponent > 0) {
    // the common case: exactly the currency's decimals
    const t = k === 0 ? a : a.slice(k);
    return a.charCodeAt(comma) === 46 ? t : t.replace(',', '.');
  }
  const int = intEnd === 0 ? '0' : a.slice(k, intEnd);
  if (exponent === 0) return int;
  const frac = comma < 0 ? '' : a.slice(comma + 1);
  return `${int}.${frac.length > exponent ? frac.slice(0, exponent) : frac.padEnd(exponent, '0')}`;
}

/** ".00" .. ".99": the fraction of a two-decimal amount, shared. */
const CENTS: string[] = [];
for (let c = 0; c < 100; c++) CENTS.push(c < 10 ? `.0${c}` : `.${c}`);

const types = new Map<number, string>();

/** The 4-character transaction type at p, shared between entries (there are few distinct ones). */
function internType(s: string, p: number): string {
  const a = s.charCodeAt(p);
  const b = s.charCodeAt(p + 1);
  const c = s.charCodeAt(p + 2);
  const d = s.charCodeAt(p + 3);
  // only 4 ASCII characters are cached (NaN past the end of the line fails the test too)
  if (!(a < 128 && b < 128 && c < 128 && d < 128)) return s.slice(p, p + 4);
  const key = ((a * 128 + b) * 128 + c) * 128 + d;
  let t = types.get(key);
  if (t === undefined) {
    t = s.slice(p, p + 4);
    if (types.size < 10_000) types.set(key, t);
  }
  return t;
}

function isZero(amount: string): boolean {
  for (let i = 0; i < amount.length; i++) {
    const c = amount.charCodeAt(i);
    if (c !== 48 && c !== 46) return false;
  }
  return true;
}

function signOf(mark: Mt940Mark | 'C' | 'D'): 1n | -1n {
  return mark === 'D' || mark === 'RC' ? -1n : 1n;
}

/** Builds one statement while its lines are read. */
class StatementBuilder {
  readonly stmt: Mt940Statement;
  /**
   * Entry amounts are formatted while they are read when the statement currency is already known (from
   * the opening balance) and the amount is plain (exactly the currency's decimals, no leading zero): then
   * `eagerExp` is that currency's exponent and the signed sum in minor units is kept in `sumSmall` (exact
   * below 2^53, moved into `sumBig` before it could get there). Other amounts stay as written in
   * `entry.amount` with their index in `rawEntries`, and are formatted when the statement ends.
   */
  private eagerExp = -1;
  private eagerCurrency = '';
  private sumSmall = 0;
  private sumBig = 0n;
  private readonly rawEntries: number[] = [];
  /** Most decimals any entry amount needs / is written with. */
  private entryNeeded = 0;
  private entryWritten = 0;
  private readonly rawBalances: RawBalance[] = [];
  private opening?: RawBalance;
  private closing?: RawBalance;
  private closingAvailable?: RawBalance;
  private readonly forward: RawBalance[] = [];
  private closingLine = 0;
  /** A :60: / :62: tag was seen (read or not): an unreadable balance is reported as such, not as missing. */
  private sawOpening = false;
  private sawClosing = false;
  /** :61: lines that could not be read (each an error): the balance check cannot pass without them. */
  private unreadEntries = 0;
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
        if (this.opening?.currency && this.stmt.entries.length === 0) {
          this.eagerCurrency = this.opening.currency;
          this.eagerExp = currencyExponent(this.eagerCurrency) ?? -1;
        }
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
        this.entry(f);
        break;
      case '86':
        this.information(f);
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
    const s = f.first.trimEnd();
    const col = f.col;
    const mark = s.charCodeAt(0);
    if (mark !== 67 && mark !== 68) {
      this.error(
        `balance must start with C or D, found ${JSON.stringify(s.slice(0, 1))}`,
        f.line,
        col,
        f.tag,
      );
      return undefined;
    }
    const date = readYYMMDD(s, 1);
    if (!date?.iso) {
      this.error(
        `balance date must be YYMMDD, found ${JSON.stringify(s.slice(1, 7))}`,
        f.line,
        col + 1,
        f.tag,
      );
      return undefined;
    }
    if (date.problem) this.warn(date.problem, f.line, col + 1, f.tag);
    let currency = s.slice(7, 10);
    let amountAt = 10;
    if (
      currency.length !== 3 ||
      !isUpper(currency.charCodeAt(0)) ||
      !isUpper(currency.charCodeAt(1)) ||
      !isUpper(currency.charCodeAt(2))
    ) {
      if (!isDigit(s.charCodeAt(7))) {
        this.error(
          `balance currency must be three letters, found ${JSON.stringify(currency)}`,
          f.line,
          col + 7,
          f.tag,
        );
        return undefined;
      }
      // currency left out: the statement's currency is used (filled in when the statement ends)
      this.warn('balance has no currency; the statement currency is assumed', f.line, col + 7, f.tag);
      currency = '';
      amountAt = 7;
    }
    const end = readAmount(s, amountAt);
    if (end < 0) {
      this.error('balance amount missing or not digits with a decimal comma', f.line, col + amountAt, f.tag);
      return undefined;
    }
    if (end !== s.length) {
      this.warn(
        `unexpected text after the balance amount: ${JSON.stringify(s.slice(end))}`,
        f.line,
        col + end,
        f.tag,
      );
    }
    if (!amountHadComma) this.warn('balance amount has no decimal comma', f.line, col + amountAt, f.tag);
    if (moreOf(f)?.some((l, i) => i > 0 && l.trim() !== ''))
      this.warn(`:${f.tag}: has extra lines; ignored`, f.line + 1, 1, f.tag);
    const b: RawBalance = {
      mark: mark === 67 ? 'C' : 'D',
      date: date.iso,
      currency,
      amount: s.slice(amountAt, end),
      intermediate: f.tag.endsWith('M'),
      line: f.line,
      tag: f.tag,
    };
    this.rawBalances.push(b);
    return b;
  }

  // scratch results of readEntryLine (no per-entry result objects)
  private eValue = '';
  private eEntryDate: string | undefined;
  private eMark: Mt940Mark = 'C';
  private eFunds: string | undefined;
  private eAmountAt = 0;
  private eAmountEnd = 0;
  /** where the decimal comma is, -1 when none */
  private eComma = -1;
  private eType = '';
  private eRef = '';
  private eRefCol = 0;
  private eBank: string | undefined;

  private entry(f: OpenField): void {
    const more = f.lines; // all lines, the first included, when there is more than one
    const moreCount = f.count > 1 ? f.count : 0;
    // the statement line is read where it is (src[at, end)) when the field has one line, else as a string
    let s: string;
    let o: number;
    let lim: number;
    if (moreCount === 0 && f.lazyFirst) {
      s = f.src;
      o = f.at;
      lim = f.end;
    } else {
      s = firstOf(f);
      o = 0;
      lim = s.length;
    }
    let used = 1; // lines read into the statement line (more than one when it is wrapped)
    for (;;) {
      // lines are joined only while the line is shorter than the longest mandatory part (32 characters)
      // could be: a hostile :61: over thousands of one-character lines is not re-read once per line
      const r = this.readEntryLine(s, o, lim, f, used < moreCount && lim - o < 40);
      if (r === 1) {
        // the statement line was wrapped: join the next line and read again
        s = s.slice(o, lim) + more[used++];
        o = 0;
        lim = s.length;
        continue;
      }
      if (r === 2) {
        this.unreadEntries++;
        return;
      }
      break;
    }
    if (used > 1)
      this.warn('statement line (:61:) is wrapped over several lines; joined', f.line, f.col, '61');
    let supplementary: string | undefined;
    if (used < moreCount) {
      let text = moreCount - used === 1 ? more[used]! : more.slice(used, moreCount).join('\n');
      text = text.trimEnd();
      if (text !== '') {
        if (text.length > 34) {
          this.warn(
            `supplementary details are ${text.length} characters, more than 34`,
            f.line + used,
            1,
            '61',
          );
        }
        supplementary = text;
      }
    }
    let ref = this.eRef;
    if (ref.length > 16 && supplementary === undefined && this.eBank === undefined) {
      // some banks (Rabobank) put the counterparty name right after a 16-character reference
      supplementary = ref.slice(16).trim() || undefined;
      ref = ref.slice(0, 16).trimEnd();
    } else {
      if (ref.charCodeAt(ref.length - 1) === 32) ref = ref.trimEnd();
      if (ref.length > 16) {
        this.warn(
          `customer reference is ${ref.length} characters, more than 16`,
          f.line,
          f.col + this.eRefCol,
          '61',
        );
      }
    }
    // the amount: formatted now in the usual case, else kept as written until the statement ends
    const at = this.eAmountAt;
    const end = this.eAmountEnd;
    const comma = this.eComma;
    const exp = this.eagerExp;
    const mark = this.eMark;
    let amount: string;
    let signedAmount: string;
    if (
      exp > 0 &&
      comma > at &&
      end - comma - 1 === exp &&
      end - at <= 15 &&
      (s.charCodeAt(at) !== 48 || comma === at + 1)
    ) {
      // at most 14 digits: below 10^14, an exact integer
      let minor = 0;
      for (let i = at; i < end; i++) if (i !== comma) minor = minor * 10 + (s.charCodeAt(i) - 48);
      amount =
        exp === 2
          ? s.slice(at, comma) + CENTS[minor % 100]!
          : `${s.slice(at, comma)}.${s.slice(comma + 1, end)}`;
      if (mark === 'D' || mark === 'RC') {
        signedAmount = minor === 0 ? amount : `-${amount}`;
        minor = -minor;
      } else {
        signedAmount = amount;
      }
      const sum = this.sumSmall + minor;
      if (sum > 8e15 || sum < -8e15) {
        this.sumBig += BigInt(sum);
        this.sumSmall = 0;
      } else {
        this.sumSmall = sum;
      }
      if (exp > this.entryWritten) this.entryWritten = exp;
    } else {
      amount = s.slice(at, end);
      signedAmount = '';
      const needed = neededDecimals(amount);
      if (needed > this.entryNeeded) this.entryNeeded = needed;
      const written = writtenDecimals(amount);
      if (written > this.entryWritten) this.entryWritten = written;
      this.rawEntries.push(this.stmt.entries.length);
    }
    const entryDate = this.eEntryDate;
    const bank = this.eBank;
    let e: Mt940Entry;
    if (entryDate !== undefined && bank !== undefined && this.eFunds === undefined) {
      // the usual shape, built in one go (same key order as below)
      e = {
        valueDate: this.eValue,
        mark,
        amount,
        signedAmount,
        transactionType: this.eType,
        customerReference: ref,
        narratives: [],
        line: f.line,
        entryDate,
        bankReference: bank,
      };
    } else {
      e = {
        valueDate: this.eValue,
        mark,
        amount,
        signedAmount,
        transactionType: this.eType,
        customerReference: ref,
        narratives: [],
        line: f.line,
      };
      if (entryDate !== undefined) e.entryDate = entryDate;
      if (this.eFunds !== undefined) e.fundsCode = this.eFunds;
      if (bank !== undefined) e.bankReference = bank;
    }
    if (supplementary !== undefined) e.supplementaryDetails = supplementary;
    this.stmt.entries.push(e);
  }

  private entryError(message: string, f: OpenField, at: number): 2 {
    this.error(message, f.line, f.col + at, '61');
    return 2;
  }

  /**
   * Reads the statement line into the scratch fields. Returns 0 when read, 1 to ask for the next line to be
   * joined (the line ends early and there is a continuation line), 2 when unreadable (problem reported).
   */
  private readEntryLine(s: string, o: number, lim: number, f: OpenField, canJoin: boolean): 0 | 1 | 2 {
    // positions are in s; the line is s[o, lim) and s[lim] is never a digit, letter or comma (line break)
    const col = f.col - o; // column of position p is col + p
    const value = readYYMMDD(s, o);
    if (!value) {
      if (lim - o < 6 && canJoin) return 1;
      return this.entryError(
        `value date must be YYMMDD, found ${JSON.stringify(s.slice(o, Math.min(o + 6, lim)))}`,
        f,
        0,
      );
    }
    if (!value.iso) return this.entryError(value.problem!, f, 0);
    if (value.problem) this.warn(value.problem, f.line, f.col, '61');
    this.eValue = value.iso;
    this.eEntryDate = undefined;
    let p = o + 6;
    const c6 = s.charCodeAt(p);
    if (isDigit(c6)) {
      const entry = readEntryDate(s, p, value.year, value.month);
      if (!entry)
        return this.entryError(
          `entry date must be MMDD, found ${JSON.stringify(s.slice(p, Math.min(p + 4, lim)))}`,
          f,
          6,
        );
      if (!entry.iso) return this.entryError(`${entry.problem} (entry date)`, f, 6);
      if (entry.problem) this.warn(`${entry.problem} (entry date)`, f.line, col + p, '61');
      this.eEntryDate = entry.iso;
      p += 4;
    } else if (c6 === 32) {
      // blank entry date (some banks pad it with spaces)
      while (s.charCodeAt(p) === 32 && p < o + 10) p++;
    }
    const m0 = p < lim ? s.charCodeAt(p) : 0;
    const m1 = p + 1 < lim ? s.charCodeAt(p + 1) : 0;
    if (m0 === 82 /* R */ && (m1 === 68 || m1 === 67)) {
      this.eMark = m1 === 68 ? 'RD' : 'RC';
      p += 2;
    } else if (m0 === 68) {
      this.eMark = 'D';
      p++;
    } else if (m0 === 67) {
      this.eMark = 'C';
      p++;
    } else {
      if (p >= lim && canJoin) return 1;
      return this.entryError(
        `debit/credit mark must be D, C, RD or RC, found ${JSON.stringify(s.slice(p, Math.min(p + 2, lim)))}`,
        f,
        p - o,
      );
    }
    this.eFunds = undefined;
    if (p < lim && isUpper(s.charCodeAt(p))) {
      this.eFunds = s[p];
      p++;
    }
    const end = readAmount(s, p);
    if (end < 0) {
      if (p >= lim && canJoin) return 1;
      return this.entryError(
        `amount must be digits with a decimal comma, found ${JSON.stringify(s.slice(p, Math.min(p + 15, lim)))}`,
        f,
        p - o,
      );
    }
    if (end - p > 15) this.warn(`amount is ${end - p} characters, more than 15`, f.line, col + p, '61');
    if (!amountHadComma) this.warn('amount has no decimal comma', f.line, col + p, '61');
    this.eAmountAt = p;
    this.eAmountEnd = end;
    this.eComma = amountComma;
    p = end;
    // German banks write a blank between the amount and the transaction type (`C50,00 NTRF...`)
    if (s.charCodeAt(p) === 32) {
      let q = p + 1;
      while (q < lim && s.charCodeAt(q) === 32) q++;
      if (q === lim || isUpper(s.charCodeAt(q))) p = q;
    }
    if (p + 4 > lim) {
      if (canJoin) return 1;
      if (p >= lim) return this.entryError('transaction type (e.g. NTRF) missing', f, p - o);
    }
    if (!isUpper(s.charCodeAt(p))) {
      return this.entryError(
        `transaction type must be a letter and three characters, found ${JSON.stringify(s.slice(p, Math.min(p + 4, lim)))}`,
        f,
        p - o,
      );
    }
    if (p + 4 <= lim) {
      this.eType = internType(s, p);
      p += 4;
    } else {
      this.eType = s.slice(p, lim);
      p = lim;
    }
    this.eRefCol = p - o;
    let slashes = -1;
    for (let i = p; i + 1 < lim; i++) {
      if (s.charCodeAt(i) === 47 && s.charCodeAt(i + 1) === 47) {
        slashes = i;
        break;
      }
    }
    if (slashes >= 0) {
      this.eRef = s.slice(p, slashes);
      let bank = s.slice(slashes + 2, lim);
      if (bank.charCodeAt(bank.length - 1) === 32) bank = bank.trimEnd();
      if (bank.length > 16) {
        this.warn(
          `bank reference is ${bank.length} characters, more than 16`,
          f.line,
          col + slashes + 2,
          '61',
        );
      }
      this.eBank = bank;
    } else {
      this.eRef = s.slice(p, lim);
      this.eBank = undefined;
    }
    return 0;
  }

  private information(f: OpenField): void {
    // trailing blank lines dropped; the lines become a new array of exactly their number (no growth)
    let lines: string[];
    if (f.count > 1) {
      const src = f.lines;
      let n = f.count;
      while (n > 0 && isBlankString(src[n - 1]!)) n--;
      lines = exactCopy(src, n);
    } else {
      lines = isBlankString(f.first) ? [] : [f.first];
    }
    const last = this.stmt.entries[this.stmt.entries.length - 1];
    if (this.lastTag === '86' && this.lastInfoWasEntry && last) {
      // one :86: per narrative line (Rabobank): the lines belong to the same entry
      for (const l of lines) last.narratives.push(l);
      return;
    }
    this.lastInfoWasEntry = this.lastTag === '61' && last !== undefined;
    if (this.lastTag === '61' && last) {
      last.narratives = lines;
      if (lines.length > 6) this.warn(`:86: has ${lines.length} lines, more than 6`, f.line, 1, '86');
      for (let i = 0; i < lines.length; i++) {
        if (lines[i]!.length > 65) {
          this.warn(`:86: line is ${lines[i]!.length} characters, more than 65`, f.line + i, 66, '86');
          break;
        }
      }
      const details = parseDetails(lines);
      if (details) last.details = details;
    } else {
      for (const l of lines) this.stmt.information.push(l);
    }
  }

  /**
   * Sets the entry's amount and signed amount with `exp` decimals from its amount as written (or as
   * formatted with other decimals) and returns the signed minor units.
   */
  private formatEntry(e: Mt940Entry, exp: number): bigint {
    const a = e.amount;
    e.amount = formatAmount(a, exp);
    const negative = e.mark === 'D' || e.mark === 'RC';
    e.signedAmount = negative && !isZero(e.amount) ? `-${e.amount}` : e.amount;
    const minor = a.length <= 15 && exp <= 6 ? smallMinor(a, exp) : -1;
    if (minor >= 0) return BigInt(negative ? -minor : minor);
    return toMinor(a, exp) * signOf(e.mark);
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
    if (st.entries.length > 0) need(currency, this.entryNeeded);
    const warnedDecimals = new Set<string>();
    const exponentOf = (cur: string | undefined): number => {
      const needed = exponents.get(cur ?? '') ?? 0;
      const iso = cur === undefined ? undefined : currencyExponent(cur);
      if (iso === undefined) {
        // unknown currency: the decimals written (the longest fraction seen)
        let written = needed;
        for (const b of this.rawBalances)
          if (b.currency === cur) written = Math.max(written, writtenDecimals(b.amount));
        if (cur === currency && st.entries.length > 0) written = Math.max(written, this.entryWritten);
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
    const entries = st.entries;
    let total: bigint;
    if (this.eagerExp === exp && this.eagerCurrency === (currency ?? '')) {
      // amounts formatted while reading were right: only the others are left
      total = this.sumBig + BigInt(this.sumSmall);
      for (const i of this.rawEntries) total += this.formatEntry(entries[i]!, exp);
    } else {
      total = 0n;
      for (let i = 0; i < entries.length; i++) total += this.formatEntry(entries[i]!, exp);
    }
    const toBalance = (b: RawBalance | undefined): Mt940Balance | undefined => {
      if (!b) return undefined;
      const out: Mt940Balance = {
        mark: b.mark,
        date: b.date,
        currency: b.currency,
        amount: formatAmount(b.amount, exponentOf(b.currency)),
      };
      if (b.intermediate) out.intermediate = true;
      return out;
    };
    const opening = toBalance(this.opening);
    const closing = toBalance(this.closing);
    const available = toBalance(this.closingAvailable);
    if (opening) st.openingBalance = opening;
    if (closing) st.closingBalance = closing;
    if (available) st.closingAvailableBalance = available;
    for (const b of this.forward) st.forwardAvailableBalances.push(toBalance(b)!);
    if (this.opening && this.closing) {
      if (this.opening.currency !== this.closing.currency) {
        this.error(
          `opening balance is in ${this.opening.currency} but closing balance in ${this.closing.currency}`,
          this.closing.line,
          1,
          this.closing.tag,
        );
      } else {
        const o = toMinor(this.opening.amount, exp) * signOf(this.opening.mark);
        const c = toMinor(this.closing.amount, exp) * signOf(this.closing.mark);
        const computed = o + total;
        st.balanceCheck = {
          ok: computed === c,
          expectedClosing: formatMinorUnits(c, exp),
          computedClosing: formatMinorUnits(computed, exp),
        };
        if (computed !== c) {
          this.error(
            `balance check failed: opening balance plus entries is ${st.balanceCheck.computedClosing}, ` +
              `closing balance is ${st.balanceCheck.expectedClosing}`,
            this.closingLine,
            1,
            this.closing.tag,
          );
        }
        if (this.unreadEntries > 0) {
          // the sums may agree by chance (or by design): a statement not read completely never balances
          st.balanceCheck.ok = false;
          const n = this.unreadEntries;
          this.error(
            `balance check not passed: ${n} ${n === 1 ? 'entry' : 'entries'} (:61:) could not be read, so the statement is incomplete`,
            this.closingLine,
            1,
            this.closing.tag,
          );
        }
      }
    }
    void endLine;
    return st;
  }
}

// Tag names are shared strings, and for the known tags the very literals of KNOWN_TAGS: the `switch` in
// StatementBuilder.field then compares them by identity instead of character by character.
const canonical = (t: string): string => {
  for (const k of KNOWN_TAGS) if (k === t) return k;
  return t;
};
const TAG_NAMES: string[] = [];
for (let d = 0; d < 100; d++) TAG_NAMES.push(canonical(d < 10 ? `0${d}` : String(d)));
const TAG_NAMES_LETTER = new Map<number, string>();

/** The tag of a `:NN:` / `:NNA:` / `:NS:` line starting at `i`, as a shared string; undefined when none. */
function tagAt(text: string, i: number, end: number): string | undefined {
  if (end - i < 4 || text.charCodeAt(i) !== 58) return undefined;
  const a = text.charCodeAt(i + 1);
  const b = text.charCodeAt(i + 2);
  const c = text.charCodeAt(i + 3);
  if (isDigit(a) && isDigit(b)) {
    const d = (a - 48) * 10 + (b - 48);
    if (c === 58) return TAG_NAMES[d];
    if (isUpper(c) && end - i >= 5 && text.charCodeAt(i + 4) === 58) {
      const key = d * 32 + (c - 65);
      let t = TAG_NAMES_LETTER.get(key);
      if (t === undefined) {
        t = canonical(TAG_NAMES[d]! + String.fromCharCode(c));
        TAG_NAMES_LETTER.set(key, t);
      }
      return t;
    }
    return undefined;
  }
  if (a === 78 && b === 83 && c === 58) return 'NS';
  return undefined;
}

/** Same as `s.trim() === ''`, without the call for the usual line that ends in a visible character. */
function isBlankString(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  const c = s.charCodeAt(n - 1);
  if (c > 32 && c < 127) return false;
  return s.trim() === '';
}

/**
 * The first n items of a as a new array of exactly n elements. Array literals for the usual sizes (an :86:
 * has at most six lines): no growth, no spare capacity kept for the life of the result.
 */
export function exactCopy(a: string[], n: number): string[] {
  switch (n) {
    case 0:
      return [];
    case 1:
      return [a[0]!];
    case 2:
      return [a[0]!, a[1]!];
    case 3:
      return [a[0]!, a[1]!, a[2]!];
    case 4:
      return [a[0]!, a[1]!, a[2]!, a[3]!];
    case 5:
      return [a[0]!, a[1]!, a[2]!, a[3]!, a[4]!];
    case 6:
      return [a[0]!, a[1]!, a[2]!, a[3]!, a[4]!, a[5]!];
    default:
      return a.slice(0, n);
  }
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * The line-level state machine shared by the string and the streaming entry points. Feed it lines with
 * `line()` (or `lineAt()` for a line inside a larger string), then call `end()`. Completed statements go to
 * `onStatement`; file-level problems to `problems`.
 */
export class Mt940LineReader {
  readonly problems: Mt940Problem[] = [];
  statementCount = 0;
  private builder: StatementBuilder | null = null;
  /** The open field, reused from field to field (the builder does not keep it). */
  private readonly f: OpenField = {
    tag: '',
    first: '',
    src: '',
    at: 0,
    end: 0,
    lazyFirst: false,
    lines: [],
    count: 1,
    line: 0,
    col: 0,
  };
  private fieldOpen = false;
  /** A line holding only ':' (a tag wrapped after its colon) waits here for the next line. */
  private pendingColon = 0;
  private junkStart = 0;
  private junkText = '';
  private sawAnything = false;

  constructor(private readonly onStatement: (s: Mt940Statement) => void) {}

  line(raw: string, n: number): void {
    this.lineAt(raw, 0, raw.length, n);
  }

  /** The line text[start, end) (without its line break), 1-based line number n. */
  lineAt(text: string, start: number, end: number, n: number): void {
    if (this.continuation(text, start, end)) return;
    // SOH / ETX framing characters some banks put around messages
    if (text.charCodeAt(start) === 1) start++;
    if (end > start && text.charCodeAt(end - 1) === 3) end--;
    if (this.pendingColon) {
      const at = this.pendingColon;
      this.pendingColon = 0;
      const joined = `:${text.slice(start, end)}`;
      const tag = tagAt(joined, 0, joined.length);
      if (tag !== undefined && KNOWN_TAGS.has(tag)) {
        this.builder?.warn(`tag :${tag}: is split over two lines; joined`, at, 1, tag);
        this.content(joined, 0, joined.length, n, 1);
        return;
      }
      this.content(':', 0, 1, at, 1);
    }
    if (end - start === 1 && text.charCodeAt(start) === 58 && this.fieldOpen) {
      this.pendingColon = n;
      return;
    }
    this.content(text, start, end, n, 1);
  }

  /**
   * The usual continuation line of an open field (an :86: narrative) goes straight to the field; false for
   * any other line (tags, statement ends, SWIFT blocks, framing characters, a pending split tag).
   */
  continuation(text: string, start: number, end: number): boolean {
    const c0 = text.charCodeAt(start);
    if (
      this.fieldOpen &&
      c0 !== 58 /* : */ &&
      c0 !== 45 /* - */ &&
      c0 !== 123 /* { */ &&
      c0 !== 1 &&
      this.pendingColon === 0 &&
      text.charCodeAt(end - 1) !== 3
    ) {
      const f = this.f;
      if (f.count === 1) f.lines[0] = firstOf(f);
      f.lines[f.count++] = text.slice(start, end);
      return true;
    }
    return false;
  }

  private content(text: string, start: number, end: number, n: number, col: number): void {
    const c0 = text.charCodeAt(start);
    if (c0 === 58 /* : */) {
      const tag = tagAt(text, start, end);
      if (tag !== undefined) {
        const skip = tag.length + 2;
        if (KNOWN_TAGS.has(tag)) {
          this.startField(tag, text, start + skip, end, n, col + skip);
          return;
        }
        const f = this.f;
        if (this.fieldOpen && (f.tag === '86' || f.tag === '61')) {
          this.builder?.warn(`unknown tag :${tag}: inside :${f.tag}: read as text`, n, col, tag);
        } else if (this.builder) {
          this.closeField();
          this.builder.warn(`unknown field :${tag}: kept in otherFields`, n, col, tag);
          this.openField(tag, text.slice(start + skip, end), n, col + skip);
          return;
        }
      }
    } else if (c0 === 45 /* - */) {
      if (end - start === 1 || text.charCodeAt(start + 1) === 125 /* } */ || isBlank(text, start + 1, end)) {
        this.endStatement();
        return;
      }
    } else if (c0 === 123 /* { */) {
      // SWIFT block header {1:...}{2:...}{3:...}{4: — the text after {4: is message content
      this.endStatement();
      const b4 = text.indexOf('{4:', start);
      if (b4 >= 0 && b4 < end) {
        if (b4 + 3 < end) this.content(text, b4 + 3, end, n, col + b4 + 3 - start);
      }
      this.flushJunk();
      return;
    }
    if (this.fieldOpen) {
      const f = this.f;
      if (f.count === 1) f.lines[0] = firstOf(f);
      f.lines[f.count++] = text.slice(start, end);
      return;
    }
    if (isBlank(text, start, end)) return;
    // text outside any statement
    if (this.junkStart === 0) {
      this.junkStart = n;
      this.junkText = text.slice(start, Math.min(end, start + 40));
    }
  }

  private flushJunk(): void {
    if (this.junkStart === 0) return;
    this.problems.push(
      problem(
        `text outside a statement ignored: ${JSON.stringify(this.junkText)}`,
        this.junkStart,
        1,
        'warning',
      ),
    );
    this.junkStart = 0;
    this.junkText = '';
  }

  private openField(tag: string, first: string, n: number, col: number): void {
    const f = this.f;
    f.tag = tag;
    f.first = first;
    f.lazyFirst = false;
    f.count = 1;
    f.line = n;
    f.col = col;
    this.fieldOpen = true;
  }

  private startField(tag: string, src: string, at: number, end: number, n: number, col: number): void {
    this.closeField();
    if (this.junkStart !== 0) this.flushJunk();
    this.sawAnything = true;
    let b = this.builder;
    if (tag === '20') {
      if (b?.hasFields) {
        this.emit();
        b = null;
      }
    } else if (b && (tag === '60F' || tag === '60M') && b.hasBalances) {
      // an opening balance after balances: a new statement whose :20: is missing
      this.emit();
      b = null;
    }
    if (!b) {
      b = new StatementBuilder(n);
      this.builder = b;
    }
    if (tag === '61') {
      this.openField(tag, '', n, col);
      const f = this.f;
      f.src = src;
      f.at = at;
      f.end = end;
      f.lazyFirst = true;
    } else {
      this.openField(tag, src.slice(at, end), n, col);
    }
  }

  private closeField(): void {
    if (!this.fieldOpen) return;
    this.fieldOpen = false;
    this.builder?.field(this.f);
    this.f.count = 1;
  }

  private emit(): void {
    const b = this.builder;
    if (!b) return;
    this.builder = null;
    this.statementCount++;
    this.onStatement(b.finish(0));
  }

  private endStatement(): void {
    if (this.pendingColon) this.pendingColon = 0;
    this.closeField();
    this.emit();
  }

  end(lastLine: number): void {
    if (this.pendingColon) {
      const at = this.pendingColon;
      this.pendingColon = 0;
      this.content(':', 0, 1, at, 1);
    }
    this.endStatement();
    if (this.statementCount === 0) {
      if (this.junkStart) {
        this.problems.push(
          problem(
            `not an MT940 statement: expected a field tag such as :20: at the start of a line, found ${JSON.stringify(this.junkText)}`,
            this.junkStart,
            1,
            'error',
          ),
        );
        this.junkStart = 0;
      } else if (!this.sawAnything) {
        this.problems.push(
          problem('not an MT940 statement: the input holds no field tags', Math.max(1, lastLine), 1, 'error'),
        );
      }
    }
    this.flushJunk();
  }
}

/** Feeds every line of `text` (CRLF, LF or CR line ends, see lines.ts) to the reader. Returns the number of lines. */
function readLines(text: string, reader: Mt940LineReader): number {
  const lines = new TextLines(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
  let n = 0;
  while (lines.next()) {
    const { start, stop } = lines;
    ++n;
    if (!reader.continuation(text, start, stop)) reader.lineAt(text, start, stop, n);
  }
  return n;
}

/** Parses a whole MT940 file (one or many statements). Never throws on bad input: see `problems`. */
export function parseMt940(text: string): Mt940ParseResult {
  const statements: Mt940Statement[] = [];
  const reader = new Mt940LineReader((s) => statements.push(s));
  reader.end(readLines(text, reader));
  return { statements, problems: reader.problems };
}

/** Thrown by `parseMt940Stream` when the input holds no statement at all. */
export class Mt940FormatError extends Error {
  constructor(readonly problems: Mt940Problem[]) {
    const first = problems[0];
    super(first ? `${first.message} (line ${first.line}, column ${first.column})` : 'not an MT940 statement');
    this.name = 'Mt940FormatError';
  }
}

/**
 * Parses MT940 from string chunks (e.g. a file stream with `setEncoding`), yielding each statement once it is
 * complete. File-level problems (text between statements) go to `onProblem` when given; when the input
 * holds no statement at all, the generator throws an `Mt940FormatError` carrying the problems.
 */
export async function* parseMt940Stream(
  chunks: AsyncIterable<string>,
  onProblem?: (p: Mt940Problem) => void,
): AsyncGenerator<Mt940Statement> {
  const ready: Mt940Statement[] = [];
  const reader = new Mt940LineReader((s) => ready.push(s));
  // every line inside a chunk is read from the chunk as it came (a flat string); a line cut by chunk
  // boundaries is joined once, when it ends (see lines.ts)
  const splitter = new Mt940LineSplitter();
  let n = 0;
  const sink = (text: string, start: number, stop: number) => reader.lineAt(text, start, stop, ++n);
  let reported = 0;
  const report = () => {
    if (onProblem) while (reported < reader.problems.length) onProblem(reader.problems[reported++]!);
  };
  for await (const chunk of chunks) {
    splitter.push(chunk, sink);
    report();
    for (let i = 0; i < ready.length; i++) yield ready[i]!;
    ready.length = 0;
  }
  splitter.end(sink);
  reader.end(n);
  report();
  for (const s of ready) yield s;
  if (reader.statementCount === 0) throw new Mt940FormatError(reader.problems);
}
