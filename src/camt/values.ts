// Leaf values of camt: xs:decimal amounts (exact, at most 5 fraction digits, 18 digits in all), ISO dates and
// date-times, counts and codes. Amounts become bigint units of 10^-5 for sums; nothing goes through a float.

/** Fixed scale of every sum the parser makes: the XSD allows 5 fraction digits for amounts. */
export const SCALE = 5;
const SCALE_FACTOR = 100000n;

const DECIMAL = /^\+?(\d*)(?:\.(\d*))?$/;

export interface ParsedDecimal {
  /** Normalised text: no sign, no leading zeros, fraction as given up to 5 digits ("001.50" → "1.50"). */
  text: string;
  /** Value in units of 10^-5. */
  units: bigint;
  /** Digits after the point in `text`. */
  fractionDigits: number;
}

/** An xs:decimal amount (ActiveOrHistoricCurrencyAndAmount or DecimalNumber); a reason string when refused. */
export function parseAmount(raw: string): ParsedDecimal | string {
  const m = DECIMAL.exec(raw);
  if (!m) return `not a decimal amount: ${quote(raw)}`;
  const whole = (m[1] ?? '').replace(/^0+(?=\d)/, '');
  let fraction = m[2] ?? '';
  if (whole === '' && fraction === '') return `not a decimal amount: ${quote(raw)}`;
  if (fraction.length > SCALE) {
    fraction = fraction.replace(/0+$/, '');
    if (fraction.length > SCALE) return `${quote(raw)} has more than ${SCALE} fraction digits`;
  }
  const intDigits = whole.replace(/^0+/, '');
  if (intDigits.length + fraction.replace(/0+$/, '').length > 18)
    return `${quote(raw)} has more than 18 digits`;
  const w = whole === '' ? '0' : whole;
  return {
    text: fraction === '' ? w : `${w}.${fraction}`,
    units: BigInt(w) * SCALE_FACTOR + BigInt(fraction.padEnd(SCALE, '0') || '0'),
    fractionDigits: fraction.length,
  };
}

/** Units of 10^-5 as a decimal string with at least `minDigits` fraction digits (more only if needed). */
export function formatUnits(units: bigint, minDigits: number): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const whole = abs / SCALE_FACTOR;
  let fraction = (abs % SCALE_FACTOR).toString().padStart(SCALE, '0');
  let keep = SCALE;
  while (keep > minDigits && fraction[keep - 1] === '0') keep--;
  fraction = fraction.slice(0, keep);
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** The signed form of a non-negative normalised amount: "-" in front for DBIT unless it is zero. */
export function signed(amount: string, debit: boolean): string {
  return debit && /[1-9]/.test(amount) ? `-${amount}` : amount;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:Z|[+-]\d{2}:\d{2})?$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;
const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDay(y: number, mo: number, d: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || d > DAYS[mo - 1]!) return false;
  return mo !== 2 || d < 29 || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0));
}

/** ISODate → YYYY-MM-DD, or a reason. */
export function parseIsoDate(raw: string): string | { error: string } {
  const m = DATE.exec(raw);
  if (!m || !validDay(Number(m[1]), Number(m[2]), Number(m[3])))
    return { error: `not a date: ${quote(raw)}` };
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** ISODateTime → its YYYY-MM-DD as written (the bank's local date), or a reason. */
export function parseIsoDateTime(raw: string): string | { error: string } {
  const m = DATE_TIME.exec(raw);
  if (
    !m ||
    !validDay(Number(m[1]), Number(m[2]), Number(m[3])) ||
    Number(m[4]) > 24 ||
    Number(m[5]) > 59 ||
    Number(m[6]) > 60
  ) {
    return { error: `not a date-time: ${quote(raw)}` };
  }
  return `${m[1]}-${m[2]}-${m[3]}`;
}

/** Max15NumericText count, or -1. */
export function parseCount(raw: string): number {
  return /^\d{1,15}$/.test(raw) && raw.length <= 15 ? Number(raw) : -1;
}

/** An input value quoted for a message, cut to 40 characters. */
export function quote(raw: string): string {
  return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}…` : raw);
}
