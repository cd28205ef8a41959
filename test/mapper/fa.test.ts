import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import {
  compileFaPattern,
  DEFAULT_FA_PATTERNS,
  type FinancialAddress,
  parseFaPatternsConfig,
  parseFinancialAddress,
} from '../../src/mapper/index.js';

type Row = [string, FinancialAddress | null];

const TABLE: Row[] = [
  // OpenG2P SPAR, dot-separated
  [
    'account_number:1234567890.branch_code:BR01.bank_code:EXAMPLE_BANK.mobile_number:.email_address:.fa_type:BANK_ACCOUNT',
    { faType: 'BANK_ACCOUNT', accountNumber: '1234567890', branchCode: 'BR01', bankCode: 'EXAMPLE_BANK' },
  ],
  [
    'account_number:00012.branch_code:.bank_code:NB.mobile_number:+254700000001.email_address:jane.doe@example.org.fa_type:BANK_ACCOUNT',
    {
      faType: 'BANK_ACCOUNT',
      accountNumber: '00012',
      bankCode: 'NB',
      mobileNumber: '+254700000001',
      emailAddress: 'jane.doe@example.org',
    },
  ],
  [
    'mobile_number:+254700000002.wallet_provider_name:M-Pesa.wallet_provider_code:MPESA.fa_type:MOBILE_WALLET',
    { faType: 'MOBILE_WALLET', mobileNumber: '+254700000002', walletProvider: 'MPESA' },
  ],
  [
    'mobile_number:0700000003.wallet_provider_name:Airtel Money.wallet_provider_code:.fa_type:MOBILE_WALLET',
    { faType: 'MOBILE_WALLET', mobileNumber: '0700000003', walletProvider: 'Airtel Money' },
  ],
  [
    'email_address:a.b+c@mail.example.com.wallet_provider_name:PayMail.wallet_provider_code:PAYMAIL.fa_type:EMAIL_WALLET',
    { faType: 'EMAIL_WALLET', emailAddress: 'a.b+c@mail.example.com', emailWalletProvider: 'PAYMAIL' },
  ],
  // surrounding whitespace is ignored
  [
    '  account_number:42.branch_code:B.bank_code:C.mobile_number:.email_address:.fa_type:BANK_ACCOUNT\n',
    { faType: 'BANK_ACCOUNT', accountNumber: '42', branchCode: 'B', bankCode: 'C' },
  ],
  // G2P Connect type:id@provider
  [
    'account:12345@national-bank',
    { faType: 'BANK_ACCOUNT', accountNumber: '12345', bankCode: 'national-bank' },
  ],
  [
    'mobile:+254700000004@mobile-pymt',
    { faType: 'MOBILE_WALLET', mobileNumber: '+254700000004', walletProvider: 'mobile-pymt' },
  ],
  [
    'email:jane@example.org@paypal',
    { faType: 'EMAIL_WALLET', emailAddress: 'jane@example.org', emailWalletProvider: 'paypal' },
  ],
  ['email:jane@example.org', { faType: 'EMAIL_WALLET', emailAddress: 'jane@example.org' }],
  // unparseable
  ['', null],
  ['   ', null],
  ['12345', null],
  ['account:12345', null], // no bank
  ['account:@national-bank', null],
  ['mobile:+2547@', null],
  ['email:jane@a@b@c', null],
  ['email:jane', null],
  ['iban:DE89370400440532013000@bank', null],
  // the required part is empty: not payable, so not a match
  ['account_number:.branch_code:B.bank_code:C.mobile_number:.email_address:.fa_type:BANK_ACCOUNT', null],
  // wrong or missing type suffix
  ['account_number:1.branch_code:B.bank_code:C.mobile_number:.email_address:.fa_type:CARD', null],
  ['account_number:1.branch_code:B.bank_code:C', null],
  [`account:${'9'.repeat(2000)}@bank`, null], // longer than any address
];

describe('parseFinancialAddress with the default patterns', () => {
  it.each(TABLE)('%j', (fa, expected) => {
    expect(parseFinancialAddress(fa, DEFAULT_FA_PATTERNS)).toEqual(expected);
  });

  it('uses the defaults when no patterns are given', () => {
    expect(parseFinancialAddress('account:1@b')).toEqual({
      faType: 'BANK_ACCOUNT',
      accountNumber: '1',
      bankCode: 'b',
    });
  });
});

