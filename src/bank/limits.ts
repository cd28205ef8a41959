// A connector's declared limits (reference length and characters, amount digits), their defaults, and the one
// check that both create_disbursements (per item, before anything is stored) and the disburse stage (before
// a batch is sent, for items stored under other limits) apply.
import type { ConnectorLimits } from './connector.js';

/**
 * For a connector that declares nothing: what MT940 statements and ISO 20022 payment rails carry — a
 * 35-character reference (Max35Text) of the bridge's own id characters, and an amount that fits MT940's
 * 15-character amount field. A bank on SWIFT's character set (no '_') declares its narrower pattern.
 */
export const DEFAULT_CONNECTOR_LIMITS: ConnectorLimits = Object.freeze({
  maxReferenceLength: 35,
  referencePattern: /^[A-Za-z0-9._:/-]+$/,
  maxAmountDigits: 14,
});

/** Per-item codes of a payment that breaks its bank's limits (also the refusal code when never sent). */
export const LIMIT_CODE = {
  REFERENCE_TOO_LONG: 'DISBURSEMENT_ID_TOO_LONG_FOR_BANK',
  REFERENCE_CHARACTERS: 'DISBURSEMENT_ID_CHARACTERS_NOT_ACCEPTED_BY_BANK',
  AMOUNT_TOO_LARGE: 'DISBURSEMENT_AMOUNT_TOO_LARGE_FOR_BANK',
} as const;

/** A connector's partial declaration completed with the defaults; throws on a declaration that makes no sense. */
export function resolveLimits(declared: Partial<ConnectorLimits> | undefined): ConnectorLimits {
  if (declared === undefined || declared === null) return DEFAULT_CONNECTOR_LIMITS;
  if (typeof declared !== 'object') throw new Error('limits must be an object');
  const limits = { ...DEFAULT_CONNECTOR_LIMITS, ...declared };
  const positive = (n: unknown) => Number.isInteger(n) && (n as number) > 0;
  if (!positive(limits.maxReferenceLength))
    throw new Error('limits.maxReferenceLength must be a positive whole number');
  if (!positive(limits.maxAmountDigits))
    throw new Error('limits.maxAmountDigits must be a positive whole number');
  if (!(limits.referencePattern instanceof RegExp))
    throw new Error('limits.referencePattern must be a RegExp');
  return limits;
}

export function referenceProblem(limits: ConnectorLimits, reference: string): string | null {
  if (reference.length > limits.maxReferenceLength) return LIMIT_CODE.REFERENCE_TOO_LONG;
  limits.referencePattern.lastIndex = 0;
  if (!limits.referencePattern.test(reference)) return LIMIT_CODE.REFERENCE_CHARACTERS;
  return null;
}

/** `minor` units of a currency with `exponent` decimals, written out, have more digits than the bank takes. */
export function amountProblem(limits: ConnectorLimits, minor: bigint, exponent: number): string | null {
  const digits = Math.max((minor < 0n ? -minor : minor).toString().length, exponent + 1);
  return digits > limits.maxAmountDigits ? LIMIT_CODE.AMOUNT_TOO_LARGE : null;
}

/** Where the bridge finds a sponsor bank's limits (the API and the stages both ask). */
export type BankLimitsSource = (bankCode: string) => Promise<ConnectorLimits>;
