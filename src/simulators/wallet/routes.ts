// The GSMA Mobile Money API 1.2 face of the simulator (disbursements): /oauth/token, /heartbeat,
// /batchtransactions and its completions and rejections, /requeststates, /responses, account balances and
// transactions, /transactions/{ref}. Every call but /oauth/token needs an API key or an access token; every
// answer carries X-Date; every refusal is a GSMA error object with the status its category calls for.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Db } from '../../db/index.js';
import { findAccount } from './accounts.js';
import type { WalletAuth } from './auth.js';
import {
  acceptBatch,
  accountTransactions,
  type BatchRequest,
  batchBy,
  batchById,
  batchRepresentation,
  decided,
  type Page,
  requestState,
  transactionByReference,
} from './batches.js';
import type { WalletFaults } from './faults.js';
import {
  accountKeyOf,
  type ErrorCategory,
  gsmaError,
  parseAccountPath,
  STATUS_OF,
  UUID_PATTERN,
} from './gsma.js';

const TAGS = ['Wallet-provider simulator (GSMA MMAPI 1.2)'];
const PUBLIC = { roles: 'public' } as const;
/** About 300 bytes a transaction: room for batches of some 200,000. */
const BODY_LIMIT = 64 * 1024 * 1024;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 5000;

export interface GsmaDeps {
  db: Db;
  log: Logger;
  auth: WalletAuth;
  faults: WalletFaults;
  now: () => Date;
  /** A batch was taken: process it soon. */
  kick: () => void;
}

export function sendError(
  reply: FastifyReply,
  category: ErrorCategory,
  code: string,
  description: string,
  status: number = STATUS_OF[category],
) {
  return reply.code(status).send(gsmaError(category, code, description));
}

const REFUSAL: Record<number, [ErrorCategory, string]> = {
  400: ['businessRule', 'genericError'],
  401: ['authorisation', 'clientAuthorisationError'],
  404: ['identification', 'genericError'],
  500: ['internal', 'genericError'],
  503: ['serviceUnavailable', 'genericError'],
};

type PageQuery = { offset?: string; limit?: string; fromDateTime?: string; toDateTime?: string };

/** offset/limit/fromDateTime/toDateTime read as the spec says (limit 50 unless given); an error text if bad. */
function readPage(q: PageQuery): Page | { category: ErrorCategory; code: string; problem: string } {
  const offset = q.offset === undefined ? 0 : Number(q.offset);
  if (!Number.isInteger(offset) || offset < 0 || !/^\d+$/.test(q.offset ?? '0'))
    return { category: 'validation', code: 'invalidOffset', problem: 'offset must be a whole number from 0' };
  const limit = q.limit === undefined ? DEFAULT_LIMIT : Number(q.limit);
  if (!/^\d+$/.test(q.limit ?? '1') || limit < 1 || limit > MAX_LIMIT)
    return { category: 'validation', code: 'formatError', problem: `limit must be from 1 to ${MAX_LIMIT}` };
  const date = (raw: string | undefined, name: string) => {
    if (raw === undefined) return undefined;
    const d = new Date(raw);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(d.getTime()))
      throw new Error(`${name} must be a date-time`);
    return d;
  };
  try {
    return {
      offset,
      limit,
      from: date(q.fromDateTime, 'fromDateTime'),
      to: date(q.toDateTime, 'toDateTime'),
    };
  } catch (error) {
    return { category: 'validation', code: 'formatError', problem: (error as Error).message };
  }
}

const pageQuerySchema = {
  type: 'object',
  properties: {
    offset: { type: 'string' },
    limit: { type: 'string' },
    fromDateTime: { type: 'string' },
    toDateTime: { type: 'string' },
    transactionStatus: { type: 'string', maxLength: 256 },
    transactionType: { type: 'string' },
  },
};

function sendPage(reply: FastifyReply, page: { total: number; items: object[] }) {
  return reply
    .header('x-records-available-count', String(page.total))
    .header('x-records-returned-count', String(page.items.length))
    .send(page.items);
}

