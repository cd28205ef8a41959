// Columnar MT940 parse: the same reading as `parseMt940`, but entries are kept as typed-array columns
// (offsets into the input text, dates as yyyymmdd, amounts as exact integer minor units) instead of one
// object per entry. Every line is checked as `parseMt940` checks it; only the per-entry strings and
// objects are left to the accessors (`entry(i)`, `narratives(i)`, ...), which give exactly what
// `parseMt940` gives.
//
// The fast reader below handles the regular layout (what our writer and most banks produce) and accepts a
// statement only when `parseMt940` would read it without any problem other than a failed balance check.
// On anything else (a warning, an error, SWIFT blocks, text between statements, wrapped lines, a currency
// outside ISO 4217, ...) it gives up and the whole input is read by `parseMt940`, whose entries are then
// served as objects by the same accessors (`columnar: false`), with its problems. So every input gets the
// exact result of `parseMt940`, and the regular one gets it without building 100,000s of objects.

import { currencyExponent, formatMinorUnits } from '../money/index.js';
import { daysInMonth, fullYear, isoDate } from './dates.js';
import { parseDetails } from './details.js';
import { TextLines } from './lines.js';
import { parseMt940 } from './parser.js';
import { exactCopy, KNOWN_TAGS } from './tags.js';
import type {
  Mt940Balance,
  Mt940Entry,
  Mt940Mark,
  Mt940ParseResult,
  Mt940Problem,
  Mt940Statement,
} from './types.js';

const MARKS: readonly Mt940Mark[] = ['D', 'C', 'RD', 'RC'];
const MARK_D = 0;
const MARK_C = 1;
const MARK_RD = 2;
const MARK_RC = 3;

/** ".00" .. ".99", shared. */
const CENTS: string[] = [];
for (let c = 0; c < 100; c++) CENTS.push(c < 10 ? `.0${c}` : `.${c}`);
const POW10 = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000];

/** The column storage shared by all statements of one parse (each statement is a range of it). */
export class Mt940ColumnStore {
  size = 0;
  line: Int32Array;
  /** yyyymmdd */
  valueDate: Int32Array;
  /** yyyymmdd, 0 when the entry has no entry date */
  entryDate: Int32Array;
  /** 0 D, 1 C, 2 RD, 3 RC */
  mark: Uint8Array;
  /** character code of the funds code, 0 when none */
  fundsCode: Uint8Array;
  /** index into `types` */
  type: Uint16Array;
  /** Amount in integer minor units (exact: only integers below 2^53 are stored; -1 means see `bigAmounts`). */
  amount: Float64Array;
  /** Text offsets [start, end); -1 when absent. */
  refStart: Int32Array;
  refEnd: Int32Array;
  bankStart: Int32Array;
  bankEnd: Int32Array;
  suppStart: Int32Array;
  suppEnd: Int32Array;
  /** The :86: lines of the entry as one block of the text (trailing blank lines excluded); -1 when none. */
  narrStart: Int32Array;
  narrEnd: Int32Array;
  /** Amounts of 2^53 minor units or more, by global entry index. */
  readonly bigAmounts = new Map<number, bigint>();
  /** Structured :86: subfields (only entries whose :86: uses a recognised layout), by global entry index. */
  readonly details = new Map<number, Record<string, string>>();
  readonly types: string[] = [];
  private readonly typeIndex = new Map<number, number>();
  private lastTypeKey = -1;
  private lastType = 0;

  constructor(private capacity: number) {
    this.line = new Int32Array(capacity);
    this.valueDate = new Int32Array(capacity);
    this.entryDate = new Int32Array(capacity);
    this.mark = new Uint8Array(capacity);
    this.fundsCode = new Uint8Array(capacity);
    this.type = new Uint16Array(capacity);
    this.amount = new Float64Array(capacity);
    this.refStart = new Int32Array(capacity);
    this.refEnd = new Int32Array(capacity);
    this.bankStart = new Int32Array(capacity);
    this.bankEnd = new Int32Array(capacity);
    this.suppStart = new Int32Array(capacity);
    this.suppEnd = new Int32Array(capacity);
    this.narrStart = new Int32Array(capacity);
    this.narrEnd = new Int32Array(capacity);
  }

  /** Index of the next entry, growing the columns when full. */
  add(): number {
    if (this.size === this.capacity) this.resize(this.capacity * 2);
    return this.size++;
  }

  /**
   * Ends the columns at `size` entries: views of the same buffers (no copy) when the spare capacity is at
   * most as much again (56 bytes an entry; it stays allocated with them), else copies of exactly `size`.
   */
  trim(): void {
    const n = this.size;
    if (this.capacity > 2 * n + 1024) {
      this.resize(n);
      return;
    }
    this.line = this.line.subarray(0, n);
    this.valueDate = this.valueDate.subarray(0, n);
    this.entryDate = this.entryDate.subarray(0, n);
    this.mark = this.mark.subarray(0, n);
    this.fundsCode = this.fundsCode.subarray(0, n);
    this.type = this.type.subarray(0, n);
    this.amount = this.amount.subarray(0, n);
    this.refStart = this.refStart.subarray(0, n);
    this.refEnd = this.refEnd.subarray(0, n);
    this.bankStart = this.bankStart.subarray(0, n);
    this.bankEnd = this.bankEnd.subarray(0, n);
    this.suppStart = this.suppStart.subarray(0, n);
    this.suppEnd = this.suppEnd.subarray(0, n);
    this.narrStart = this.narrStart.subarray(0, n);
    this.narrEnd = this.narrEnd.subarray(0, n);
    this.capacity = n;
  }

