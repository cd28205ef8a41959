// The G2P Connect envelope shared by every PBMS call: `{signature, header, message}` in and out.
import type { FastifyRequest } from 'fastify';

export type G2pStatus = 'rcvd' | 'pdng' | 'succ' | 'rjct';

export interface RequestHeader {
  version?: string | null;
  message_id: string;
  message_ts: string;
  action: string;
  sender_id: string;
  sender_uri?: string | null;
  receiver_id?: string | null;
  total_count: number;
  is_msg_encrypted?: boolean | null;
  meta?: unknown;
}

export interface G2pRequest<M> {
  signature?: string | null;
  header: RequestHeader;
  message: M;
}

export interface ResponseHeader {
  version: string;
  message_id: string;
  message_ts: string;
  action: string;
  status: G2pStatus;
  status_reason_code: string | null;
  status_reason_message: string | null;
  total_count: number | null;
  completed_count: number | null;
  sender_id: string | null;
  receiver_id: string | null;
  is_msg_encrypted: boolean;
  meta: Record<string, unknown>;
}

export interface G2pResponse<M> {
  signature: string | null;
  header: ResponseHeader;
  message: M;
  [extra: string]: unknown;
}

/**
 * JSON schema of the request header (1.0.2 shape); used by every route's body schema. G2P Connect's routes
 * narrow `version` and `action` (src/g2p-connect/schemas.ts headerSchema).
 */
export const requestHeaderSchema = {
  type: 'object',
  required: ['message_id', 'message_ts', 'action', 'sender_id', 'total_count'],
  properties: {
    version: { type: ['string', 'null'] },
    message_id: { type: 'string', minLength: 1, maxLength: 200 },
    message_ts: { type: 'string', minLength: 1, maxLength: 64 },
    action: { type: 'string', minLength: 1, maxLength: 100 },
    sender_id: { type: 'string', minLength: 1, maxLength: 200 },
    sender_uri: { type: ['string', 'null'] },
    receiver_id: { type: ['string', 'null'] },
    total_count: { type: 'integer', minimum: 0 },
    is_msg_encrypted: { type: ['boolean', 'null'] },
    meta: {},
  },
} as const;

/** Body schema for a G2P request whose message has the given schema. */
export function g2pRequestSchema(message: object) {
  return {
    type: 'object',
    required: ['header', 'message'],
    properties: { signature: { type: ['string', 'null'] }, header: requestHeaderSchema, message },
  } as const;
}

export const responseHeaderSchema = {
  type: 'object',
  properties: {
    version: { type: 'string' },
    message_id: { type: 'string' },
    message_ts: { type: 'string' },
    action: { type: 'string' },
    status: { type: 'string', enum: ['rcvd', 'pdng', 'succ', 'rjct'] },
    status_reason_code: { type: ['string', 'null'] },
    status_reason_message: { type: ['string', 'null'] },
    total_count: { type: ['integer', 'null'] },
    completed_count: { type: ['integer', 'null'] },
    sender_id: { type: ['string', 'null'] },
    receiver_id: { type: ['string', 'null'] },
    is_msg_encrypted: { type: 'boolean' },
    meta: { type: 'object', additionalProperties: true },
  },
} as const;

export function responseHeader(
  request: Partial<RequestHeader> | undefined,
  action: string,
  status: G2pStatus,
  now: Date,
  reason?: { code?: string | null; message?: string | null; total?: number; completed?: number },
): ResponseHeader {
  return {
    version: '1.0.0',
    message_id: request?.message_id ?? '',
    message_ts: now.toISOString(),
    // The route's action, never the caller's (a wrong header.action is refused, not echoed).
    action,
    status,
    status_reason_code: reason?.code ?? null,
    status_reason_message: reason?.message ?? null,
    total_count: reason?.total ?? request?.total_count ?? null,
    completed_count: reason?.completed ?? null,
    sender_id: request?.receiver_id ?? null,
    receiver_id: request?.sender_id ?? null,
    is_msg_encrypted: false,
    meta: {},
  };
}

