// MT940 writer. Strict on purpose: it throws a clear Error on anything MT940 cannot carry (rather than
// truncating), so that what a bank simulator or a test writes is exactly what a parser reads back.

import { currencyExponent, decimalToMinor, formatMinorUnits } from '../money/index.js';
import { daysInMonth } from './dates.js';
import type {
  Mt940Balance,
  Mt940EntryInput,
  Mt940Mark,
  Mt940StatementInput,
  Mt940WriteOptions,
} from './types.js';

const NARRATIVE_LINES = 6;
const NARRATIVE_WIDTH = 65;

class Mt940WriteError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Mt940WriteError';
  }
}

function fail(where: string, message: string): never {
  throw new Mt940WriteError(`writeMt940: ${where}: ${message}`);
}

/** A line of field content: one line, no control characters, and nothing a parser would take for a tag. */
function checkLine(where: string, what: string, text: string, max: number): void {
  if (text.length > max)
    fail(where, `${what} is ${text.length} characters, more than ${max}: ${JSON.stringify(text)}`);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 32 || c === 127)
      fail(where, `${what} contains a control character or line break: ${JSON.stringify(text)}`);
  }
  const c0 = text.charCodeAt(0);
  if (c0 === 58 || c0 === 45 || c0 === 123) {
    fail(
      where,
      `${what} must not start with ':', '-' or '{' (SWIFT field content rule): ${JSON.stringify(text)}`,
    );
  }
}

function checkReference(where: string, what: string, text: string, max: number): void {
  if (text.length === 0) fail(where, `${what} is empty`);
  checkLine(where, what, text, max);
  if (text.trim() !== text) fail(where, `${what} has leading or trailing blanks: ${JSON.stringify(text)}`);
  if (text.includes('//') || text.endsWith('/')) {
    fail(where, `${what} must not contain '//' or end with '/': ${JSON.stringify(text)}`);
  }
}

function parseIso(where: string, what: string, iso: string): { y: number; m: number; d: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) fail(where, `${what} must be YYYY-MM-DD, got ${JSON.stringify(iso)}`);
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) fail(where, `${what} ${iso} is not a date`);
  if (y < 1980 || y > 2079) fail(where, `${what} ${iso} is outside 1980..2079 (two-digit years)`);
  return { y, m: mo, d };
}

function yymmdd(where: string, what: string, iso: string): string {
  parseIso(where, what, iso);
  return iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);
}

function signOf(mark: Mt940Mark | 'C' | 'D'): 1n | -1n {
  return mark === 'D' || mark === 'RC' ? -1n : 1n;
}

function decimalsWritten(text: string): number {
  const dot = text.indexOf('.');
  if (dot < 0) return 0;
  let end = text.length;
  while (end > dot + 1 && text.charCodeAt(end - 1) === 48) end--;
  return end - dot - 1;
}

function toMinor(where: string, what: string, amount: string, exponent: number): bigint {
  if (typeof amount !== 'string' || !/^\d+(\.\d+)?$/.test(amount)) {
    fail(
      where,
      `${what} must be a non-negative decimal string such as "1234.50", got ${JSON.stringify(amount)}`,
    );
  }
  try {
    return decimalToMinor(amount, exponent);
  } catch {
    return fail(where, `${what} ${amount} has more than ${exponent} decimals`);
  }
}

/** Minor units to an MT940 amount: comma decimal mark, always a comma ("100," when no decimals). */
function mtAmount(where: string, what: string, minor: bigint, exponent: number): string {
  const text = formatMinorUnits(minor, exponent);
  const out = exponent === 0 ? `${text},` : text.replace('.', ',');
  if (out.length > 15) fail(where, `${what} ${text} is longer than 15 characters in MT940`);
  return out;
}

/** Word-wraps one narrative line to 65 characters (hard break when a word is longer). */
function wrapLine(text: string): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > NARRATIVE_WIDTH) {
    let cut = rest.lastIndexOf(' ', NARRATIVE_WIDTH);
    if (cut <= 0) cut = NARRATIVE_WIDTH;
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, '');
  }
  out.push(rest);
  return out;
}

function narrativeLines(where: string, what: string, lines: readonly string[], wrap: boolean): string[] {
  let out: string[] = [];
  for (const l of lines) {
    if (typeof l !== 'string') fail(where, `${what} must be strings`);
    if (wrap && l.length > NARRATIVE_WIDTH) out.push(...wrapLine(l));
    else out.push(l);
  }
  // trailing blank lines are not carried (a parser cannot tell them from layout)
  let n = out.length;
  while (n > 0 && out[n - 1]!.trim() === '') n--;
  out = out.slice(0, n);
  if (out.length > NARRATIVE_LINES) {
    fail(
      where,
      `${what} has ${out.length} lines, more than ${NARRATIVE_LINES} (of up to ${NARRATIVE_WIDTH} characters)`,
    );
  }
  out.forEach((l, i) => {
    checkLine(where, `${what} line ${i + 1}`, l, NARRATIVE_WIDTH);
  });
  return out;
}

