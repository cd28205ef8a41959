// The `signature` of a G2P Connect message (the spec's MsgSignature): a signature over {header}+{message} by the
// sender's key, checked against the keys an operator configured for that sender (src/config/senders.ts), and the
// bridge's own signature on what it sends. Cryptography is node:crypto's and jose's; nothing here is hand-rolled.
//
// The signature string, as the spec's example spells it (HTTP-signature style, as Beckn does):
//   Signature: namespace="g2p", kidId="{sender_id}|{unique_key_id}|{algorithm}", algorithm="ed25519",
//     created="1606970629", expires="1607030629", headers="(created) (expires) digest", signature="…"
// and the signed text is
//   (created): 1606970629\n(expires): 1607030629\ndigest: BLAKE-512=<base64 BLAKE2b-512 of the canonical body>
// where the canonical body is {"header":…,"message":…} written with sorted keys and no whitespace (the JSON
// this API carries has no numbers beyond 15 digits, so every JSON library writes the same text).
// See docs/decisions.md "Signed and encrypted G2P messages".
import { createHash, sign as cryptoSign, verify as cryptoVerify, KeyObject } from 'node:crypto';
import { createRemoteJWKSet, type JWSHeaderParameters } from 'jose';
import type { SenderConfig, SenderKey, Senders, SignatureAlgorithm } from '../config/senders.js';

/** Reason codes of a refused signature (header.status_reason_code, HTTP 401). */
export const SignatureCode = {
  MISSING: 'rjct.signature.missing',
  INVALID: 'rjct.signature.invalid',
  KEY_UNKNOWN: 'rjct.signature.key_unknown',
  EXPIRED: 'rjct.signature.expired',
} as const;
export type SignatureCode = (typeof SignatureCode)[keyof typeof SignatureCode];

/** What was checked: signed by `keyId`, or unsigned and allowed (the sender need not sign). */
export type VerifyResult =
  | { ok: true; signed: true; keyId: string }
  | { ok: true; signed: false }
  | { ok: false; errorCode: SignatureCode; message: string; httpStatus: 401 };

/** A G2P message as it arrived (or will leave): the signature and the two parts it covers. */
export interface SignedBody {
  signature?: string | null;
  header: unknown;
  message: unknown;
}

/** The bridge's signing key: what `g2p-bridge keys` creates (src/g2p/keys.ts). */
export interface SigningKey {
  /** The bridge's id in kidId (its sender_id on what it sends). */
  senderId: string;
  kid: string;
  algorithm: SignatureAlgorithm;
  privateKey: KeyObject;
}

/** How long a signature the bridge writes is valid, and the clock skew allowed on one it reads. */
export const SIGNATURE_TTL_SECONDS = 600;
export const CLOCK_SKEW_SECONDS = 300;
/** The longest validity window (expires − created) of a signature the bridge accepts, unless configured. */
export const DEFAULT_SIGNATURE_MAX_AGE_SECONDS = 600;

/** {header, message} as sorted-key JSON: what the digest is taken of. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((k) => record[k] !== undefined && typeof record[k] !== 'function')
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/** `BLAKE-512=<base64>` of the canonical {header, message}. */
export function digestOf(body: { header: unknown; message: unknown }): string {
  const text = canonicalJson({ header: body.header, message: body.message });
  return `BLAKE-512=${createHash('blake2b512').update(text).digest('base64')}`;
}

function signingText(created: number, expires: number, digest: string): Buffer {
  return Buffer.from(`(created): ${created}\n(expires): ${expires}\ndigest: ${digest}`);
}

/** node:crypto's digest argument for an algorithm (Ed25519 hashes internally). */
function hashOf(algorithm: SignatureAlgorithm): string | null {
  return algorithm === 'ed25519' ? null : 'sha256';
}

