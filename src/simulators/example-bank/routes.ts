// The example bank's HTTP API: the three bank calls, statement download, and admin endpoints for accounts,
// processing, statements and failure controls. Who may call them is decided where they are mounted
// (src/simulators/access.ts); under the bridge they live under /example-bank.
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import '../../api/auth-hook.js';
import { refuseNulCharacters } from '../../api/server.js';
import type { Db } from '../../db/index.js';
import {
  ACCOUNT_STATUSES,
  deposit,
  listAccounts,
  listBlocks,
  openAccount,
  readAccount,
  setStatementSettings,
} from './accounts.js';
import type { Refusal } from './common.js';
import { FAULT_MODES, FAULT_OPERATIONS, type FaultMode, type FaultOperation, type Faults } from './faults.js';
import { blockFunds, checkFunds, initiatePayment, type WirePayment } from './operations.js';
import {
  contentTypeOf,
  listStatements,
  readStatement,
  STATEMENT_FORMATS,
  type StatementFormat,
} from './statements.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The example bank operation a route serves, for its failure controls. */
    bankOperation?: FaultOperation;
  }
}

export interface RouteDeps {
  db: Db;
  log: Logger;
  faults: Faults;
  now: () => Date;
  processNow(): Promise<unknown>;
  deliverStatementNow(accountNumber?: string): Promise<unknown>;
}

const DECIMAL = '^\\d{1,18}(\\.\\d{1,6})?$';
const text = { type: 'string', minLength: 1, maxLength: 200 } as const;
const optionalText = { type: ['string', 'null'], maxLength: 200 } as const;
const currency = { type: 'string', pattern: '^[A-Z]{3}$' } as const;
const amount = { type: 'string', pattern: DECIMAL } as const;
/** An account's own statement settings; null hands it back to the bank's. */
const statementSettings = {
  statement_format: { type: ['string', 'null'], enum: [...STATEMENT_FORMATS, null] },
  batch_booking: { type: ['boolean', 'null'] },
} as const;

