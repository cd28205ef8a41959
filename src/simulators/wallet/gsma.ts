// The GSMA Mobile Money API 1.2 vocabulary the simulator answers in: the error object (category, harmonised
// code), the amount format, and how a party (a key/value identifier list) names an account.
import { currencyExponent } from '../../money/index.js';

export type ErrorCategory =
  | 'businessRule'
  | 'validation'
  | 'authorisation'
  | 'identification'
  | 'internal'
  | 'serviceUnavailable';

export interface GsmaError {
  errorCategory: ErrorCategory;
  errorCode: string;
  errordescription?: string;
  errorDateTime?: string;
  errorParameters?: { key: string; value: string }[];
}

export function gsmaError(
  errorCategory: ErrorCategory,
  errorCode: string,
  description: string,
  parameters?: Record<string, string>,
): GsmaError {
  return {
    errorCategory,
    errorCode,
    // The spec caps the description at 256 characters.
    errordescription: description.slice(0, 256),
    errorDateTime: new Date().toISOString(),
    ...(parameters
      ? { errorParameters: Object.entries(parameters).map(([key, value]) => ({ key, value })) }
      : {}),
  };
}

/** The HTTP status the spec pairs with each error category. */
export const STATUS_OF: Record<ErrorCategory, 400 | 401 | 404 | 500 | 503> = {
  businessRule: 400,
  validation: 400,
  authorisation: 401,
  identification: 404,
  internal: 500,
  serviceUnavailable: 503,
};

/** The spec's amount: no sign, no leading zeros, at most four decimals, no trailing zero after the point. */
export const AMOUNT_PATTERN = /^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$/;
export const UUID_PATTERN = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** Why one transaction of a batch is rejected: its category, harmonised code and a description. */
export interface Rejection {
  category: ErrorCategory;
  code: string;
  description: string;
}

/**
 * Checks an amount as the spec writes it and as the currency allows (no more decimals than its minor units).
 * null when it is a positive amount the provider can pay.
 */
export function amountProblem(amount: unknown, currency: string): Rejection | null {
  if (amount === undefined || amount === null || amount === '')
    return { category: 'validation', code: 'mandatoryValueNotSupplied', description: 'amount is missing' };
  if (typeof amount !== 'string')
    return { category: 'validation', code: 'formatError', description: 'amount must be a string' };
  if (/^-/.test(amount))
    return { category: 'validation', code: 'negativeValue', description: 'amount is negative' };
  if (!AMOUNT_PATTERN.test(amount))
    return {
      category: 'validation',
      code: 'formatError',
      description: `amount ${JSON.stringify(amount.slice(0, 30))} does not match the GSMA amount format (e.g. 15.2, never 15.20)`,
    };
  const decimals = amount.includes('.') ? amount.length - amount.indexOf('.') - 1 : 0;
  const exponent = currencyExponent(currency);
  if (exponent !== undefined && decimals > exponent)
    return {
      category: 'validation',
      code: 'formatError',
      description: `amount has ${decimals} decimals; ${currency} has ${exponent}`,
    };
  if (/^0(\.0*)?$/.test(amount))
    return {
      category: 'businessRule',
      code: 'lessThanTransactionMinValue',
      description: 'amount must be more than zero',
    };
  return null;
}

/** The identifier keys an account is found by: the provider's account id (also its wallet id) or msisdn. */
export const ACCOUNT_KEYS = ['msisdn', 'walletid', 'accountid'] as const;
export type AccountKey = (typeof ACCOUNT_KEYS)[number];

export interface Party {
  key: string;
  value: string;
}

/** The first key/value pair of a party that names an account this provider keeps, if any. */
export function accountKeyOf(party: unknown): { key: AccountKey; value: string } | null {
  if (!Array.isArray(party)) return null;
  for (const item of party) {
    if (!item || typeof item !== 'object') continue;
    const { key, value } = item as Record<string, unknown>;
    if (typeof key !== 'string' || typeof value !== 'string' || value === '') continue;
    const k = key.toLowerCase();
    if ((ACCOUNT_KEYS as readonly string[]).includes(k)) return { key: k as AccountKey, value };
  }
  return null;
}

/** One well-formed party pair as the spec asks: a key and a value, strings of 1 to 256 characters. */
export function isPartyPair(p: unknown): p is Party {
  if (!p || typeof p !== 'object') return false;
  const { key, value } = p as Record<string, unknown>;
  return (
    typeof key === 'string' &&
    typeof value === 'string' &&
    key.length >= 1 &&
    key.length <= 256 &&
    value.length >= 1 &&
    value.length <= 256
  );
}

/** A well-formed party list as the spec asks (1 to 10 well-formed pairs). */
export function isPartyList(party: unknown): party is Party[] {
  return Array.isArray(party) && party.length >= 1 && party.length <= 10 && party.every(isPartyPair);
}

/**
 * An account path segment `{accountId}`: `key@value` pairs joined by `$` (up to three). Returns the pair
 * that names an account here, null when none does, or an error text when the segment is malformed.
 */
export function parseAccountPath(segment: string): { key: AccountKey; value: string } | null | string {
  const pairs = segment.split('$');
  if (pairs.length > 3) return 'at most three identifiers, separated by $';
  const parsed: Party[] = [];
  for (const pair of pairs) {
    const at = pair.indexOf('@');
    if (at <= 0 || at === pair.length - 1) return `'${pair.slice(0, 40)}' is not identifier@value`;
    parsed.push({ key: pair.slice(0, at), value: pair.slice(at + 1) });
  }
  return accountKeyOf(parsed);
}

/** Canonical amount text for the spec's pattern: `12.50` → `12.5`, `3.00` → `3`. */
export function canonicalAmount(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') || '0' : text;
}