/** Signs {header, message} with the bridge's key; the answer's `signature` field. */
export function signMessage(
  body: { header: unknown; message: unknown },
  key: SigningKey,
  now: Date = new Date(),
): string {
  const created = Math.floor(now.getTime() / 1000);
  const expires = created + SIGNATURE_TTL_SECONDS;
  const digest = digestOf(body);
  const signature = cryptoSign(
    hashOf(key.algorithm),
    signingText(created, expires, digest),
    key.privateKey,
  ).toString('base64');
  return (
    `Signature: namespace="g2p", kidId="${key.senderId}|${key.kid}|${key.algorithm}", ` +
    `algorithm="${key.algorithm}", created="${created}", expires="${expires}", ` +
    `headers="(created) (expires) digest", signature="${signature}"`
  );
}

export interface ParsedSignature {
  senderId: string;
  keyId: string;
  algorithm: SignatureAlgorithm;
  created: number;
  expires: number;
  signature: Buffer;
}

const PARAM = /([A-Za-z]+)\s*=\s*"([^"]*)"/g;

/** The parts of a signature string, or why it cannot be read. */
export function parseSignature(text: string): ParsedSignature | string {
  const params = new Map<string, string>();
  const rest = text.replace(/^\s*Signature:?\s*/i, '');
  for (const m of rest.matchAll(PARAM)) params.set(m[1]!.toLowerCase(), m[2]!);
  const kidId = params.get('kidid') ?? params.get('keyid');
  if (!kidId) return 'the signature has no kidId';
  const parts = kidId.split('|');
  if (parts.length !== 3 || !parts[0] || !parts[1])
    return 'kidId is not {sender_id}|{unique_key_id}|{algorithm}';
  const algorithm = normalAlgorithm(params.get('algorithm') ?? parts[2]!);
  if (!algorithm) return 'the algorithm is neither ed25519 nor rsa-sha256 (RS256)';
  const headers = params.get('headers') ?? '(created) (expires) digest';
  if (headers.trim().split(/\s+/).join(' ') !== '(created) (expires) digest')
    return 'headers must be "(created) (expires) digest"';
  const created = Number(params.get('created'));
  const expires = Number(params.get('expires'));
  if (!Number.isSafeInteger(created) || !Number.isSafeInteger(expires) || expires < created)
    return 'created and expires must be Unix times, expires not before created';
  const sig = params.get('signature');
  if (!sig || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(sig)) return 'the signature value is not base64';
  const signature = Buffer.from(sig.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return { senderId: parts[0], keyId: parts[1], algorithm, created, expires, signature };
}

function normalAlgorithm(name: string): SignatureAlgorithm | null {
  const n = name.trim().toLowerCase();
  if (n === 'ed25519' || n === 'eddsa') return 'ed25519';
  if (n === 'rsa-sha256' || n === 'rs256') return 'rsa-sha256';
  return null;
}

/** Finds a sender's public keys by kid in its JWKS (jose fetches and caches the set). */
export type JwksLookup = (
  url: string,
  kid: string,
  algorithm: SignatureAlgorithm,
) => Promise<KeyObject | null>;

const remoteSets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

export const remoteJwks: JwksLookup = async (url, kid, algorithm) => {
  let set = remoteSets.get(url);
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5000, cooldownDuration: 30000 });
    remoteSets.set(url, set);
  }
  const header: JWSHeaderParameters = { alg: algorithm === 'ed25519' ? 'EdDSA' : 'RS256', kid };
  try {
    const key = await set(header, { payload: '', signature: '' });
    return key instanceof KeyObject ? key : KeyObject.from(key as Parameters<typeof KeyObject.from>[0]);
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY') return null;
    throw error;
  }
};

function refuse(code: SignatureCode, message: string): VerifyResult {
  return { ok: false, errorCode: code, message, httpStatus: 401 };
}

/**
 * Checks the signature of a message from `header.sender_id` against that sender's configured keys.
 * No signature: allowed unless the sender must sign. A signature that is present is always checked, and
 * refused when it does not verify, is out of date, names another sender or a key the bridge does not know.
 */
