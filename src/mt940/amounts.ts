// MT940 amounts as written ("1234,5", "100,", "7"): reading one, the decimals it needs, its exact minor
// units and its formatting with a currency's decimals. Integer arithmetic and BigInt only, never floats.

import { isDigit } from './tags.js';
import type { Mt940Mark } from './types.js';

/** An amount as written: digits with an optional comma and fraction ("1234,5", "100,", "7"). */
export type RawAmount = string;

/** Set by readAmount: whether the amount had a decimal comma, and where (-1 when none). */
export const amountRead = { hadComma: false, comma: -1 };

/** Reads an amount "digits[,digits]" at pos and returns where it ends, or -1 when there are no digits. */
export function readAmount(s: string, pos: number): number {
  let i = pos;
  while (isDigit(s.charCodeAt(i))) i++;
  const intEnd = i;
  amountRead.hadComma = false;
  amountRead.comma = -1;
  if (s.charCodeAt(i) === 44) {
    amountRead.hadComma = true;
    amountRead.comma = i;
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
export function neededDecimals(a: RawAmount): number {
  const comma = separatorOf(a);
  if (comma < 0) return 0;
  let n = a.length;
  while (n > comma + 1 && a.charCodeAt(n - 1) === 48) n--;
  return n - comma - 1;
}

export function writtenDecimals(a: RawAmount): number {
  const comma = separatorOf(a);
  return comma < 0 ? 0 : a.length - comma - 1;
}

/** Minor units of `a` at `exponent` decimals (exponent >= neededDecimals(a)). */
export function toMinor(a: RawAmount, exponent: number): bigint {
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
export function smallMinor(a: RawAmount, exponent: number): number {
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
export function formatAmount(a: RawAmount, exponent: number): string {
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
export const CENTS: string[] = [];
for (let c = 0; c < 100; c++) CENTS.push(c < 10 ? `.0${c}` : `.${c}`);

export function isZero(amount: string): boolean {
  for (let i = 0; i < amount.length; i++) {
    const c = amount.charCodeAt(i);
    if (c !== 48 && c !== 46) return false;
  }
  return true;
}

export function signOf(mark: Mt940Mark | 'C' | 'D'): 1n | -1n {
  return mark === 'D' || mark === 'RC' ? -1n : 1n;
}
