import type { Queryable } from '../../db/index.js';
import { ident, type QueueSpec, queueStatement } from '../queue.js';

/** Extends the leases `owner` still holds on `keys` (long work: a large statement, a slow bank). */
export async function renewLeases(
  db: Queryable,
  q: QueueSpec,
  owner: string,
  keys: readonly string[],
  leaseSeconds: number,
): Promise<number> {
  const { text, name } = queueStatement(
    q,
    'renew',
    () => `UPDATE ${ident(q.table)}
        SET lease_expires_at = now() + make_interval(secs => $3::double precision)
      WHERE ${ident(q.key)} = ANY($1::text[]) AND lease_owner = $2`,
  );
  const { rowCount } = await db.query(text, [keys, owner, leaseSeconds], { name });
  return rowCount;
}
