// Financial-address (FA) strings split into their parts by named-group regular expressions, one per FA type.
// Mappers disagree on the string format (SPAR's dot-separated key:value form, G2P Connect's `type:id@provider`),
// so the patterns are configuration (MAPPER_FA_PATTERNS) rather than code. See docs/mapper.md.
import { DEFAULT_FA_PATTERNS, FA_REQUIRED_GROUP, type FaPattern } from '../config/fa-patterns.js';
import type { FinancialAddress } from './types.js';

export {
  compileFaPattern,
  DEFAULT_FA_PATTERN_SOURCES,
  DEFAULT_FA_PATTERNS,
  FA_GROUPS,
  FA_TYPES,
  type FaPattern,
  parseFaPatternsConfig,
} from '../config/fa-patterns.js';

/** Longer strings are not addresses; refusing them keeps the regexes' work bounded. */
export const MAX_FA_LENGTH = 1024;

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
    if (!groups[FA_REQUIRED_GROUP[faType]]?.trim()) continue;
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
