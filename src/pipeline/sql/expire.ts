import type { Queryable } from '../../db/index.js';
import { ident, type QueueSpec, queueStatement } from '../queue.js';

/**
 * Rows whose worker died on their last allowed attempt: the lease ran out and no attempt is left, so no
 * claim will ever pick them up again. They become ERROR (LEASE_EXPIRED) so an operator sees them.
 */
export async function expireAbandoned(db: Queryable, q: QueueSpec, maxAttempts: number): Promise<number> {
  const { text, name } = queueStatement(
    q,
    'expire',
    () => `UPDATE ${ident(q.table)}
        SET ${ident(q.statusColumn)} = 'ERROR',
            ${ident(q.errorCodeColumn)} = 'LEASE_EXPIRED',
            ${ident(q.timestampColumn)} = now(),
            lease_owner = NULL,
            lease_expires_at = NULL
      WHERE ${ident(q.statusColumn)} = ANY($1::text[])
        AND lease_expires_at <= now()
        AND ${ident(q.attemptsColumn)} >= $2`,
  );
  const { rowCount } = await db.query(text, [q.pendingStatuses, maxAttempts], { name });
  return rowCount;
}
