// Guards of the limit on JSON-number amounts (issue 13): a JSON number is taken only when a double holds it
// exactly, i.e. at most MAX_NUMBER_DIGITS (15) significant digits; longer amounts must come as decimal
// strings. Tested at the boundary from both sides, in the body pre-scan and in the amount reader, since
// moving the limit by one digit either way (or `>` to `>=`) left the rest of the suite green.
import { describe, expect, it } from 'vitest';
import { jsonTextProblem, MAX_NUMBER_DIGITS, numberProblem } from '../../src/g2p/json.js';
import { toMinorUnits } from '../../src/money/index.js';

/** Numbers of exactly 15 significant digits, however they are written. */
const FIFTEEN = [
  '123456789012345',
  '-123456789012345',
  '1234567890123.45',
  '12345678901234.5',
  '0.123456789012345',
  '0.000123456789012345', // leading zeros are not significant
  '123456789012345.000', // nor are trailing zeros of the fraction
  '000123456789012345',
  '100000000000000',
];

/** Numbers of exactly 16 significant digits. */
const SIXTEEN = [
  '1234567890123456',
  '-1234567890123456',
  '1234567890123.456',
  '12345678901234.56',
  '0.1234567890123456',
  '0.0001234567890123456',
  '1234567890123450', // the integer part's zeros are significant
  '1000000000000000',
];

const digitsOf = (n: string) => {
  const [whole = '', fraction = ''] = n.replace(/^-/, '').split('.');
  const integer = whole.replace(/^0+/, '');
  const decimals = fraction.replace(/0+$/, '');
  return integer === '' ? decimals.replace(/^0+/, '').length : (integer + decimals).length;
};

describe('the JSON number limit is 15 significant digits', () => {
  it('is 15', () => {
    expect(MAX_NUMBER_DIGITS).toBe(15);
    for (const n of FIFTEEN) expect(digitsOf(n), n).toBe(15);
    for (const n of SIXTEEN) expect(digitsOf(n), n).toBe(16);
  });

  it.each(FIFTEEN)('takes %s (15 digits) in a request body', (n) => {
    expect(numberProblem(n)).toBeNull();
    expect(jsonTextProblem(`{"disbursement_amount":${n}}`)).toBeNull();
    expect(jsonTextProblem(`[${n}]`)).toBeNull();
  });

  it.each(SIXTEEN)('refuses %s (16 digits) in a request body, saying why', (n) => {
    expect(numberProblem(n)).toMatch(/more than 15 significant digits/);
    expect(jsonTextProblem(`{"disbursement_amount":${n}}`)).toMatch(/more than 15 significant digits/);
    expect(jsonTextProblem(`[1, ${n}]`)).toMatch(/position 4/);
  });

  it('sees the same numbers as text inside strings as no numbers at all', () => {
    for (const n of SIXTEEN) expect(jsonTextProblem(`{"disbursement_amount":"${n}"}`)).toBeNull();
  });
});

describe('toMinorUnits takes JSON numbers of at most 15 significant digits', () => {
  it('reads 15 digits exactly', () => {
    expect(toMinorUnits(123456789012345, 0)).toEqual({ ok: true, minor: 123456789012345n });
    expect(toMinorUnits(1234567890123.45, 2)).toEqual({ ok: true, minor: 123456789012345n });
    expect(toMinorUnits(12345678901234.5, 2)).toEqual({ ok: true, minor: 1234567890123450n });
    expect(toMinorUnits(0.123456789012345, 15)).toEqual({ ok: true, minor: 123456789012345n });
  });

  it('refuses 16 digits as imprecise, even where the double happens to be exact', () => {
    for (const n of [1234567890123456, 1234567890123.456, 12345678901234.56, 0.1234567890123456])
      expect(toMinorUnits(n, 3), String(n)).toEqual({ ok: false, errorCode: 'imprecise_number' });
  });

  it('takes the same 16 digits as a decimal string', () => {
    expect(toMinorUnits('12345678901234.56', 2)).toEqual({ ok: true, minor: 1234567890123456n });
    expect(toMinorUnits('1234567890123456', 0)).toEqual({ ok: true, minor: 1234567890123456n });
  });
});
