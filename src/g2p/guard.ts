// What a G2P message must pass before its route reads it, and what the bridge adds to its answer: the sender's
// signature checked (src/g2p/signing.ts), an encrypted message decrypted (src/g2p/encryption.ts), and the
// answer signed with the bridge's key. Used by the PBMS routes (src/feature/pbms-route.ts) and the G2P Connect ones.
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config/index.js';
import { NO_SENDERS, type Senders } from '../config/senders.js';
import type { Db } from '../db/index.js';
import { decryptMessage } from './encryption.js';
import { type BridgeKeys, loadBridgeKeys, publicJwks } from './keys.js';
import { type JwksLookup, type SigningKey, signMessage, verifyMessage } from './signing.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The senders' keys and the bridge's own (absent when the security feature is not registered). */
    g2pSecurity?: G2pSecurity;
  }
}

export interface G2pSecurity {
  senders: Senders;
  /** null until `g2p-bridge keys` has created them: answers go unsigned, encrypted messages are refused. */
  keys: BridgeKeys | null;
  /** How a sender's JWKS URL is read (tests may substitute one). */
  jwks?: JwksLookup;
  now?: () => Date;
  /** G2P_SIGNATURE_MAX_AGE_SECONDS: the longest validity window of a sender's signature. */
  maxAgeSeconds?: number;
}

export type IncomingResult =
  | { ok: true; signed: boolean; message: unknown }
  | { ok: false; errorCode: string; message: string; httpStatus: 400 | 401 };

/**
 * Checks a G2P request as received: its signature (over the message as sent, encrypted or not), then, when
 * `header.is_msg_encrypted` is true, decrypts its message. Never reads an encrypted message as plain text.
 */
export async function checkIncoming(
  security: G2pSecurity | undefined,
  body: { signature?: string | null; header: { is_msg_encrypted?: boolean | null }; message: unknown },
): Promise<IncomingResult> {
  const verified = await verifyMessage(security?.senders ?? NO_SENDERS, body, {
    now: security?.now?.(),
    jwks: security?.jwks,
    maxAgeSeconds: security?.maxAgeSeconds,
  });
  if (!verified.ok) return verified;
  if (body.header.is_msg_encrypted !== true)
    return { ok: true, signed: verified.signed, message: body.message };
  const decrypted = await decryptMessage(body.message, security?.keys?.decryption ?? null);
  if (!decrypted.ok) return decrypted;
  return { ok: true, signed: verified.signed, message: decrypted.message };
}

const UNSIGNED = '{"signature":null,';

/**
 * The serialized answer `payload` with the bridge's signature over its {header, message}; unchanged when it is
 * not a G2P answer. The signature covers the parsed JSON, so rewriting the text does not change what is signed.
 */
export function signPayload(payload: string, key: SigningKey, now?: Date): string {
  let body: { header?: unknown; message?: unknown };
  try {
    body = JSON.parse(payload);
  } catch {
    return payload;
  }
  if (!body || typeof body !== 'object' || !body.header || typeof body.header !== 'object') return payload;
  const signature = signMessage({ header: body.header, message: body.message ?? null }, key, now);
  if (payload.startsWith(UNSIGNED))
    return `{"signature":${JSON.stringify(signature)},${payload.slice(UNSIGNED.length)}`;
  return JSON.stringify({ ...body, signature });
}

/**
 * The feature: loads the bridge's keys (created by `g2p-bridge keys`; read once at start), records the senders,
 * and publishes the public keys at GET /.well-known/jwks.json for senders to verify and encrypt with.
 */
export async function g2pSecurityRoutes(
  app: FastifyInstance,
  ctx: { config: Config; db: Db },
): Promise<void> {
  const keys = await loadBridgeKeys(ctx.config, ctx.db);
  const security: G2pSecurity = {
    senders: ctx.config.G2P_CONNECT_SENDERS ?? NO_SENDERS,
    keys,
    maxAgeSeconds: ctx.config.G2P_SIGNATURE_MAX_AGE_SECONDS,
  };
  if (!app.hasDecorator('g2pSecurity')) app.decorate('g2pSecurity', security);
  app.get(
    '/.well-known/jwks.json',
    {
      config: { roles: 'public' },
      schema: {
        tags: ['security'],
        summary: "The bridge's public keys (signing and encryption) as a JSON Web Key Set",
      },
    },
    async (_request, reply) => {
      const current = app.g2pSecurity?.keys;
      if (!current)
        return reply.code(404).send({
          error: 'keys_not_created',
          message: 'The bridge has no keys yet: run `g2p-bridge keys` and restart',
          statusCode: 404,
        });
      reply.header('cache-control', 'public, max-age=300');
      return publicJwks(current);
    },
  );
}