/** G2P Connect's header reason codes for a header that does not describe its request (1.0.2 spelling). */
export const HeaderCode = {
  ACTION_INVALID: 'rjct.action.invalid',
  TOTAL_COUNT_INVALID: 'rjct.total_count.invalid',
  MESSAGE_TS_INVALID: 'rjct.message_ts.invalid',
  ENCRYPTION_NOT_SUPPORTED: 'rjct.encryption.not_supported',
} as const;

/**
 * An encrypted message (`header.is_msg_encrypted: true`) is refused, whatever G2P_LENIENT_HEADER says: the
 * bridge cannot decrypt one, and reading an encrypted message as if it were plain would believe what it never read.
 */
export function encryptionProblem(header: RequestHeader): { code: string; message: string } | null {
  return header.is_msg_encrypted === true
    ? {
        code: HeaderCode.ENCRYPTION_NOT_SUPPORTED,
        message: 'header.is_msg_encrypted is true, but this bridge takes unencrypted messages only (use TLS)',
      }
    : null;
}

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

/** Whether `text` is an ISO 8601 / RFC 3339 date-time that names a real instant (zone optional). */
export function isDateTime(text: unknown): boolean {
  if (typeof text !== 'string') return false;
  const m = DATE_TIME.exec(text);
  if (!m) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map((v) => Number(v ?? 0)) as number[];
  const date = new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
  return (
    date.getUTCFullYear() === year &&
    date.getUTCMonth() === month! - 1 &&
    date.getUTCDate() === day &&
    hour! < 24 &&
    minute! < 60 &&
    second! < 60
  );
}

/**
 * What is wrong with a request's header for `action`: an action other than the route's, a total_count other
 * than the number of items (1 for a message that is not a list), or a message_ts that is not a date-time.
 */
export function headerProblem(
  header: RequestHeader,
  message: unknown,
  action: string,
): { code: string; message: string } | null {
  if (header.action !== action)
    return {
      code: HeaderCode.ACTION_INVALID,
      message: `header.action is ${JSON.stringify(header.action.slice(0, 100))}, but this is /${action}`,
    };
  const count = Array.isArray(message) ? message.length : 1;
  if (header.total_count !== count)
    return {
      code: HeaderCode.TOTAL_COUNT_INVALID,
      message: `header.total_count is ${header.total_count}, but the message has ${count} item${count === 1 ? '' : 's'}`,
    };
  if (!isDateTime(header.message_ts))
    return {
      code: HeaderCode.MESSAGE_TS_INVALID,
      message: 'header.message_ts is not a date-time such as 2030-03-10T12:00:00Z',
    };
  return null;
}

/** A business rejection: HTTP 200 (as the reference answers) with `rjct` and the error code. */
export class Rejection extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The message part of the answer (e.g. the items with their own response_error_codes). */
    readonly responseMessage: unknown = null,
  ) {
    super(message);
    this.name = 'Rejection';
  }
}

export function rejectResponse(
  request: Partial<RequestHeader> | undefined,
  action: string,
  rejection: Rejection,
  now: Date,
): G2pResponse<unknown> {
  return {
    signature: null,
    header: responseHeader(request, action, 'rjct', now, {
      code: rejection.code,
      message: rejection.message,
    }),
    message: rejection.responseMessage,
  };
}

export function successResponse<M>(
  request: Partial<RequestHeader> | undefined,
  action: string,
  message: M,
  now: Date,
  counts?: { total?: number; completed?: number },
): G2pResponse<M> {
  return { signature: null, header: responseHeader(request, action, 'succ', now, counts), message };
}

/** Best effort: the header of a request whose body may have failed validation. */
export function headerOf(request: FastifyRequest): Partial<RequestHeader> | undefined {
  const body = request.body as { header?: unknown } | undefined;
  const header = body && typeof body === 'object' ? body.header : undefined;
  if (!header || typeof header !== 'object') return undefined;
  const h = header as Record<string, unknown>;
  const pick = (k: string) => (typeof h[k] === 'string' ? (h[k] as string) : undefined);
  return {
    message_id: pick('message_id'),
    action: pick('action'),
    sender_id: pick('sender_id'),
    receiver_id: pick('receiver_id'),
    total_count: typeof h.total_count === 'number' ? h.total_count : undefined,
  };
}
