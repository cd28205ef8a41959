import { minorUnitsOf, toMinorUnits } from '../money/index.js';

/**
 * Amounts in answers: a JSON number where the reference has a number and the value survives the trip
 * through a double exactly (at most 15 significant digits, the same rule we apply to numbers we accept);
 * otherwise the exact decimal string.
 */
export function amountOut(decimal: string): number | string {
  const digits = decimal.replace(/^-/, '').replace('.', '').replace(/^0+/, '');
  return digits.length <= 15 ? Number(decimal) : decimal;
}

/** JSON schema of an amount as we accept and answer it: number or decimal string. */
export const amountSchema = {
  anyOf: [{ type: 'number' }, { type: 'string', maxLength: 64 }, { type: 'null' }],
  description: 'A JSON number or a decimal string ("1250.50"); at most the currency’s minor units.',
} as const;

export const amountOutSchema = {
  type: ['number', 'string', 'null'],
  description: 'A JSON number when exactly representable (≤15 significant digits), else a decimal string.',
} as const;

/**
 * Decimals accepted when there is no currency to judge by (the envelope was not found, so the call is refused
 * for that): any precision the decimal reader takes still reads, so the item is not also blamed for it.
 */
const NO_CURRENCY_EXPONENT = 18;

/** A positive amount in minor units of `currency`, or null when it is missing, not positive or too precise. */
export function positiveMinor(value: unknown, currency: string | null): bigint | null {
  const exponent = currency ? minorUnitsOf(currency) : NO_CURRENCY_EXPONENT;
  if (value === null || value === undefined) return null;
  const parsed = toMinorUnits(value, exponent);
  if (!parsed.ok || parsed.minor <= 0n) return null;
  return parsed.minor;
}
