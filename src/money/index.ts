export { currencyCodes, currencyExponent, isCurrencyCode } from './currencies.js';
export {
  type AmountError,
  compareDecimals,
  decimalToMinor,
  formatMinorUnits,
  normaliseDecimal,
  sumDecimals,
  toMinorUnits,
} from './decimal.js';