function balanceLine(
  where: string,
  tag: string,
  b: Mt940Balance,
  currency: string,
  exponent: number,
): { line: string; signed: bigint } {
  if (b.mark !== 'C' && b.mark !== 'D')
    fail(where, `${tag} mark must be C or D, got ${JSON.stringify(b.mark)}`);
  if (b.currency !== currency) fail(where, `${tag} is in ${b.currency}, the statement in ${currency}`);
  const minor = toMinor(where, `${tag} amount`, b.amount, exponent);
  return {
    line: `:${tag}:${b.mark}${yymmdd(where, `${tag} date`, b.date)}${currency}${mtAmount(where, `${tag} amount`, minor, exponent)}`,
    signed: minor * signOf(b.mark),
  };
}

function entryLines(
  where: string,
  e: Mt940EntryInput,
  exponent: number,
  wrap: boolean,
): { lines: string[]; signed: bigint } {
  const value = parseIso(where, 'valueDate', e.valueDate);
  let text = `:61:${yymmdd(where, 'valueDate', e.valueDate)}`;
  if (e.entryDate !== undefined) {
    const entry = parseIso(where, 'entryDate', e.entryDate);
    let inferred = value.y;
    if (value.m === 12 && entry.m === 1) inferred++;
    else if (value.m === 1 && entry.m === 12) inferred--;
    if (inferred !== entry.y) {
      fail(
        where,
        `entryDate ${e.entryDate} is too far from valueDate ${e.valueDate} for MT940's MMDD entry date`,
      );
    }
    text += e.entryDate.slice(5, 7) + e.entryDate.slice(8, 10);
  }
  if (e.mark !== 'D' && e.mark !== 'C' && e.mark !== 'RD' && e.mark !== 'RC') {
    fail(where, `mark must be D, C, RD or RC, got ${JSON.stringify(e.mark)}`);
  }
  text += e.mark;
  if (e.fundsCode !== undefined) {
    if (!/^[A-Z]$/.test(e.fundsCode))
      fail(where, `fundsCode must be one capital letter, got ${JSON.stringify(e.fundsCode)}`);
    text += e.fundsCode;
  }
  const minor = toMinor(where, 'amount', e.amount, exponent);
  text += mtAmount(where, 'amount', minor, exponent);
  if (typeof e.transactionType !== 'string' || !/^[NFS][A-Z0-9]{3}$/.test(e.transactionType)) {
    fail(
      where,
      `transactionType must be N, F or S and three letters or digits (e.g. NTRF), got ${JSON.stringify(e.transactionType)}`,
    );
  }
  text += e.transactionType;
  const ref = e.customerReference === '' ? 'NONREF' : e.customerReference;
  checkReference(where, 'customerReference', ref, 16);
  text += ref;
  if (e.bankReference !== undefined) {
    checkReference(where, 'bankReference', e.bankReference, 16);
    text += `//${e.bankReference}`;
  }
  const lines = [text];
  if (e.supplementaryDetails !== undefined && e.supplementaryDetails !== '') {
    checkLine(where, 'supplementaryDetails', e.supplementaryDetails, 34);
    if (e.supplementaryDetails.trim() !== e.supplementaryDetails) {
      fail(
        where,
        `supplementaryDetails has leading or trailing blanks: ${JSON.stringify(e.supplementaryDetails)}`,
      );
    }
    lines.push(e.supplementaryDetails);
  }
  const narratives = narrativeLines(where, 'narratives', e.narratives ?? [], wrap);
  if (narratives.length > 0) {
    lines.push(`:86:${narratives[0]}`);
    for (let i = 1; i < narratives.length; i++) lines.push(narratives[i]!);
  }
  return { lines, signed: minor * signOf(e.mark) };
}

function bicAddress(bic: string | undefined): string {
  const b = (bic ?? 'XXXXXXXXXXX').padEnd(11, 'X');
  if (!/^[A-Z0-9]{11}$/.test(b))
    fail('options', `bic must be 8 or 11 letters or digits, got ${JSON.stringify(bic)}`);
  return `${b.slice(0, 8)}A${b.slice(8)}`;
}

