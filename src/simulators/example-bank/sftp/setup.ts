// Wiring of the example bank's SFTP face for `bank --sftp-port` and `start` (EXAMPLE_BANK_CHANNEL=sftp): its
// settings from configuration, the bridge's own client key pair in DATA_DIR, and the environment that points
// the bridge's `builtin:iso20022-sftp` connector at the face with the host key pinned.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sftpPrefix } from '../../../bank/sftp/connector.js';
import type { Config } from '../../../config/index.js';
import { generateSshKeyPair, publicKeyLine } from '../../../sftp/server.js';
import { type ExampleBankSftpSettings, INBOUND, OUTBOUND, type SftpCustomer } from './channel.js';

/** The customer name under which `start` connects its own bridge. */
export const BRIDGE_CUSTOMER = 'bridge';

type SftpConfig = Pick<
  Config,
  | 'DATA_DIR'
  | 'EXAMPLE_BANK_SFTP_PORT'
  | 'EXAMPLE_BANK_SFTP_DIR'
  | 'EXAMPLE_BANK_SFTP_HOST_KEY_FILE'
  | 'EXAMPLE_BANK_SFTP_CUSTOMERS'
>;

/** `user=/path/key.pub,...`; throws with every problem named. */
export function parseSftpCustomers(spec: string | undefined): SftpCustomer[] {
  const customers: SftpCustomer[] = [];
  const problems: string[] = [];
  for (const entry of (spec ?? '').split(',').map((e) => e.trim())) {
    if (!entry) continue;
    const eq = entry.indexOf('=');
    const username = entry.slice(0, eq).trim();
    const file = entry.slice(eq + 1).trim();
    if (eq < 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(username) || !file) {
      problems.push(`"${entry}" is not user=/path/to/key.pub`);
      continue;
    }
    try {
      const lines = readFileSync(file, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l && !l.startsWith('#'));
      if (lines.length === 0) problems.push(`${file} holds no public key`);
      customers.push({ username, authorizedKeys: lines.map((l) => publicKeyLine(l)) });
    } catch (e) {
      problems.push(`${username}: ${file}: ${(e as Error).message.slice(0, 120)}`);
    }
  }
  if (problems.length) throw new Error(`EXAMPLE_BANK_SFTP_CUSTOMERS: ${problems.join('; ')}`);
  return customers;
}

/** The face's settings; `customers` come on top of EXAMPLE_BANK_SFTP_CUSTOMERS (same name: theirs win). */
export function exampleBankSftpSettings(
  config: SftpConfig,
  options: { port?: number; host?: string; customers?: SftpCustomer[] } = {},
): ExampleBankSftpSettings {
  const dir = config.EXAMPLE_BANK_SFTP_DIR ?? join(config.DATA_DIR, 'bank-sftp');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const extra = options.customers ?? [];
  const configured = parseSftpCustomers(config.EXAMPLE_BANK_SFTP_CUSTOMERS).filter(
    (c) => !extra.some((e) => e.username === c.username),
  );
  return {
    host: options.host ?? '127.0.0.1',
    port: options.port ?? config.EXAMPLE_BANK_SFTP_PORT,
    dir,
    hostKeyFile: config.EXAMPLE_BANK_SFTP_HOST_KEY_FILE ?? join(dir, 'ssh_host_ed25519_key'),
    customers: [...configured, ...extra],
  };
}

/** The bridge's client key pair in DATA_DIR/bridge-sftp (created once, mode 0600), kept across restarts. */
export function bridgeClientKey(dataDir: string): { privateKeyFile: string; publicKey: string } {
  const dir = join(dataDir, 'bridge-sftp');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privateKeyFile = join(dir, 'id_ed25519');
  if (!existsSync(privateKeyFile)) {
    const pair = generateSshKeyPair();
    writeFileSync(privateKeyFile, pair.private, { mode: 0o600 });
  }
  return { privateKeyFile, publicKey: publicKeyLine(readFileSync(privateKeyFile)) };
}

/**
 * BANK_CONNECTORS with `bankCode` on builtin:iso20022-sftp, and its SFTP_<CODE>_* settings pointing at the face
 * (the host key pinned, funds checked and blocked by the bank: FUNDS=at-bank unless env says otherwise; the
 * other pain.001 options from env as usual).
 */
export function sftpConnectorEnv(
  env: Record<string, string | undefined>,
  bankCode: string,
  face: { host: string; port: number; hostPublicKey: string; privateKeyFile: string; debtorName?: string },
): Record<string, string | undefined> {
  const pre = sftpPrefix(bankCode);
  const others = (env.BANK_CONNECTORS || '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e && e.slice(0, e.indexOf('=')).trim() !== bankCode);
  // The face this process started: where it is and its keys are only known here, so env cannot name them.
  const connection: Record<string, string> = {
    HOST: face.host,
    PORT: String(face.port),
    USER: BRIDGE_CUSTOMER,
    PRIVATE_KEY_FILE: face.privateKeyFile,
    HOST_KEY: face.hostPublicKey,
    OUTBOUND: `/${OUTBOUND}`,
    INBOUND: `/${INBOUND}`,
  };
  const defaults: Record<string, string> = {
    FUNDS: 'at-bank',
    DEBTOR_NAME: face.debtorName ?? 'G2P program',
  };
  const out: Record<string, string | undefined> = {
    ...env,
    BANK_CONNECTORS: [...others, `${bankCode}=builtin:iso20022-sftp`].join(','),
  };
  for (const [k, v] of Object.entries(defaults)) out[pre + k] = env[pre + k] || v;
  for (const [k, v] of Object.entries(connection)) out[pre + k] = v;
  return out;
}
