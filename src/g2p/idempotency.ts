// Idempotent PBMS calls. A request is keyed by (header.sender_id, header.message_id). The key is claimed
// first thing in the call's own transaction, so a concurrent replay waits on the primary key until the first
// call commits (then it finds the stored answer) or rolls back (then it runs itself). Only successful
// answers are kept: a rejected call rolls back its claim together with everything else. The verified token
// subject is kept with the claim, and only that subject gets the stored answer back.
import { createHash, type Hash } from 'node:crypto';
import type { Db, Queryable } from '../db/index.js';
import { type G2pResponse, Rejection, type RequestHeader, rejectResponse } from './message.js';

export const DUPLICATE_MESSAGE_ID = 'rjct.message_id.duplicate';

/** JSON with object keys sorted at every level, so equal bodies hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  // JSON.stringify with a property list writes every object's keys in the list's order, at every level:
  // with all the keys of the value, sorted, that is the canonical text (canonicalJsonSlow) in one native
  // pass, several times faster for a list of 10,000 items.
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const list = propertyList(value);
  return list ? (JSON.stringify(value, list) ?? 'null') : canonicalJsonSlow(value);
}

/**
 * Every key of the value, sorted: the property list that makes JSON.stringify write the canonical text. Null
 * when a key is "__proto__", which a property list reads through the accessor of objects that lack it:
 * those are written key by key (canonicalJsonSlow).
 */
function propertyList(value: object): string[] | null {
  const keys = keysOf(value);
  return keys.has('__proto__') ? null : [...keys].sort();
}

/** Every object key anywhere in a parsed JSON value (objects of a list mostly share theirs: checked once). */
function keysOf(value: object): Set<string> {
  const keys = new Set<string>();
  const pending: unknown[] = [value];
  let last: string[] = [];
  while (pending.length > 0) {
    const item = pending.pop();
    if (item === null || typeof item !== 'object') continue;
    if (Array.isArray(item)) {
      for (const inner of item) if (inner !== null && typeof inner === 'object') pending.push(inner);
      continue;
    }
    const own = Object.keys(item);
    let same = own.length === last.length;
    for (let i = 0; same && i < own.length; i++) same = own[i] === last[i];
    if (!same) for (const key of own) keys.add(key);
    last = own;
    for (const key of own) {
      const inner = (item as Record<string, unknown>)[key];
      if (inner !== null && typeof inner === 'object') pending.push(inner);
    }
  }
  return keys;
}

/** The definition of the canonical form (and the path for objects with integer-like keys). */
export function canonicalJsonSlow(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJsonSlow).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJsonSlow(v)}`).join(',')}}`;
}

/**
 * What makes two requests "the same": the action and the message. The rest of the header (message_ts,
 * version ...) may differ between a request and its retry.
 */
export function requestHash(action: string, message: unknown): string {
  const hash = createHash('sha256').update(action).update('\n');
  hashCanonical(hash, message);
  return hash.digest('hex');
}

/** Items of a list written and hashed at a time: pieces of some 60 kB, where the whole list is 2 MB. */
const HASH_PIECE_ITEMS = 256;

/**
 * Feeds `hash` the text of canonicalJson(value), a long list piece by piece: the same bytes without a 2 MB
 * string (and its 2 MB of UTF-8) made and dropped per call, which took twice as long.
 */
function hashCanonical(hash: Hash, value: unknown): void {
  if (!Array.isArray(value) || value.length <= HASH_PIECE_ITEMS) {
    hash.update(canonicalJson(value));
    return;
  }
  const list = propertyList(value);
  if (!list) {
    hash.update(canonicalJsonSlow(value));
    return;
  }
  hash.update('[');
  for (let from = 0; from < value.length; from += HASH_PIECE_ITEMS) {
    if (from > 0) hash.update(',');
    // "[a,b,c]" without its brackets: the pieces joined by commas are the whole list's text.
    const piece = JSON.stringify(value.slice(from, from + HASH_PIECE_ITEMS), list);
    hash.update(piece.slice(1, -1));
  }
  hash.update(']');
}

/**
 * How a route stores its answer compactly: what to keep (JSON) instead of the whole answer, and how to build
 * the very same answer again from that and the replayed request's message, which is the first one's (same
 * request hash). A create_disbursements answer of 10,000 items is 4 MB; what it keeps is the header and the
 * ids the bridge assigned.
 */
