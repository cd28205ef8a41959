// Error codes a connector reports for transport trouble. A bank's own business codes (INSUFFICIENT_FUNDS,
// ACCOUNT_NOT_FOUND ...) pass through unchanged; these are for when no usable answer came back.
import type { ConnectorFailure } from './connector.js';

export const BANK_ERROR = {
  /** No answer within the connector's timeout. */
  TIMEOUT: 'BANK_TIMEOUT',
  /** The connection was refused or the host could not be found: the bank is not there. */
  UNAVAILABLE: 'BANK_UNAVAILABLE',
  /** The connection broke while talking (reset, closed early, TLS trouble). */
  CONNECTION: 'BANK_CONNECTION_ERROR',
  /** An answer came but could not be understood (not JSON, wrong shape). */
  BAD_RESPONSE: 'BANK_BAD_RESPONSE',
  /** The connector itself threw; the registry's guard turns that into this failure. */
  CONNECTOR: 'BANK_CONNECTOR_ERROR',
} as const;

/** HTTP errors without a business code keep their status: BANK_HTTP_500, BANK_HTTP_503, BANK_HTTP_404 ... */
export function httpErrorCode(status: number): string {
  return `BANK_HTTP_${status}`;
}

export function failure(errorCode: string, message?: string): ConnectorFailure {
  return message ? { status: 'FAILURE', errorCode, message } : { status: 'FAILURE', errorCode };
}

/** Classifies an exception thrown by fetch (or by reading its body) into one of the codes above. */
export function transportErrorCode(error: unknown): string {
  const err = error as { name?: string; code?: string; cause?: { code?: string; name?: string } };
  if (err?.name === 'TimeoutError' || err?.cause?.name === 'TimeoutError') return BANK_ERROR.TIMEOUT;
  if (err?.name === 'AbortError') return BANK_ERROR.TIMEOUT;
  const code = err?.cause?.code ?? err?.code;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH')
    return BANK_ERROR.UNAVAILABLE;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT')
    return BANK_ERROR.TIMEOUT;
  return BANK_ERROR.CONNECTION;
}