const paymentSchema = {
  type: 'object',
  required: [
    'disbursement_id',
    'remitting_account',
    'remitting_account_currency',
    'payment_amount',
    'funds_blocked_reference_number',
    'beneficiary_id',
    'beneficiary_name',
    'beneficiary_account_type',
    'disbursement_narrative',
    'benefit_program_mnemonic',
    'cycle_code_mnemonic',
  ],
  properties: {
    disbursement_id: text,
    remitting_account: text,
    remitting_account_currency: currency,
    payment_amount: amount,
    funds_blocked_reference_number: text,
    beneficiary_id: text,
    beneficiary_name: { type: 'string', maxLength: 200 },
    beneficiary_account: optionalText,
    beneficiary_account_currency: { type: ['string', 'null'], pattern: '^[A-Z]{3}$' },
    beneficiary_account_type: { type: 'string', enum: ['BANK_ACCOUNT', 'MOBILE_WALLET', 'EMAIL_WALLET'] },
    beneficiary_bank_code: optionalText,
    beneficiary_branch_code: optionalText,
    beneficiary_mobile_wallet_provider: optionalText,
    beneficiary_phone_no: optionalText,
    beneficiary_email: optionalText,
    beneficiary_email_wallet_provider: optionalText,
    disbursement_narrative: { type: 'string', maxLength: 500 },
    benefit_program_mnemonic: { type: 'string', maxLength: 200 },
    cycle_code_mnemonic: { type: 'string', maxLength: 200 },
    payment_date: { type: ['string', 'null'], pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
  },
} as const;

function refusal(reply: FastifyReply, r: Refusal) {
  return reply.code(r.httpStatus).send({
    status: 'FAILURE',
    error_code: r.errorCode,
    message: r.message,
    ...(r.errors ? { errors: r.errors } : {}),
  });
}

export async function registerRoutes(app: FastifyInstance, prefix: string, deps: RouteDeps) {
  const { db, faults } = deps;
  await app.register(
    async (scope) => {
      scope.setErrorHandler((error: FastifyError, request, reply) => {
        const status = error.statusCode ?? 500;
        if (status >= 500) {
          request.log.error({ err: error }, 'example bank: request failed');
          return reply
            .code(500)
            .send({ status: 'FAILURE', error_code: 'BANK_INTERNAL_ERROR', message: 'Internal error' });
        }
        return reply.code(status).send({
          status: 'FAILURE',
          error_code: error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 'REQUEST_TOO_LARGE' : 'INVALID_REQUEST',
          message: error.message,
        });
      });
      scope.setNotFoundHandler((request, reply) =>
        reply
          .code(404)
          .send({ status: 'FAILURE', error_code: 'NOT_FOUND', message: `No route ${request.url}` }),
      );
      refuseNulCharacters(scope);
      scope.addHook('preClose', (done) => {
        faults.wakeAll();
        done();
      });

      // Failure controls: standing latency, then the next queued fault of the route's operation.
      scope.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
        const op = request.routeOptions.config?.bankOperation;
        if (!op) return;
        await faults.sleep(faults.latencyOf(op));
        const fault = faults.take(op);
        if (!fault) return;
        switch (fault.mode) {
          case 'delay':
            await faults.sleep(fault.delayMs);
            return;
          case 'error':
            return reply.code(500).send({
              status: 'FAILURE',
              error_code: 'SIMULATED_FAILURE',
              message: 'Simulated bank failure',
            });
          case 'timeout':
            await faults.sleep(fault.delayMs);
            return reply
              .code(503)
              .send({ status: 'FAILURE', error_code: 'SIMULATED_TIMEOUT', message: 'Simulated slow bank' });
          case 'malformed':
            return reply.code(200).type('application/json').send('{"status": "SUCC');
          case 'error_after_commit':
            (request as FastifyRequest & { loseAnswer?: boolean }).loseAnswer = true;
            return;
        }
      });
      scope.addHook('onSend', async (request, reply, payload) => {
        if (!(request as FastifyRequest & { loseAnswer?: boolean }).loseAnswer) return payload;
        reply.code(500);
        return JSON.stringify({
          status: 'FAILURE',
          error_code: 'SIMULATED_FAILURE',
          message: 'Simulated failure after the work was committed',
        });
      });

      const bankCall = (op: FaultOperation, tags = ['example bank']) => ({
        config: { roles: 'public' as const, bankOperation: op },
        schema: { tags },
      });
      const admin = { config: { roles: 'public' as const }, schema: { tags: ['example bank admin'] } };

      scope.post<{ Body: { account_number: string; currency: string; amount: string } }>(
        '/check_funds',
        {
          ...bankCall('check_funds'),
          schema: {
            tags: ['example bank'],
            body: {
              type: 'object',
              required: ['account_number', 'currency', 'amount'],
              properties: { account_number: text, currency, amount },
            },
          },
        },
        async (request, reply) => {
          const b = request.body;
          const r = await checkFunds(db, b.account_number, b.currency, b.amount);
          return r.ok ? { status: r.status } : refusal(reply, r);
        },
      );

      scope.post<{
        Body: { account_number: string; currency: string; amount: string; idempotency_key: string };
      }>(
        '/block_funds',
        {
          ...bankCall('block_funds'),
          schema: {
            tags: ['example bank'],
            body: {
              type: 'object',
              required: ['account_number', 'currency', 'amount', 'idempotency_key'],
              properties: { account_number: text, currency, amount, idempotency_key: text },
            },
          },
        },
        async (request, reply) => {
          const b = request.body;
          const r = await blockFunds(db, {
            accountNumber: b.account_number,
            currency: b.currency,
            amount: b.amount,
            idempotencyKey: b.idempotency_key,
          });
          return r.ok
            ? { status: 'SUCCESS', block_reference: r.blockReference, duplicate: r.duplicate }
            : refusal(reply, r);
        },
      );

      scope.post<{ Body: { batch_id: string; payments: WirePayment[] } }>(
        '/initiate_payment',
        {
          ...bankCall('initiate_payment'),
          // A batch is one create_disbursements call (up to MAX_DISBURSEMENTS_PER_REQUEST payments), whatever
          // body limit the host server has.
          bodyLimit: 256 * 1024 * 1024,
          schema: {
            tags: ['example bank'],
            body: {
              type: 'object',
              required: ['batch_id', 'payments'],
              properties: { batch_id: text, payments: { type: 'array', minItems: 1, items: paymentSchema } },
            },
          },
        },
        async (request, reply) => {
          const r = await initiatePayment(db, request.body.batch_id, request.body.payments);
          if (!r.ok) return refusal(reply, r);
          request.log.info(
            {
              batchId: r.batchId,
              accepted: r.accepted,
              duplicates: r.duplicates,
              duplicateBatch: r.duplicateBatch,
              refused: r.refused.length,
            },
            'example bank: payment batch acknowledged',
          );
          return {
            status: 'SUCCESS',
            batch_id: r.batchId,
            accepted: r.accepted,
            duplicates: r.duplicates,
            duplicate_batch: r.duplicateBatch,
            refused: r.refused.map((p) => ({ disbursement_id: p.disbursement_id, error_code: p.error_code })),
          };
        },
      );

      scope.get<{ Querystring: { account_number?: string; limit?: string } }>(
        '/statements',
        admin,
        async (request) => {
          const limit = Math.min(Math.max(Number(request.query.limit) || 100, 1), 1000);
          return { statements: await listStatements(db, request.query.account_number, limit) };
        },
      );

      scope.get<{ Params: { statement_id: string } }>(
        '/statements/:statement_id',
        admin,
        async (request, reply) => {
          const id = Number(request.params.statement_id);
          const statement = Number.isSafeInteger(id) ? await readStatement(db, id) : null;
          if (!statement)
            return reply
              .code(404)
              .send({ status: 'FAILURE', error_code: 'STATEMENT_NOT_FOUND', message: 'No such statement' });
          return reply
            .type(`${contentTypeOf(statement.format)}; charset=utf-8`)
            .header('content-disposition', `attachment; filename="${statement.fileName}"`)
            .send(statement.text);
        },
      );

      scope.get('/admin/accounts', admin, async () => ({ accounts: await listAccounts(db) }));

      scope.post<{
        Body: {
          account_number?: string;
          currency: string;
          holder_name?: string;
          status?: (typeof ACCOUNT_STATUSES)[number];
          opening_balance?: string;
          statements_enabled?: boolean;
          statement_format?: StatementFormat | null;
          batch_booking?: boolean | null;
        };
      }>(
        '/admin/accounts',
        {
          ...admin,
          schema: {
            ...admin.schema,
            body: {
              type: 'object',
              required: ['currency'],
              properties: {
                account_number: text,
                currency,
                holder_name: { type: 'string', maxLength: 200 },
                status: { type: 'string', enum: [...ACCOUNT_STATUSES] },
                opening_balance: amount,
                statements_enabled: { type: 'boolean' },
                ...statementSettings,
              },
            },
          },
        },
        async (request, reply) => {
          const b = request.body;
          const r = await openAccount(
            db,
            {
              accountNumber: b.account_number,
              currency: b.currency,
              holderName: b.holder_name,
              status: b.status,
              openingBalance: b.opening_balance,
              statementsEnabled: b.statements_enabled,
              statementFormat: b.statement_format,
              batchBooking: b.batch_booking,
            },
            deps.now(),
          );
          return r.ok ? reply.code(201).send(r.account) : refusal(reply, r);
        },
      );

      scope.get<{ Params: { account_number: string } }>(
        '/admin/accounts/:account_number',
        admin,
        async (request, reply) => {
          const account = await readAccount(db, request.params.account_number);
          if (!account)
            return reply
              .code(404)
              .send({ status: 'FAILURE', error_code: 'ACCOUNT_NOT_FOUND', message: 'No such account' });
          return { ...account, blocks: await listBlocks(db, account.account_number) };
        },
      );

      scope.patch<{
        Params: { account_number: string };
        Body: { statement_format?: StatementFormat | null; batch_booking?: boolean | null };
      }>(
        '/admin/accounts/:account_number',
        {
          ...admin,
          schema: {
            ...admin.schema,
            body: { type: 'object', additionalProperties: false, properties: statementSettings },
          },
        },
        async (request, reply) => {
          const r = await setStatementSettings(db, request.params.account_number, {
            statementFormat: request.body.statement_format,
            batchBooking: request.body.batch_booking,
          });
          return r.ok ? r.account : refusal(reply, r);
        },
      );

      scope.post<{ Params: { account_number: string }; Body: { amount: string } }>(
        '/admin/accounts/:account_number/deposit',
        {
          ...admin,
          schema: {
            ...admin.schema,
            body: { type: 'object', required: ['amount'], properties: { amount } },
          },
        },
        async (request, reply) => {
          const r = await deposit(db, request.params.account_number, request.body.amount, deps.now());
          return r.ok ? r.account : refusal(reply, r);
        },
      );

      scope.get<{ Params: { batch_id: string } }>(
        '/admin/batches/:batch_id',
        admin,
        async (request, reply) => {
          const { rows } = await db.query<{
            batch_id: string;
            status: string;
            payment_count: number;
            duplicate_count: number;
          }>(
            `SELECT batch_id, status, payment_count, duplicate_count FROM example_bank.payment_batch WHERE batch_id = $1`,
            [request.params.batch_id],
          );
          if (!rows[0])
            return reply
              .code(404)
              .send({ status: 'FAILURE', error_code: 'BATCH_NOT_FOUND', message: 'No such batch' });
          const counts = await db.query<{ status: string; n: number }>(
            `SELECT status, count(*)::int AS n FROM example_bank.payment WHERE batch_id = $1 GROUP BY status`,
            [request.params.batch_id],
          );
          return {
            ...rows[0],
            payments_by_status: Object.fromEntries(counts.rows.map((r) => [r.status, r.n])),
          };
        },
      );

      scope.post('/admin/process', admin, async () => deps.processNow());

      scope.post<{ Body: { account_number?: string } | null }>(
        '/admin/statements',
        {
          ...admin,
          schema: {
            ...admin.schema,
            body: { type: ['object', 'null'], properties: { account_number: text } },
          },
        },
        async (request) => deps.deliverStatementNow(request.body?.account_number),
      );

      scope.get('/admin/faults', admin, async () => faults.snapshot());

      scope.post<{
        Body: { operation: FaultOperation; count?: number; mode?: FaultMode; delay_ms?: number };
      }>(
        '/admin/faults',
        {
          ...admin,
          schema: {
            ...admin.schema,
            body: {
              type: 'object',
              required: ['operation'],
              properties: {
                operation: { type: 'string', enum: [...FAULT_OPERATIONS] },
                count: { type: 'integer', minimum: 1, maximum: 1000000 },
                mode: { type: 'string', enum: [...FAULT_MODES] },
                delay_ms: { type: 'integer', minimum: 0, maximum: 3600000 },
              },
            },
          },
        },
        async (request) => {
          const b = request.body;
          faults.failNext(b.operation, b.count ?? 1, b.mode ?? 'error', { delayMs: b.delay_ms });
          return faults.snapshot();
        },
      );

      scope.post<{ Body: { operation: FaultOperation | '*'; delay_ms: number } }>(
        '/admin/latency',
        {
          ...admin,
          schema: {
            ...admin.schema,
            body: {
              type: 'object',
              required: ['operation', 'delay_ms'],
              properties: {
                operation: { type: 'string', enum: [...FAULT_OPERATIONS, '*'] },
                delay_ms: { type: 'integer', minimum: 0, maximum: 3600000 },
              },
            },
          },
        },
        async (request) => {
          faults.setLatency(request.body.operation, request.body.delay_ms);
          return faults.snapshot();
        },
      );

      scope.delete('/admin/faults', admin, async () => {
        faults.clear();
        return faults.snapshot();
      });
    },
    { prefix },
  );
}
