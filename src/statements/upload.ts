// upload_mt940: the bank (role `bank`) posts a statement as multipart field `statement_file`. The text is
// stored exactly as received, with its sha256 and size, and the statement is queued (PENDING) for the
// statement stage, which parses and reconciles it later. Nothing is parsed here but the :25: account lines
// (a cheap scan), to see which programs' accounts the statement is about: a bank identity scoped to sponsor
// bank codes may only upload statements of its own accounts, and the audit trail names them.
import { createHash, randomUUID } from 'node:crypto';
import { type AppContext, type Caller, callerOf, FORBIDDEN_ACCOUNT } from '../api/context.js';
import { type G2pStatus, responseHeader } from '../api/g2p.js';
import type { Feature } from '../api/server.js';
import { recordAudit } from '../audit/index.js';
import { allows } from '../auth/index.js';
import type { Db, Queryable } from '../db/index.js';
import { ErrorCode } from '../envelopes/codes.js';
import { isFormData, readForm } from './multipart.js';
import { findProgramByAccount, type ProgramAccount } from './process.js';

export const STATEMENT_FIELD = 'statement_file';

/**
 * What a form may carry besides the file's content (part headers, boundaries, a few small fields): the
 * route's body limit is MAX_STATEMENT_BYTES plus this, so an oversized upload is refused (413) while it
 * streams in, before it is held in memory.
 */
export const FORM_OVERHEAD_BYTES = 64 * 1024;
/** Plain fields a form may carry beside the file (ignored), as the multipart plugin allowed before. */
const FORM_FIELDS = 10;

export interface StoredStatement {
  statement_id: string;
  content_sha256: string;
  size_bytes: number;
}

/** The upload as text (decoded once, here), or why it is not a statement we can keep as text. */
export function decodeStatement(bytes: Uint8Array): { text: string } | { reason: string } {
  if (bytes.length === 0) return { reason: 'the file is empty' };
  if (bytes.includes(0)) return { reason: 'the file contains NUL bytes (binary, not an MT940 text)' };
  try {
    // ignoreBOM keeps a byte-order mark in the text: the stored text is the upload, unchanged.
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    return { reason: 'the file is not valid UTF-8 text' };
  }
}

/** The account identifications of a statement file's :25: lines, in order, without repeats. */
export function statementAccounts(text: string): string[] {
  const accounts = new Set<string>();
  for (const m of text.matchAll(/(?:^|[\r\n]):25:([^\r\n]*)/g)) accounts.add(m[1]!.trim());
  return [...accounts];
}

/** A statement the caller may not upload: answered 403, nothing stored. */
export class StatementForbidden extends Error {
  readonly code = FORBIDDEN_ACCOUNT;
}

/**
 * The programs whose funding accounts the statement names. A caller scoped to bank codes must name at least
 * one account, and only accounts of programs of its bank codes (an unknown account is not provably its own).
 */
async function statementPrograms(tx: Queryable, accounts: string[], caller: Caller): Promise<string[]> {
  const { rows: known } = await tx.query<ProgramAccount>(
    `SELECT benefit_program_mnemonic AS program, sponsor_bank_account_number AS account,
            sponsor_bank_account_currency AS currency, sponsor_bank_code AS "bankCode"
       FROM benefit_program`,
  );
  const programs = new Set<string>();
  for (const account of accounts) {
    const p = findProgramByAccount(account, known);
    if (p) programs.add(p.program);
    if (caller.bankCodes && (!p || !allows(caller.bankCodes, p.bankCode))) {
      throw new StatementForbidden(
        `The caller ${caller.subject} may upload statements of the accounts of sponsor bank ${caller.bankCodes.join(', ') || '(none)'} only; ${JSON.stringify(account)} is not one of them`,
      );
    }
  }
  if (caller.bankCodes && accounts.length === 0) {
    throw new StatementForbidden(
      'The statement names no account (:25:), so it cannot be checked against the caller’s bank',
    );
  }
  return [...programs].sort();
}

/**
 * Stores the statement (header row and raw text) in one transaction with its audit row; it starts PENDING.
 * Throws StatementForbidden (nothing stored) when the caller's bank scope does not cover its accounts.
 */
export async function storeStatement(
  db: Db,
  bytes: Uint8Array,
  text: string,
  caller: Caller,
): Promise<StoredStatement> {
  const stored = {
    statement_id: randomUUID(),
    content_sha256: createHash('sha256').update(bytes).digest('hex'),
    size_bytes: bytes.length,
  };
  const uploadedBy = caller.subject;
  const accounts = statementAccounts(text);
  await db.transaction(async (tx) => {
    const programs = await statementPrograms(tx, accounts, caller);
    await tx.query(
      `INSERT INTO account_statement (statement_id, content_sha256, size_bytes, uploaded_by)
       VALUES ($1, $2, $3, $4)`,
      [stored.statement_id, stored.content_sha256, stored.size_bytes, uploadedBy],
    );
    await tx.query('INSERT INTO account_statement_lob (statement_id, statement_lob) VALUES ($1, $2)', [
      stored.statement_id,
      text,
    ]);
    await recordAudit(tx, caller, {
      action: 'upload_mt940',
      program: programs.length === 1 ? programs[0] : null,
      targetIds: [stored.statement_id],
      summary: { ...stored, accounts, programs },
    });
  });
  return stored;
}

function statementResponse(
  status: G2pStatus,
  fields: { statement_id?: string; code?: string; message: string; stored?: StoredStatement },
) {
  return {
    signature: null,
    header: responseHeader(undefined, 'upload_mt940', status, {
      code: fields.code ?? null,
      message: fields.message,
    }),
    message: fields.stored ?? null,
    statement_id: fields.statement_id ?? null,
    response_error_code: fields.code ?? null,
  };
}

