import type { Queryable } from '../../db/index.js';
import { ident, type QueueSpec, queueStatement } from '../queue.js';

export interface FailureParams {
  owner: string;
  errorCode: string;
  message?: string;
  /** Status the row waits in for its next attempt (defaults to the first pending status). */
  retryStatus?: string;
  /** True: no retry (the input itself is wrong); the row becomes ERROR now. */
  permanent?: boolean;
  maxAttempts: number;
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
}

/**
 * Records a failed attempt and gives the row back: ERROR once its attempts reach the limit (or at once when
 * the failure is permanent), else back to `retryStatus` with next_attempt_at = now() + base * 2^(attempts-1),
 * capped. Guarded by the lease: a worker that lost its lease changes nothing. Returns the new status, or null
 * when the lease was lost.
 */
export async function releaseFailure(
  db: Queryable,
  q: QueueSpec,
  key: string,
  p: FailureParams,
): Promise<string | null> {
  const { text, name } = queueStatement(q, 'release', () => {
    const status = ident(q.statusColumn);
    const attempts = ident(q.attemptsColumn);
    const message = q.errorMessageColumn ? `, ${ident(q.errorMessageColumn)} = $9` : '';
    return `UPDATE ${ident(q.table)}
        SET ${status} = CASE WHEN $7::boolean OR ${attempts} >= $4 THEN 'ERROR' ELSE $5 END,
            ${ident(q.errorCodeColumn)} = $3,
            ${ident(q.timestampColumn)} = now(),
            next_attempt_at = now() + make_interval(secs =>
              least($8::double precision, $6::double precision * power(2, greatest(${attempts} - 1, 0)))),
            lease_owner = NULL,
            lease_expires_at = NULL${message}
      WHERE ${ident(q.key)} = $1 AND lease_owner = $2
      RETURNING ${status} AS status`;
  });
  const { rows } = await db.query<{ status: string }>(
    text,
    [
      key,
      p.owner,
      p.errorCode,
      p.maxAttempts,
      p.retryStatus ?? q.pendingStatuses[0],
      p.backoffBaseSeconds,
      p.permanent ?? false,
      p.backoffMaxSeconds,
      ...(q.errorMessageColumn ? [p.message ?? null] : []),
    ],
    { name },
  );
  return rows[0]?.status ?? null;
}
