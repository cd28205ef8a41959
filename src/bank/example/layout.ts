// How the example bank lays out one payment on its MT940 statement. The simulator's statement generator
// writes this layout and the example connector reads it, so both import it from here (docs/bank-connectors.md).
//
// :61: customer reference: the payment reference (the bridge's disbursement id) when it fits MT940's 16x
// and uses only characters safe there; otherwise NONREF.
// :86: six lines of at most 65 characters:
//   0 disbursement narrative
//   1 benefit program mnemonic
//   2 cycle code mnemonic
//   3 beneficiary id
//   4 beneficiary name
//   5 EREF/<payment reference>                 (debits and credits)
//     RSN/<REASON>/EREF/<payment reference>    (reversals; REASON is e.g. ACCOUNT_CLOSED)
// Line 5 always carries the whole reference, so a reference of 17..35 characters survives the trip.

export const NARRATIVE_LINE = {
  narrative: 0,
  program: 1,
  cycle: 2,
  beneficiaryId: 3,
  beneficiaryName: 4,
  reference: 5,
} as const;

export const MAX_NARRATIVE_LENGTH = 65;
export const MAX_CUSTOMER_REFERENCE_LENGTH = 16;
/** Longest payment reference the example bank accepts (as SEPA's end-to-end id); fits line 5 with a reason. */
export const MAX_PAYMENT_REFERENCE_LENGTH = 35;
export const NO_REFERENCE = 'NONREF';

export const REVERSAL_REASONS = [
  'ACCOUNT_CLOSED',
  'ACCOUNT_NOT_FOUND',
  'ACCOUNT_DORMANT',
  'ACCOUNT_DECEASED',
] as const;
export type ReversalReason = (typeof REVERSAL_REASONS)[number];

/** Digits of an amount the statement can write: MT940's amount is 15 characters, the decimal comma included. */
export const MAX_STATEMENT_AMOUNT_DIGITS = 14;

const SAFE_CUSTOMER_REFERENCE = /^[A-Za-z0-9.\-:?()+,']+$/;
/** Printable ASCII, no blanks at either end. */
export const PAYMENT_REFERENCE_PATTERN = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** A payment reference the bank accepts: 1..35 printable ASCII characters, no blanks at either end. */
export function isValidPaymentReference(reference: string): boolean {
  return reference.length <= MAX_PAYMENT_REFERENCE_LENGTH && PAYMENT_REFERENCE_PATTERN.test(reference);
}

/** Whether an amount of `minor` units with `exponent` decimals fits the statement's amount field. */
export function fitsStatementAmount(minor: bigint, exponent: number): boolean {
  return Math.max(minor.toString().length, exponent + 1) <= MAX_STATEMENT_AMOUNT_DIGITS;
}

/** What goes into :61: for a payment reference: itself when it fits 16x safely, else NONREF. */
export function customerReferenceFor(reference: string): string {
  return reference.length <= MAX_CUSTOMER_REFERENCE_LENGTH &&
    SAFE_CUSTOMER_REFERENCE.test(reference) &&
    reference !== NO_REFERENCE
    ? reference
    : NO_REFERENCE;
}

export function referenceLine(reference: string, reversalReason?: string | null): string {
  return reversalReason ? `RSN/${reversalReason}/EREF/${reference}` : `EREF/${reference}`;
}

/** Reads line 5: the reference and, on a reversal, its reason. Null when the line is not in this layout. */
export function parseReferenceLine(
  line: string | undefined,
): { reference: string; reversalReason: string | null } | null {
  if (!line) return null;
  const match = /^(?:RSN\/([A-Z0-9_]+)\/)?EREF\/(.+)$/.exec(line.trimEnd());
  if (!match) return null;
  return { reference: match[2]!, reversalReason: match[1] ?? null };
}

/**
 * Makes free text fit one :86: line: accents dropped, other non-ASCII and control characters replaced,
 * cut to 65 characters, and never starting with ':', '-' or '{' (which a reader would take for a tag, a block or the
 * end of the statement). Empty text becomes "NOTPROVIDED" so that line positions never shift.
 */
export function narrativeText(text: string | null | undefined): string {
  let out = (text ?? '')
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[\r\n\t]+/g, ' ')
    .replace(/[^\x20-\x7e]/g, '?')
    .trim();
  if (/^[:{-]/.test(out)) out = `.${out}`;
  out = out.slice(0, MAX_NARRATIVE_LENGTH).trimEnd();
  return out === '' ? 'NOTPROVIDED' : out;
}

export interface PaymentNarrativeInput {
  reference: string;
  narrative: string;
  program: string;
  cycle: string;
  beneficiaryId: string;
  beneficiaryName: string;
  reversalReason?: string | null;
}

export function paymentNarratives(p: PaymentNarrativeInput): string[] {
  return [
    narrativeText(p.narrative),
    narrativeText(p.program),
    narrativeText(p.cycle),
    narrativeText(p.beneficiaryId),
    narrativeText(p.beneficiaryName),
    referenceLine(p.reference, p.reversalReason),
  ];
}
