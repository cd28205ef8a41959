// Wallet providers' callbacks (GSMA: a PUT to the X-Callback-URL we gave with the batch). The URL carries a
// per-provider secret, an HMAC of the provider code under a key the bridge generates once and keeps in
// bridge_setting, so an outsider cannot guess it and one provider cannot speak for another; it is compared in
// constant time. A callback never changes an outcome by itself: it only makes the batch's next poll due now,
// and the wallet-outcomes stage reads (and verifies) what the provider holds. So a duplicate changes nothing,
// and a callback for a batch we did not send is answered 404 with a code, nothing touched.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { Queryable } from '../db/index.js';
import type { AppContext } from '../feature/context.js';

const SETTING = 'wallet_callback_secret';
export const WALLET_CALLBACK_PREFIX = '/wallet-callbacks';

/** The bridge's callback key: generated on first use, the same for every process afterwards. */
export async function walletCallbackKey(db: Queryable): Promise<string> {
  await db.query('INSERT INTO bridge_setting (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
    SETTING,
    randomBytes(32).toString('hex'),
  ]);
  const { rows } = await db.query<{ value: string }>('SELECT value FROM bridge_setting WHERE name = $1', [
    SETTING,
  ]);
  return rows[0]!.value;
}

/** The secret path segment of one provider's callback URL. */
export function callbackToken(key: string, providerCode: string): string {
  return createHmac('sha256', key)
    .update(`wallet-callback:${providerCode.toUpperCase()}`)
    .digest('base64url');
}

export function walletCallbackUrl(baseUrl: string, providerCode: string, key: string): string {
  return `${baseUrl.replace(/\/+$/, '')}${WALLET_CALLBACK_PREFIX}/${encodeURIComponent(providerCode)}/${callbackToken(key, providerCode)}`;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  // Lengths differ: still spend a comparison, then refuse.
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** The route group: PUT /wallet-callbacks/:provider/:secret. */
export async function walletCallbackRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  let key: string | null = null;
  app.put<{ Params: { provider: string; secret: string } }>(
    `${WALLET_CALLBACK_PREFIX}/:provider/:secret`,
    {
      config: { roles: 'public' },
      schema: {
        tags: ['wallet providers'],
        summary: 'A wallet provider reports that a batch we sent has moved (GSMA callback)',
        params: {
          type: 'object',
          properties: {
            provider: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$' },
            secret: { type: 'string', maxLength: 128 },
          },
          required: ['provider', 'secret'],
        },
      },
    },
    async (request, reply) => {
      const { provider, secret } = request.params;
      key ??= await walletCallbackKey(ctx.db);
      if (!sameSecret(secret, callbackToken(key, provider)))
        return reply.code(401).send({
          error: 'wallet.callback.unauthorized',
          message: 'Unknown callback address',
          statusCode: 401,
        });
      const header = request.headers['x-correlationid'];
      const correlationId = typeof header === 'string' && UUID.test(header) ? header.toLowerCase() : null;
      const body = (request.body ?? {}) as Record<string, unknown>;
      const batchId = typeof body.batchId === 'string' ? body.batchId.slice(0, 256) : null;
      const serverId =
        typeof body.serverCorrelationId === 'string' ? body.serverCorrelationId.slice(0, 256) : null;
      // Made due only while it waits for a later poll: a duplicate (or a callback for a finished batch)
      // updates nothing.
      const { rows } = await ctx.db.query<{ id: string; touched: boolean }>(
        `WITH target AS (
           SELECT wallet_batch_id FROM wallet_batch
            WHERE upper(provider_code) = upper($1)
              AND (wallet_batch_id::text = $2 OR provider_batch_id = $3 OR server_correlation_id = $4)
            LIMIT 1),
         touched AS (
           UPDATE wallet_batch w SET next_attempt_at = now(), last_callback_at = now()
             FROM target t
            WHERE w.wallet_batch_id = t.wallet_batch_id AND w.outcome_status = 'PENDING'
              AND w.next_attempt_at > now()
           RETURNING w.wallet_batch_id)
         SELECT t.wallet_batch_id::text AS id, EXISTS (SELECT 1 FROM touched) AS touched FROM target t`,
        [provider, correlationId, batchId, serverId],
      );
      if (!rows[0])
        return reply.code(404).send({
          error: 'wallet.batch.unknown',
          message: 'No batch sent to this provider has that correlation id or batch id',
          statusCode: 404,
        });
      request.log.info(
        { walletProvider: provider, walletBatch: rows[0].id, due: rows[0].touched },
        'wallet callback',
      );
      return reply.code(204).send();
    },
  );
}
