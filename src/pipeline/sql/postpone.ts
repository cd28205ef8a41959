import type { Queryable } from '../../db/index.js';
import { ident, type QueueSpec, queueStatement } from '../queue.js';

export interface PostponeParams {
  owner: string;
  /** Why the row waits (its error code column shows it while it waits). */
  reason: string;
  /** Seconds until the row may be claimed again. */
  delaySeconds: number;
}

/**
 * Gives the row back without spending an attempt: the work could not be done yet because something else
 * must happen first (a statement naming a bank batch whose shipping outcome is not known yet). The claim
 * counted an attempt; this takes it back, so waiting never turns a row into ERROR. Guarded by the lease.
 * Returns the status, or null when the lease was lost.
 */
export async function postponeRow(
  db: Queryable,
  q: QueueSpec,
  key: string,
  p: PostponeParams,
): Promise<string | null> {
  const { text, name } = queueStatement(q, 'postpone', () => {
    const attempts = ident(q.attemptsColumn);
    return `UPDATE ${ident(q.table)}
        SET ${attempts} = greatest(${attempts} - 1, 0),
            ${ident(q.errorCodeColumn)} = $3,
            next_attempt_at = now() + make_interval(secs => $4::double precision),
            lease_owner = NULL,
            lease_expires_at = NULL
      WHERE ${ident(q.key)} = $1 AND lease_owner = $2
      RETURNING ${ident(q.statusColumn)} AS status`;
  });
  const { rows } = await db.query<{ status: string }>(text, [key, p.owner, p.reason, p.delaySeconds], {
    name,
  });
  return rows[0]?.status ?? null;
}
