// The return-reason table (statement_return_reason): what a camt return's ISO reason code (RtrInf/Rsn/Cd,
// AC04 ...) means as the bridge's reversal reason (ACCOUNT_CLOSED ...). Operators list, set and delete rows
// with the admin API below (/admin/return_reasons, role admin) or `g2p-bridge return-reason`; each change is
// audited in its own transaction. The statement stage reads the table once per statement; a code without a
// row passes through as it is.
import type { FastifyError } from 'fastify';
import { type Actor, recordAudit } from '../audit/index.js';
import type { Db, Queryable } from '../db/index.js';
import type { Feature } from '../feature/context.js';
import { type AppContext, callerOf } from '../feature/context.js';

export interface ReturnReason {
  return_code: string;
  reversal_reason: string;
  description: string | null;
  updated_by: string | null;
  updated_at: string;
}

export const RETURN_CODE_PATTERN = '^[A-Za-z0-9]{1,35}$';
export const REVERSAL_REASON_PATTERN = '^[A-Za-z0-9_.:/-]{1,100}$';

export class ReturnReasonError extends Error {
  constructor(
    readonly code: 'INVALID_RETURN_REASON' | 'RETURN_REASON_NOT_FOUND',
    readonly statusCode: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

const COLUMNS = `return_code, reversal_reason, description, updated_by, updated_at::text AS updated_at`;

export async function listReturnReasons(db: Queryable): Promise<ReturnReason[]> {
  const { rows } = await db.query<ReturnReason>(
    `SELECT ${COLUMNS} FROM statement_return_reason ORDER BY return_code`,
  );
  return rows;
}

/** Sets (adds or replaces) the mapping of one code; codes are kept upper case, as the ISO lists write them. */
export async function setReturnReason(
  db: Db,
  code: string,
  input: { reversal_reason: string; description?: string | null },
  actor: Actor,
): Promise<ReturnReason> {
  const returnCode = code.trim().toUpperCase();
  if (!new RegExp(RETURN_CODE_PATTERN).test(returnCode))
    throw new ReturnReasonError('INVALID_RETURN_REASON', 400, 'A return code is 1 to 35 letters and digits');
  if (!new RegExp(REVERSAL_REASON_PATTERN).test(input.reversal_reason))
    throw new ReturnReasonError(
      'INVALID_RETURN_REASON',
      400,
      'A reversal reason is 1 to 100 letters, digits and _ . : / -',
    );
  if (input.description && input.description.length > 200)
    throw new ReturnReasonError('INVALID_RETURN_REASON', 400, 'A description is at most 200 characters');
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<ReturnReason>(
      `INSERT INTO statement_return_reason (return_code, reversal_reason, description, updated_by)
       VALUES ($1, $2, $3, $4)
       ON CONFLICT (return_code) DO UPDATE
         SET reversal_reason = EXCLUDED.reversal_reason, description = EXCLUDED.description,
             updated_by = EXCLUDED.updated_by, updated_at = now()
       RETURNING ${COLUMNS}`,
      [returnCode, input.reversal_reason, input.description ?? null, actor.subject],
    );
    await recordAudit(tx, actor, {
      action: 'set_return_reason',
      targetIds: [returnCode],
      summary: { return_code: returnCode, reversal_reason: input.reversal_reason },
    });
    return rows[0]!;
  });
}

export async function deleteReturnReason(db: Db, code: string, actor: Actor): Promise<void> {
  const returnCode = code.trim().toUpperCase();
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<{ reversal_reason: string }>(
      'DELETE FROM statement_return_reason WHERE return_code = $1 RETURNING reversal_reason',
      [returnCode],
    );
    if (rows.length === 0)
      throw new ReturnReasonError('RETURN_REASON_NOT_FOUND', 404, `No mapping for return code ${returnCode}`);
    await recordAudit(tx, actor, {
      action: 'delete_return_reason',
      targetIds: [returnCode],
      summary: { return_code: returnCode, reversal_reason: rows[0]!.reversal_reason },
    });
  });
}

const reasonSchema = {
  type: 'object',
  properties: {
    return_code: { type: 'string' },
    reversal_reason: { type: 'string' },
    description: { type: ['string', 'null'] },
    updated_by: { type: ['string', 'null'] },
    updated_at: { type: 'string' },
  },
} as const;
const errorSchema = {
  type: 'object',
  properties: { error: { type: 'string' }, message: { type: 'string' }, statusCode: { type: 'integer' } },
} as const;
const params = {
  type: 'object',
  required: ['code'],
  properties: { code: { type: 'string', pattern: RETURN_CODE_PATTERN } },
} as const;

/** Admin API: GET /admin/return_reasons, PUT and DELETE /admin/return_reasons/:code (role admin). */
export const returnReasonRoutes: Feature = async (app, ctx: AppContext) => {
  await app.register(async (admin) => {
    admin.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof ReturnReasonError)
        return reply
          .code(error.statusCode)
          .send({ error: error.code, message: error.message, statusCode: error.statusCode });
      const status = error.statusCode ?? 500;
      if (status >= 500) {
        request.log.error({ err: error }, 'return reason request failed');
        return reply.code(500).send({
          error: 'INTERNAL_ERROR',
          message: 'The bridge could not process this request',
          statusCode: 500,
        });
      }
      return reply
        .code(status)
        .send({ error: 'INVALID_REQUEST', message: error.message, statusCode: status });
    });
    const base = { tags: ['Admin: return reasons'], security: [{ bearer: [] }] };
    admin.get(
      '/admin/return_reasons',
      {
        config: { roles: ['admin'] },
        schema: {
          ...base,
          summary: 'List the mapping of ISO return codes to reversal reasons',
          response: {
            200: { type: 'object', properties: { return_reasons: { type: 'array', items: reasonSchema } } },
          },
        },
      },
      async () => ({ return_reasons: await listReturnReasons(ctx.db) }),
    );
    admin.put(
      '/admin/return_reasons/:code',
      {
        config: { roles: ['admin'] },
        schema: {
          ...base,
          summary: 'Set the reversal reason of one return code',
          params,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['reversal_reason'],
            properties: {
              reversal_reason: { type: 'string', pattern: REVERSAL_REASON_PATTERN },
              description: { type: ['string', 'null'], maxLength: 200 },
            },
          },
          response: { 200: reasonSchema, 400: errorSchema },
        },
      },
      async (request) => {
        const { code } = request.params as { code: string };
        const body = request.body as { reversal_reason: string; description?: string | null };
        return setReturnReason(ctx.db, code, body, callerOf(request));
      },
    );
    admin.delete(
      '/admin/return_reasons/:code',
      {
        config: { roles: ['admin'] },
        schema: {
          ...base,
          summary: 'Delete the mapping of one return code (the code then passes through as it is)',
          params,
          response: { 204: { type: 'null' }, 404: errorSchema },
        },
      },
      async (request, reply) => {
        const { code } = request.params as { code: string };
        await deleteReturnReason(ctx.db, code, callerOf(request));
        return reply.code(204).send();
      },
    );
  });
};