  private resize(capacity: number): void {
    const n = Math.min(this.size, capacity);
    const grow = <T extends Int32Array | Uint8Array | Uint16Array | Float64Array>(
      a: T,
      make: (n: number) => T,
    ) => {
      const b = make(capacity);
      b.set(a.subarray(0, n));
      return b;
    };
    const i32 = (k: number) => new Int32Array(k);
    this.line = grow(this.line, i32);
    this.valueDate = grow(this.valueDate, i32);
    this.entryDate = grow(this.entryDate, i32);
    this.mark = grow(this.mark, (k) => new Uint8Array(k));
    this.fundsCode = grow(this.fundsCode, (k) => new Uint8Array(k));
    this.type = grow(this.type, (k) => new Uint16Array(k));
    this.amount = grow(this.amount, (k) => new Float64Array(k));
    this.refStart = grow(this.refStart, i32);
    this.refEnd = grow(this.refEnd, i32);
    this.bankStart = grow(this.bankStart, i32);
    this.bankEnd = grow(this.bankEnd, i32);
    this.suppStart = grow(this.suppStart, i32);
    this.suppEnd = grow(this.suppEnd, i32);
    this.narrStart = grow(this.narrStart, i32);
    this.narrEnd = grow(this.narrEnd, i32);
    this.capacity = capacity;
  }

  /** Index of the 4-character transaction type at p; -1 when the table is full. */
  typeAt(s: string, p: number): number {
    const a = s.charCodeAt(p);
    const b = s.charCodeAt(p + 1);
    const c = s.charCodeAt(p + 2);
    const d = s.charCodeAt(p + 3);
    const key = a < 0x10000 && b < 128 && c < 128 && d < 128 ? ((a * 128 + b) * 128 + c) * 128 + d : -1;
    if (key === this.lastTypeKey && key >= 0) return this.lastType; // runs of the same type are usual
    let t = key >= 0 ? this.typeIndex.get(key) : undefined;
    if (t === undefined) {
      if (this.types.length >= 0xffff) return -1;
      t = this.types.length;
      this.types.push(s.slice(p, p + 4));
      if (key >= 0) this.typeIndex.set(key, t);
    }
    this.lastTypeKey = key;
    this.lastType = t;
    return t;
  }
}

/**
 * The entries of one statement. With `columnar` the data is in the typed arrays of `columns` (this
 * statement's entries are `first .. first + count - 1` there) and strings are made on access; without it
 * (an input the fast reader left to `parseMt940`) the accessors read the entry objects.
 */
export class Mt940EntryColumns {
  /** Number of entries. */
  readonly count: number;
  readonly columnar: boolean;
  private readonly isoCache: Map<number, string>;

  constructor(
    /** The parsed input: every offset in the columns points into it ('' when not `columnar`). */
    readonly text: string,
    private readonly columns: Mt940ColumnStore | null,
    /** Index of this statement's first entry in the shared columns. */
    readonly first: number,
    count: number,
    /** Decimals of the statement currency (amounts in the columns are minor units of it). */
    readonly exponent: number,
    private readonly objects: Mt940Entry[] | null,
    isoCache: Map<number, string>,
  ) {
    this.count = count;
    this.columnar = objects === null;
    this.isoCache = isoCache;
  }