export interface CompactAnswer<M> {
  keep(response: G2pResponse<M>): unknown;
  rebuild(kept: unknown, message: unknown): G2pResponse<M>;
}

/** Per transaction: the work `idempotent` deferred (the request's hash), for `spareWork`. */
const deferred = new WeakMap<Queryable, () => void>();

/**
 * Does now what the call's idempotency deferred, the hash of its request (12 ms of CPU for 10,000 items):
 * an effect calls it while the database is busy with a long statement of its own, so the two overlap.
 * Calling it is optional (the hash is made after the effect otherwise) and does nothing the second time.
 */
export function spareWork(tx: Queryable): void {
  const work = deferred.get(tx);
  if (!work) return;
  deferred.delete(tx);
  work();
}

/** request_sha256 of a claim until its effect succeeded: no hash is empty, and only its own call sees it. */
const UNHASHED = '';

/**
 * Runs `effect` in one transaction, at most once per (sender, message id). A replay with the same action
 * and message gets the first answer and writes nothing; the same id with a different request is rejected
 * with `rjct.message_id.duplicate`.
 */
export async function idempotent<M>(
  db: Db,
  header: RequestHeader,
  action: string,
  message: unknown,
  effect: (tx: Queryable) => Promise<G2pResponse<M>>,
  /** The verified token subject, stored beside sender_id; a replay must come from the same subject. */
  subject: string | null = null,
  /** Store what rebuilds the answer instead of the answer itself. */
  compact?: CompactAnswer<M>,
): Promise<G2pResponse<M>> {
  const key = [header.sender_id, header.message_id];
  return db.transaction(async (tx) => {
    // The claim is stored without the request's hash: a concurrent replay waits on the key until this call
    // commits, and by then the hash is there (written with the answer below); a refused call leaves nothing.
    const claimed = await tx.query(
      `INSERT INTO api_request (sender_id, message_id, action, request_sha256, caller_subject)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT (sender_id, message_id) DO NOTHING RETURNING 1`,
      [...key, action, UNHASHED, subject],
    );
    if (claimed.rowCount === 0) {
      const hash = requestHash(action, message);
      const { rows } = await tx.query<{
        action: string;
        request_sha256: string;
        response: unknown;
        caller_subject: string | null;
      }>(
        `SELECT action, request_sha256, response, caller_subject FROM api_request
         WHERE sender_id = $1 AND message_id = $2`,
        key,
      );
      const first = rows[0];
      // Another token's stored answer is not handed out: sender_id is only what the body claims.
      const sameCaller = !first?.caller_subject || !subject || first.caller_subject === subject;
      if (first && sameCaller && first.action === action && first.request_sha256 === hash && first.response) {
        const stored = first.response as { kept?: unknown };
        // Answers stored whole (before compact answers, or by routes without one) are handed back as they are.
        if (compact && stored.kept !== undefined) return compact.rebuild(stored.kept, message);
        return first.response as G2pResponse<M>;
      }
      throw new Rejection(
        DUPLICATE_MESSAGE_ID,
        `message_id ${header.message_id} was already used by this sender for a different request`,
      );
    }
    let hash = UNHASHED;
    deferred.set(tx, () => {
      hash = requestHash(action, message);
    });
    const response = await effect(tx);
    spareWork(tx);
    const stored = compact ? { kept: compact.keep(response) } : response;
    await tx.query(
      `UPDATE api_request SET response = $3::jsonb, request_sha256 = $4
       WHERE sender_id = $1 AND message_id = $2`,
      [...key, JSON.stringify(stored), hash],
    );
    return response;
  });
}

/** Turns a business Rejection thrown by `run` into the `rjct` answer (HTTP 200, as the reference answers). */
export async function answer<M>(
  header: RequestHeader,
  action: string,
  now: Date,
  run: () => Promise<G2pResponse<M>>,
): Promise<G2pResponse<M | unknown>> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof Rejection) return rejectResponse(header, action, error, now);
    throw error;
  }
}

/**
 * Forgets stored answers older than `days` (0 keeps them forever). A replay after that is treated as a new
 * request, so keep this well beyond the longest time a PBMS may retry.
 */
export async function purgeStoredAnswers(db: Queryable, days: number): Promise<number> {
  if (days <= 0) return 0;
  const { rowCount } = await db.query(
    `DELETE FROM api_request WHERE created_at < now() - make_interval(days => $1::int)`,
    [days],
  );
  return rowCount;
}
