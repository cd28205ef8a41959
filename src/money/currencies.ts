// ISO 4217 active currency codes and their minor units (number of decimals).
// Grouped by exponent to keep the table short; funds codes and precious metals are left out on purpose:
// a benefit is paid in a currency people can spend.
const BY_EXPONENT: Record<number, string> = {
  0: 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF',
  2: [
    'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF',
    'CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF',
    'IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR',
    'MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD',
    'SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD XCG YER',
    'ZAR ZMW ZWG',
  ].join(' '),
  3: 'BHD IQD JOD KWD LYD OMR TND',
  4: 'CLF UYW',
};

const EXPONENTS = new Map<string, number>();
for (const [exponent, codes] of Object.entries(BY_EXPONENT)) {
  for (const code of codes.split(' ')) EXPONENTS.set(code, Number(exponent));
}

/** Minor units of an ISO 4217 currency, or undefined when the code is not an active currency. */
export function currencyExponent(code: string): number | undefined {
  return EXPONENTS.get(code);
}

/**
 * Minor units assumed for a code the table does not hold. Every currency the bridge stores was checked
 * against the table on the way in, so this is a last resort; two decimals, the most common exponent, neither
 * rounds away cents (as 0 would) nor invents precision no bank carries (as 18 would).
 */
export const UNKNOWN_CURRENCY_EXPONENT = 2;

/** Minor units of `code`, or UNKNOWN_CURRENCY_EXPONENT when the table does not hold it. */
export function minorUnitsOf(code: string): number {
  return EXPONENTS.get(code) ?? UNKNOWN_CURRENCY_EXPONENT;
}

export function isCurrencyCode(code: unknown): code is string {
  return typeof code === 'string' && EXPONENTS.has(code);
}

export function currencyCodes(): string[] {
  return [...EXPONENTS.keys()].sort();
}
