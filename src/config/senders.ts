// Who may send G2P messages to the bridge, as an operator configured them (G2P_CONNECT_SENDERS): each sender's
// public keys (PEM or a JWKS URL), whether it must sign, and where its callbacks go. One place for both the
// signature checks (src/g2p/signing.ts) and the callbacks (src/g2p-connect/): never a URL taken from a message.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** The signature algorithms a sender's key may be used with. */
export type SignatureAlgorithm = 'ed25519' | 'rsa-sha256';

/** A configured public key of a sender: `kid` is its unique_key_id in the signature's kidId (null: any). */
export interface SenderKey {
  kid: string | null;
  algorithm: SignatureAlgorithm;
  key: KeyObject;
}

export interface SenderConfig {
  senderId: string;
  /** Keys given as PEM in the configuration. */
  publicKeys: SenderKey[];
  /** A JSON Web Key Set that holds the sender's keys, looked up by kid (fetched and cached). */
  jwksUrl: string | null;
  /** Refuse this sender's messages that carry no valid signature (a bad signature is always refused). */
  mustSign: boolean;
  /** Base URL of the sender's callbacks (`/on-disburse`, …), no trailing slash; null: no callbacks. */
  callbackBaseUrl: string | null;
  /** Push on-status callbacks when a transaction's disbursements change state. */
  subscribeStatus: boolean;
}

export type Senders = ReadonlyMap<string, SenderConfig>;

export const NO_SENDERS: Senders = new Map();

/**
 * Parses G2P_CONNECT_SENDERS: a JSON object, or the path of a file that holds one (a value not starting with `{`):
 * `{"<sender_id>": {"public_keys": ["-----BEGIN PUBLIC KEY-----…" | {"kid": "k1", "pem": "…"}],
 *   "jwks_url": "https://…", "must_sign": true, "callback_base_url": "https://…", "subscribe_status": true}}`.
 * Throws with a message naming the sender and field at fault.
 */
export function parseSenders(raw: string): Senders {
  const text = raw.trim();
  if (text === '') return NO_SENDERS;
  const json = text.startsWith('{') ? text : readFileSync(text, 'utf8');
  let spec: unknown;
  try {
    spec = JSON.parse(json);
  } catch (error) {
    throw new Error(`is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(spec)) throw new Error('must be a JSON object keyed by sender_id');
  const senders = new Map<string, SenderConfig>();
  for (const [senderId, entry] of Object.entries(spec)) {
    const at = `sender ${JSON.stringify(senderId)}`;
    if (!isObject(entry)) throw new Error(`${at} must be an object`);
    const known = ['public_keys', 'jwks_url', 'must_sign', 'callback_base_url', 'subscribe_status'];
    const unknown = Object.keys(entry).filter((k) => !known.includes(k));
    if (unknown.length) throw new Error(`${at} has unknown field(s) ${unknown.join(', ')}`);
    const keys = entry.public_keys ?? [];
    if (!Array.isArray(keys)) throw new Error(`${at}: public_keys must be a list`);
    const publicKeys = keys.map((k, i) => publicKey(k, `${at}: public_keys[${i}]`));
    const jwksUrl = optionalUrl(entry.jwks_url, `${at}: jwks_url`);
    const mustSign = optionalBool(entry.must_sign, `${at}: must_sign`);
    if (mustSign && publicKeys.length === 0 && !jwksUrl)
      throw new Error(`${at}: must_sign needs public_keys or jwks_url`);
    senders.set(senderId, {
      senderId,
      publicKeys,
      jwksUrl,
      mustSign,
      callbackBaseUrl:
        optionalUrl(entry.callback_base_url, `${at}: callback_base_url`)?.replace(/\/+$/, '') ?? null,
      subscribeStatus: optionalBool(entry.subscribe_status, `${at}: subscribe_status`),
    });
  }
  return senders;
}

/** The algorithm a public key signs with, from its type. */
export function algorithmOf(key: KeyObject): SignatureAlgorithm | null {
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'rsa') return 'rsa-sha256';
  return null;
}

function publicKey(value: unknown, at: string): SenderKey {
  const { kid, pem } =
    typeof value === 'string'
      ? { kid: null, pem: value }
      : isObject(value) &&
          typeof value.pem === 'string' &&
          (value.kid == null || typeof value.kid === 'string')
        ? { kid: (value.kid as string | undefined) ?? null, pem: value.pem }
        : { kid: null, pem: null };
  if (pem === null) throw new Error(`${at} must be a PEM string or {"kid", "pem"}`);
  let key: KeyObject;
  try {
    key = createPublicKey(pem.replace(/\\n/g, '\n'));
  } catch {
    throw new Error(`${at} is not a public key in PEM form`);
  }
  const algorithm = algorithmOf(key);
  if (!algorithm) throw new Error(`${at} is a ${key.asymmetricKeyType} key; Ed25519 or RSA are supported`);
  return { kid, algorithm, key };
}

function optionalUrl(value: unknown, at: string): string | null {
  if (value == null) return null;
  if (typeof value !== 'string') throw new Error(`${at} must be a URL`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${at} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${at} must be http(s)`);
  return value;
}

function optionalBool(value: unknown, at: string): boolean {
  if (value == null) return false;
  if (typeof value !== 'boolean') throw new Error(`${at} must be true or false`);
  return value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
