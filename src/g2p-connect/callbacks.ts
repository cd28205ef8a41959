// Callbacks to G2P Connect senders: an answer is queued in the transaction that produced it (table
// g2p_connect_callback) and delivered by the `callbacks` pipeline stage to the sender's configured URL only.
// Each callback's header.message_id is fixed when it is queued, so a retried delivery carries the same id.
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../db/index.js';
import { BRIDGE_ID } from '../g2p/keys.js';
import type { G2pStatus, RequestHeader } from '../g2p/message.js';
import { HeaderReason } from './schemas.js';
import { type DisburseStatus, type ItemRow, itemStatus } from './service.js';

export type CallbackAction = 'on-disburse' | 'on-status' | 'on-search';

export const CALLBACK_PATHS: Record<CallbackAction, string> = {
  'on-disburse': '/on-disburse',
  'on-status': '/disburse/txn/on-status',
  'on-search': '/disburse/on-search',
};

/** header.action of each callback, as the spec's path schemas give it (on-status carries `on-disburse`). */
export const CALLBACK_HEADER_ACTIONS: Record<CallbackAction, string> = {
  'on-disburse': 'on-disburse',
  'on-status': 'on-disburse',
  'on-search': 'on-search',
};

/** The spec's MsgHeaderStatusReasonCode: the only codes a header carries (item codes stay on the items). */
const HEADER_REASON_CODES: ReadonlySet<string> = new Set(Object.values(HeaderReason));

/**
 * The spec's MsgCallbackHeader_V1.0.0 for a callback to `sender`. The spec types the reason fields as strings
 * (never null), so absent ones are left out; a code that is not a header code (an item's, like
 * rjct.payer_fa.invalid) is left to the items of the message, its text kept in status_reason_message.
 */
export function callbackHeader(
  messageId: string,
  now: Date,
  action: CallbackAction,
  sender: string,
  status: G2pStatus,
  reason: { code?: string | null; message?: string | null; total?: number; completed?: number } = {},
  request?: Partial<RequestHeader>,
) {
  return {
    version: '1.0.0',
    message_id: messageId,
    message_ts: now.toISOString(),
    action: CALLBACK_HEADER_ACTIONS[action],
    status,
    ...(reason.code && HEADER_REASON_CODES.has(reason.code) ? { status_reason_code: reason.code } : {}),
    ...(reason.message ? { status_reason_message: reason.message.slice(0, 999) } : {}),
    total_count: reason.total ?? request?.total_count ?? 0,
    completed_count: reason.completed ?? 0,
    // The bridge's own id, whatever receiver_id the request named: the kidId of the callback's signature.
    sender_id: BRIDGE_ID,
    receiver_id: sender,
    is_msg_encrypted: false,
    meta: {},
  };
}

/** Queues one callback in the caller's transaction; returns its message id. */
export async function enqueueCallback(
  tx: Queryable,
  c: {
    sender: string;
    action: CallbackAction;
    transactionId: string | null;
    status: G2pStatus;
    reason?: { code?: string | null; message?: string | null; total?: number; completed?: number };
    request?: Partial<RequestHeader>;
    message: unknown;
    /** The bridge's clock: the callback header's message_ts. */
    now: Date;
  },
): Promise<string> {
  const id = randomUUID();
  const body = {
    signature: null,
    header: callbackHeader(id, c.now, c.action, c.sender, c.status, c.reason, c.request),
    message: c.message,
  };
  await tx.query(
    `INSERT INTO g2p_connect_callback (message_id, sender_id, action, path, transaction_id, body)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb)`,
    [id, c.sender, c.action, CALLBACK_PATHS[c.action], c.transactionId, JSON.stringify(body)],
  );
  return id;
}

/**
 * Queues on-status for every transaction of a subscribed sender whose disbursements changed lifecycle state
 * since the last push: one read, one update and one insert, whatever the number of rows. A transaction-level
 * advisory lock keeps two workers from queueing the same change twice. Returns the number queued.
 */
export async function enqueueStatusChanges(
  db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> },
  subscribed: readonly string[],
  now: Date,
): Promise<number> {
  if (subscribed.length === 0) return 0;
  return db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext('g2p_connect_status_push'))`);
    const { rows } = await tx.query<Omit<ItemRow, 'program'> & { sender_id: string }>(
      `SELECT i.sender_id, i.transaction_id, i.reference_id, i.payer_fa, i.payee_fa,
              d.disbursement_amount::text AS amount, trim(e.disbursement_currency_code) AS currency,
              l.lifecycle_status, l.lifecycle_reason
         FROM g2p_connect_item i
         JOIN disbursement_lifecycle l ON l.disbursement_id = i.disbursement_id
         JOIN disbursement d ON d.disbursement_id = i.disbursement_id
         JOIN disbursement_envelope e ON e.disbursement_envelope_id = i.disbursement_envelope_id
        WHERE i.sender_id = ANY($1::text[]) AND l.lifecycle_status <> i.pushed_status
          AND l.lifecycle_status <> 'received'
        ORDER BY i.sender_id, i.transaction_id, i.created_at, i.reference_id`,
      [[...subscribed]],
    );
    if (rows.length === 0) return 0;
    await tx.query(
      `UPDATE g2p_connect_item i SET pushed_status = u.status
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(sender, txn, ref, status)
        WHERE i.sender_id = u.sender AND i.transaction_id = u.txn AND i.reference_id = u.ref`,
      [
        rows.map((r) => r.sender_id),
        rows.map((r) => r.transaction_id),
        rows.map((r) => r.reference_id),
        rows.map((r) => r.lifecycle_status),
      ],
    );
    const at = now.toISOString();
    const groups = new Map<string, { sender: string; txn: string; items: DisburseStatus[] }>();
    for (const r of rows) {
      const key = JSON.stringify([r.sender_id, r.transaction_id]);
      let g = groups.get(key);
      if (!g) {
        g = { sender: r.sender_id, txn: r.transaction_id, items: [] };
        groups.set(key, g);
      }
      g.items.push(itemStatus(r, at));
    }
    const ids: string[] = [];
    const senders: string[] = [];
    const txns: string[] = [];
    const bodies: string[] = [];
    for (const g of groups.values()) {
      const id = randomUUID();
      ids.push(id);
      senders.push(g.sender);
      txns.push(g.txn);
      bodies.push(
        JSON.stringify({
          signature: null,
          header: callbackHeader(id, now, 'on-status', g.sender, 'succ', {
            total: g.items.length,
            completed: g.items.length,
          }),
          message: {
            transaction_id: g.txn,
            correlation_id: g.txn,
            txnstatus_response: {
              txn_type: 'on-disburse',
              txn_status: { transaction_id: g.txn, disbursements_status: g.items },
            },
          },
        }),
      );
    }
    await tx.query(
      `INSERT INTO g2p_connect_callback (message_id, sender_id, action, path, transaction_id, body)
       SELECT u.id, u.sender, 'on-status', $5, u.txn, u.body::jsonb
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(id, sender, txn, body)`,
      [ids, senders, txns, bodies, CALLBACK_PATHS['on-status']],
    );
    return ids.length;
  });
}