describe('configured patterns', () => {
  it('reads a JSON list, with flags, and tries the patterns in order', () => {
    const patterns = parseFaPatternsConfig(
      JSON.stringify([
        {
          faType: 'BANK_ACCOUNT',
          pattern: '^IBAN:(?<account_number>[A-Z0-9]+)/(?<bank_code>\\w+)$',
          flags: 'i',
        },
        {
          fa_type: 'MOBILE_WALLET',
          pattern: '^tel:(?<mobile_number>\\+?\\d+);wallet=(?<wallet_provider>\\w+)$',
        },
      ]),
    );
    expect(parseFinancialAddress('iban:DE89370400440532013000/COBADEFF', patterns)).toEqual({
      faType: 'BANK_ACCOUNT',
      accountNumber: 'DE89370400440532013000',
      bankCode: 'COBADEFF',
    });
    expect(parseFinancialAddress('tel:+4915112345678;wallet=paypal', patterns)).toEqual({
      faType: 'MOBILE_WALLET',
      mobileNumber: '+4915112345678',
      walletProvider: 'paypal',
    });
    // the defaults are not included unless asked for
    expect(parseFinancialAddress('account:1@b', patterns)).toBeNull();
  });

  it('splices the built-in patterns in where "defaults" appears', () => {
    const patterns = parseFaPatternsConfig(
      JSON.stringify([{ faType: 'BANK_ACCOUNT', pattern: '^acct/(?<account_number>\\d+)$' }, 'defaults']),
    );
    expect(patterns).toHaveLength(DEFAULT_FA_PATTERNS.length + 1);
    expect(parseFinancialAddress('acct/77', patterns)).toEqual({
      faType: 'BANK_ACCOUNT',
      accountNumber: '77',
    });
    expect(parseFinancialAddress('mobile:1@p', patterns)?.faType).toBe('MOBILE_WALLET');
  });

  it('puts a generic wallet provider of an email-wallet pattern into emailWalletProvider', () => {
    const [p] = parseFaPatternsConfig(
      JSON.stringify([
        { faType: 'EMAIL_WALLET', pattern: '^(?<email_address>[^|]+)\\|(?<wallet_provider_code>.+)$' },
      ]),
    );
    expect(parseFinancialAddress('x@y.z|PAYMAIL', [p!])).toEqual({
      faType: 'EMAIL_WALLET',
      emailAddress: 'x@y.z',
      emailWalletProvider: 'PAYMAIL',
    });
  });

  it.each([
    ['not json', /JSON array/],
    ['{}', /non-empty JSON array/],
    ['[]', /non-empty JSON array/],
    ['[42]', /item 0 must be an object/],
    ['[{"faType":"CARD","pattern":"(?<account_number>.+)"}]', /item 0: faType must be one of/],
    ['[{"faType":"BANK_ACCOUNT"}]', /item 0: pattern must be a non-empty string/],
    [
      '[{"faType":"BANK_ACCOUNT","pattern":"(?<account_number>["}]',
      /item 0: pattern is not a valid regular expression/,
    ],
    ['[{"faType":"BANK_ACCOUNT","pattern":"(?<acount_number>.+)"}]', /unknown group\(s\) acount_number/],
    [
      '[{"faType":"MOBILE_WALLET","pattern":"(?<account_number>.+)"}]',
      /must capture the named group mobile_number/,
    ],
    ['[{"faType":"BANK_ACCOUNT","pattern":"(?<account_number>.+)","flags":"g"}]', /flags may only combine/],
  ])('rejects %s', (raw, message) => {
    expect(() => parseFaPatternsConfig(raw)).toThrow(message);
  });

  it('is validated with the rest of the configuration at start', () => {
    expect(() => loadConfig({ MAPPER_FA_PATTERNS: '[{"faType":"BANK_ACCOUNT","pattern":"x"}]' })).toThrow(
      ConfigError,
    );
    expect(() => loadConfig({ MAPPER_FA_PATTERNS: '[{"faType":"BANK_ACCOUNT","pattern":"x"}]' })).toThrow(
      /MAPPER_FA_PATTERNS item 0: a BANK_ACCOUNT pattern must capture the named group account_number/,
    );
    expect(loadConfig({}).MAPPER_FA_PATTERNS).toBe(DEFAULT_FA_PATTERNS);
  });

  it('compiles single patterns for code that builds its own list', () => {
    expect(compileFaPattern('EMAIL_WALLET', '^(?<email_address>.+)$').faType).toBe('EMAIL_WALLET');
  });
});
