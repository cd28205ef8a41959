// Dates in MT940: YYMMDD (value dates, balances) and MMDD (entry dates, year inferred).

export interface DateResult {
  /** YYYY-MM-DD, or '' when unreadable */
  iso: string;
  year: number;
  month: number;
  /** set when the date was not valid as written */
  problem?: string;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS[month - 1] ?? 31;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function isoDate(year: number, month: number, day: number): string {
  return `${year}-${two(month)}-${two(day)}`;
}

/** Reads n ASCII digits at pos; -1 when any is not a digit. */
export function digitsAt(s: string, pos: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(pos + i) - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** Two-digit years: 80..99 → 19xx, 00..79 → 20xx. */
export function fullYear(yy: number): number {
  return yy >= 80 ? 1900 + yy : 2000 + yy;
}

function build(year: number, month: number, day: number, text: string): DateResult {
  if (month < 1 || month > 12 || day < 1 || day > 31) {
    return { iso: '', year, month, problem: `invalid date ${text}` };
  }
  const dim = daysInMonth(year, month);
  if (day > dim) {
    return {
      iso: isoDate(year, month, dim),
      year,
      month,
      problem: `invalid date ${text} (day ${day} of a ${dim}-day month), read as ${isoDate(year, month, dim)}`,
    };
  }
  return { iso: isoDate(year, month, day), year, month };
}

// Results are immutable and statements repeat the same few dates: cache them (bounded by the number of
// distinct dates, at most 100 years of days).
const yymmddCache = new Map<number, DateResult>();
const entryCache = new Map<number, DateResult>();

/** YYMMDD at pos; undefined when not six digits. */
export function readYYMMDD(s: string, pos: number): DateResult | undefined {
  const key = digitsAt(s, pos, 6);
  if (key < 0) return undefined;
  let r = yymmddCache.get(key);
  if (r === undefined) {
    r = build(
      fullYear(Math.floor(key / 10000)),
      Math.floor(key / 100) % 100,
      key % 100,
      s.slice(pos, pos + 6),
    );
    if (yymmddCache.size < 50_000) yymmddCache.set(key, r);
  }
  return r;
}

/**
 * MMDD entry date at pos, its year taken from the value date: an entry in January for a value date in
 * December is next year, an entry in December for a value date in January is last year.
 */
export function readEntryDate(
  s: string,
  pos: number,
  valueYear: number,
  valueMonth: number,
): DateResult | undefined {
  const mmdd = digitsAt(s, pos, 4);
  if (mmdd < 0) return undefined;
  const key = (valueYear * 100 + valueMonth) * 10000 + mmdd;
  let r = entryCache.get(key);
  if (r === undefined) {
    const mm = Math.floor(mmdd / 100);
    let year = valueYear;
    if (valueMonth === 12 && mm === 1) year++;
    else if (valueMonth === 1 && mm === 12) year--;
    r = build(year, mm, mmdd % 100, s.slice(pos, pos + 4));
    if (entryCache.size < 50_000) entryCache.set(key, r);
  }
  return r;
}
