import type { BankConnector } from '../bank/connector.js';
import type { WalletConnectorSource } from '../bank/wallet-connector.js';
import type { Senders } from '../config/senders.js';
import type { SigningKey } from '../g2p/signing.js';
import type { MapperClient } from '../mapper/types.js';
import { failure, type RunnerDeps, type StageFailure } from './runner.js';

/** Where stages get a program's connector: the registry built from BANK_CONNECTORS, or a test's fake. */
export interface ConnectorSource {
  getBankConnector(bankCode: string): BankConnector | Promise<BankConnector>;
}

export interface StageDeps extends RunnerDeps {
  connectors: ConnectorSource;
  /** Absent when no mapper is configured: programs that need resolution then wait (MAPPER_NOT_CONFIGURED). */
  mapper?: MapperClient;
  /** G2P Connect senders and their callback URLs (G2P_CONNECT_SENDERS); absent: callbacks wait. */
  g2pSenders?: Senders;
  /** The bridge's signing key for callbacks (src/g2p/keys.ts); null or absent: callbacks go unsigned. */
  signingKey?: () => Promise<SigningKey | null>;
  /** Wallet providers' connectors (WALLET_PROVIDERS, src/payouts); absent: no wallet channel can ship. */
  wallets?: WalletConnectorSource;
}

/** The connector for a sponsor bank code, or the failure to record (an unknown code is a configuration error). */
export async function connectorFor(deps: StageDeps, bankCode: string): Promise<BankConnector | StageFailure> {
  try {
    return await deps.connectors.getBankConnector(bankCode);
  } catch (error) {
    // The registry's BankConnectorConfigError carries UNKNOWN_SPONSOR_BANK_CODE.
    const code = (error as { code?: unknown }).code;
    return failure(typeof code === 'string' ? code : 'UNKNOWN_SPONSOR_BANK_CODE', {
      message: `sponsor bank code ${bankCode}: ${(error as Error).message}`.slice(0, 500),
    });
  }
}

export const isFailure = (value: unknown): value is StageFailure =>
  typeof value === 'object' && value !== null && (value as StageFailure).ok === false;

/** A connector that throws instead of answering FAILURE still must not lose the row's state. */
export async function callBank<T>(call: () => Promise<T>): Promise<T | StageFailure> {
  try {
    return await call();
  } catch (error) {
    return failure('BANK_CONNECTOR_ERROR', { message: (error as Error).message?.slice(0, 500) });
  }
}
