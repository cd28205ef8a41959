import type { Queryable } from '../../db/index.js';
import { ident, type QueueSpec, queueStatement } from '../queue.js';

export interface ClaimedRow {
  key: string;
  /** Attempts including this one (the claim counts it, so a worker that dies mid-work still used one). */
  attempts: number;
}

export interface ClaimParams {
  owner: string;
  leaseSeconds: number;
  limit: number;
  maxAttempts: number;
  today: string;
}

/**
 * Claims up to `limit` eligible rows for `owner`: the inner SELECT locks candidates with SKIP LOCKED (a row
 * another worker is claiming right now is passed over, not waited for), the UPDATE stamps the lease and
 * counts the attempt, all in one statement and so in one short transaction. The work happens afterwards,
 * outside any transaction; a row whose lease has run out (its worker died) is eligible again.
 */
export async function claimRows(db: Queryable, q: QueueSpec, p: ClaimParams): Promise<ClaimedRow[]> {
  const { text, name } = queueStatement(q, 'claim', () => {
    const key = ident(q.key);
    const table = ident(q.table);
    const attempts = ident(q.attemptsColumn);
    return `
    WITH picked AS (
      SELECT q.${key} AS k
        FROM ${table} q, (SELECT $5::date AS today) p
       WHERE q.${ident(q.statusColumn)} = ANY($6::text[])
         AND q.next_attempt_at <= now()
         AND (q.lease_expires_at IS NULL OR q.lease_expires_at <= now())
         AND q.${attempts} < $4
         AND (${q.eligible})
       ORDER BY q.next_attempt_at${q.orderBy ? `, ${q.orderBy}` : ''}, q.${key}
       LIMIT $3
         FOR UPDATE OF q SKIP LOCKED)
    UPDATE ${table} t
       SET lease_owner = $1,
           lease_expires_at = now() + make_interval(secs => $2::double precision),
           ${attempts} = t.${attempts} + 1
      FROM picked
     WHERE t.${key} = picked.k
    RETURNING t.${key} AS key, t.${attempts} AS attempts`;
  });
  const { rows } = await db.query<ClaimedRow>(
    text,
    [p.owner, p.leaseSeconds, p.limit, p.maxAttempts, p.today, q.pendingStatuses],
    { name },
  );
  return rows;
}
