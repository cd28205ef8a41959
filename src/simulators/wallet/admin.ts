// The simulator's admin face (JSON, not GSMA): open and list wallets, suspend or reactivate one, open and
// fund disbursement accounts, read balances, arm failures, and run processing or callback delivery now.
// Who may call it is decided where it is mounted (../access.ts).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Db } from '../../db/index.js';
import {
  type AdminRefusal,
  findAccount,
  fund,
  listAccounts,
  openDisbursementAccount,
  openWallets,
  setWalletState,
  WALLET_STATES,
  type WalletInput,
  type WalletState,
} from './accounts.js';
import { listCallbacks } from './callbacks.js';
import { REFUSAL_STATUSES, type RefusalStatus, type WalletFaults } from './faults.js';

const TAGS = ['Wallet-provider simulator (admin)'];
const PUBLIC = { roles: 'public' } as const;

export interface AdminDeps {
  db: Db;
  faults: WalletFaults;
  now: () => Date;
  processNow: () => Promise<unknown>;
  deliverCallbacksNow: () => Promise<unknown>;
}

const fail = (reply: FastifyReply, r: AdminRefusal) =>
  reply.code(r.status).send({ error: r.code, message: r.message });

const walletSchema = {
  type: 'object',
  required: ['msisdn', 'currency'],
  additionalProperties: false,
  properties: {
    msisdn: { type: 'string' },
    name: { type: ['string', 'null'], maxLength: 200 },
    currency: { type: 'string' },
    state: { type: 'string', enum: WALLET_STATES },
  },
};

