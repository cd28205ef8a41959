// The spec's `EncryptedMessage`: a JWE in flattened JSON form ({header: {alg, enc, kid}, encrypted_key, iv,
// ciphertext, tag}) whose plaintext is the message. Decrypted with the bridge's key (src/g2p/keys.ts) by jose;
// a message marked encrypted is never read as plain text.
import type { KeyObject } from 'node:crypto';
import { FlattenedEncrypt, flattenedDecrypt } from 'jose';

/** Reason codes of a refused encrypted message (HTTP 400). */
export const EncryptionCode = {
  /** is_msg_encrypted is true, and the bridge has no key to decrypt with (`g2p-bridge keys` makes one). */
  NOT_SUPPORTED: 'rjct.encryption.not_supported',
  /** The message is not a JWE the bridge's key opens, or its plaintext is not JSON. */
  INVALID: 'rjct.encryption.invalid',
} as const;
export type EncryptionCode = (typeof EncryptionCode)[keyof typeof EncryptionCode];

/** The bridge's decryption key. */
export interface DecryptionKey {
  kid: string;
  privateKey: KeyObject;
}

export const KEY_ALGORITHMS = ['RSA-OAEP-256', 'RSA-OAEP'];
export const CONTENT_ALGORITHMS = ['A256GCM', 'A128GCM', 'A256CBC-HS512', 'A128CBC-HS256'];

export type DecryptResult =
  | { ok: true; message: unknown }
  | { ok: false; errorCode: EncryptionCode; message: string; httpStatus: 400 };

export interface EncryptedMessage {
  header: { alg: string; enc: string; kid: string };
  encrypted_key: string;
  iv: string;
  ciphertext: string;
  tag: string;
  protected?: string;
}

function refuse(code: EncryptionCode, message: string): DecryptResult {
  return { ok: false, errorCode: code, message, httpStatus: 400 };
}

/** Decrypts an EncryptedMessage with the bridge's key; the plaintext must be JSON (the message it stands for). */
export async function decryptMessage(encrypted: unknown, key: DecryptionKey | null): Promise<DecryptResult> {
  if (!key)
    return refuse(
      EncryptionCode.NOT_SUPPORTED,
      'header.is_msg_encrypted is true, but this bridge has no decryption key (g2p-bridge keys creates one)',
    );
  if (typeof encrypted !== 'object' || encrypted === null || Array.isArray(encrypted))
    return refuse(EncryptionCode.INVALID, 'an encrypted message must be an EncryptedMessage (a JWE object)');
  const jwe = encrypted as Record<string, unknown>;
  const header = jwe.header as Record<string, unknown> | undefined;
  if (typeof header?.kid === 'string' && header.kid !== key.kid)
    return refuse(
      EncryptionCode.INVALID,
      `the message is encrypted for key ${JSON.stringify(header.kid.slice(0, 100))}, not the bridge's`,
    );
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await flattenedDecrypt(jwe as never, key.privateKey, {
      keyManagementAlgorithms: KEY_ALGORITHMS,
      contentEncryptionAlgorithms: CONTENT_ALGORITHMS,
    }));
  } catch {
    return refuse(EncryptionCode.INVALID, 'the encrypted message does not decrypt with the bridge key');
  }
  try {
    return { ok: true, message: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext)) };
  } catch {
    return refuse(EncryptionCode.INVALID, 'the decrypted message is not JSON');
  }
}

/** Encrypts a message for a receiver's public key (RSA-OAEP-256 + A256GCM): what a PBMS does, for tests and demo. */
export async function encryptMessage(
  message: unknown,
  publicKey: KeyObject,
  kid: string,
): Promise<EncryptedMessage> {
  const jwe = await new FlattenedEncrypt(new TextEncoder().encode(JSON.stringify(message)))
    .setUnprotectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid })
    .encrypt(publicKey);
  return jwe as unknown as EncryptedMessage;
}
