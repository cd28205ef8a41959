// The MT940 statement line (:61:): value and entry date (the year carried across a year end), debit/credit
// mark, funds code, amount, transaction type, customer and bank reference, supplementary details. Each
// entry's amount is formatted while it is read when the statement's currency is already known, and the
// signed sum of the entries is kept exact in minor units for the balance check.

import {
  amountRead,
  CENTS,
  formatAmount,
  isZero,
  neededDecimals,
  readAmount,
  signOf,
  smallMinor,
  toMinor,
  writtenDecimals,
} from './amounts.js';
import { readEntryDate, readYYMMDD } from './dates.js';
import { firstOf, isDigit, isUpper, type OpenField, type ProblemSink } from './tags.js';
import type { Mt940Entry, Mt940Mark } from './types.js';

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

/** Reads the :61: fields of one statement into its entries. */
export class StatementLineReader {
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
  entryNeeded = 0;
  entryWritten = 0;
  /** :61: lines that could not be read (each an error): the balance check cannot pass without them. */
  unreadEntries = 0;

  constructor(
    private readonly entries: Mt940Entry[],
    private readonly sink: ProblemSink,
  ) {}

  /** The currency of the opening balance, when it comes before any entry: amounts are formatted as read. */
  expectCurrency(currency: string, exponent: number | undefined): void {
    this.eagerCurrency = currency;
    this.eagerExp = exponent ?? -1;
  }

  /**
   * Gives every entry its amount and signed amount with `exp` decimals (only those not formatted while read
   * when `currency` is the one expected) and returns the signed sum of the entries in minor units.
   */
  total(exp: number, currency: string): bigint {
    const entries = this.entries;
    if (this.eagerExp === exp && this.eagerCurrency === currency) {
      let total = this.sumBig + BigInt(this.sumSmall);
      for (const i of this.rawEntries) total += this.formatEntry(entries[i]!, exp);
      return total;
    }
    let total = 0n;
    for (let i = 0; i < entries.length; i++) total += this.formatEntry(entries[i]!, exp);
    return total;
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

  /** Reads a :61: field into a new entry (or counts it as unread, its error reported). */
  read(f: OpenField): void {
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
      this.sink.warn('statement line (:61:) is wrapped over several lines; joined', f.line, f.col, '61');
    let supplementary: string | undefined;
    if (used < moreCount) {
      let text = moreCount - used === 1 ? more[used]! : more.slice(used, moreCount).join('\n');
      text = text.trimEnd();
      if (text !== '') {
        if (text.length > 34) {
          this.sink.warn(
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
        this.sink.warn(
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
      this.rawEntries.push(this.entries.length);
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
    this.entries.push(e);
  }

  private entryError(message: string, f: OpenField, at: number): 2 {
    this.sink.error(message, f.line, f.col + at, '61');
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
    if (value.problem) this.sink.warn(value.problem, f.line, f.col, '61');
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
      if (entry.problem) this.sink.warn(`${entry.problem} (entry date)`, f.line, col + p, '61');
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
    if (end - p > 15) this.sink.warn(`amount is ${end - p} characters, more than 15`, f.line, col + p, '61');
    if (!amountRead.hadComma) this.sink.warn('amount has no decimal comma', f.line, col + p, '61');
    this.eAmountAt = p;
    this.eAmountEnd = end;
    this.eComma = amountRead.comma;
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
        this.sink.warn(
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
}