  private at(i: number): number {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`entry ${i} out of range 0..${this.count - 1}`);
    return this.first + i;
  }

  private iso(yyyymmdd: number): string {
    let s = this.isoCache.get(yyyymmdd);
    if (s === undefined) {
      s = isoDate(Math.floor(yyyymmdd / 10000), Math.floor(yyyymmdd / 100) % 100, yyyymmdd % 100);
      this.isoCache.set(yyyymmdd, s);
    }
    return s;
  }

  /** The typed-array columns (null when the entries are objects, see `columnar`). Read only. */
  get raw(): Mt940ColumnStore | null {
    return this.columns;
  }

  valueDate(i: number): string {
    if (this.objects) return this.objects[this.at(i)]!.valueDate;
    return this.iso(this.columns!.valueDate[this.at(i)]!);
  }

  entryDate(i: number): string | undefined {
    if (this.objects) return this.objects[this.at(i)]!.entryDate;
    const d = this.columns!.entryDate[this.at(i)]!;
    return d === 0 ? undefined : this.iso(d);
  }

  mark(i: number): Mt940Mark {
    if (this.objects) return this.objects[this.at(i)]!.mark;
    return MARKS[this.columns!.mark[this.at(i)]!]!;
  }

  /** Exact amount in minor units of the statement currency (non-negative). */
  amountMinor(i: number): bigint {
    if (this.objects) {
      const a = this.objects[this.at(i)]!.amount;
      const dot = a.indexOf('.');
      return BigInt(dot < 0 ? a : a.slice(0, dot) + a.slice(dot + 1));
    }
    const j = this.at(i);
    const m = this.columns!.amount[j]!;
    return m >= 0 ? BigInt(m) : this.columns!.bigAmounts.get(j)!;
  }

  /** Exact decimal string with the currency's decimals, as `Mt940Entry.amount`. */
  amount(i: number): string {
    if (this.objects) return this.objects[this.at(i)]!.amount;
    const j = this.at(i);
    const m = this.columns!.amount[j]!;
    if (m < 0) return formatMinorUnits(this.columns!.bigAmounts.get(j)!, this.exponent);
    return formatMinor(m, this.exponent);
  }

  /** As `Mt940Entry.signedAmount`: negative for D and RC. */
  signedAmount(i: number): string {
    if (this.objects) return this.objects[this.at(i)]!.signedAmount;
    const a = this.amount(i);
    const mark = this.columns!.mark[this.at(i)]!;
    return (mark === MARK_D || mark === MARK_RC) && !isZeroAmount(a) ? `-${a}` : a;
  }

  transactionType(i: number): string {
    if (this.objects) return this.objects[this.at(i)]!.transactionType;
    return this.columns!.types[this.columns!.type[this.at(i)]!]!;
  }

  fundsCode(i: number): string | undefined {
    if (this.objects) return this.objects[this.at(i)]!.fundsCode;
    const c = this.columns!.fundsCode[this.at(i)]!;
    return c === 0 ? undefined : String.fromCharCode(c);
  }

  customerReference(i: number): string {
    if (this.objects) return this.objects[this.at(i)]!.customerReference;
    const j = this.at(i);
    return this.text.slice(this.columns!.refStart[j]!, this.columns!.refEnd[j]!);
  }

  bankReference(i: number): string | undefined {
    if (this.objects) return this.objects[this.at(i)]!.bankReference;
    const j = this.at(i);
    const s = this.columns!.bankStart[j]!;
    return s < 0 ? undefined : this.text.slice(s, this.columns!.bankEnd[j]!);
  }

  supplementaryDetails(i: number): string | undefined {
    if (this.objects) return this.objects[this.at(i)]!.supplementaryDetails;
    const j = this.at(i);
    const s = this.columns!.suppStart[j]!;
    return s < 0 ? undefined : this.text.slice(s, this.columns!.suppEnd[j]!);
  }

  /** The :86: lines of the entry (a new array on each call). */
  narratives(i: number): string[] {
    if (this.objects) return [...this.objects[this.at(i)]!.narratives];
    const j = this.at(i);
    const start = this.columns!.narrStart[j]!;
    if (start < 0) return [];
    return splitLines(this.text, start, this.columns!.narrEnd[j]!);
  }

  details(i: number): Record<string, string> | undefined {
    if (this.objects) {
      const d = this.objects[this.at(i)]!.details;
      return d && { ...d };
    }
    const d = this.columns!.details.get(this.at(i));
    return d && { ...d };
  }

  /** 1-based line of the entry's :61:. */
  line(i: number): number {
    if (this.objects) return this.objects[this.at(i)]!.line;
    return this.columns!.line[this.at(i)]!;
  }

  /** One entry as `parseMt940` returns it (a new object on each call). */
  entry(i: number): Mt940Entry {
    if (this.objects) return structuredClone(this.objects[this.at(i)]!);
    const c = this.columns!;
    const j = this.at(i);
    const m = c.amount[j]!;
    const amount =
      m >= 0 ? formatMinor(m, this.exponent) : formatMinorUnits(c.bigAmounts.get(j)!, this.exponent);
    const mark = c.mark[j]!;
    const signedAmount =
      (mark === MARK_D || mark === MARK_RC) && !isZeroAmount(amount) ? `-${amount}` : amount;
    const text = this.text;
    const narratives = c.narrStart[j]! < 0 ? [] : splitLines(text, c.narrStart[j]!, c.narrEnd[j]!);
    const entryDate = c.entryDate[j]!;
    const bankStart = c.bankStart[j]!;
    let e: Mt940Entry;
    if (entryDate !== 0 && bankStart >= 0 && c.fundsCode[j] === 0) {
      // the usual shape, built in one go (the same keys in the same order as parseMt940's)
      e = {
        valueDate: this.iso(c.valueDate[j]!),
        mark: MARKS[mark]!,
        amount,
        signedAmount,
        transactionType: c.types[c.type[j]!]!,
        customerReference: text.slice(c.refStart[j]!, c.refEnd[j]!),
        narratives,
        line: c.line[j]!,
        entryDate: this.iso(entryDate),
        bankReference: text.slice(bankStart, c.bankEnd[j]!),
      };
    } else {
      e = {
        valueDate: this.iso(c.valueDate[j]!),
        mark: MARKS[mark]!,
        amount,
        signedAmount,
        transactionType: c.types[c.type[j]!]!,
        customerReference: text.slice(c.refStart[j]!, c.refEnd[j]!),
        narratives,
        line: c.line[j]!,
      };
      if (entryDate !== 0) e.entryDate = this.iso(entryDate);
      if (c.fundsCode[j] !== 0) e.fundsCode = String.fromCharCode(c.fundsCode[j]!);
      if (bankStart >= 0) e.bankReference = text.slice(bankStart, c.bankEnd[j]!);
    }
    if (c.suppStart[j]! >= 0) e.supplementaryDetails = text.slice(c.suppStart[j]!, c.suppEnd[j]!);
    if (c.details.size > 0) {
      const d = c.details.get(j);
      if (d) e.details = { ...d };
    }
    return e;
  }

  /** Every entry as objects (what `parseMt940` puts in `entries`). */
  toEntries(): Mt940Entry[] {
    const out = new Array<Mt940Entry>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.entry(i);
    return out;
  }
}

export type Mt940ColumnsStatement = Omit<Mt940Statement, 'entries'> & { entries: Mt940EntryColumns };

export interface Mt940ColumnsResult {
  statements: Mt940ColumnsStatement[];
  /** File-level problems, as in `parseMt940`. */
  problems: Mt940Problem[];
  /** true when the fast reader read the input (entries in typed arrays), false when `parseMt940` did. */
  columnar: boolean;
}

/** The result as `parseMt940` gives it (every entry materialised). */
export function materialiseColumns(result: Mt940ColumnsResult): Mt940ParseResult {
  return {
    statements: result.statements.map((s) => ({ ...s, entries: s.entries.toEntries() })),
    problems: result.problems,
  };
}

function formatMinor(m: number, exp: number): string {
  if (exp === 2) return `${Math.floor(m / 100)}${CENTS[m % 100]!}`;
  if (exp === 0) return String(m);
  const digits = String(m).padStart(exp + 1, '0');
  return `${digits.slice(0, digits.length - exp)}.${digits.slice(digits.length - exp)}`;
}

function isZeroAmount(a: string): boolean {
  for (let i = 0; i < a.length; i++) {
    const c = a.charCodeAt(i);
    if (c !== 48 && c !== 46) return false;
  }
  return true;
}

const scratch: string[] = [];

/**
 * The lines of text[start, end) (line ends CRLF, LF or a lone CR, as everywhere: see lines.ts), as an array
 * of exactly their number (no spare capacity kept, as in parseMt940's result). Scans only the range.
 */
function splitLines(text: string, start: number, end: number): string[] {
  let n = 0;
  let a = start;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 10 && c !== 13) continue;
    scratch[n++] = text.slice(a, i);
    if (c === 13 && i + 1 < end && text.charCodeAt(i + 1) === 10) i++;
    a = i + 1;
  }
  scratch[n++] = text.slice(a, end);
  return exactCopy(scratch, n);
}

