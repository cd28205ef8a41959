// G2P Connect `resolve` client: one synchronous call per batch, answers matched by reference_id.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DEFAULT_FA_PATTERNS, type FaPattern, parseFinancialAddress } from './fa.js';
import { type MapperClient, MapperTransportError, type ResolveItem, type ResolveOutcome } from './types.js';

export interface MapperClientOptions {
  /** Base URL of the mapper; the client posts to `${url}/sync/resolve`. */
  url: string;
  timeoutMs: number;
  patterns?: readonly FaPattern[];
  log: Logger;
  /** Bearer token sent with every call (MAPPER_TOKEN), for a mapper that wants one. */
  token?: string;
  /** `header.sender_id` of our requests. */
  senderId?: string;
  /** Injectable for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** The bridge's clock (message_ts of each request); default the system clock. */
  now?: () => Date;
}

/** Reason codes a mapper uses to say "known, but do not pay this address", even when it sends an FA. */
const NOT_PAYABLE = new Set([
  'succ.id.not_found',
  'succ.id.inactive',
  'succ.fa.not_found',
  'succ.fa.inactive',
  'succ.fa.not_linked_to_id',
]);

interface AnswerItem {
  reference_id?: unknown;
  id?: unknown;
  fa?: unknown;
  name?: unknown;
  status?: unknown;
  status_reason_code?: unknown;
}

