// MT940 fields and tags: the tags the parser knows, reading a `:NN:` / `:NNA:` tag at the start of a line,
// the open field that collects a tag's lines, and the small character and text helpers every part of the
// parser shares (problems, blank tests, exact-size copies).

import type { Mt940Problem } from './types.js';

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

/** One field while its lines are read: the tag's line and its continuation lines. */
export interface OpenField {
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

/** Where a field's reader reports what it finds wrong (the statement being built). */
export interface ProblemSink {
  warn(message: string, line: number, column: number, tag?: string): void;
  error(message: string, line: number, column: number, tag?: string): void;
}

export function firstOf(f: OpenField): string {
  if (f.lazyFirst) {
    f.first = f.src.slice(f.at, f.end);
    f.lazyFirst = false;
  }
  return f.first;
}

/** All lines of a multi-line field as a new array, or null for a one-line field (rare paths only). */
export function moreOf(f: OpenField): string[] | null {
  return f.count > 1 ? f.lines.slice(0, f.count) : null;
}

export function problem(
  message: string,
  line: number,
  column: number,
  severity: 'error' | 'warning',
  tag?: string,
): Mt940Problem {
  return tag === undefined ? { message, line, column, severity } : { message, line, column, tag, severity };
}

export function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}
export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
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
export function tagAt(text: string, i: number, end: number): string | undefined {
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
export function isBlankString(s: string): boolean {
  const n = s.length;
  if (n === 0) return true;
  const c = s.charCodeAt(n - 1);
  if (c > 32 && c < 127) return false;
  return s.trim() === '';
}

/** Whether text[start, end) holds only spaces and tabs. */
export function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
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