export async function verifyMessage(
  senders: Senders,
  body: SignedBody,
  options: { now?: Date; jwks?: JwksLookup; maxAgeSeconds?: number } = {},
): Promise<VerifyResult> {
  const senderId = (body.header as { sender_id?: unknown } | null)?.sender_id;
  const sender = typeof senderId === 'string' ? senders.get(senderId) : undefined;
  const text: unknown = body.signature;
  if (text != null && typeof text !== 'string')
    return refuse(SignatureCode.INVALID, 'signature must be a string (the MsgSignature text)');
  if (text == null || text.trim() === '') {
    return sender?.mustSign
      ? refuse(SignatureCode.MISSING, `sender ${JSON.stringify(senderId)} must sign its messages`)
      : { ok: true, signed: false };
  }
  const parsed = parseSignature(text);
  if (typeof parsed === 'string') return refuse(SignatureCode.INVALID, parsed);
  if (parsed.senderId !== senderId)
    return refuse(SignatureCode.INVALID, 'the signature kidId names another sender than header.sender_id');
  const now = Math.floor((options.now ?? new Date()).getTime() / 1000);
  if (parsed.created > now + CLOCK_SKEW_SECONDS || parsed.expires < now - CLOCK_SKEW_SECONDS)
    return refuse(SignatureCode.EXPIRED, 'the signature is not valid at this time (created/expires)');
  // A bounded window: a captured signed message cannot be replayed for longer than the maximum age.
  const maxAge = options.maxAgeSeconds ?? DEFAULT_SIGNATURE_MAX_AGE_SECONDS;
  if (parsed.expires - parsed.created > maxAge)
    return refuse(
      SignatureCode.EXPIRED,
      `the signature is valid for longer than ${maxAge} seconds (expires − created)`,
    );
  if (parsed.created < now - maxAge - CLOCK_SKEW_SECONDS)
    return refuse(SignatureCode.EXPIRED, `the signature was created more than ${maxAge} seconds ago`);
  if (!sender)
    return refuse(SignatureCode.KEY_UNKNOWN, 'the bridge has no keys for this sender (G2P_CONNECT_SENDERS)');
  const keys = await candidateKeys(sender, parsed, options.jwks ?? remoteJwks);
  if (typeof keys === 'string') return refuse(SignatureCode.KEY_UNKNOWN, keys);
  const data = signingText(parsed.created, parsed.expires, digestOf(body));
  for (const key of keys) {
    let good = false;
    try {
      good = cryptoVerify(hashOf(parsed.algorithm), data, key, parsed.signature);
    } catch {
      good = false; // a key of another type, or a malformed signature
    }
    if (good) return { ok: true, signed: true, keyId: parsed.keyId };
  }
  return refuse(SignatureCode.INVALID, 'the signature does not match the message and the sender key');
}

async function candidateKeys(
  sender: SenderConfig,
  parsed: ParsedSignature,
  jwks: JwksLookup,
): Promise<KeyObject[] | string> {
  const fits = (k: SenderKey) => k.algorithm === parsed.algorithm;
  const named = sender.publicKeys.filter((k) => fits(k) && k.kid === parsed.keyId);
  if (named.length) return named.map((k) => k.key);
  if (sender.jwksUrl) {
    let key: KeyObject | null;
    try {
      key = await jwks(sender.jwksUrl, parsed.keyId, parsed.algorithm);
    } catch (error) {
      return `the sender's JWKS could not be read (${(error as Error).message.slice(0, 200)})`;
    }
    if (key) return [key];
  }
  const unnamed = sender.publicKeys.filter((k) => fits(k) && k.kid === null);
  if (unnamed.length) return unnamed.map((k) => k.key);
  return `no ${parsed.algorithm} key ${JSON.stringify(parsed.keyId)} is configured for this sender`;
}