export function gsmaRoutes(deps: GsmaDeps) {
  const { db, log, auth, faults, now } = deps;

  return async function routes(app: FastifyInstance) {
    app.addHook('onSend', async (_request, reply) => {
      reply.header('x-date', new Date().toISOString());
    });
    app.addHook('onRequest', async (request, reply) => {
      if (faults.take('downFor'))
        return sendError(
          reply,
          'serviceUnavailable',
          'genericError',
          'The provider is unavailable; try later',
        );
      if (request.routeOptions.url?.endsWith('/oauth/token')) return;
      if (!auth.check(request.headers)) {
        reply.header('www-authenticate', 'Bearer');
        return sendError(
          reply,
          'authorisation',
          'clientAuthorisationError',
          'Send a valid X-API-Key, or an access token from /oauth/token as Authorization: Bearer',
        );
      }
    });
    app.setErrorHandler((error: Error & { statusCode?: number; validation?: unknown }, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status >= 500) {
        request.log.error({ err: error }, 'wallet simulator request failed');
        return sendError(reply, 'internal', 'genericError', 'The wallet-provider simulator failed');
      }
      if (status === 413)
        return sendError(reply, 'validation', 'lengthError', 'The request body is too large', 413);
      const missing = /must have required property/.test(error.message);
      return sendError(
        reply,
        'validation',
        missing ? 'mandatoryValueNotSupplied' : 'formatError',
        error.message,
        status === 415 ? 415 : 400,
      );
    });
    app.setNotFoundHandler((_request, reply) =>
      sendError(reply, 'identification', 'genericError', 'No such resource on this provider'),
    );
    // The client credentials grant comes form-encoded (RFC 6749).
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    app.post<{ Body: Record<string, string> | undefined }>(
      '/oauth/token',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'OAuth 2 client credentials grant (RFC 6749 §4.4)' } },
      async (request, reply) => {
        const body = request.body && typeof request.body === 'object' ? request.body : {};
        let clientId = typeof body.client_id === 'string' ? body.client_id : undefined;
        let secret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
        const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
        if (basic) {
          const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          if (colon > 0) {
            clientId = decodeURIComponent(decoded.slice(0, colon));
            secret = decodeURIComponent(decoded.slice(colon + 1));
          }
        }
        reply.header('cache-control', 'no-store');
        if (body.grant_type !== 'client_credentials')
          return reply.code(400).send({
            error: 'unsupported_grant_type',
            error_description: 'Only grant_type=client_credentials is supported',
          });
        const token = clientId && secret ? auth.issue(clientId, secret) : null;
        if (!token) {
          reply.header('www-authenticate', 'Basic');
          return reply
            .code(401)
            .send({ error: 'invalid_client', error_description: 'Unknown client or wrong secret' });
        }
        return token;
      },
    );

    app.get(
      '/heartbeat',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'API availability' } },
      async () => ({
        serviceStatus: 'available',
      }),
    );

    app.post<{ Body: BatchRequest }>(
      '/batchtransactions',
      {
        config: PUBLIC,
        bodyLimit: BODY_LIMIT,
        schema: {
          tags: TAGS,
          summary: 'Create a transaction batch (asynchronous: 202 with a request state)',
          body: {
            type: 'object',
            required: ['transactions'],
            properties: {
              transactions: { type: 'array', minItems: 1, maxItems: 999999, items: { type: 'object' } },
              batchStatus: { type: 'string', enum: ['created', 'approved', 'completed'] },
              batchTitle: { type: 'string', maxLength: 256 },
              batchdescription: { type: 'string', maxLength: 256 },
              requestDate: { type: 'string' },
            },
          },
        },
      },
      async (request, reply) => {
        const correlationId = header(request, 'x-correlationid');
        if (correlationId !== null && !UUID_PATTERN.test(correlationId))
          return sendError(reply, 'validation', 'formatError', 'X-CorrelationID must be a UUID');
        const callbackUrl = header(request, 'x-callback-url');
        if (callbackUrl !== null && !isHttpUrl(callbackUrl))
          return sendError(reply, 'validation', 'formatError', 'X-Callback-URL must be an http or https URL');
        if (faults.take('refuseBatches')) {
          const status = faults.refuseStatus;
          const [category, code] = REFUSAL[status]!;
          log.info({ status }, 'wallet simulator: batch refused on purpose');
          return sendError(reply, category, code, 'The provider refused this batch (simulated)', status);
        }
        const intake = await acceptBatch(
          db,
          request.body,
          { correlationId: correlationId?.toLowerCase() ?? null, callbackUrl },
          now(),
        );
        if (!intake.ok)
          return sendError(
            reply,
            'businessRule',
            'duplicateRequest',
            'This X-CorrelationID was used for a request with other transactions',
          );
        if (!intake.replayed) {
          log.info(
            { batchId: intake.batch.batch_id, transactions: intake.batch.transaction_count },
            'wallet simulator: batch taken',
          );
          deps.kick();
        }
        if (faults.take('loseAnswers')) {
          log.info({ batchId: intake.batch.batch_id }, 'wallet simulator: answer lost on purpose');
          return sendError(
            reply,
            'internal',
            'genericError',
            'The answer was lost (simulated); the batch was taken',
          );
        }
        return reply.code(202).send(requestState(intake.batch));
      },
    );

    app.get<{ Params: { batchId: string } }>(
      '/batchtransactions/:batchId',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'View a transaction batch' } },
      async (request, reply) => {
        const batch = await batchById(db, request.params.batchId);
        if (!batch) return sendError(reply, 'identification', 'genericError', 'No such batch');
        return batchRepresentation(batch);
      },
    );

    for (const [path, status] of [
      ['completions', 'completed'],
      ['rejections', 'rejected'],
    ] as const) {
      app.get<{ Params: { batchId: string }; Querystring: PageQuery }>(
        `/batchtransactions/:batchId/${path}`,
        {
          config: PUBLIC,
          schema: {
            tags: TAGS,
            summary: `View batch ${path} (offset/limit paging)`,
            querystring: pageQuerySchema,
          },
        },
        async (request, reply) => {
          const page = readPage(request.query);
          if ('problem' in page) return sendError(reply, page.category, page.code, page.problem);
          if (!(await batchById(db, request.params.batchId)))
            return sendError(reply, 'identification', 'genericError', 'No such batch');
          return sendPage(reply, await decided(db, request.params.batchId, status, page));
        },
      );
    }

    app.get<{ Params: { serverCorrelationId: string } }>(
      '/requeststates/:serverCorrelationId',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'View a request state' } },
      async (request, reply) => {
        const id = request.params.serverCorrelationId;
        if (!UUID_PATTERN.test(id))
          return sendError(reply, 'validation', 'formatError', 'serverCorrelationId must be a UUID');
        const batch = await batchBy(db, 'server_correlation_id', id);
        if (!batch) return sendError(reply, 'identification', 'genericError', 'No such request');
        return requestState(batch);
      },
    );

    app.get<{ Params: { clientCorrelationId: string } }>(
      '/responses/:clientCorrelationId',
      {
        config: PUBLIC,
        schema: { tags: TAGS, summary: 'Find the resource a request created (by X-CorrelationID)' },
      },
      async (request, reply) => {
        const id = request.params.clientCorrelationId;
        if (!UUID_PATTERN.test(id))
          return sendError(reply, 'validation', 'formatError', 'clientCorrelationId must be a UUID');
        const batch = await batchBy(db, 'client_correlation_id', id);
        if (!batch)
          return sendError(reply, 'identification', 'genericError', 'No request with this correlation id');
        return { link: `/batchtransactions/${batch.batch_id}` };
      },
    );

    app.get<{ Params: { transactionReference: string } }>(
      '/transactions/:transactionReference',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'View a posted transaction' } },
      async (request, reply) => {
        const found = await transactionByReference(db, request.params.transactionReference);
        if (!found) return sendError(reply, 'identification', 'genericError', 'No such transaction');
        return found;
      },
    );

    /** The account a path names: `{accountId}` (key@value[$...]) or `{identifierType}/{identifier}`. */
    async function accountOf(reply: FastifyReply, key: string, value: string | null) {
      const target = value === null ? parseAccountPath(key) : accountKeyOf([{ key, value }]);
      if (typeof target === 'string') {
        await sendError(reply, 'validation', 'formatError', `account identifier: ${target}`);
        return null;
      }
      const account = target ? await findAccount(db, target.key, target.value) : null;
      if (!account) {
        await sendError(reply, 'identification', 'identifierError', 'No account with this identifier');
        return null;
      }
      return account;
    }

    const balance = async (reply: FastifyReply, key: string, value: string | null) => {
      const account = await accountOf(reply, key, value);
      if (!account) return reply;
      return {
        accountStatus: account.state === 'active' ? 'available' : 'unavailable',
        currentBalance: account.balance,
        availableBalance: account.balance,
        reservedBalance: '0',
        unclearedBalance: '0',
        currency: account.currency,
      };
    };
    const transactions = async (
      reply: FastifyReply,
      key: string,
      value: string | null,
      query: PageQuery & { transactionStatus?: string; transactionType?: string },
    ) => {
      const page = readPage(query);
      if ('problem' in page) return sendError(reply, page.category, page.code, page.problem);
      const account = await accountOf(reply, key, value);
      if (!account) return reply;
      return sendPage(
        reply,
        await accountTransactions(db, account.accountId, {
          ...page,
          status: query.transactionStatus,
          type: query.transactionType,
        }),
      );
    };

    app.get<{ Params: { accountId: string } }>(
      '/accounts/:accountId/balance',
      {
        config: PUBLIC,
        schema: { tags: TAGS, summary: 'Account balance (accountId: key@value, e.g. accountid@ORG-1)' },
      },
      async (request, reply) => balance(reply, request.params.accountId, null),
    );
    app.get<{ Params: { identifierType: string; identifier: string } }>(
      '/accounts/:identifierType/:identifier/balance',
      {
        config: PUBLIC,
        schema: { tags: TAGS, summary: 'Account balance (e.g. /accounts/msisdn/+254700000001)' },
      },
      async (request, reply) => balance(reply, request.params.identifierType, request.params.identifier),
    );
    app.get<{ Params: { accountId: string }; Querystring: PageQuery }>(
      '/accounts/:accountId/transactions',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary: "An account's posted transactions (paged)",
          querystring: pageQuerySchema,
        },
      },
      async (request, reply) => transactions(reply, request.params.accountId, null, request.query),
    );
    app.get<{ Params: { identifierType: string; identifier: string }; Querystring: PageQuery }>(
      '/accounts/:identifierType/:identifier/transactions',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary: "An account's posted transactions (paged)",
          querystring: pageQuerySchema,
        },
      },
      async (request, reply) =>
        transactions(reply, request.params.identifierType, request.params.identifier, request.query),
    );
  };
}

function header(request: FastifyRequest, name: string): string | null {
  const v = request.headers[name];
  return typeof v === 'string' && v !== '' ? v : null;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && text.length <= 2048;
  } catch {
    return false;
  }
}
