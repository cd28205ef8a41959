// The bridge's own key pairs: Ed25519 to sign what it sends, RSA to decrypt what is encrypted for it. Created by
// `g2p-bridge keys`, kept like the local JWT secret (DATA_DIR/g2p-keys.json on the embedded database, the
// bridge_setting table on PostgreSQL) and published as a JWKS (GET /.well-known/jwks.json).
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { calculateJwkThumbprint, type JWK } from 'jose';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import type { DecryptionKey } from './encryption.js';
import type { SigningKey } from './signing.js';

/** The bridge's id in the kidId of its signatures (the receiver_id PBMS calls name). */
export const BRIDGE_ID = 'g2p-bridge';

const SETTING = 'g2p_bridge_keys';
const FILE = 'g2p-keys.json';

export interface BridgeKeys {
  signing: SigningKey;
  decryption: DecryptionKey;
}

/** How the keys are stored: private JWKs. */
interface StoredKeys {
  signing: JWK;
  encryption: JWK;
}

type KeyConfig = Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>;

/** The bridge's keys, or null when `g2p-bridge keys` has not created them yet. */
export async function loadBridgeKeys(config: KeyConfig, db?: Db): Promise<BridgeKeys | null> {
  const stored = await readStored(config, db);
  return stored ? fromStored(stored) : null;
}

/**
 * The bridge's keys, created first when there are none (or replaced when `rotate`). Two processes creating at
 * once both end with the same keys: the first write wins.
 */
export async function ensureBridgeKeys(
  config: KeyConfig,
  db?: Db,
  options: { rotate?: boolean } = {},
): Promise<{ keys: BridgeKeys; created: boolean }> {
  if (!options.rotate) {
    const existing = await loadBridgeKeys(config, db);
    if (existing) return { keys: existing, created: false };
  }
  const candidate: StoredKeys = {
    signing: generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as JWK,
    encryption: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
      format: 'jwk',
    }) as JWK,
  };
  await writeStored(config, db, candidate, options.rotate === true);
  const keys = await loadBridgeKeys(config, db);
  if (!keys) throw new Error('the bridge keys could not be stored');
  return { keys, created: true };
}

/** The public halves as a JSON Web Key Set: what senders verify the bridge's signatures and encrypt with. */
export function publicJwks(keys: BridgeKeys): { keys: JWK[] } {
  const pub = (key: KeyObject, kid: string, use: string, alg: string) => ({
    ...(createPublicKey(key).export({ format: 'jwk' }) as JWK),
    kid,
    use,
    alg,
  });
  return {
    keys: [
      pub(keys.signing.privateKey, keys.signing.kid, 'sig', 'EdDSA'),
      pub(keys.decryption.privateKey, keys.decryption.kid, 'enc', 'RSA-OAEP-256'),
    ],
  };
}

async function fromStored(stored: StoredKeys): Promise<BridgeKeys> {
  const publicPart = (jwk: JWK) =>
    createPublicKey(createPrivateKey({ key: jwk as never, format: 'jwk' })).export({ format: 'jwk' }) as JWK;
  return {
    signing: {
      senderId: BRIDGE_ID,
      kid: await calculateJwkThumbprint(publicPart(stored.signing)),
      algorithm: 'ed25519',
      privateKey: createPrivateKey({ key: stored.signing as never, format: 'jwk' }),
    },
    decryption: {
      kid: await calculateJwkThumbprint(publicPart(stored.encryption)),
      privateKey: createPrivateKey({ key: stored.encryption as never, format: 'jwk' }),
    },
  };
}

async function readStored(config: KeyConfig, db?: Db): Promise<StoredKeys | null> {
  let text: string | undefined;
  if (!config.DATABASE_URL) {
    try {
      text = await readFile(join(config.DATA_DIR, FILE), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  } else {
    if (!db) throw new Error('the bridge keys of a PostgreSQL deployment are kept in its database');
    const { rows } = await db.query<{ value: string }>('SELECT value FROM bridge_setting WHERE name = $1', [
      SETTING,
    ]);
    text = rows[0]?.value;
  }
  return text ? (JSON.parse(text) as StoredKeys) : null;
}

async function writeStored(config: KeyConfig, db: Db | undefined, keys: StoredKeys, replace: boolean) {
  const text = JSON.stringify(keys);
  if (!config.DATABASE_URL) {
    await mkdir(config.DATA_DIR, { recursive: true });
    try {
      await writeFile(join(config.DATA_DIR, FILE), `${text}\n`, { flag: replace ? 'w' : 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return;
  }
  if (!db) throw new Error('the bridge keys of a PostgreSQL deployment are kept in its database');
  await db.query(
    `INSERT INTO bridge_setting (name, value) VALUES ($1, $2) ON CONFLICT (name) DO ${replace ? 'UPDATE SET value = EXCLUDED.value' : 'NOTHING'}`,
    [SETTING, text],
  );
}
