// upload_mt940: the bank (role `bank`) posts a statement as multipart field `statement_file`. The text is
// stored exactly as received, with its sha256 and size, and the statement is queued (PENDING) for the
// statement stage, which parses and reconciles it later. Nothing is parsed here.
import { createHash, randomUUID } from 'node:crypto';
import type { AppContext } from '../api/context.js';
import { type G2pStatus, responseHeader } from '../api/g2p.js';
import type { Feature } from '../api/server.js';
import type { Db } from '../db/index.js';
import { ErrorCode } from '../envelopes/codes.js';

export const STATEMENT_FIELD = 'statement_file';

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

/** Stores the statement (header row and raw text) in one transaction; it starts PENDING. */
export async function storeStatement(
  db: Db,
  bytes: Uint8Array,
  text: string,
  uploadedBy: string | null,
): Promise<StoredStatement> {
  const stored = {
    statement_id: randomUUID(),
    content_sha256: createHash('sha256').update(bytes).digest('hex'),
    size_bytes: bytes.length,
  };
  await db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO account_statement (statement_id, content_sha256, size_bytes, uploaded_by)
       VALUES ($1, $2, $3, $4)`,
      [stored.statement_id, stored.content_sha256, stored.size_bytes, uploadedBy],
    );
    await tx.query('INSERT INTO account_statement_lob (statement_id, statement_lob) VALUES ($1, $2)', [
      stored.statement_id,
      text,
    ]);
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
  app.post(
    '/upload_mt940',
    {
      config: { roles: ['bank'] },
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
            [STATEMENT_FIELD]: { type: 'string', description: 'The MT940 file (binary upload).' },
          },
        },
        response: { 200: responseSchema, 415: responseSchema },
      },
    },
    async (request, reply) => {
      if (!request.isMultipart()) {
        return reply.code(415).send(
          statementResponse('rjct', {
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: `Send multipart/form-data with the file in field ${STATEMENT_FIELD}`,
          }),
        );
      }
      let bytes: Buffer | null = null;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file' && part.fieldname === STATEMENT_FIELD && bytes === null) {
            bytes = await part.toBuffer();
          } else if (part.type === 'file') {
            await part.toBuffer(); // drain other files so the request completes
          }
        }
      } catch (error) {
        // More files or fields than the multipart limits allow: a malformed upload, not an oversized one.
        const code = (error as { code?: string }).code;
        if (code === 'FST_FILES_LIMIT' || code === 'FST_FIELDS_LIMIT' || code === 'FST_PARTS_LIMIT') {
          return statementResponse('rjct', {
            code: ErrorCode.STATEMENT_UPLOAD_ERROR,
            message: `Send one file, in multipart field ${STATEMENT_FIELD}`,
          });
        }
        throw error;
      }
      if (bytes === null) {
        return statementResponse('rjct', {
          code: ErrorCode.STATEMENT_UPLOAD_ERROR,
          message: `No file in multipart field ${STATEMENT_FIELD}`,
        });
      }
      const decoded = decodeStatement(bytes);
      if ('reason' in decoded) {
        const { reason } = decoded;
        request.log.info({ size: bytes.length, reason }, 'statement upload rejected');
        return statementResponse('rjct', {
          code: ErrorCode.STATEMENT_UPLOAD_ERROR,
          message: `Statement rejected: ${reason}`,
        });
      }
      const stored = await storeStatement(ctx.db, bytes, decoded.text, request.principal?.subject ?? null);
      request.log.info({ statement: stored.statement_id, size: stored.size_bytes }, 'statement stored');
      return statementResponse('succ', {
        statement_id: stored.statement_id,
        message: 'Statement stored; it will be processed asynchronously',
        stored,
      });
    },
  );
};