export function adminRoutes(deps: AdminDeps) {
  const { db, faults, now } = deps;
  return async function routes(app: FastifyInstance) {
    app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
      const status = error.statusCode ?? 500;
      if (status >= 500) {
        request.log.error({ err: error }, 'wallet simulator admin call failed');
        return reply.code(500).send({ error: 'INTERNAL_ERROR', message: 'The wallet simulator failed' });
      }
      return reply.code(status).send({ error: 'INVALID_REQUEST', message: error.message });
    });

    app.post<{ Body: WalletInput | { wallets: WalletInput[] } }>(
      '/wallets',
      {
        config: PUBLIC,
        bodyLimit: 64 * 1024 * 1024,
        schema: {
          tags: TAGS,
          summary:
            'Open wallets: one ({msisdn, currency, name?, state?}) or many ({wallets: [...]}); existing msisdns are left alone',
          // One object or a list; no oneOf: Ajv's removeAdditional would strip fields while trying branches.
          body: {
            type: 'object',
            properties: {
              ...walletSchema.properties,
              wallets: { type: 'array', maxItems: 200000, items: walletSchema },
            },
          },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const wallets =
          'wallets' in body && Array.isArray(body.wallets) ? body.wallets : [body as WalletInput];
        const result = await openWallets(db, wallets);
        if (!result.ok) return fail(reply, result);
        return reply.code(201).send({ opened: result.opened, existing: result.existing });
      },
    );

    app.get<{ Querystring: { state?: WalletState; offset?: number; limit?: number } }>(
      '/wallets',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary: 'List wallets by account id (offset/limit paging)',
          querystring: {
            type: 'object',
            properties: {
              state: { type: 'string', enum: WALLET_STATES },
              offset: { type: 'integer', minimum: 0 },
              limit: { type: 'integer', minimum: 1, maximum: 1000 },
            },
          },
        },
      },
      async (request) => {
        const { accounts, total } = await listAccounts(db, { kind: 'wallet', ...request.query });
        return { total, wallets: accounts };
      },
    );

    app.get<{ Params: { msisdn: string } }>(
      '/wallets/:msisdn',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'One wallet and its balance' } },
      async (request, reply) => {
        const wallet = await findAccount(db, 'msisdn', request.params.msisdn);
        if (!wallet)
          return reply.code(404).send({ error: 'WALLET_NOT_FOUND', message: 'No wallet with this msisdn' });
        return wallet;
      },
    );

    app.put<{ Params: { msisdn: string }; Body: { state: WalletState } }>(
      '/wallets/:msisdn/state',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary: "Set a wallet's state (active or suspended)",
          body: {
            type: 'object',
            required: ['state'],
            additionalProperties: false,
            properties: { state: { type: 'string', enum: WALLET_STATES } },
          },
        },
      },
      async (request, reply) => {
        const result = await setWalletState(db, request.params.msisdn, request.body.state);
        return result.ok ? result.account : fail(reply, result);
      },
    );

    app.post<{ Body: { accountId: string; currency: string; name?: string; openingBalance?: string } }>(
      '/accounts',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary: 'Open a disbursement account (the debit party of batches)',
          body: {
            type: 'object',
            required: ['accountId', 'currency'],
            additionalProperties: false,
            properties: {
              accountId: { type: 'string' },
              currency: { type: 'string' },
              name: { type: 'string', maxLength: 200 },
              openingBalance: { type: 'string' },
            },
          },
        },
      },
      async (request, reply) => {
        const result = await openDisbursementAccount(db, request.body, now());
        return result.ok ? reply.code(201).send(result.account) : fail(reply, result);
      },
    );

    app.get(
      '/accounts',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'Disbursement accounts and balances' } },
      async () => {
        const { accounts, total } = await listAccounts(db, { kind: 'disbursement', limit: 1000 });
        return { total, accounts };
      },
    );

    app.get<{ Params: { accountId: string } }>(
      '/accounts/:accountId',
      {
        config: PUBLIC,
        schema: { tags: TAGS, summary: 'One account (disbursement account or wallet) by account id' },
      },
      async (request, reply) => {
        const account = await findAccount(db, 'accountid', request.params.accountId);
        if (!account) return reply.code(404).send({ error: 'ACCOUNT_NOT_FOUND', message: 'No such account' });
        return account;
      },
    );

    app.post<{ Params: { accountId: string }; Body: { amount: string } }>(
      '/accounts/:accountId/fund',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary: 'Fund a disbursement account (a deposit, listed in its transactions)',
          body: {
            type: 'object',
            required: ['amount'],
            additionalProperties: false,
            properties: { amount: { type: 'string' } },
          },
        },
      },
      async (request, reply) => {
        const result = await fund(db, request.params.accountId, request.body.amount, now());
        return result.ok ? result : fail(reply, result);
      },
    );

    app.post(
      '/process',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'Process every pending batch now' } },
      async () => deps.processNow(),
    );

    app.post(
      '/callbacks/deliver',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'Send every callback that is due now' } },
      async () => deps.deliverCallbacksNow(),
    );

    app.get<{ Querystring: { batchId?: string } }>(
      '/callbacks',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'Callbacks and their delivery state' } },
      async (request) => ({ callbacks: await listCallbacks(db, request.query.batchId) }),
    );

    app.get('/faults', { config: PUBLIC, schema: { tags: TAGS, summary: 'Armed failures' } }, async () =>
      faults.state(),
    );

    app.post<{
      Body: {
        downFor?: number;
        refuseBatches?: number;
        refuseStatus?: RefusalStatus;
        loseAnswers?: number;
        loseCallbacks?: number;
        duplicateCallbacks?: number;
        callbackDelayMs?: number;
      };
    }>(
      '/faults',
      {
        config: PUBLIC,
        schema: {
          tags: TAGS,
          summary:
            'Arm failures: downFor (503 for N calls), refuseBatches (+refuseStatus), loseAnswers, loseCallbacks, duplicateCallbacks, callbackDelayMs',
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              downFor: { type: 'integer', minimum: 0 },
              refuseBatches: { type: 'integer', minimum: 0 },
              refuseStatus: { type: 'integer', enum: [...REFUSAL_STATUSES] },
              loseAnswers: { type: 'integer', minimum: 0 },
              loseCallbacks: { type: 'integer', minimum: 0 },
              duplicateCallbacks: { type: 'integer', minimum: 0 },
              callbackDelayMs: { type: 'integer', minimum: 0, maximum: 3600000 },
            },
          },
        },
      },
      async (request) => {
        const b = request.body ?? {};
        if (b.downFor !== undefined) faults.down(b.downFor);
        if (b.refuseBatches !== undefined) faults.refuseBatches(b.refuseBatches, b.refuseStatus ?? 503);
        if (b.loseAnswers !== undefined) faults.loseAnswers(b.loseAnswers);
        if (b.loseCallbacks !== undefined) faults.loseCallbacks(b.loseCallbacks);
        if (b.duplicateCallbacks !== undefined) faults.duplicateCallbacks(b.duplicateCallbacks);
        if (b.callbackDelayMs !== undefined) faults.callbackDelay(b.callbackDelayMs);
        return faults.state();
      },
    );

    app.delete(
      '/faults',
      { config: PUBLIC, schema: { tags: TAGS, summary: 'Disarm every failure' } },
      async () => {
        faults.reset();
        return faults.state();
      },
    );
  };
}