function statementLines(st: Mt940StatementInput, index: number, wrap: boolean): string[] {
  const where = `statement ${index + 1}`;
  if (!st || typeof st !== 'object') fail(where, 'is not an object');
  checkReference(where, 'transactionReference (:20:)', st.transactionReference, 16);
  const out: string[] = [`:20:${st.transactionReference}`];
  if (st.relatedReference !== undefined) {
    checkReference(where, 'relatedReference (:21:)', st.relatedReference, 16);
    out.push(`:21:${st.relatedReference}`);
  }
  if (!st.accountIdentification) fail(where, 'accountIdentification (:25:) is empty');
  checkLine(where, 'accountIdentification (:25:)', st.accountIdentification, 35);
  out.push(`:25:${st.accountIdentification}`);
  const number = st.statementNumber ?? '1';
  if (!/^\d{1,5}$/.test(number))
    fail(where, `statementNumber must be 1 to 5 digits, got ${JSON.stringify(number)}`);
  if (st.sequenceNumber !== undefined && !/^\d{1,5}$/.test(st.sequenceNumber)) {
    fail(where, `sequenceNumber must be 1 to 5 digits, got ${JSON.stringify(st.sequenceNumber)}`);
  }
  out.push(`:28C:${number}${st.sequenceNumber !== undefined ? `/${st.sequenceNumber}` : ''}`);
  const opening = st.openingBalance;
  if (!opening) fail(where, 'openingBalance (:60F:) is required');
  const currency = st.currency ?? opening.currency;
  if (!/^[A-Z]{3}$/.test(currency ?? ''))
    fail(where, `currency must be three capital letters, got ${JSON.stringify(currency)}`);
  // decimals: ISO 4217, else as many as the amounts are written with
  let exponent = currencyExponent(currency);
  if (exponent === undefined) {
    exponent = decimalsWritten(opening.amount);
    for (const e of st.entries) exponent = Math.max(exponent, decimalsWritten(String(e.amount)));
    for (const b of [st.closingBalance, st.closingAvailableBalance, ...(st.forwardAvailableBalances ?? [])]) {
      if (b) exponent = Math.max(exponent, decimalsWritten(b.amount));
    }
  }
  const open = balanceLine(where, opening.intermediate ? '60M' : '60F', opening, currency, exponent);
  out.push(open.line);
  let total = open.signed;
  let lastDate = opening.date;
  if (!Array.isArray(st.entries)) fail(where, 'entries must be an array');
  st.entries.forEach((e, i) => {
    const r = entryLines(`${where}, entry ${i + 1}`, e, exponent, wrap);
    for (const l of r.lines) out.push(l);
    total += r.signed;
    if (e.valueDate > lastDate) lastDate = e.valueDate;
  });
  let closing: Mt940Balance;
  if (st.closingBalance) {
    closing = st.closingBalance;
    const c = balanceLine(where, closing.intermediate ? '62M' : '62F', closing, currency, exponent);
    if (c.signed !== total) {
      fail(
        where,
        `closingBalance ${closing.mark} ${closing.amount} does not equal openingBalance plus entries ` +
          `(${formatMinorUnits(total, exponent)})`,
      );
    }
    out.push(c.line);
  } else {
    closing = {
      mark: total < 0n ? 'D' : 'C',
      date: lastDate,
      currency,
      amount: formatMinorUnits(total < 0n ? -total : total, exponent),
    };
    out.push(balanceLine(where, '62F', closing, currency, exponent).line);
  }
  if (st.closingAvailableBalance) {
    out.push(balanceLine(where, '64', st.closingAvailableBalance, currency, exponent).line);
  }
  for (const b of st.forwardAvailableBalances ?? [])
    out.push(balanceLine(where, '65', b, currency, exponent).line);
  const info = narrativeLines(where, 'information', st.information ?? [], wrap);
  if (info.length > 0) {
    out.push(`:86:${info[0]}`);
    for (let i = 1; i < info.length; i++) out.push(info[i]!);
  }
  return out;
}

/**
 * Writes one or more statements as MT940. Throws an Error naming the statement, entry and field on anything
 * MT940 cannot carry. When `closingBalance` is omitted it is computed from the opening balance and the
 * entries; when given, it must agree with them.
 */
export function writeMt940(
  statements: Mt940StatementInput | Mt940StatementInput[],
  options: Mt940WriteOptions = {},
): string {
  const list = Array.isArray(statements) ? statements : [statements];
  const eol = options.lineEnding ?? '\r\n';
  const wrap = options.wrapNarratives ?? false;
  const parts: string[] = [];
  const address = options.swiftBlocks ? bicAddress(options.bic) : '';
  list.forEach((st, i) => {
    const lines = statementLines(st, i, wrap);
    if (options.swiftBlocks) {
      parts.push(`{1:F01${address}0000000000}{2:I940${address}N}{4:`);
      for (const l of lines) parts.push(l);
      parts.push('-}');
    } else {
      for (const l of lines) parts.push(l);
      parts.push('-');
    }
  });
  return parts.join(eol) + eol;
}
