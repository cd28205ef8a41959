export {
  currencyCodes,
  currencyExponent,
  isCurrencyCode,
  minorUnitsOf,
  UNKNOWN_CURRENCY_EXPONENT,
} from './currencies.js';
export {
  type AmountError,
  compareDecimals,
  decimalToMinor,
  formatMinorUnits,
  normaliseDecimal,
  sumDecimals,
  toMinorUnits,
} from './decimal.js';
