// Exact decimal amounts as bigint minor units. No binary floating point ever touches a sum.
import type { Result } from '../result.js';

export type AmountError =
  | 'not_a_number'
  | 'negative'
  | 'too_many_decimals'
  | 'too_large'
  | 'imprecise_number';

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;
/** Largest magnitude we accept: 18 integer digits, within numeric and well beyond any treasury. */
const MAX_INTEGER_DIGITS = 18;

/**
 * Reads an amount given as a JSON number or a decimal string into minor units of `exponent` decimals.
 * JSON numbers are accepted only when their shortest decimal form is exact (at most 15 significant
 * digits, no exponent notation); anything larger must come as a string.
 */
export function toMinorUnits(value: unknown, exponent: number): Result<{ minor: bigint }, AmountError> {
  const minor = usualMinorUnits(value, exponent);
  return minor === undefined ? generalMinorUnits(value, exponent) : { ok: true, minor };
}

/** 10^i as bigint, for the exponents the fast path takes. */
const POWERS_OF_TEN = Array.from({ length: MAX_INTEGER_DIGITS + 1 }, (_, i) => 10n ** BigInt(i));

/**
 * toMinorUnits of the usual amount without regular expressions or intermediate strings (a 10,000-item call
 * reads 10,000 of them): a whole JSON number below 10^15, or a string of at most 15 digits with at most
 * one decimal point between digits. Undefined for anything else (signs, blanks, exponents, more decimals
 * than the currency has), which takes the general path; test/money.test.ts holds the two equal.
 */
function usualMinorUnits(value: unknown, exponent: number): bigint | undefined {
  const scale = POWERS_OF_TEN[exponent];
  if (scale === undefined) return undefined;
  if (typeof value === 'number')
    return Number.isInteger(value) && value >= 0 && value < 1e15 ? BigInt(value) * scale : undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 16) return undefined;
  // Up to 15 digits are exact in a double (< 2^53).
  let digits = 0;
  let point = -1;
  let whole = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      whole = whole * 10 + (c - 48);
      digits++;
    } else if (c === 46 && point === -1 && i > 0 && i < value.length - 1) point = i;
    else return undefined;
  }
  if (digits > 15) return undefined;
  let decimals = point === -1 ? 0 : value.length - point - 1;
  // Trailing zeros of the fraction carry nothing (as in the general path).
  while (decimals > exponent && whole % 10 === 0) {
    whole /= 10;
    decimals--;
  }
  if (decimals > exponent) return undefined;
  return BigInt(whole) * POWERS_OF_TEN[exponent - decimals]!;
}

/** toMinorUnits for any input: the definition the fast path above must agree with. */
export function generalMinorUnits(value: unknown, exponent: number): Result<{ minor: bigint }, AmountError> {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, errorCode: 'not_a_number' };
    text = String(value);
    if (/e/i.test(text) || text.replace(/[-.]/g, '').replace(/^0+/, '').length > 15) {
      return { ok: false, errorCode: 'imprecise_number' };
    }
  } else if (typeof value === 'string') {
    text = value.trim();
  } else {
    return { ok: false, errorCode: 'not_a_number' };
  }
  const m = DECIMAL.exec(text);
  if (!m) return { ok: false, errorCode: 'not_a_number' };
  const [, sign, whole = '0', rawFraction = ''] = m;
  const fraction = rawFraction.replace(/0+$/, '');
  if (fraction.length > exponent) return { ok: false, errorCode: 'too_many_decimals' };
  if (whole.replace(/^0+/, '').length > MAX_INTEGER_DIGITS) return { ok: false, errorCode: 'too_large' };
  const minor = BigInt(whole + fraction.padEnd(exponent, '0'));
  if (sign && minor !== 0n) return { ok: false, errorCode: 'negative' };
  return { ok: true, minor };
}

/** Minor units back to a plain decimal string with exactly `exponent` decimals, e.g. 12345n, 2 → "123.45". */
export function formatMinorUnits(minor: bigint, exponent: number): string {
  const negative = minor < 0n;
  const digits = (negative ? -minor : minor).toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : '';
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/**
 * Parses any plain decimal string (sign allowed, any number of decimals) into minor units of `exponent`,
 * refusing when it would lose digits. For values read from the database or from statements.
 */
export function decimalToMinor(text: string, exponent: number): bigint {
  const m = DECIMAL.exec(text.trim());
  if (!m) throw new Error(`not a decimal: ${JSON.stringify(text)}`);
  const [, sign, whole = '0', rawFraction = ''] = m;
  const fraction = rawFraction.replace(/0+$/, '');
  if (fraction.length > exponent) throw new Error(`${text} has more than ${exponent} decimals`);
  const minor = BigInt(whole + fraction.padEnd(exponent, '0'));
  return sign ? -minor : minor;
}

/** Normalises a decimal string to exactly `exponent` decimals ("5" → "5.00"). */
export function normaliseDecimal(text: string, exponent: number): string {
  return formatMinorUnits(decimalToMinor(text, exponent), exponent);
}

/** Exact sum of decimal strings, as a decimal string with `exponent` decimals. */
export function sumDecimals(values: Iterable<string>, exponent: number): string {
  let total = 0n;
  for (const v of values) total += decimalToMinor(v, exponent);
  return formatMinorUnits(total, exponent);
}

/** Compares two decimal strings exactly: -1, 0 or 1. */
export function compareDecimals(a: string, b: string): -1 | 0 | 1 {
  const scale = Math.max(decimalsOf(a), decimalsOf(b));
  const x = decimalToMinor(a, scale);
  const y = decimalToMinor(b, scale);
  return x < y ? -1 : x > y ? 1 : 0;
}

function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}
