import {
  currencyExponent,
  decimalToMinor,
  formatMinorUnits,
  normaliseDecimal,
  toMinorUnits,
} from '../../money/index.js';

/** A refusal the bank answers with a 4xx status and a stable error code. */
export interface Refusal {
  ok: false;
  httpStatus: number;
  errorCode: string;
  message: string;
  errors?: PaymentProblem[];
}

export interface PaymentProblem {
  index: number;
  disbursement_id: string | null;
  error_code: string;
}

export function refuse(
  httpStatus: number,
  errorCode: string,
  message: string,
  errors?: PaymentProblem[],
): Refusal {
  return errors
    ? { ok: false, httpStatus, errorCode, message, errors }
    : { ok: false, httpStatus, errorCode, message };
}

/** Thrown inside a transaction to roll it back and answer with the refusal. */
export class RefusalError extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

export function exponentOf(currency: string): number {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) throw new Error(`unknown currency ${currency}`);
  return exponent;
}

/** A positive amount in `currency`, as minor units; null when it is not a valid amount of that currency. */
export function positiveMinor(amount: unknown, currency: string): bigint | null {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) return null;
  const parsed = toMinorUnits(amount, exponent);
  return parsed.ok && parsed.minor > 0n ? parsed.minor : null;
}

/** A numeric from the database as a decimal string with the currency's decimals. */
export function money(value: string | number, currency: string): string {
  return normaliseDecimal(String(value), exponentOf(currency));
}

export function minor(value: string, currency: string): bigint {
  return decimalToMinor(value, exponentOf(currency));
}

export function fromMinor(value: bigint, currency: string): string {
  return formatMinorUnits(value, exponentOf(currency));
}

/** YYYY-MM-DD of an instant, in UTC (the bank's business day). */
export function businessDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}
