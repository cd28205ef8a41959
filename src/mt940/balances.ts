// MT940 balances: the :60F:/:60M: opening, :62F:/:62M: closing, :64: closing available and :65: forward
// available balance lines, and the balance check (opening balance plus the entries equals the closing
// balance, exact in minor units).

import { formatMinorUnits } from '../money/index.js';
import { amountRead, formatAmount, type RawAmount, readAmount, signOf, toMinor } from './amounts.js';
import { readYYMMDD } from './dates.js';
import { isDigit, isUpper, moreOf, type OpenField, type ProblemSink } from './tags.js';
import type { Mt940Balance, Mt940Statement } from './types.js';

/** A balance as read, its amount as written until the statement's decimals are known. */
export interface RawBalance {
  mark: 'C' | 'D';
  date: string;
  currency: string;
  amount: RawAmount;
  intermediate: boolean;
  line: number;
  tag: string;
}

/** Reads a balance field (`C230101EUR1234,56`); undefined, with the error reported, when it is unreadable. */
export function readBalance(f: OpenField, sink: ProblemSink): RawBalance | undefined {
  const s = f.first.trimEnd();
  const col = f.col;
  const mark = s.charCodeAt(0);
  if (mark !== 67 && mark !== 68) {
    sink.error(`balance must start with C or D, found ${JSON.stringify(s.slice(0, 1))}`, f.line, col, f.tag);
    return undefined;
  }
  const date = readYYMMDD(s, 1);
  if (!date?.iso) {
    sink.error(`balance date must be YYMMDD, found ${JSON.stringify(s.slice(1, 7))}`, f.line, col + 1, f.tag);
    return undefined;
  }
  if (date.problem) sink.warn(date.problem, f.line, col + 1, f.tag);
  let currency = s.slice(7, 10);
  let amountAt = 10;
  if (
    currency.length !== 3 ||
    !isUpper(currency.charCodeAt(0)) ||
    !isUpper(currency.charCodeAt(1)) ||
    !isUpper(currency.charCodeAt(2))
  ) {
    if (!isDigit(s.charCodeAt(7))) {
      sink.error(
        `balance currency must be three letters, found ${JSON.stringify(currency)}`,
        f.line,
        col + 7,
        f.tag,
      );
      return undefined;
    }
    // currency left out: the statement's currency is used (filled in when the statement ends)
    sink.warn('balance has no currency; the statement currency is assumed', f.line, col + 7, f.tag);
    currency = '';
    amountAt = 7;
  }
  const end = readAmount(s, amountAt);
  if (end < 0) {
    sink.error('balance amount missing or not digits with a decimal comma', f.line, col + amountAt, f.tag);
    return undefined;
  }
  if (end !== s.length) {
    sink.warn(
      `unexpected text after the balance amount: ${JSON.stringify(s.slice(end))}`,
      f.line,
      col + end,
      f.tag,
    );
  }
  if (!amountRead.hadComma) sink.warn('balance amount has no decimal comma', f.line, col + amountAt, f.tag);
  if (moreOf(f)?.some((l, i) => i > 0 && l.trim() !== ''))
    sink.warn(`:${f.tag}: has extra lines; ignored`, f.line + 1, 1, f.tag);
  return {
    mark: mark === 67 ? 'C' : 'D',
    date: date.iso,
    currency,
    amount: s.slice(amountAt, end),
    intermediate: f.tag.endsWith('M'),
    line: f.line,
    tag: f.tag,
  };
}

/** The balance as the result gives it, its amount with `exp` decimals. */
export function toBalance(b: RawBalance, exp: number): Mt940Balance {
  const out: Mt940Balance = {
    mark: b.mark,
    date: b.date,
    currency: b.currency,
    amount: formatAmount(b.amount, exp),
  };
  if (b.intermediate) out.intermediate = true;
  return out;
}

/**
 * Sets `st.balanceCheck`: opening plus `total` (the signed sum of the entries in minor units at `exp`
 * decimals) against closing. A failed check, balances in two currencies, or entries that could not be read
 * (`unreadEntries`) are errors reported at the closing balance.
 */
export function checkBalance(
  st: Mt940Statement,
  opening: RawBalance,
  closing: RawBalance,
  exp: number,
  total: bigint,
  unreadEntries: number,
  closingLine: number,
  sink: ProblemSink,
): void {
  if (opening.currency !== closing.currency) {
    sink.error(
      `opening balance is in ${opening.currency} but closing balance in ${closing.currency}`,
      closing.line,
      1,
      closing.tag,
    );
    return;
  }
  const o = toMinor(opening.amount, exp) * signOf(opening.mark);
  const c = toMinor(closing.amount, exp) * signOf(closing.mark);
  const computed = o + total;
  st.balanceCheck = {
    ok: computed === c,
    expectedClosing: formatMinorUnits(c, exp),
    computedClosing: formatMinorUnits(computed, exp),
  };
  if (computed !== c) {
    sink.error(
      `balance check failed: opening balance plus entries is ${st.balanceCheck.computedClosing}, ` +
        `closing balance is ${st.balanceCheck.expectedClosing}`,
      closingLine,
      1,
      closing.tag,
    );
  }
  if (unreadEntries > 0) {
    // the sums may agree by chance (or by design): a statement not read completely never balances
    st.balanceCheck.ok = false;
    const n = unreadEntries;
    sink.error(
      `balance check not passed: ${n} ${n === 1 ? 'entry' : 'entries'} (:61:) could not be read, so the statement is incomplete`,
      closingLine,
      1,
      closing.tag,
    );
  }
}
