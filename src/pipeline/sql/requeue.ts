import type { Queryable } from '../../db/index.js';
import { ident, type QueueSpec } from '../queue.js';

/**
 * Gives ERROR rows a fresh set of attempts (an operator fixed the cause: topped up the account, repaired the
 * mapper, added the program for a statement's account). Returns the keys requeued; rows not in ERROR are
 * left alone.
 */
export async function requeueErrored(
  db: Queryable,
  q: QueueSpec,
  keys: readonly string[],
): Promise<string[]> {
  const { rows } = await db.query<{ key: string }>(
    `UPDATE ${ident(q.table)}
        SET ${ident(q.statusColumn)} = $2, ${ident(q.attemptsColumn)} = 0, next_attempt_at = now(),
            lease_owner = NULL, lease_expires_at = NULL
      WHERE ${ident(q.key)} = ANY($1::text[]) AND ${ident(q.statusColumn)} = 'ERROR'
      RETURNING ${ident(q.key)} AS key`,
    [keys, q.pendingStatuses[0]],
  );
  return rows.map((r) => r.key);
}
