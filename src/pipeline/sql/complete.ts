import type { Queryable, QueryResult } from '../../db/index.js';
import { ident, type QueueSpec, queueStatement } from '../queue.js';

export interface SuccessParams {
  owner: string;
  /** The status the row reaches, the stage's own done state (PROCESSED, FUNDS_AVAILABLE, ...). */
  status: string;
  /** Further assignments of this stage, over parameters $3 onwards (e.g. `funds_blocked_reference_number = $3`). */
  set?: string;
  /** A further guard beside the lease (e.g. `reconcile_cursor = $3`). */
  where?: string;
  /** A RETURNING list, when the caller needs the row (e.g. `disbursement_envelope_id AS envelope`). */
  returning?: string;
  /** The values of $3 onwards. */
  params?: readonly unknown[];
}

/**
 * Records a successful attempt, the sibling of releaseFailure: the row takes the stage's done status, its
 * error code and message are cleared, its timestamp is now, and the lease is given up. Guarded by the lease:
 * a worker that lost its lease changes nothing (rowCount 0; callers pass the result to `expectLease`).
 * next_attempt_at becomes now, so a later stage driving another status column of the same table (block
 * funds after check funds) may take the row at once.
 */
export async function completeSuccess<T = Record<string, unknown>>(
  db: Queryable,
  q: QueueSpec,
  key: string,
  p: SuccessParams,
): Promise<QueryResult<T>> {
  if (!/^[A-Z][A-Z_]*$/.test(p.status)) throw new Error(`bad status ${p.status}`);
  const variant = `complete:${p.status}|${p.set ?? ''}|${p.where ?? ''}|${p.returning ?? ''}`;
  const { text, name } = queueStatement(q, variant, () => {
    const message = q.errorMessageColumn ? `, ${ident(q.errorMessageColumn)} = NULL` : '';
    return `UPDATE ${ident(q.table)}
        SET ${ident(q.statusColumn)} = '${p.status}',
            ${ident(q.timestampColumn)} = now(),
            ${ident(q.errorCodeColumn)} = NULL${message},
            next_attempt_at = now(),
            lease_owner = NULL,
            lease_expires_at = NULL${p.set ? `,\n            ${p.set}` : ''}
      WHERE ${ident(q.key)} = $1 AND lease_owner = $2${p.where ? ` AND ${p.where}` : ''}${
        p.returning ? `\n      RETURNING ${p.returning}` : ''
      }`;
  });
  return db.query<T>(text, [key, p.owner, ...(p.params ?? [])], { name });
}