/** What String.prototype.trim removes. */
function isWs(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 160) return false;
  return (
    c === 160 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

/** Same as text.slice(start, end).trim() === '' */
function isBlankRange(text: string, start: number, end: number): boolean {
  if (end === start) return true;
  const c = text.charCodeAt(end - 1);
  if (c > 32 && c < 127) return false;
  for (let i = start; i < end; i++) if (!isWs(text.charCodeAt(i))) return false;
  return true;
}

/** End of text.slice(start, end).trimEnd(). */
function trimEndAt(text: string, start: number, end: number): number {
  while (end > start && isWs(text.charCodeAt(end - 1))) end--;
  return end;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

function digitsAt(s: string, pos: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(pos + i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/**
 * How many `:61:` occur in the text: at least the entries the fast reader can find (each starts on a line
 * beginning with `:61:`), so the columns are sized once and never grow. An estimate from the text's length
 * (one entry per 160 characters) over-allocated by half on statements with short narratives, and the copy
 * that `trim` then made held both at the peak (about 50 MB at 49 MB of text). indexOf scans natively.
 */
export function countEntryTags(text: string): number {
  let n = 0;
  for (let i = text.indexOf(':61:'); i >= 0; i = text.indexOf(':61:', i + 4)) n++;
  return n;
}

/** Thrown inside the fast reader when the input needs the full parser. */
class GiveUp {}
const GIVE_UP = new GiveUp();

function giveUp(): never {
  throw GIVE_UP;
}

const TAGS = new Map<string, string>();
for (const t of KNOWN_TAGS) TAGS.set(t, t);

/** Known tag of a `:NN:` / `:NNA:` / `:NS:` line at i; '' when the line starts with no known tag. */
function tagAt(text: string, i: number, end: number): string {
  if (end - i < 4) return '';
  const a = text.charCodeAt(i + 1);
  const b = text.charCodeAt(i + 2);
  const c = text.charCodeAt(i + 3);
  if (isDigit(a) && isDigit(b)) {
    if (c === 58) {
      // the usual tags, without a lookup
      if (a === 54 && b === 49) return '61';
      if (a === 56 && b === 54) return '86';
      return TAGS.get(text.slice(i + 1, i + 3)) ?? '';
    }
    if (isUpper(c) && end - i >= 5 && text.charCodeAt(i + 4) === 58)
      return TAGS.get(text.slice(i + 1, i + 4)) ?? '';
    return '';
  }
  if (a === 78 && b === 83 && c === 58) return 'NS';
  return '';
}

interface RawBalance {
  mark: 'C' | 'D';
  date: string;
  currency: string;
  /** digits with a comma, as written */
  amount: string;
  intermediate: boolean;
  line: number;
  tag: string;
}

/** Reads the regular layout; throws GIVE_UP on anything else. */
class FastReader {
  statements: Mt940ColumnsStatement[] = [];
  cols: Mt940ColumnStore = new Mt940ColumnStore(0);
  isoCache = new Map<number, string>();
  private text = '';
  /**
   * Streaming (Mt940ColumnStream): the global index of `cols`' first entry (each segment of the text has
   * columns of its own; 0 over a whole text), the first entry of the current run in `cols`, the runs handed
   * out (null: none wanted), and the entries of each statement read.
   */
  private base = 0;
  private runStart = 0;
  runs: Mt940EntryRun[] | null = null;
  streamed = false;
  readonly entryCounts: number[] = [];
  readonly markCounts = [0, 0, 0, 0];

  // the statement being read
  private open = false;
  private st: Mt940ColumnsStatement | null = null;
  private first = 0;
  private has20 = false;
  private hasAccount = false;
  private opening: RawBalance | undefined;
  private closing: RawBalance | undefined;
  private available: RawBalance | undefined;
  private forward: RawBalance[] = [];
  private exp = -1;
  private sumSmall = 0;
  private sumBig = 0n;
  private lastTag = '';
  private lastInfoWasEntry = false;

  // the open field
  private fieldOpen = false;
  private tag = '';
  private fLine = 0;
  private fStart = 0;
  private fEnd = 0;
  /** continuation lines so far */
  private fMore = 0;
  /** :86: only: lines up to the last non-blank one, the end of that line, the first overlong line */
  private fKeep = 0;
  private fKeepEnd = 0;
  private fLong = -1;
  /** :61: only: the first continuation line */
  private fSuppStart = -1;
  private fSuppEnd = -1;
  /** lines of fields that keep them as strings (statement :86:, other fields) */
  private fLines: string[] = [];

  /** Starts reading a new input (one reader serves every parse: see READER). */
  reset(text: string): void {
    this.text = text;
    this.statements = [];
    this.cols = new Mt940ColumnStore(Math.max(16, countEntryTags(text)));
    this.isoCache = new Map();
    this.open = false;
    this.st = null;
    this.fieldOpen = false;
    this.fLines = [];
    this.lastYymmdd = -1;
    this.base = 0;
    this.runStart = 0;
  }

  /**
   * Streaming: reads on in `text`, the next segment of the input. The previous segment ended with a line
   * break and `text` opens with a `:61:` or `:20:` line, whose field start would close the open field anyway:
   * it is closed here, while its offsets still point into the previous segment. Each segment has columns
   * of its own, sized to its `:61:` lines.
   */
  segment(text: string): void {
    this.closeSegment();
    this.base += this.cols.size;
    this.text = text;
    this.cols = new Mt940ColumnStore(Math.max(16, countEntryTags(text)));
    this.runStart = 0;
  }

  /**
   * Streaming: the segment is read to its end. The next line opens a field (see `segment`), so the open one
   * is closed now, and the segment's entries are handed out at once.
   */
  closeSegment(): void {
    this.closeField();
    this.endSegment();
  }

  /** Streaming: the entries read in the current segment are counted, and handed out as a run if wanted. */
  private endSegment(): void {
    const c = this.cols;
    for (let j = this.runStart; j < c.size; j++) this.markCounts[c.mark[j]!]!++;
    if (this.runs !== null && c.size > this.runStart)
      this.runs.push({
        statement: this.statements.length,
        entries: new Mt940EntryColumns(
          this.text,
          c,
          this.runStart,
          c.size - this.runStart,
          this.exp,
          null,
          this.isoCache,
        ),
      });
    this.runStart = c.size;
  }

  /** Lets go of the input and the result. */
  release(): void {
    this.reset('');
    this.cols = EMPTY_STORE;
  }

  line(start: number, stop: number, n: number): void {
    const text = this.text;
    const c0 = text.charCodeAt(start);
    if (c0 === 1 || text.charCodeAt(stop - 1) === 3) giveUp(); // framing characters
    if (c0 === 58) {
      const tag = tagAt(text, start, stop);
      if (tag === '') giveUp();
      this.startField(tag, start + tag.length + 2, stop, n);
      return;
    }
    if (c0 === 123) giveUp(); // SWIFT block
    if (c0 === 45) {
      if (!isBlankTabs(text, start + 1, stop)) giveUp();
      this.endStatement();
      return;
    }
    if (this.fieldOpen) {
      this.continuation(start, stop);
      return;
    }
    if (!isBlankTabs(text, start, stop)) giveUp(); // text outside a statement
  }

  private continuation(start: number, stop: number): void {
    const text = this.text;
    const k = ++this.fMore;
    const tag = this.tag;
    if (tag === '86') {
      if (stop - start > 65 && this.fLong < 0) this.fLong = k;
      if (this.lastTag !== '61') this.fLines.push(text.slice(start, stop));
      if (!isBlankRange(text, start, stop)) {
        this.fKeep = k + 1;
        this.fKeepEnd = stop;
      }
    } else if (tag === '61') {
      if (k === 1) {
        this.fSuppStart = start;
        this.fSuppEnd = stop;
      } else if (!isBlankRange(text, start, stop)) giveUp();
    } else if (
      tag === 'NS' ||
      tag === '13' ||
      tag === '13D' ||
      tag === '34F' ||
      tag === '90D' ||
      tag === '90C'
    ) {
      this.fLines.push(text.slice(start, stop));
    } else if (!isBlankRange(text, start, stop)) {
      giveUp(); // a one-line field continued: parseMt940 warns
    }
  }

  private startField(tag: string, at: number, stop: number, n: number): void {
    this.closeField();
    if (tag === '20') {
      if (this.open) this.emit();
    } else if (!this.open) {
      giveUp(); // a statement without :20:
    } else if ((tag === '60F' || tag === '60M') && (this.opening || this.closing)) {
      giveUp();
    }
    if (!this.open) this.begin(n);
    this.fieldOpen = true;
    this.tag = tag;
    this.fLine = n;
    this.fStart = at;
    this.fEnd = stop;
    this.fMore = 0;
    if (tag === '86') {
      this.fLong = stop - at > 65 ? 0 : -1;
      const blank = isBlankRange(this.text, at, stop);
      this.fKeep = blank ? 0 : 1;
      this.fKeepEnd = stop;
      if (this.lastTag !== '61') this.fLines = [this.text.slice(at, stop)];
    } else if (tag === '61') {
      this.fSuppStart = -1;
      this.entryLine(at, stop, n);
    } else if (
      tag === 'NS' ||
      tag === '13' ||
      tag === '13D' ||
      tag === '34F' ||
      tag === '90D' ||
      tag === '90C'
    ) {
      this.fLines = [this.text.slice(at, stop)];
    }
  }

  private begin(n: number): void {
    this.open = true;
    this.st = {
      transactionReference: '',
      accountIdentification: '',
      forwardAvailableBalances: [],
      entries: null as unknown as Mt940EntryColumns,
      information: [],
      problems: [],
      line: n,
      otherFields: [],
    };
    this.first = this.base + this.cols.size;
    this.runStart = this.cols.size;
    this.has20 = false;
    this.hasAccount = false;
    this.opening = undefined;
    this.closing = undefined;
    this.available = undefined;
    this.forward = [];
    this.exp = -1;
    this.sumSmall = 0;
    this.sumBig = 0n;
    this.lastTag = '';
    this.lastInfoWasEntry = false;
  }

  private closeField(): void {
    if (!this.fieldOpen) return;
    this.fieldOpen = false;
    const st = this.st!;
    const tag = this.tag;
    const text = this.text;
    switch (tag) {
      case '61': {
        if (this.fSuppStart >= 0) {
          const end = trimEndAt(text, this.fSuppStart, this.fSuppEnd);
          if (end > this.fSuppStart) {
            if (end - this.fSuppStart > 34) giveUp();
            const j = this.cols.size - 1;
            this.cols.suppStart[j] = this.fSuppStart;
            this.cols.suppEnd[j] = end;
          }
        }
        break;
      }
      case '86':
        this.information();
        break;
      case '20':
        this.has20 = true;
        st.transactionReference = this.single(16);
        break;
      case '21':
        st.relatedReference = this.single(16);
        break;
      case '25':
      case '25P':
        if (this.hasAccount) giveUp();
        this.hasAccount = true;
        st.accountIdentification = this.single(35);
        break;
      case '28':
      case '28C': {
        const v = this.single(0).trim();
        const slash = v.indexOf('/');
        const num = slash < 0 ? v : v.slice(0, slash);
        const seq = slash < 0 ? undefined : v.slice(slash + 1);
        if (!/^\d{1,5}$/.test(num) || (seq !== undefined && !/^\d{1,5}$/.test(seq))) giveUp();
        st.statementNumber = num;
        if (seq !== undefined) st.sequenceNumber = seq;
        break;
      }
      case '60F':
      case '60M':
        this.opening = this.balance();
        if (this.base + this.cols.size === this.first)
          this.exp = currencyExponent(this.opening.currency) ?? -1;
        break;
      case '62F':
      case '62M':
        this.closing = this.balance();
        break;
      case '64':
        this.available = this.balance();
        break;
      case '65':
        this.forward.push(this.balance());
        break;
      default:
        st.otherFields.push({
          tag,
          value: this.fLines.length > 1 ? this.fLines.join('\n') : this.fLines[0]!,
          line: this.fLine,
        });
    }
    this.lastTag = tag;
  }

  private single(max: number): string {
    const end = trimEndAt(this.text, this.fStart, this.fEnd);
    if (max > 0 && end - this.fStart > max) giveUp();
    return this.text.slice(this.fStart, end);
  }

  private balance(): RawBalance {
    const text = this.text;
    const at = this.fStart;
    const end = trimEndAt(text, at, this.fEnd);
    const mark = text.charCodeAt(at);
    if (mark !== 67 && mark !== 68) giveUp();
    const date = this.yymmdd(at + 1);
    const currency = text.slice(at + 7, at + 10);
    if (
      currency.length !== 3 ||
      !isUpper(currency.charCodeAt(0)) ||
      !isUpper(currency.charCodeAt(1)) ||
      !isUpper(currency.charCodeAt(2))
    )
      giveUp();
    let p = at + 10;
    while (isDigit(text.charCodeAt(p))) p++;
    const intEnd = p;
    if (text.charCodeAt(p) !== 44) giveUp();
    p++;
    while (isDigit(text.charCodeAt(p))) p++;
    if (p === intEnd + 1 && intEnd === at + 10) giveUp();
    if (p !== end) giveUp();
    return {
      mark: mark === 67 ? 'C' : 'D',
      date: this.iso(date),
      currency,
      amount: text.slice(at + 10, end),
      intermediate: this.tag.endsWith('M'),
      line: this.fLine,
      tag: this.tag,
    };
  }

  private iso(d: number): string {
    let s = this.isoCache.get(d);
    if (s === undefined) {
      s = isoDate(Math.floor(d / 10000), Math.floor(d / 100) % 100, d % 100);
      this.isoCache.set(d, s);
    }
    return s;
  }

  /** A valid YYMMDD at p as yyyymmdd. */
  /** The last date read (YYMMDD as a number) and its yyyymmdd: entries come in runs of the same date. */
  private lastYymmdd = -1;
  private lastDate = 0;

  private yymmdd(p: number): number {
    const v = digitsAt(this.text, p, 6);
    if (v < 0) giveUp();
    if (v === this.lastYymmdd) return this.lastDate;
    const year = fullYear(Math.floor(v / 10000));
    const month = Math.floor(v / 100) % 100;
    const day = v % 100;
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) giveUp();
    this.lastYymmdd = v;
    this.lastDate = year * 10000 + month * 100 + day;
    return this.lastDate;
  }

  /** Reads a :61: line text[o, lim) into a new entry (line n). */
  private entryLine(o: number, lim: number, n: number): void {
    const s = this.text;
    const exp = this.exp;
    if (exp < 0) giveUp(); // currency not known from an opening balance before the entries
    const value = this.yymmdd(o);
    let p = o + 6;
    const c6 = s.charCodeAt(p);
    let entryDate = 0;
    if (isDigit(c6)) {
      const mmdd = digitsAt(s, p, 4);
      if (mmdd < 0) giveUp();
      const vy = Math.floor(value / 10000);
      const vm = Math.floor(value / 100) % 100;
      const mm = Math.floor(mmdd / 100);
      const dd = mmdd % 100;
      let year = vy;
      if (vm === 12 && mm === 1) year++;
      else if (vm === 1 && mm === 12) year--;
      if (mm < 1 || mm > 12 || dd < 1 || dd > daysInMonth(year, mm)) giveUp();
      entryDate = year * 10000 + mmdd;
      p += 4;
    } else if (c6 === 32) {
      while (s.charCodeAt(p) === 32 && p < o + 10) p++;
    }
    const m0 = p < lim ? s.charCodeAt(p) : 0;
    const m1 = p + 1 < lim ? s.charCodeAt(p + 1) : 0;
    let mark: number;
    if (m0 === 82 && (m1 === 68 || m1 === 67)) {
      mark = m1 === 68 ? MARK_RD : MARK_RC;
      p += 2;
    } else if (m0 === 68) {
      mark = MARK_D;
      p++;
    } else if (m0 === 67) {
      mark = MARK_C;
      p++;
    } else {
      giveUp();
    }
    let funds = 0;
    if (p < lim && isUpper(s.charCodeAt(p))) funds = s.charCodeAt(p++);
    // amount: digits, a comma, at most `exp` decimals that count (more only as trailing zeros)
    const at = p;
    let v = 0;
    while (isDigit(s.charCodeAt(p))) v = v * 10 + (s.charCodeAt(p++) - 48);
    const intEnd = p;
    if (s.charCodeAt(p) !== 44) giveUp(); // no decimal comma: parseMt940 warns
    p++;
    let decimals = 0;
    for (;;) {
      const c = s.charCodeAt(p);
      if (!isDigit(c)) break;
      if (decimals < exp) {
        v = v * 10 + (c - 48);
        decimals++;
      } else if (c !== 48) {
        giveUp(); // more decimals than the currency: parseMt940 warns
      }
      p++;
    }
    if (intEnd === at && p === intEnd + 1) giveUp(); // no digits
    if (p - at > 15) giveUp();
    let big: bigint | undefined;
    if (decimals < exp) {
      const scaled = v * POW10[exp - decimals]!;
      if (scaled > Number.MAX_SAFE_INTEGER) big = BigInt(v) * 10n ** BigInt(exp - decimals);
      else v = scaled;
    }
    // transaction type, after the blank German banks write there (`C50,00 NTRF...`)
    while (s.charCodeAt(p) === 32 && p < lim) p++;
    if (p + 4 > lim || !isUpper(s.charCodeAt(p))) giveUp();
    const type = this.cols.typeAt(s, p);
    if (type < 0) giveUp();
    p += 4;
    // customer reference, then // bank reference
    // a reference of up to 16 characters: the // (if any) is within the next 18 characters
    let slashes = -1;
    const stopAt = Math.min(lim, p + 18);
    for (let i = p; i + 1 < stopAt; i++) {
      if (s.charCodeAt(i) === 47 && s.charCodeAt(i + 1) === 47) {
        slashes = i;
        break;
      }
    }
    const refRawEnd = slashes >= 0 ? slashes : lim;
    if (refRawEnd - p > 16) giveUp(); // long references: split or warned about by parseMt940
    const refEnd =
      s.charCodeAt(refRawEnd - 1) === 32 && refRawEnd > p ? trimEndAt(s, p, refRawEnd) : refRawEnd;
    let bankStart = -1;
    let bankEnd = -1;
    if (slashes >= 0) {
      bankStart = slashes + 2;
      bankEnd = s.charCodeAt(lim - 1) === 32 && lim > bankStart ? trimEndAt(s, bankStart, lim) : lim;
      if (bankEnd - bankStart > 16) giveUp();
    }
    const c = this.cols;
    const j = c.add();
    c.line[j] = n;
    c.valueDate[j] = value;
    c.entryDate[j] = entryDate;
    c.mark[j] = mark;
    c.fundsCode[j] = funds;
    c.type[j] = type;
    c.refStart[j] = p;
    c.refEnd[j] = refEnd;
    c.bankStart[j] = bankStart;
    c.bankEnd[j] = bankEnd;
    c.suppStart[j] = -1;
    c.suppEnd[j] = -1;
    c.narrStart[j] = -1;
    c.narrEnd[j] = -1;
    if (big !== undefined) {
      c.amount[j] = -1;
      c.bigAmounts.set(j, big);
      this.sumBig += mark === MARK_D || mark === MARK_RC ? -big : big;
    } else {
      c.amount[j] = v;
      const sum = this.sumSmall + (mark === MARK_D || mark === MARK_RC ? -v : v);
      if (sum > 8e15 || sum < -8e15) {
        this.sumBig += BigInt(sum);
        this.sumSmall = 0;
      } else {
        this.sumSmall = sum;
      }
    }
  }

  private information(): void {
    const keep = this.fKeep;
    const entry = this.lastTag === '61';
    if (this.lastTag === '86' && this.lastInfoWasEntry) giveUp(); // one :86: per line (Rabobank)
    this.lastInfoWasEntry = entry;
    if (!entry) {
      const lines = this.fLines;
      let k = lines.length;
      while (k > 0 && lines[k - 1]!.trim() === '') k--;
      for (let i = 0; i < k; i++) this.st!.information.push(lines[i]!);
      return;
    }
    if (keep > 6) giveUp();
    if (this.fLong >= 0 && this.fLong < keep) giveUp();
    if (keep === 0) return;
    const c = this.cols;
    const j = c.size - 1;
    c.narrStart[j] = this.fStart;
    c.narrEnd[j] = this.fKeepEnd;
    // structured subfields only where the first line can start one of the layouts
    const text = this.text;
    let q = this.fStart;
    while (text.charCodeAt(q) === 32) q++;
    const c0 = text.charCodeAt(q);
    if (c0 === 47 || (isDigit(c0) && isDigit(text.charCodeAt(q + 1)) && isDigit(text.charCodeAt(q + 2)))) {
      const d = parseDetails(splitLines(text, this.fStart, this.fKeepEnd));
      if (d) c.details.set(j, d);
    }
  }

  endStatement(): void {
    this.closeField();
    if (this.open) this.emit();
  }

  private emit(): void {
    const st = this.st!;
    this.open = false;
    this.st = null;
    if (!this.has20 || !this.hasAccount) giveUp();
    if (!this.opening || !this.closing) giveUp(); // a statement cut short: parseMt940 reports the error
    const currency = this.opening?.currency || this.closing?.currency || this.available?.currency;
    if (currency === undefined) giveUp();
    const exp = currencyExponent(currency);
    if (exp === undefined) giveUp();
    const count = this.base + this.cols.size - this.first;
    if (count > 0 && exp !== this.exp) giveUp();
    st.currency = currency;
    const minorOf = (b: RawBalance): bigint => {
      const e = currencyExponent(b.currency);
      if (e === undefined) giveUp();
      const comma = b.amount.indexOf(',');
      let frac = b.amount.slice(comma + 1);
      let n = frac.length;
      while (n > e && frac.charCodeAt(n - 1) === 48) n--;
      if (n > e) giveUp(); // more decimals than the currency
      frac = frac.slice(0, n).padEnd(e, '0');
      return BigInt(`${b.amount.slice(0, comma) || '0'}${frac}`);
    };
    const toBalance = (b: RawBalance): Mt940Balance => {
      const out: Mt940Balance = {
        mark: b.mark,
        date: b.date,
        currency: b.currency,
        amount: formatMinorUnits(minorOf(b), currencyExponent(b.currency)!),
      };
      if (b.intermediate) out.intermediate = true;
      return out;
    };
    if (this.opening) st.openingBalance = toBalance(this.opening);
    if (this.closing) st.closingBalance = toBalance(this.closing);
    if (this.available) st.closingAvailableBalance = toBalance(this.available);
    for (const b of this.forward) st.forwardAvailableBalances.push(toBalance(b));
    if (this.opening && this.closing) {
      if (this.opening.currency !== this.closing.currency) giveUp();
      const sign = (m: 'C' | 'D') => (m === 'D' ? -1n : 1n);
      const o = minorOf(this.opening) * sign(this.opening.mark);
      const c = minorOf(this.closing) * sign(this.closing.mark);
      const computed = o + this.sumBig + BigInt(this.sumSmall);
      st.balanceCheck = {
        ok: computed === c,
        expectedClosing: formatMinorUnits(c, exp),
        computedClosing: formatMinorUnits(computed, exp),
      };
      if (computed !== c) {
        st.problems.push({
          message:
            `balance check failed: opening balance plus entries is ${st.balanceCheck.computedClosing}, ` +
            `closing balance is ${st.balanceCheck.expectedClosing}`,
          line: this.closing.line,
          column: 1,
          tag: this.closing.tag,
          severity: 'error',
        });
      }
    }
    if (this.streamed) {
      // the statement's entries were (or are now) handed out in runs over their segments
      this.endSegment();
      this.entryCounts.push(count);
    } else
      st.entries = new Mt940EntryColumns(this.text, this.cols, this.first, count, exp, null, this.isoCache);
    this.statements.push(st);
  }
}

function isBlankTabs(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/** The fast reader over the whole text; null when the input needs `parseMt940`. */
const EMPTY_STORE = new Mt940ColumnStore(0);
/**
 * One reader for every parse (a parse runs to its end synchronously). V8 drops the optimised code built for
 * an object's hidden class when the last object of that class is collected; with a new reader per parse,
 * every full GC between two parses threw the reader's compiled methods away and the next parse started
 * over in the interpreter (measured: about twice the CPU time of a warm parse after each `gc()`).
 */
const READER = new FastReader();

function readColumns(text: string): Mt940ColumnsResult | null {
  const lines = new TextLines(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
  const reader = READER;
  reader.reset(text);
  let n = 0;
  try {
    while (lines.next()) reader.line(lines.start, lines.stop, ++n);
    reader.endStatement();
  } catch (e) {
    reader.release();
    if (e === GIVE_UP) return null;
    throw e;
  }
  const statements = reader.statements;
  const cols = reader.cols;
  reader.release();
  if (statements.length === 0) return null; // "not MT940": parseMt940 reports it
  cols.trim();
  return { statements, problems: [], columnar: true };
}

/** Entries of one statement read from one segment of a streamed text (see `Mt940ColumnStream`). */
export interface Mt940EntryRun {
  /** Index of the statement in the stream's result. */
  statement: number;
  /** Over the segment's text and columns: held only as long as the run is. */
  entries: Mt940EntryColumns;
}

/** A statement as `parseMt940Columns` gives it, without its entries (a stream hands them out in runs). */
export type Mt940StreamStatement = Omit<Mt940ColumnsStatement, 'entries'> & { entryCount: number };

export interface Mt940StreamResult {
  statements: Mt940StreamStatement[];
  /** Entries by mark over the whole input: D, C, RD, RC. */
  marks: { D: number; C: number; RD: number; RC: number };
}

/**
 * The fast reader of `parseMt940Columns` over a text given piece by piece (pieces cut anywhere, even inside
 * a line, a tag or a character's surrogate pair), holding about a piece at a time instead of the whole
 * text and its columns. The text is read in segments of whole lines cut before a `:61:` or `:20:` line
 * (so an entry's `:61:` and `:86:` are in one segment); each segment gets columns of its own, and with
 * `entries` its entries are handed out as runs from `push` and `end`, in file order.
 *
 * The result is `parseMt940Columns`' when that reads the input with the fast reader (`columnar`); on any
 * input the fast reader leaves to `parseMt940` the stream gives up (`result` is null) and the caller reads
 * the whole text instead. Runs of a statement are handed out before the statement is checked to its end,
 * so read a text once to check it, then again for its entries.
 */
export class Mt940ColumnStream {
  private readonly reader = new FastReader();
  private carry = '';
  private started = false;
  private line = 0;
  private failed = false;
  private ended = false;
  private out: Mt940StreamResult | null = null;

  constructor(options: { entries: boolean }) {
    this.reader.reset('');
    this.reader.streamed = true;
    if (options.entries) this.reader.runs = [];
  }

  /** True once the input is known to need `parseMt940`: the rest of it is then ignored. */
  get givenUp(): boolean {
    return this.failed;
  }

  /** Reads `piece`, the next part of the text; answers the runs of entries it completed. */
  push(piece: string): Mt940EntryRun[] {
    if (this.failed || this.ended) return [];
    const buf = this.carry + piece;
    const cut = lastCut(buf);
    if (cut <= 0) {
      this.carry = buf;
      return [];
    }
    this.carry = buf.slice(cut);
    return this.read(buf.slice(0, cut));
  }

  /** The input is complete: answers the last runs; `result` is set (null when given up). */
  end(): Mt940EntryRun[] {
    if (this.ended) return [];
    this.ended = true;
    if (this.failed) return [];
    const carry = this.carry;
    this.carry = '';
    const runs = carry.length > 0 ? this.read(carry) : [];
    if (this.failed) return [];
    const reader = this.reader;
    try {
      reader.endStatement();
    } catch (e) {
      if (e !== GIVE_UP) throw e;
      this.fail();
      return [];
    }
    if (reader.runs) runs.push(...reader.runs.splice(0));
    if (reader.statements.length === 0) {
      this.fail(); // "not MT940": parseMt940 reports it
      return [];
    }
    const m = reader.markCounts;
    this.out = {
      statements: reader.statements.map((st, i) => {
        const { entries: _, ...rest } = st;
        return { ...rest, entryCount: reader.entryCounts[i]! };
      }),
      marks: { D: m[MARK_D]!, C: m[MARK_C]!, RD: m[MARK_RD]!, RC: m[MARK_RC]! },
    };
    reader.release();
    return runs;
  }

  /** After `end`: the statements, as `parseMt940Columns` reads them; null when the input needs `parseMt940`. */
  get result(): Mt940StreamResult | null {
    return this.out;
  }

  private read(segment: string): Mt940EntryRun[] {
    const reader = this.reader;
    let from = 0;
    if (!this.started) {
      this.started = true;
      if (segment.charCodeAt(0) === 0xfeff) from = 1;
    }
    try {
      reader.segment(segment);
      const lines = new TextLines(segment, from);
      while (lines.next()) reader.line(lines.start, lines.stop, ++this.line);
      reader.closeSegment();
    } catch (e) {
      if (e !== GIVE_UP) throw e;
      this.fail();
      return [];
    }
    return reader.runs ? reader.runs.splice(0) : [];
  }

  private fail(): void {
    this.failed = true;
    this.carry = '';
    this.reader.release();
  }
}

/** Where the last line of `text` that opens with `:61:` or `:20:` starts, after a line break; -1 when none. */
function lastCut(text: string): number {
  const at = Math.max(
    text.lastIndexOf('\n:61:'),
    text.lastIndexOf('\r:61:'),
    text.lastIndexOf('\n:20:'),
    text.lastIndexOf('\r:20:'),
  );
  return at < 0 ? -1 : at + 1;
}

/**
 * Parses a whole MT940 file into statements whose entries are columns (see `Mt940EntryColumns`). Gives the
 * same statements, entries (through the accessors) and problems as `parseMt940`; never throws on bad input.
 */
export function parseMt940Columns(text: string): Mt940ColumnsResult {
  const fast = readColumns(text);
  if (fast) return fast;
  const r = parseMt940(text);
  const isoCache = new Map<number, string>();
  return {
    statements: r.statements.map((s) => {
      // the decimals the statement's amounts were formatted with (the same for all its entries)
      const first = s.entries[0]?.amount;
      const dot = first?.indexOf('.') ?? -1;
      const exponent =
        first === undefined
          ? ((s.currency === undefined ? undefined : currencyExponent(s.currency)) ?? 0)
          : dot < 0
            ? 0
            : first.length - dot - 1;
      return {
        ...s,
        entries: new Mt940EntryColumns('', null, 0, s.entries.length, exponent, s.entries, isoCache),
      };
    }),
    problems: r.problems,
    columnar: false,
  };
}
