// The wallet-provider simulator's settings, from the parsed configuration (documented in
// docs/configuration.md).
import type { Config } from '../../config/index.js';

const KEYS = [
  'WALLET_SIMULATOR_API_KEYS',
  'WALLET_SIMULATOR_CLIENTS',
  'WALLET_SIMULATOR_TOKEN_TTL_SECONDS',
  'WALLET_SIMULATOR_ACCOUNTS',
  'WALLET_SIMULATOR_PROCESS_INTERVAL_MS',
  'WALLET_SIMULATOR_CALLBACK_ATTEMPTS',
  'WALLET_SIMULATOR_CALLBACK_BACKOFF_MS',
  'WALLET_SIMULATOR_CALLBACK_API_KEY',
] as const;

/** The part of the configuration the wallet-provider simulator reads. */
export type WalletSimulatorConfig = Pick<Config, (typeof KEYS)[number]>;

export interface OpeningAccount {
  accountId: string;
  currency: string;
  openingBalance: string;
}

export interface WalletSettings {
  apiKeys: string[];
  /** OAuth 2 client id → secret. */
  clients: Map<string, string>;
  tokenTtlSeconds: number;
  openingAccounts: OpeningAccount[];
  processIntervalMs: number;
  callbackAttempts: number;
  callbackBackoffMs: number;
  callbackApiKey?: string;
}

/** The simulator's settings, from the configuration the command parsed; throws on a malformed list. */
export function walletSettings(v: WalletSimulatorConfig): WalletSettings {
  return {
    apiKeys: list(v.WALLET_SIMULATOR_API_KEYS),
    clients: parseClients(v.WALLET_SIMULATOR_CLIENTS),
    tokenTtlSeconds: v.WALLET_SIMULATOR_TOKEN_TTL_SECONDS,
    openingAccounts: parseOpeningAccounts(v.WALLET_SIMULATOR_ACCOUNTS),
    processIntervalMs: v.WALLET_SIMULATOR_PROCESS_INTERVAL_MS,
    callbackAttempts: v.WALLET_SIMULATOR_CALLBACK_ATTEMPTS,
    callbackBackoffMs: v.WALLET_SIMULATOR_CALLBACK_BACKOFF_MS,
    callbackApiKey: v.WALLET_SIMULATOR_CALLBACK_API_KEY,
  };
}

const list = (raw: string | undefined) =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** `client_id:secret,...` (the secret may itself contain colons). */
export function parseClients(raw: string | undefined): Map<string, string> {
  const clients = new Map<string, string>();
  for (const item of list(raw)) {
    const colon = item.indexOf(':');
    if (colon <= 0 || colon === item.length - 1)
      throw new Error(`WALLET_SIMULATOR_CLIENTS: '${item.split(':')[0]}' is not client_id:secret`);
    clients.set(item.slice(0, colon), item.slice(colon + 1));
  }
  return clients;
}

/** `account_id:currency:opening_balance,...` → accounts; throws on a malformed item. */
export function parseOpeningAccounts(raw: string | undefined): OpeningAccount[] {
  return list(raw).map((item) => {
    const [accountId, currency, openingBalance = '0', ...rest] = item.split(':').map((p) => p.trim());
    if (!accountId || !currency || rest.length)
      throw new Error(`WALLET_SIMULATOR_ACCOUNTS: '${item}' is not account_id:currency:opening_balance`);
    return { accountId, currency, openingBalance };
  });
}
