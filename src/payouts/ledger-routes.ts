// Admin API of the wallet ledger reconciliation (role admin): ask for a day of a provider's ledger on demand
// (the wallet_ledger stage reads and reconciles it as soon as a worker is free), and read the days and the
// errors the ledger found (src/payouts/ledger.ts). Plain REST errors with a code, like the channel routes.
import type { FastifyInstance } from 'fastify';
import { recordAudit } from '../audit/index.js';
import { type AppContext, callerOf } from '../feature/context.js';
import { localDate } from '../g2p/dates.js';
import {
  type LedgerDay,
  LedgerRequestError,
  listLedgerDays,
  listLedgerErrors,
  requestLedgerDays,
} from './ledger.js';

const ROUTE = '/admin/wallet-ledger';
const base = { tags: ['Admin: wallet ledger'], security: [{ bearer: [] }] };
const DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

const daySchema = {
  type: 'object',
  properties: {
    ledger_day_id: { type: 'string' },
    provider_code: { type: 'string' },
    debit_party_account: { type: 'string' },
    ledger_date: { type: 'string' },
    status: { type: 'string' },
    debits: { type: 'integer' },
    confirmed: { type: 'integer' },
    errors: { type: 'integer' },
    reconciled_at: { type: ['string', 'null'] },
    latest_error_code: { type: ['string', 'null'] },
  },
} as const;

const dayOut = (d: LedgerDay) => ({
  ledger_day_id: d.ledgerDayId,
  provider_code: d.providerCode,
  debit_party_account: d.debitPartyAccount,
  ledger_date: d.ledgerDate,
  status: d.status,
  debits: d.debits,
  confirmed: d.confirmed,
  errors: d.errors,
  reconciled_at: d.reconciledAt ? new Date(d.reconciledAt).toISOString() : null,
  latest_error_code: d.latestErrorCode,
});

const filterQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    provider_code: { type: 'string', maxLength: 64 },
    date: { type: 'string', pattern: DATE_PATTERN },
    open: { type: 'boolean' },
    limit: { type: 'integer', minimum: 1, maximum: 5000 },
  },
} as const;

type Filter = { provider_code?: string; date?: string; open?: boolean; limit?: number };

export async function walletLedgerRoutes(app: FastifyInstance, ctx: AppContext): Promise<void> {
  app.post<{ Body: { provider_code: string; date: string; debit_party_account?: string } }>(
    `${ROUTE}/reconcile`,
    {
      config: { roles: ['admin'] },
      schema: {
        ...base,
        summary: "Reads and reconciles one day of a wallet provider's ledger (queued; 202 with the days)",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['provider_code', 'date'],
          properties: {
            provider_code: { type: 'string', maxLength: 64 },
            date: { type: 'string', pattern: DATE_PATTERN },
            debit_party_account: { type: 'string', maxLength: 256 },
          },
        },
        response: { 202: { type: 'object', properties: { days: { type: 'array', items: daySchema } } } },
      },
    },
    async (request, reply) => {
      const b = request.body;
      try {
        const days = await ctx.db.transaction(async (tx) => {
          const made = await requestLedgerDays(tx, {
            providerCode: b.provider_code,
            date: b.date,
            account: b.debit_party_account ?? null,
            timeZone: ctx.config.TIME_ZONE,
            today: localDate(ctx.now(), ctx.config.TIME_ZONE),
          });
          await recordAudit(tx, callerOf(request), {
            action: 'reconcile_wallet_ledger',
            targetIds: made.map((d) => d.ledgerDayId),
            summary: { provider_code: b.provider_code, date: b.date, days: made.length },
          });
          return made;
        });
        return reply.code(202).send({ days: days.map(dayOut) });
      } catch (error) {
        if (!(error instanceof LedgerRequestError)) throw error;
        const status = error.code === 'ledger.date.invalid' ? 400 : 404;
        return reply.code(status).send({ error: error.code, message: error.message, statusCode: status });
      }
    },
  );

  app.get<{ Querystring: Filter }>(
    `${ROUTE}/days`,
    {
      config: { roles: ['admin'] },
      schema: {
        ...base,
        summary: 'Ledger days read and reconciled, newest first',
        querystring: filterQuery,
        response: { 200: { type: 'object', properties: { days: { type: 'array', items: daySchema } } } },
      },
    },
    async (request) => ({
      days: (
        await listLedgerDays(ctx.db, {
          providerCode: request.query.provider_code ?? null,
          date: request.query.date ?? null,
          limit: request.query.limit,
        })
      ).map(dayOut),
    }),
  );

  app.get<{ Querystring: Filter }>(
    `${ROUTE}/errors`,
    {
      config: { roles: ['admin'] },
      schema: {
        ...base,
        summary:
          "What a provider's ledger contradicts: debits we did not ship as such, completions without a debit",
        querystring: filterQuery,
      },
    },
    async (request) => ({
      errors: (
        await listLedgerErrors(ctx.db, {
          providerCode: request.query.provider_code ?? null,
          date: request.query.date ?? null,
          open: request.query.open ?? false,
          limit: request.query.limit,
        })
      ).map((e) => ({
        id: e.id,
        ledger_day_id: e.ledgerDayId,
        ledger_date: e.ledgerDate,
        provider_code: e.providerCode,
        debit_party_account: e.debitPartyAccount,
        kind: e.kind,
        reason: e.reason,
        disbursement_id: e.disbursementId,
        transaction_reference: e.transactionReference,
        amount: e.amount,
        currency: e.currency,
        resolved_at: e.resolvedAt ? new Date(e.resolvedAt).toISOString() : null,
        created_at: new Date(e.createdAt).toISOString(),
      })),
    }),
  );
}
