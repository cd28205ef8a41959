// The example bank's settings, from the parsed configuration (documented in docs/configuration.md).
import type { Config } from '../../config/index.js';
import type { StatementDefaults } from './statements.js';

const KEYS = [
  'PORT',
  'PUBLIC_URL',
  'EXAMPLE_BANK_CODE',
  'EXAMPLE_BANK_ACCOUNTS',
  'EXAMPLE_BANK_REVERSAL_RATE',
  'EXAMPLE_BANK_SEED',
  'EXAMPLE_BANK_PROCESS_INTERVAL_MS',
  'EXAMPLE_BANK_PROCESS_BATCH_SIZE',
  'EXAMPLE_BANK_STATEMENT_AFTER_PROCESSING',
  'EXAMPLE_BANK_STATEMENT_INTERVAL_MS',
  'EXAMPLE_BANK_STATEMENT_MAX_ENTRIES',
  'EXAMPLE_BANK_DELIVER_STATEMENTS',
  'EXAMPLE_BANK_STATEMENT_FORMAT',
  'EXAMPLE_BANK_BATCH_BOOKING',
  'EXAMPLE_BANK_BRIDGE_URL',
  'EXAMPLE_BANK_BRIDGE_TOKEN',
] as const;

/** The part of the configuration the example bank reads. */
export type ExampleBankConfig = Pick<Config, (typeof KEYS)[number]>;

export interface ExampleBankSettings {
  bankCode: string;
  openingAccounts: OpeningAccount[];
  reversalRate: number;
  seed: string;
  processIntervalMs: number;
  processBatchSize: number;
  statementAfterProcessing: boolean;
  statementIntervalMs: number;
  statementMaxEntries: number;
  deliverStatements: boolean;
  /** How statements are written unless the account says otherwise. */
  statementDefaults: StatementDefaults;
  /** Base URL of the bridge, for the HTTP uploader. */
  bridgeUrl: string;
  bridgeToken?: string;
}

export interface OpeningAccount {
  accountNumber: string;
  currency: string;
  openingBalance: string;
}

/** The example bank's settings, from the configuration the command parsed. */
export function exampleBankSettings(v: ExampleBankConfig): ExampleBankSettings {
  return {
    bankCode: v.EXAMPLE_BANK_CODE,
    openingAccounts: parseOpeningAccounts(v.EXAMPLE_BANK_ACCOUNTS),
    reversalRate: v.EXAMPLE_BANK_REVERSAL_RATE,
    seed: v.EXAMPLE_BANK_SEED,
    processIntervalMs: v.EXAMPLE_BANK_PROCESS_INTERVAL_MS,
    processBatchSize: v.EXAMPLE_BANK_PROCESS_BATCH_SIZE,
    statementAfterProcessing: v.EXAMPLE_BANK_STATEMENT_AFTER_PROCESSING,
    statementIntervalMs: v.EXAMPLE_BANK_STATEMENT_INTERVAL_MS,
    statementMaxEntries: v.EXAMPLE_BANK_STATEMENT_MAX_ENTRIES,
    deliverStatements: v.EXAMPLE_BANK_DELIVER_STATEMENTS,
    statementDefaults: {
      format: v.EXAMPLE_BANK_STATEMENT_FORMAT,
      batchBooking: v.EXAMPLE_BANK_BATCH_BOOKING,
    },
    bridgeUrl: (v.EXAMPLE_BANK_BRIDGE_URL ?? v.PUBLIC_URL ?? `http://127.0.0.1:${v.PORT}`).replace(
      /\/+$/,
      '',
    ),
    bridgeToken: v.EXAMPLE_BANK_BRIDGE_TOKEN,
  };
}

/** `number:currency:amount,...` → accounts; throws on a malformed item. */
export function parseOpeningAccounts(spec: string | undefined): OpeningAccount[] {
  if (!spec) return [];
  return spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((item) => {
      const [accountNumber, currency, openingBalance = '0', ...rest] = item.split(':').map((p) => p.trim());
      if (!accountNumber || !currency || rest.length)
        throw new Error(`EXAMPLE_BANK_ACCOUNTS: '${item}' is not number:currency:opening_balance`);
      return { accountNumber, currency, openingBalance };
    });
}
