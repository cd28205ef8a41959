// Financial-address (FA) strings split into their parts by named-group regular expressions, one per FA type.
// Mappers disagree on the string format (SPAR's dot-separated key:value form, G2P Connect's `type:id@provider`),
// so the patterns are configuration (MAPPER_FA_PATTERNS) rather than code. See docs/mapper.md.
import type { FaType, FinancialAddress } from './types.js';

export const FA_TYPES: readonly FaType[] = ['BANK_ACCOUNT', 'MOBILE_WALLET', 'EMAIL_WALLET'];

/** One compiled pattern; the first pattern (in order) that matches a string decides its type and parts. */
export interface FaPattern {
  faType: FaType;
  pattern: RegExp;
}

/** Named groups a pattern may use; any other group name is a configuration error (usually a typo). */
export const FA_GROUPS = [
  'account_number',
  'bank_code',
  'branch_code',
  'mobile_number',
  'wallet_provider',
  'wallet_provider_name',
  'wallet_provider_code',
  'email_address',
  'email_wallet_provider',
  'email_wallet_provider_name',
  'email_wallet_provider_code',
] as const;

/** The part without which an FA of the type cannot be paid: a pattern must capture it, and a match must fill it. */
const REQUIRED_GROUP: Record<FaType, string> = {
  BANK_ACCOUNT: 'account_number',
  MOBILE_WALLET: 'mobile_number',
  EMAIL_WALLET: 'email_address',
};

/** Longer strings are not addresses; refusing them keeps the regexes' work bounded. */
export const MAX_FA_LENGTH = 1024;

/** Pattern sources of the defaults, as they would be written in MAPPER_FA_PATTERNS. */
export const DEFAULT_FA_PATTERN_SOURCES: ReadonlyArray<{ faType: FaType; pattern: string }> = [
  // OpenG2P SPAR: key:value pairs joined by dots, the type last. Values are matched lazily up to the next
  // known key, so an email address (which has dots) still splits correctly.
  {
    faType: 'BANK_ACCOUNT',
    pattern:
      '^account_number:(?<account_number>.*?)\\.branch_code:(?<branch_code>.*?)\\.bank_code:(?<bank_code>.*?)' +
      '\\.mobile_number:(?<mobile_number>.*?)\\.email_address:(?<email_address>.*?)\\.fa_type:BANK_ACCOUNT$',
  },
  {
    faType: 'MOBILE_WALLET',
    pattern:
      '^mobile_number:(?<mobile_number>.*?)\\.wallet_provider_name:(?<wallet_provider_name>.*?)' +
      '\\.wallet_provider_code:(?<wallet_provider_code>.*?)\\.fa_type:MOBILE_WALLET$',
  },
  {
    faType: 'EMAIL_WALLET',
    pattern:
      '^email_address:(?<email_address>.*?)\\.wallet_provider_name:(?<email_wallet_provider_name>.*?)' +
      '\\.wallet_provider_code:(?<email_wallet_provider_code>.*?)\\.fa_type:EMAIL_WALLET$',
  },
  // G2P Connect: `account:<number>@<bank code>`, `mobile:<number>@<wallet provider>`.
  { faType: 'BANK_ACCOUNT', pattern: '^account:(?<account_number>[^@\\s]+)@(?<bank_code>[^@\\s]+)$' },
  { faType: 'MOBILE_WALLET', pattern: '^mobile:(?<mobile_number>[^@\\s]+)@(?<wallet_provider>[^@\\s]+)$' },
  // `email:<address>[@<provider>]`: the address itself has one '@', so the provider is what follows a second one.
  {
    faType: 'EMAIL_WALLET',
    pattern: '^email:(?<email_address>[^@\\s]+@[^@\\s]+)(?:@(?<email_wallet_provider>[^@\\s]+))?$',
  },
];

