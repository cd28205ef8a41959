// The G2P Connect disbursement API 1.0.0 (role pbms): the sync calls answer at once; the async calls answer
// with an Ack and queue the answer as a callback to the sender's configured URL (G2P_CONNECT_SENDERS).
// Calls run once per (sender, message id), as the 1.0.2 API's do; a replay gets the first answer and queues
// nothing.
import type { FastifyReply } from 'fastify';
import type { Queryable } from '../db/index.js';
import type { Feature } from '../feature/context.js';
import { type AppContext, type Caller, callerOf, isForbiddenCode } from '../feature/context.js';
import { checkIncoming, signPayload } from '../g2p/guard.js';
import { answer, idempotent } from '../g2p/idempotency.js';
import {
  type G2pResponse,
  type G2pStatus,
  isDateTime,
  Rejection,
  type RequestHeader,
  rejectResponse,
  successResponse,
} from '../g2p/message.js';
import { type CallbackAction, enqueueCallback } from './callbacks.js';
import {
  disburseRequestSchema,
  HeaderReason,
  headerSchema,
  REQUEST_ACTIONS,
  SearchReason,
  searchRequestSchema,
  txnStatusRequestSchema,
} from './schemas.js';
import { type DisburseRequest, disburse, searchByFa, transactionStatus } from './service.js';

const TAG = 'G2P Connect Disbursement';

interface TxnStatusRequest {
  transaction_id: string;
  txnstatus_request: {
    reference_id: string;
    txn_type: 'disburse' | 'search';
    attribute_type: 'transaction_id' | 'reference_id_list' | 'correlation_id';
    attribute_value: string | string[];
  };
}

interface SearchRequest {
  transaction_id: string;
  search_criteria: {
    reference_id: string;
    request_type: 'disburse';
    attribute_type: 'payer_fa' | 'payee_fa';
    attribute_value: string;
  }[];
}

type Body<M> = { signature?: string | null; header: RequestHeader; message: M };

/** What a call answers: the message of the answer (sync) or of the callback (async). */
type Handler<M> = (tx: Queryable, message: M, caller: Caller) => Promise<unknown>;

