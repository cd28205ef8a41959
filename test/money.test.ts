import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generalMinorUnits } from '../src/money/decimal.js';
import {
  compareDecimals,
  currencyExponent,
  formatMinorUnits,
  isCurrencyCode,
  minorUnitsOf,
  normaliseDecimal,
  sumDecimals,
  toMinorUnits,
  UNKNOWN_CURRENCY_EXPONENT,
} from '../src/money/index.js';

describe('currencies', () => {
  it('knows minor units of ISO 4217 currencies', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
    expect(currencyExponent('CLF')).toBe(4);
    expect(isCurrencyCode('XYZ')).toBe(false);
    expect(isCurrencyCode('usd')).toBe(false);
  });

  // The survivors of the money module's mutation run (docs/testing.md): each expectation fails a mutant.
  it('tells a known code from an unknown one, whatever the value', () => {
    for (const code of ['USD', 'JPY', 'KWD', 'CLF', 'KES']) expect(isCurrencyCode(code), code).toBe(true);
    for (const code of ['XYZ', 'usd', 'US', 'USDX', ' USD', '', 840, null, undefined, ['USD']])
      expect(isCurrencyCode(code), String(code)).toBe(false);
  });

  it('gives the table’s minor units, and two decimals only for a code it does not hold', () => {
    expect(UNKNOWN_CURRENCY_EXPONENT).toBe(2);
    expect(minorUnitsOf('JPY')).toBe(0); // 0 is an answer, not a missing one
    expect(minorUnitsOf('USD')).toBe(2);
    expect(minorUnitsOf('KWD')).toBe(3);
    expect(minorUnitsOf('CLF')).toBe(4);
    expect(minorUnitsOf('XYZ')).toBe(2);
    expect(minorUnitsOf('jpy')).toBe(2);
  });
});

