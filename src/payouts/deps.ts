// What payout-channel work needs from its caller (the pipeline stages pass their own deps, which fit), and the
// failure it reports: the shape of a stage's failure, so a stage returns it as it is.
import type { Logger } from 'pino';
import type { WalletConnectorSource } from '../bank/wallet-connector.js';
import type { Db } from '../db/index.js';

export interface PayoutDeps {
  db: Db;
  log: Logger;
  /** Wallet providers' connectors (WALLET_PROVIDERS); absent: no wallet channel can be used. */
  wallets?: WalletConnectorSource;
}

export interface PayoutFailure {
  ok: false;
  errorCode: string;
  message?: string;
  /** The status the driving row waits in for its next attempt (a stage's retryStatus). */
  retryStatus?: string;
}

export const payoutFailure = (errorCode: string, message?: string): PayoutFailure =>
  message === undefined ? { ok: false, errorCode } : { ok: false, errorCode, message: message.slice(0, 500) };

export const isPayoutFailure = (v: unknown): v is PayoutFailure =>
  typeof v === 'object' && v !== null && (v as PayoutFailure).ok === false;