export const g2pConnectRoutes: Feature = (app, ctx: AppContext) => {
  const senders = ctx.config.G2P_CONNECT_SENDERS;

  function route<M>(
    path: keyof typeof REQUEST_ACTIONS,
    answerAction: CallbackAction,
    message: object,
    summary: string,
    count: (m: M) => number,
    handle: Handler<M>,
    async: boolean,
  ) {
    app.post(
      path,
      {
        config: { roles: ['pbms'] },
        // Signature (per sender) and encryption, as for the 1.0.2 calls (src/g2p/guard.ts): checked and
        // decrypted before the schema reads the message, so an EncryptedMessage is validated as what it hides.
        preValidation: async (request, reply) => {
          const body = request.body as Body<M> | undefined;
          if (!body || typeof body !== 'object' || !body.header || typeof body.header !== 'object') return;
          const incoming = await checkIncoming(app.g2pSecurity, body);
          if (incoming.ok) body.message = incoming.message as M;
          else
            return send(
              reply,
              incoming.httpStatus,
              rejectResponse(
                body.header,
                answerAction,
                new Rejection(incoming.errorCode, incoming.message),
                ctx.now(),
              ),
            );
        },
        // Every answer, refusals and acks included, is signed with the bridge's key once it has one.
        onSend: async (_request, _reply, payload) => {
          const key = app.g2pSecurity?.keys?.signing;
          return key && typeof payload === 'string' ? signPayload(payload, key) : payload;
        },
        schema: {
          tags: [TAG],
          summary,
          body: {
            type: 'object',
            required: ['header', 'message'],
            properties: {
              signature: { type: ['string', 'null'] },
              header: headerSchema(REQUEST_ACTIONS[path]),
              message,
            },
          },
        },
      },
      async (request, reply) => {
        const body = request.body as Body<M>;
        const { header } = body;
        const caller = callerOf(request, header);
        // (The signature was checked and an encrypted message decrypted in preValidation.)
        const message = body.message;
        if (message === null || typeof message !== 'object')
          return send(
            reply,
            400,
            rejectResponse(
              header,
              answerAction,
              new Rejection('rjct.message.invalid', 'message must be an object'),
              ctx.now(),
            ),
          );
        const problem =
          header.total_count !== count(message)
            ? {
                code: HeaderReason.TOTAL_COUNT_INVALID,
                message: `header.total_count is ${header.total_count}, but the message has ${count(message)}`,
              }
            : !isDateTime(header.message_ts)
              ? { code: HeaderReason.MESSAGE_TS_INVALID, message: 'header.message_ts is not a date-time' }
              : null;
        if (problem)
          return send(
            reply,
            400,
            rejectResponse(header, answerAction, new Rejection(problem.code, problem.message), ctx.now()),
          );

        if (!async) {
          const response = await answer(header, answerAction, ctx.now(), () =>
            idempotent(
              ctx.db,
              header,
              path,
              message,
              async (tx) =>
                successResponse(header, answerAction, await handle(tx, message, caller), ctx.now()),
              caller.subject,
            ),
          );
          return send(reply, isForbiddenCode(response.header.status_reason_code) ? 403 : 200, response);
        }

        // Async: only a sender the operator listed gets callbacks; header.sender_uri is never followed.
        if (!senders?.get(header.sender_id)?.callbackBaseUrl)
          return send(reply, 200, ack('ERR', null, header, ctx.now()));
        const response = await answer(header, answerAction, ctx.now(), () =>
          idempotent(
            ctx.db,
            header,
            path,
            message,
            async (tx) => {
              let status: G2pStatus = 'succ';
              let reason: { code?: string; message?: string } = {};
              let out: unknown;
              await tx.query('SAVEPOINT g2p_connect_call');
              try {
                out = await handle(tx, message, caller);
              } catch (error) {
                if (!(error instanceof Rejection) || isForbiddenCode(error.code)) throw error;
                await tx.query('ROLLBACK TO SAVEPOINT g2p_connect_call');
                status = 'rjct';
                reason = { code: error.code, message: error.message };
                out = error.responseMessage;
              }
              const id = await enqueueCallback(tx, {
                sender: header.sender_id,
                action: answerAction,
                transactionId: (message as { transaction_id?: string }).transaction_id ?? null,
                status,
                reason: {
                  ...reason,
                  total: count(message),
                  completed: status === 'succ' ? count(message) : 0,
                },
                request: header,
                message: out,
                now: ctx.now(),
              });
              return ack('ACK', id, header, ctx.now());
            },
            caller.subject,
          ),
        );
        return send(reply, isForbiddenCode(response.header.status_reason_code) ? 403 : 200, response);
      },
    );
  }

  const disburseCall: Handler<DisburseRequest> = async (tx, message, caller) => {
    const { envelopeId: _e, ...out } = await disburse(tx, ctx, message, caller);
    return out;
  };
  const statusCall: Handler<TxnStatusRequest> = async (tx, message, caller) => {
    const q = message.txnstatus_request;
    if (q.txn_type !== 'disburse' || q.attribute_type === 'correlation_id')
      throw new Rejection(
        SearchReason.TRANSACTION_NOT_FOUND,
        'Only txn_type disburse by transaction_id or reference_id_list',
      );
    const txn = q.attribute_type === 'transaction_id' ? String(q.attribute_value) : message.transaction_id;
    const refs =
      q.attribute_type === 'reference_id_list'
        ? Array.isArray(q.attribute_value)
          ? q.attribute_value
          : [q.attribute_value]
        : null;
    const status = await transactionStatus(tx, ctx, caller, txn, refs);
    if (!status)
      throw new Rejection(SearchReason.TRANSACTION_NOT_FOUND, `No transaction ${txn} of this sender`);
    return {
      transaction_id: message.transaction_id,
      correlation_id: txn,
      txnstatus_response: { txn_type: 'on-disburse', txn_status: status },
    };
  };
  const searchCall: Handler<SearchRequest> = async (tx, message, caller) => {
    const found = await searchByFa(tx, ctx, caller, message.search_criteria);
    const at = ctx.now().toISOString();
    return {
      transaction_id: message.transaction_id,
      disbursements_status: found.flatMap(({ criterion, found: rows }) =>
        rows.length === 0
          ? [
              {
                reference_id: criterion.reference_id,
                timestamp: at,
                status: 'rjct' as const,
                status_reason_code: SearchReason.REFERENCE_NOT_FOUND,
                status_reason_message: `no disbursement with this ${criterion.attribute_type}`,
              },
            ]
          : rows.map((r) => ({
              reference_id: r.status.reference_id,
              timestamp: at,
              status: r.status.status,
              status_reason_message: r.status.status_reason_message,
            })),
      ),
    };
  };

  const disburseCount = (m: DisburseRequest) => m.disbursements.length;
  const one = () => 1;
  const searchCount = (m: SearchRequest) => m.search_criteria.length;
  for (const async of [false, true]) {
    const prefix = async ? '/disburse' : '/disburse/sync';
    route(
      async ? '/disburse' : '/disburse/sync/disburse',
      'on-disburse',
      disburseRequestSchema,
      'Disburse: one envelope of disbursements',
      disburseCount,
      disburseCall,
      async,
    );
    route(
      `${prefix}/txn/status`,
      'on-status',
      txnStatusRequestSchema,
      'Status of a disburse transaction',
      one,
      statusCall,
      async,
    );
    route(
      `${prefix}/search`,
      'on-search',
      searchRequestSchema,
      'Search disbursements by payer or payee FA',
      searchCount,
      searchCall,
      async,
    );
  }
};

export function ack(
  status: 'ACK' | 'ERR',
  correlationId: string | null,
  header: RequestHeader,
  now: Date,
): G2pResponse<unknown> {
  return {
    signature: null,
    header: {
      ...successResponse(header, 'ack', null, now).header,
      status: status === 'ACK' ? 'rcvd' : 'rjct',
    },
    message: {
      ack_status: status,
      timestamp: now.toISOString(),
      correlation_id: correlationId ?? header.message_id,
      ...(status === 'ERR'
        ? {
            error: {
              code: 'err.sender_id.invalid',
              message: `sender ${header.sender_id} has no callback URL configured (G2P_CONNECT_SENDERS)`,
            },
          }
        : {}),
    },
  };
}

/** Sends an answer with `signature` first and null: the onSend hook signs it (signPayload). */
function send(reply: FastifyReply, code: number, response: G2pResponse<unknown>) {
  return reply.code(code).send({ ...response, signature: null });
}