describe('amounts', () => {
  it('reads JSON numbers and decimal strings exactly', () => {
    expect(toMinorUnits(0.1, 2)).toEqual({ ok: true, minor: 10n });
    expect(toMinorUnits('1234.5', 2)).toEqual({ ok: true, minor: 123450n });
    expect(toMinorUnits('1234.500', 2)).toEqual({ ok: true, minor: 123450n });
    expect(toMinorUnits(100, 0)).toEqual({ ok: true, minor: 100n });
  });

  it('refuses what it cannot hold exactly', () => {
    expect(toMinorUnits('1.005', 2)).toEqual({ ok: false, errorCode: 'too_many_decimals' });
    expect(toMinorUnits(1.5, 0)).toEqual({ ok: false, errorCode: 'too_many_decimals' });
    expect(toMinorUnits('-5', 2)).toEqual({ ok: false, errorCode: 'negative' });
    expect(toMinorUnits('1e3', 2)).toEqual({ ok: false, errorCode: 'not_a_number' });
    expect(toMinorUnits(1e21, 2)).toEqual({ ok: false, errorCode: 'imprecise_number' });
    expect(toMinorUnits(Number('12345678901234567'), 2)).toEqual({
      ok: false,
      errorCode: 'imprecise_number',
    });
    expect(toMinorUnits('12345678901234567890', 2)).toEqual({ ok: false, errorCode: 'too_large' });
    expect(toMinorUnits(true, 2)).toEqual({ ok: false, errorCode: 'not_a_number' });
    expect(toMinorUnits(Number.NaN, 2)).toEqual({ ok: false, errorCode: 'not_a_number' });
  });

  it('refuses NaN and the infinities as numbers, never as something else', () => {
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(toMinorUnits(n, 2), String(n)).toEqual({ ok: false, errorCode: 'not_a_number' });
    for (const text of ['NaN', 'Infinity', '-Infinity', '', ' ', '.', '1.', '.5', '1,00'])
      expect(toMinorUnits(text, 2), JSON.stringify(text)).toEqual({ ok: false, errorCode: 'not_a_number' });
  });

  it('reads a decimal string padded with blanks as the decimal', () => {
    expect(toMinorUnits(' 12.50 ', 2)).toEqual({ ok: true, minor: 1250n });
    expect(toMinorUnits('\t7\n', 0)).toEqual({ ok: true, minor: 7n });
    expect(toMinorUnits(' -0.00 ', 2)).toEqual({ ok: true, minor: 0n });
  });

  it('counts digits without any number of leading or trailing zeros', () => {
    // 18 integer digits after two leading zeros: within the limit; a 19th digit is not.
    expect(toMinorUnits('00123456789012345678', 0)).toEqual({ ok: true, minor: 123456789012345678n });
    expect(toMinorUnits('1234567890123456789', 0)).toEqual({ ok: false, errorCode: 'too_large' });
    // Trailing zeros beyond the currency's decimals are not decimals.
    expect(toMinorUnits('1.5000', 2)).toEqual({ ok: true, minor: 150n });
    expect(toMinorUnits('3.000000', 0)).toEqual({ ok: true, minor: 3n });
    // A JSON number's leading zeros after the point are not significant digits: 14 of them here, so the
    // number is exact, and only its decimals are too many.
    expect(toMinorUnits(0.000012345678901234, 2)).toEqual({ ok: false, errorCode: 'too_many_decimals' });
    expect(toMinorUnits(0.000012345678901234, 18)).toEqual({ ok: true, minor: 12345678901234n });
  });

  it('reads the usual amount on its fast path exactly as the general path does', () => {
    const exponents = fc.constantFrom(0, 2, 3, 4, 18);
    // Strings near the fast path's edges: digits, points, signs, blanks, exponents; up to 20 characters.
    const text = fc
      .array(fc.constantFrom('0', '1', '5', '9', '0', '.', '-', '+', ' ', 'e', '\u0660'), { maxLength: 20 })
      .map((cs) => cs.join(''));
    const numbers = fc.oneof(
      fc.integer({ min: -1, max: 2 ** 53 }),
      fc.constantFrom(1e15 - 1, 1e15, 1e15 + 2, -0, 0.1, 25.5, 1e21, Number.MAX_SAFE_INTEGER),
      fc.double({ noNaN: true }),
    );
    fc.assert(
      fc.property(
        fc.oneof(text, numbers, fc.stringMatching(/^\d{1,17}(\.\d{1,6})?$/)),
        exponents,
        (value, e) => {
          expect(toMinorUnits(value, e)).toEqual(generalMinorUnits(value, e));
        },
      ),
      { numRuns: 5000 },
    );
    for (const [value, e, minor] of [
      ['25.00', 2, 2500n],
      [25, 2, 2500n],
      ['0.000', 2, 0n],
      ['999999999999999', 3, 999999999999999000n],
      ['1.50', 1, 15n],
      [123, 18, 123n * 10n ** 18n],
    ] as const)
      expect(toMinorUnits(value, e)).toEqual({ ok: true, minor });
    for (const [value, e] of [
      ['1.5', 0],
      ['1.', 2],
      ['.5', 2],
      ['1.2.3', 2],
      [' 1', 2],
      ['-1', 2],
    ] as const)
      expect(toMinorUnits(value, e)).toEqual(generalMinorUnits(value, e));
  });

  it('sums exactly where binary floats do not', () => {
    expect(sumDecimals(['0.1', '0.2'], 2)).toBe('0.30');
    expect(normaliseDecimal('5', 3)).toBe('5.000');
    expect(compareDecimals('1.10', '1.1')).toBe(0);
    expect(compareDecimals('-2', '1')).toBe(-1);
  });

  it('round-trips minor units through text', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 18n - 1n }),
        fc.integer({ min: 0, max: 4 }),
        (minor, exp) => {
          const text = formatMinorUnits(minor, exp);
          const back = toMinorUnits(text, exp);
          return back.ok && back.minor === minor;
        },
      ),
    );
  });
});
