// MAPPER_FA_PATTERNS: the named-group regular expressions that split a financial-address string into its parts,
// one per FA type. They are configuration rather than code (mappers disagree on the format), so they are
// checked and compiled here with the rest of the settings; src/mapper/fa.ts applies them. See docs/mapper.md.

/** The kinds of financial address the bridge can pay to. */
export type FaType = 'BANK_ACCOUNT' | 'MOBILE_WALLET' | 'EMAIL_WALLET';

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
export const FA_REQUIRED_GROUP: Record<FaType, string> = {
  BANK_ACCOUNT: 'account_number',
  MOBILE_WALLET: 'mobile_number',
  EMAIL_WALLET: 'email_address',
};

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
  const required = FA_REQUIRED_GROUP[faType as FaType];
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