/** `${url}/sync/resolve`; throws when `url` is not an http(s) URL (a configuration error, found at start). */
export function resolveEndpoint(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`MAPPER_URL must be an http(s) URL, got ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new Error(`MAPPER_URL must be an http(s) URL, got ${JSON.stringify(url)}`);
  return `${url.replace(/\/+$/, '')}/sync/resolve`;
}

export function createMapperClient(options: MapperClientOptions): MapperClient {
  const endpoint = resolveEndpoint(options.url);
  const patterns = options.patterns ?? DEFAULT_FA_PATTERNS;
  const doFetch = options.fetch ?? fetch;
  const log = options.log;
  const senderId = options.senderId ?? 'g2p-bridge';

  return {
    async resolve(items: ResolveItem[]): Promise<ResolveOutcome[]> {
      if (items.length === 0) return [];
      const now = (options.now?.() ?? new Date()).toISOString();
      const transactionId = randomUUID();
      const body = JSON.stringify({
        signature: null,
        header: {
          version: '1.0.0',
          message_id: randomUUID(),
          message_ts: now,
          action: 'resolve',
          sender_id: senderId,
          total_count: items.length,
          is_msg_encrypted: false,
        },
        message: {
          transaction_id: transactionId,
          resolve_request: items.map((item) => ({
            reference_id: item.referenceId,
            timestamp: now,
            id: item.beneficiaryId,
            scope: 'details',
          })),
        },
      });

      const started = Date.now();
      const text = await post(doFetch, endpoint, body, options.timeoutMs, options.token);
      const answers = readAnswers(text);
      const outcomes = match(items, answers, patterns);
      const resolved = outcomes.filter((o) => o.resolved).length;
      // Counts only: ids and addresses are beneficiary data.
      log.debug(
        { transactionId, items: items.length, resolved, ms: Date.now() - started },
        'mapper resolve answered',
      );
      return outcomes;
    },
  };
}

async function post(
  doFetch: typeof fetch,
  endpoint: string,
  body: string,
  timeoutMs: number,
  token: string | undefined,
): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await doFetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body,
      signal: controller.signal,
    });
    // The timeout covers reading the body too: a mapper that stalls mid-answer is as bad as a silent one.
    const text = await response.text();
    if (!response.ok)
      throw new MapperTransportError(
        `MAPPER_HTTP_${response.status}`,
        `The mapper answered HTTP ${response.status}`,
      );
    return text;
  } catch (error) {
    if (error instanceof MapperTransportError) throw error;
    if (controller.signal.aborted)
      throw new MapperTransportError('MAPPER_TIMEOUT', `The mapper did not answer within ${timeoutMs} ms`);
    const cause = (error as { cause?: { code?: string } }).cause;
    if (cause?.code === 'ECONNREFUSED')
      throw new MapperTransportError('MAPPER_UNAVAILABLE', 'The mapper refused the connection');
    throw new MapperTransportError(
      'MAPPER_UNREACHABLE',
      `The mapper could not be reached: ${cause?.code ?? (error as Error).message}`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** The answer's resolve_response items; anything else is a malformed answer (the batch is retried). */
function readAnswers(text: string): AnswerItem[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MapperTransportError('MAPPER_BAD_RESPONSE', 'The mapper answered with malformed JSON');
  }
  if (!body || typeof body !== 'object')
    throw new MapperTransportError('MAPPER_BAD_RESPONSE', 'The mapper answer is not a JSON object');
  const { header, message } = body as { header?: Record<string, unknown>; message?: Record<string, unknown> };
  if (header && header.status === 'rjct') {
    const code = typeof header.status_reason_code === 'string' ? header.status_reason_code : 'unknown';
    throw new MapperTransportError('MAPPER_REJECTED', `The mapper rejected the request (${code})`);
  }
  const list = message?.resolve_response;
  if (!Array.isArray(list))
    throw new MapperTransportError(
      'MAPPER_BAD_RESPONSE',
      'The mapper answer has no message.resolve_response list',
    );
  for (const item of list) {
    if (!item || typeof item !== 'object')
      throw new MapperTransportError('MAPPER_BAD_RESPONSE', 'A resolve_response item is not an object');
    const status = (item as AnswerItem).status;
    // A synchronous answer still in progress cannot be used item by item; ask again later.
    if (status === 'rcvd' || status === 'pdng')
      throw new MapperTransportError('MAPPER_PENDING', 'The mapper has not finished resolving the batch');
  }
  return list as AnswerItem[];
}

const str = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;

function match(
  items: ResolveItem[],
  answers: AnswerItem[],
  patterns: readonly FaPattern[],
): ResolveOutcome[] {
  const byReference = new Map<string, AnswerItem>();
  const byId = new Map<string, AnswerItem>();
  for (const answer of answers) {
    const reference = str(answer.reference_id);
    const id = str(answer.id);
    if (reference !== undefined && !byReference.has(reference)) byReference.set(reference, answer);
    if (id !== undefined && !byId.has(id)) byId.set(id, answer);
  }
  return items.map((item): ResolveOutcome => {
    const base = { referenceId: item.referenceId, beneficiaryId: item.beneficiaryId };
    const answer = byReference.get(item.referenceId) ?? byId.get(item.beneficiaryId);
    if (!answer) return { ...base, resolved: false, reason: 'NOT_IN_RESPONSE' };
    // An answer about someone else (a mapper bug) must never route this beneficiary's money.
    const answeredId = str(answer.id);
    if (answeredId !== undefined && answeredId.trim() !== item.beneficiaryId.trim())
      return { ...base, resolved: false, reason: 'ID_MISMATCH' };
    const code = str(answer.status_reason_code);
    // A missing status is read as success: some mappers only send the FA.
    if (answer.status !== undefined && answer.status !== 'succ')
      return {
        ...base,
        resolved: false,
        reason: code ?? (answer.status === 'rjct' ? 'rjct' : 'UNEXPECTED_STATUS'),
      };
    if (code && NOT_PAYABLE.has(code)) return { ...base, resolved: false, reason: code };
    const fa = str(answer.fa)?.trim();
    if (!fa)
      return { ...base, resolved: false, reason: code && !code.endsWith('.active') ? code : 'FA_MISSING' };
    const address = parseFinancialAddress(fa, patterns);
    if (!address) return { ...base, resolved: false, reason: 'FA_UNPARSEABLE' };
    const name = str(answer.name)?.trim();
    return name ? { ...base, resolved: true, fa, address, name } : { ...base, resolved: true, fa, address };
  });
}