/** Checks one pattern and compiles it; throws an Error whose message names the problem. */
export function compileFaPattern(faType: unknown, source: unknown, flags: unknown = ''): FaPattern {
  if (typeof faType !== 'string' || !(FA_TYPES as readonly string[]).includes(faType))
    throw new Error(`faType must be one of ${FA_TYPES.join(', ')}, got ${JSON.stringify(faType)}`);
  if (typeof source !== 'string' || source === '') throw new Error('pattern must be a non-empty string');
  if (typeof flags !== 'string' || !/^[imsu]*$/.test(flags))
    throw new Error(`flags may only combine i, m, s and u, got ${JSON.stringify(flags)}`);
  let pattern: RegExp;
  try {
    pattern = new RegExp(source, flags);
  } catch (error) {
    throw new Error(`pattern is not a valid regular expression: ${(error as Error).message}`);
  }
  const groups = [...source.matchAll(/\(\?<([A-Za-z_$][\w$]*)>/g)].map((m) => m[1]!);
  const unknown = groups.filter((g) => !(FA_GROUPS as readonly string[]).includes(g));
  if (unknown.length)
    throw new Error(`pattern has unknown group(s) ${unknown.join(', ')}; allowed: ${FA_GROUPS.join(', ')}`);
  const required = REQUIRED_GROUP[faType as FaType];
  if (!groups.includes(required))
    throw new Error(`a ${faType} pattern must capture the named group ${required}`);
  return { faType: faType as FaType, pattern };
}

export const DEFAULT_FA_PATTERNS: readonly FaPattern[] = DEFAULT_FA_PATTERN_SOURCES.map((p) =>
  compileFaPattern(p.faType, p.pattern),
);

/**
 * Reads MAPPER_FA_PATTERNS: a JSON array whose items are `{"faType": ..., "pattern": ..., "flags"?: ...}`
 * (also `fa_type`), or the string "defaults" to include the built-in patterns at that position.
 */
export function parseFaPatternsConfig(raw: string): FaPattern[] {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new Error(`must be a JSON array of {faType, pattern}: ${(error as Error).message}`);
  }
  if (!Array.isArray(value) || value.length === 0)
    throw new Error('must be a non-empty JSON array of {faType, pattern} (or "defaults")');
  const out: FaPattern[] = [];
  value.forEach((item, index) => {
    if (item === 'defaults') {
      out.push(...DEFAULT_FA_PATTERNS);
      return;
    }
    if (!item || typeof item !== 'object' || Array.isArray(item))
      throw new Error(`item ${index} must be an object {faType, pattern} or "defaults"`);
    const entry = item as Record<string, unknown>;
    try {
      out.push(compileFaPattern(entry.faType ?? entry.fa_type, entry.pattern, entry.flags ?? ''));
    } catch (error) {
      throw new Error(`item ${index}: ${(error as Error).message}`);
    }
  });
  return out;
}

const firstOf = (groups: Record<string, string | undefined>, names: string[]): string | undefined => {
  for (const name of names) {
    const value = groups[name]?.trim();
    if (value) return value;
  }
  return undefined;
};

/**
 * Splits an FA string with the first pattern that matches it and yields a non-empty required part; empty parts
 * are left out. Returns null when no pattern fits (the caller reports FA_UNPARSEABLE). Wallet providers: an
 * explicit `wallet_provider` wins, then the code, then the name (codes are what banks route on).
 */
export function parseFinancialAddress(
  fa: string,
  patterns: readonly FaPattern[] = DEFAULT_FA_PATTERNS,
): FinancialAddress | null {
  const text = fa.trim();
  if (text === '' || text.length > MAX_FA_LENGTH) return null;
  for (const { faType, pattern } of patterns) {
    const groups = pattern.exec(text)?.groups;
    if (!groups) continue;
    if (!groups[REQUIRED_GROUP[faType]]?.trim()) continue;
    const walletProvider = firstOf(groups, [
      'wallet_provider',
      'wallet_provider_code',
      'wallet_provider_name',
    ]);
    const emailWalletProvider = firstOf(groups, [
      'email_wallet_provider',
      'email_wallet_provider_code',
      'email_wallet_provider_name',
    ]);
    const address: FinancialAddress = { faType };
    const set = (key: keyof Omit<FinancialAddress, 'faType'>, value: string | undefined) => {
      if (value) address[key] = value;
    };
    set('accountNumber', firstOf(groups, ['account_number']));
    set('bankCode', firstOf(groups, ['bank_code']));
    set('branchCode', firstOf(groups, ['branch_code']));
    set('mobileNumber', firstOf(groups, ['mobile_number']));
    set('emailAddress', firstOf(groups, ['email_address']));
    // A generic wallet provider captured in an email-wallet pattern is the email wallet's provider.
    if (faType === 'EMAIL_WALLET') set('emailWalletProvider', emailWalletProvider ?? walletProvider);
    else {
      set('walletProvider', walletProvider);
      set('emailWalletProvider', emailWalletProvider);
    }
    return address;
  }
  return null;
}
