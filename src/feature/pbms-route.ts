// The shape every PBMS call shares: POST /<action> with a G2P request (role pbms), answered with a G2P
// response, a business Rejection becoming the rjct answer. Calls that change data run once per message id.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Db, Queryable } from '../db/index.js';
import { checkIncoming, signPayload } from '../g2p/guard.js';
import { answer, type CompactAnswer, idempotent } from '../g2p/idempotency.js';
import { RawJson } from '../g2p/json.js';
import {
  type G2pRequest,
  type G2pResponse,
  g2pRequestSchema,
  headerProblem,
  Rejection,
  rejectResponse,
  responseHeaderSchema,
  successResponse,
} from '../g2p/message.js';
import { type Caller, callerOf, isForbiddenCode } from './context.js';

export interface PbmsCall {
  action: string;
  tag: string;
  summary: string;
  description: string;
  /** JSON schema of the request's message. */
  message: object;
  /** JSON schema of the whole answer. */
  response: object;
}

export interface PbmsAnswer<R> {
  message: R;
  counts?: { total?: number; completed?: number };
}

function register<M>(
  app: FastifyInstance,
  call: PbmsCall,
  handle: (
    body: G2pRequest<M>,
    request: FastifyRequest,
    reply: FastifyReply,
  ) => Promise<G2pResponse<unknown> | Buffer>,
) {
  app.post(
    `/${call.action}`,
    {
      config: { roles: ['pbms'] },
      // The sender's signature is checked and an encrypted message decrypted before the schema reads it.
      preValidation: async (request, reply) => {
        const body = request.body as G2pRequest<M> | undefined;
        if (!body || typeof body !== 'object' || !body.header || typeof body.header !== 'object') return;
        const checked = await checkIncoming(app.g2pSecurity, body);
        if (checked.ok) body.message = checked.message as M;
        else {
          const rejection = new Rejection(checked.errorCode, checked.message);
          return (reply as FastifyReply)
            .code(checked.httpStatus)
            .send(rejectResponse(body.header, call.action, rejection, app.clock()));
        }
      },
      // Every answer, refusals included, is signed with the bridge's key once `g2p-bridge keys` made one.
      onSend: async (_request, _reply, payload) => {
        const key = app.g2pSecurity?.keys?.signing;
        if (!key) return payload;
        if (typeof payload === 'string') return signPayload(payload, key);
        return Buffer.isBuffer(payload) ? signPayload(payload.toString('utf8'), key) : payload;
      },
      schema: {
        tags: [call.tag],
        summary: call.summary,
        description: call.description,
        body: g2pRequestSchema(call.message),
        response: { 200: call.response },
      },
    },
    async (request, reply) => {
      const body = request.body as G2pRequest<M>;
      // A header that does not describe its request is refused before anything runs (G2P_LENIENT_HEADER: not).
      // (An encrypted message was decrypted, or refused, in preValidation.)
      const problem = app.g2pInput?.lenientHeader
        ? null
        : headerProblem(body.header, body.message, call.action);
      if (problem) {
        const rejection = new Rejection(problem.code, problem.message);
        return (reply as FastifyReply)
          .code(400)
          .send(rejectResponse(body.header, call.action, rejection, app.clock()));
      }
      return handle(body, request, reply);
    },
  );
}

/** A refusal because of the caller's scope is HTTP 403 (with the same rjct body). */
function scopeStatus(reply: FastifyReply, response: G2pResponse<unknown>) {
  if (response.header.status === 'rjct' && isForbiddenCode(response.header.status_reason_code))
    reply.code(403);
  return response;
}

const HEADER_KEYS = Object.keys(responseHeaderSchema.properties) as (keyof G2pResponse<unknown>['header'])[];

/**
 * An answer whose message is already JSON (RawJson) goes out as bytes: the header written in the order of
 * its schema, as the schema's serializer writes it (a stored header read back from jsonb has its keys in
 * another order), around the message's own bytes. Any other answer is left to the route's serializer.
 */
function sendable(reply: FastifyReply, response: G2pResponse<unknown>): G2pResponse<unknown> | Buffer {
  if (!(response.message instanceof RawJson)) return response;
  const h = response.header;
  const header = HEADER_KEYS.filter((k) => h[k] !== undefined)
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(h[k])}`)
    .join(',');
  reply.type('application/json; charset=utf-8');
  const opening = `{"signature":${JSON.stringify(response.signature ?? null)},"header":{${header}},"message":`;
  return response.message.wrapped(opening, '}');
}

/** A call that only reads: answered from `read`, nothing stored. */
export function pbmsRead<M, R>(
  app: FastifyInstance,
  call: PbmsCall,
  read: (message: M, caller: Caller) => Promise<PbmsAnswer<R>>,
) {
  register<M>(app, call, async ({ header, message }, request, reply) =>
    scopeStatus(
      reply,
      await answer(header, call.action, app.clock(), async () => {
        const out = await read(message, callerOf(request, header));
        return successResponse(header, call.action, out.message, app.clock(), out.counts);
      }),
    ),
  );
}

/**
 * A call that changes data: `apply` runs in one transaction, once per (sender, message id); a replay gets the
 * stored answer. Each call is logged with its outcome and the fields `logged` picks (no beneficiary data).
 */
export function pbmsChange<M, R>(
  app: FastifyInstance,
  db: Db,
  call: PbmsCall,
  apply: (tx: Queryable, message: M, caller: Caller) => Promise<PbmsAnswer<R>>,
  log: { message: string; fields: (message: M, response: G2pResponse<unknown>) => Record<string, unknown> },
  /** Store a compact form of the answer instead of the whole answer (see CompactAnswer). */
  compact?: CompactAnswer<R>,
) {
  register<M>(app, call, async ({ header, message }, request, reply) => {
    const caller = callerOf(request, header);
    const response = await answer(header, call.action, app.clock(), () =>
      idempotent(
        db,
        header,
        call.action,
        message,
        async (tx) => {
          const out = await apply(tx, message, caller);
          return successResponse(header, call.action, out.message, app.clock(), out.counts);
        },
        caller.subject,
        compact,
      ),
    );
    scopeStatus(reply, response);
    request.log.info(
      {
        action: call.action,
        status: response.header.status,
        code: response.header.status_reason_code,
        ...log.fields(message, response),
      },
      log.message,
    );
    return sendable(reply, response);
  });
}
