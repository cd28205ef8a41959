import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareDecimals,
  currencyExponent,
  formatMinorUnits,
  isCurrencyCode,
  normaliseDecimal,
  sumDecimals,
  toMinorUnits,
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
