// Admin API of payout channels: a program's wallet channels over HTTP (role admin), the same operations as
// `g2p-bridge program channel add|remove`, so an operator (or the demo against a running bridge) needs no
// shell on the bridge's host. Plain REST errors with a code, like /admin/programs.
import type { FastifyInstance } from 'fastify';
import { recordAudit } from '../audit/index.js';
import { type AppContext, callerOf } from '../feature/context.js';
import { ChannelError, listPayoutChannels, removePayoutChannel, setPayoutChannel } from './channels.js';
import { walletLedgerRoutes } from './ledger-routes.js';

const ROUTE = '/admin/programs/:mnemonic/payout-channels';
const base = { tags: ['Admin: benefit programs'], security: [{ bearer: [] }] };
const params = {
  type: 'object',
  required: ['mnemonic'],
  properties: { mnemonic: { type: 'string', maxLength: 256 }, provider: { type: 'string', maxLength: 64 } },
} as const;
const channelSchema = {
  type: 'object',
  properties: {
    provider_code: { type: 'string' },
    debit_party_account: { type: 'string' },
    currency: { type: 'string' },
  },
} as const;

const out = (c: { providerCode: string; debitPartyAccount: string; currency: string }) => ({
  provider_code: c.providerCode,
  debit_party_account: c.debitPartyAccount,
  currency: c.currency,
});

export async function payoutChannelRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  const refuse = (error: ChannelError) => ({
    status: error.code === 'channel.program.unknown' ? 404 : 400,
    body: {
      error: error.code,
      message: error.message,
      statusCode: error.code === 'channel.program.unknown' ? 404 : 400,
    },
  });

  app.get<{ Params: { mnemonic: string } }>(
    ROUTE,
    {
      config: { roles: ['admin'] },
      schema: {
        ...base,
        summary: "A program's wallet payout channels (the sponsor bank pays everything else)",
        params,
        response: {
          200: { type: 'object', properties: { channels: { type: 'array', items: channelSchema } } },
        },
      },
    },
    async (request) => ({
      channels: (await listPayoutChannels(ctx.db, request.params.mnemonic)).map(out),
    }),
  );

  app.put<{
    Params: { mnemonic: string; provider: string };
    Body: { debit_party_account: string; currency: string };
  }>(
    `${ROUTE}/:provider`,
    {
      config: { roles: ['admin'] },
      schema: {
        ...base,
        summary: "Adds or replaces a program's channel at one wallet provider",
        params,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['debit_party_account', 'currency'],
          properties: {
            debit_party_account: { type: 'string', maxLength: 256 },
            currency: { type: 'string', maxLength: 3 },
          },
        },
        response: { 200: channelSchema },
      },
    },
    async (request, reply) => {
      try {
        // The change and its audit row commit together (src/audit).
        const c = await ctx.db.transaction(async (tx) => {
          const set = await setPayoutChannel(tx, {
            program: request.params.mnemonic,
            providerCode: request.params.provider,
            debitPartyAccount: request.body.debit_party_account,
            currency: request.body.currency,
          });
          await recordAudit(tx, callerOf(request), {
            action: 'set_payout_channel',
            program: set.program,
            targetIds: [set.providerCode],
            summary: { provider_code: set.providerCode, currency: set.currency },
          });
          return set;
        });
        request.log.info({ program: c.program, walletProvider: c.providerCode }, 'payout channel set');
        return out(c);
      } catch (error) {
        if (!(error instanceof ChannelError)) throw error;
        const r = refuse(error);
        return reply.code(r.status).send(r.body);
      }
    },
  );

  app.delete<{ Params: { mnemonic: string; provider: string } }>(
    `${ROUTE}/:provider`,
    {
      config: { roles: ['admin'] },
      schema: { ...base, summary: "Removes a program's wallet channel", params },
    },
    async (request, reply) => {
      const removed = await ctx.db.transaction(async (tx) => {
        const gone = await removePayoutChannel(tx, request.params.mnemonic, request.params.provider);
        if (gone)
          await recordAudit(tx, callerOf(request), {
            action: 'remove_payout_channel',
            program: request.params.mnemonic,
            targetIds: [request.params.provider],
            summary: { provider_code: request.params.provider },
          });
        return gone;
      });
      if (!removed)
        return reply
          .code(404)
          .send({ error: 'channel.unknown', message: 'No such payout channel', statusCode: 404 });
      return reply.code(204).send();
    },
  );

  await walletLedgerRoutes(app, ctx);
}
