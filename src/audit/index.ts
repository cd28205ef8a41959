// The audit trail: every change a caller makes is appended to audit_event in the change's own transaction, so
// a change and its record commit or roll back together (a refused call leaves nothing). Rows are PII-free:
// who (token subject, roles, the sender_id the body claimed), request and message ids, the action, its
// targets (program, envelope, ids) and a summary of counts and amounts — never beneficiary names or
// accounts. The table is append-only (a trigger refuses updates and deletes); only `purgeAudit` removes rows,
// by age. Set-based like the rest: one statement per change whatever its size.
import type { Db, Queryable } from '../db/index.js';

/** Who made a change: the verified token and the request that carried it. */
export interface Actor {
  subject: string;
  roles: readonly string[];
  /** header.sender_id of a PBMS call (what the body claims); null for bank and admin calls. */
  senderId: string | null;
  /** Fastify's request id (x-request-id when the caller sent one). */
  requestId: string | null;
  /** header.message_id of a PBMS call. */
  messageId: string | null;
}

export const AUDIT_ACTIONS = [
  'create_disbursement_envelope',
  'amend_disbursement_envelope',
  'cancel_disbursement_envelope',
  'create_disbursements',
  'cancel_disbursements',
  'upload_mt940',
  'upload_statement',
  'set_return_reason',
  'delete_return_reason',
  'create_program',
  'update_program',
  // Payout channels (src/payouts): a program's wallet channel set or removed, a wallet ledger day requested.
  'set_payout_channel',
  'remove_payout_channel',
  'reconcile_wallet_ledger',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEntry {
  action: AuditAction;
  program?: string | null;
  envelopeId?: string | null;
  targetIds?: readonly string[];
  /** Counts, amounts (as exact decimal strings), ids and field names: nothing about a beneficiary. */
  summary: Record<string, unknown>;
}

export async function recordAudit(tx: Queryable, actor: Actor, entry: AuditEntry): Promise<void> {
  await tx.query(
    `INSERT INTO audit_event (subject, roles, sender_id, request_id, message_id, action, program, envelope_id,
       target_ids, summary)
     VALUES ($1, $2::text[], $3, $4, $5, $6, $7, $8, $9::text[], $10::jsonb)`,
    [
      actor.subject,
      [...actor.roles],
      actor.senderId,
      actor.requestId,
      actor.messageId,
      entry.action,
      entry.program ?? null,
      entry.envelopeId ?? null,
      [...(entry.targetIds ?? [])],
      JSON.stringify(entry.summary),
    ],
  );
}

/**
 * One row per envelope touched by a disbursement call, from the rows the call just wrote: count, exact sum
 * and currency. The targets of a create are its bank batch ids (each names every disbursement of the call);
 * the targets of a cancel are the cancelled disbursement ids.
 */
export async function recordDisbursementAudit(
  tx: Queryable,
  actor: Actor,
  action: 'create_disbursements' | 'cancel_disbursements',
  disbursementIds: readonly string[],
): Promise<void> {
  if (disbursementIds.length === 0) return;
  await tx.query(
    `INSERT INTO audit_event (subject, roles, sender_id, request_id, message_id, action, program, envelope_id,
       target_ids, summary)
     SELECT $1, $2::text[], $3, $4, $5, $6, e.benefit_program_mnemonic, e.disbursement_envelope_id,
       CASE WHEN $6 = 'create_disbursements'
         THEN array_agg(DISTINCT d.bank_disbursement_batch_id)
         ELSE array_agg(d.disbursement_id ORDER BY d.disbursement_id) END,
       jsonb_build_object('count', count(*), 'amount', sum(d.disbursement_amount)::text,
         'currency', trim(e.disbursement_currency_code))
     FROM disbursement d
     JOIN disbursement_envelope e ON e.disbursement_envelope_id = d.disbursement_envelope_id
     WHERE d.disbursement_id = ANY($7::text[])
     GROUP BY e.disbursement_envelope_id, e.benefit_program_mnemonic, e.disbursement_currency_code
     ORDER BY e.disbursement_envelope_id`,
    [
      actor.subject,
      [...actor.roles],
      actor.senderId,
      actor.requestId,
      actor.messageId,
      action,
      [...disbursementIds],
    ],
  );
}

/**
 * Removes audit rows older than `days` (0 keeps them forever): the one delete the append-only trigger lets
 * through, because this transaction says so.
 */
export async function purgeAudit(db: Db, days: number): Promise<number> {
  if (days <= 0) return 0;
  return db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('g2p.audit_purge', 'on', true)`);
    const { rowCount } = await tx.query(
      'DELETE FROM audit_event WHERE at < now() - make_interval(days => $1::int)',
      [days],
    );
    return rowCount;
  });
}

export interface AuditRow {
  id: number;
  at: Date;
  subject: string;
  roles: string[];
  sender_id: string | null;
  request_id: string | null;
  message_id: string | null;
  action: string;
  program: string | null;
  envelope_id: string | null;
  target_ids: string[];
  summary: Record<string, unknown>;
}

const COLUMNS = `id, at, subject, roles, sender_id, request_id, message_id, action, program, envelope_id,
  target_ids, summary`;

/**
 * Audit rows in id order after `afterId` (keyset paging, so an export of any size reads an index range per
 * chunk), optionally of one envelope.
 */
export async function auditRows(
  db: Queryable,
  options: { envelopeId?: string; afterId?: number; limit: number; newestFirst?: boolean },
): Promise<AuditRow[]> {
  const params: unknown[] = [options.limit];
  const where: string[] = [];
  if (options.envelopeId !== undefined) {
    params.push(options.envelopeId);
    where.push(`envelope_id = $${params.length}`);
  }
  if (options.afterId !== undefined) {
    params.push(options.afterId);
    where.push(options.newestFirst ? `id < $${params.length}` : `id > $${params.length}`);
  }
  const { rows } = await db.query<AuditRow>(
    `SELECT ${COLUMNS} FROM audit_event ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
     ORDER BY id ${options.newestFirst ? 'DESC' : 'ASC'} LIMIT $1`,
    params,
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}