const responseSchema = {
  type: 'object',
  properties: {
    signature: { type: ['string', 'null'] },
    header: { type: 'object', additionalProperties: true },
    message: {
      type: ['object', 'null'],
      description: 'Extra beyond 1.0.2: statement_id, content_sha256 and size_bytes of the stored statement.',
      properties: {
        statement_id: { type: 'string' },
        content_sha256: { type: 'string' },
        size_bytes: { type: 'integer' },
      },
    },
    statement_id: { type: ['string', 'null'] },
    response_error_code: { type: ['string', 'null'] },
  },
} as const;

/** POST /upload_mt940 (role bank). */
export const statementUploadRoutes: Feature = (app, ctx: AppContext) => {
  // The body arrives whole as a Buffer (Fastify enforces the route's bodyLimit while it streams, 413), then
  // our strict reader splits it (./multipart.ts). No other route takes multipart/form-data.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'buffer' }, (_request, body, done) =>
    done(null, body),
  );
  app.post(
    '/upload_mt940',
    {
      config: { roles: ['bank'] },
      bodyLimit: ctx.config.MAX_STATEMENT_BYTES + FORM_OVERHEAD_BYTES,
      // The body schema documents the multipart form for /docs; the parts are read and checked below.
      validatorCompiler: () => () => true,
      schema: {
        tags: ['G2P Bridge Account Statement'],
        summary: 'Upload an MT940 account statement',
        description:
          `multipart/form-data with one file in field \`${STATEMENT_FIELD}\` (at most MAX_STATEMENT_BYTES). The text is stored ` +
          'unchanged and processed asynchronously; the answer carries its statement_id. Not text (NUL bytes, invalid UTF-8) ' +
          'or empty: rjct STATEMENT_UPLOAD_ERROR. Too large: HTTP 413 REQUEST_TOO_LARGE.',
        consumes: ['multipart/form-data'],
        body: {
          type: 'object',
          required: [STATEMENT_FIELD],
          properties: {
            [STATEMENT_FIELD]: { type: 'string', format: 'binary', description: 'The MT940 file.' },
          },
        },
        // 403: a role refusal ({error, message}) or a bank-scope refusal (the rjct body), so either shape.
        response: {
          200: responseSchema,
          400: responseSchema,
          403: { type: 'object', additionalProperties: true },
          413: responseSchema,
          415: responseSchema,
        },
      },
    },
    async (request, reply) => {
      const contentType = request.headers['content-type'];
      if (!Buffer.isBuffer(request.body) || !isFormData(contentType)) {
        return reply.code(415).send(
          statementResponse('rjct', {
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: `Send multipart/form-data with the file in field ${STATEMENT_FIELD}`,
          }),
        );
      }
      const form = readForm(request.body, contentType ?? '', {
        fileBytes: ctx.config.MAX_STATEMENT_BYTES,
        files: 1,
        fields: FORM_FIELDS,
      });
      if (!form.ok) {
        const { error, reason } = form;
        if (error === 'too_large') {
          return reply.code(413).send(
            statementResponse('rjct', {
              code: 'REQUEST_TOO_LARGE',
              message: `The statement is larger than MAX_STATEMENT_BYTES (${ctx.config.MAX_STATEMENT_BYTES} bytes)`,
            }),
          );
        }
        // More files or fields than a statement upload has: a refused upload, not an unreadable one.
        if (error === 'too_many_parts') {
          return statementResponse('rjct', {
            code: ErrorCode.STATEMENT_UPLOAD_ERROR,
            message: `Send one file, in multipart field ${STATEMENT_FIELD} (the form holds ${reason})`,
          });
        }
        // Whatever else fails (no boundary, a cut-off body, a broken part header) is the caller's malformed
        // upload, a 400, never the bridge's 500.
        request.log.info({ reason }, 'statement upload is not a valid multipart form');
        return reply.code(400).send(
          statementResponse('rjct', {
            code: ErrorCode.STATEMENT_UPLOAD_ERROR,
            message: `The multipart/form-data body could not be read (${reason}); send the file in field ${STATEMENT_FIELD}`,
          }),
        );
      }
      const file = form.parts.find((p) => p.name === STATEMENT_FIELD && p.filename !== null);
      if (file === undefined) {
        return statementResponse('rjct', {
          code: ErrorCode.STATEMENT_UPLOAD_ERROR,
          message: form.parts.some((p) => p.name === STATEMENT_FIELD)
            ? `Multipart field ${STATEMENT_FIELD} is a plain field, not a file (its part has no filename)`
            : `No file in multipart field ${STATEMENT_FIELD}`,
        });
      }
      const bytes = file.content;
      const decoded = decodeStatement(bytes);
      if ('reason' in decoded) {
        const { reason } = decoded;
        request.log.info({ size: bytes.length, reason }, 'statement upload rejected');
        return statementResponse('rjct', {
          code: ErrorCode.STATEMENT_UPLOAD_ERROR,
          message: `Statement rejected: ${reason}`,
        });
      }
      let stored: StoredStatement;
      try {
        stored = await storeStatement(ctx.db, bytes, decoded.text, callerOf(request));
      } catch (error) {
        if (!(error instanceof StatementForbidden)) throw error;
        request.log.info({ size: bytes.length, code: error.code }, 'statement upload refused');
        return reply.code(403).send(statementResponse('rjct', { code: error.code, message: error.message }));
      }
      request.log.info({ statement: stored.statement_id, size: stored.size_bytes }, 'statement stored');
      return statementResponse('succ', {
        statement_id: stored.statement_id,
        message: 'Statement stored; it will be processed asynchronously',
        stored,
      });
    },
  );
};
