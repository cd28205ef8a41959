// A driving table seen as a work queue. Each stage names its table's columns here; the generic SQL in
// ./sql/ (claim, renew, release, complete, expire) is built from these names, so every stage claims, backs
// off, succeeds and gives up the same way.
import { createHash } from 'node:crypto';

export interface QueueSpec {
  /** Stage name, used in logs and as the key of `runOnce` results. */
  stage: string;
  table: string;
  key: string;
  /** The status column this stage drives (two stages may share a table, each with its own column). */
  statusColumn: string;
  /** Statuses in which a row waits for this stage (PENDING, or a retryable business failure). */
  pendingStatuses: readonly string[];
  attemptsColumn: string;
  errorCodeColumn: string;
  timestampColumn: string;
  errorMessageColumn?: string;
  /**
   * Further eligibility, SQL over the alias `q`; `p.today` is today's date in the deployment's time zone
   * (for schedule dates).
   */
  eligible: string;
  /** Extra ordering after next_attempt_at (e.g. statements in upload order). */
  orderBy?: string;
}

/** Identifiers come from the stage definitions above, never from input; this guards against typos. */
export function ident(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad SQL identifier ${name}`);
  return name;
}

/** One queue statement: its SQL text, built once per queue, and the name PostgreSQL prepares it under. */
export interface QueueStatement {
  text: string;
  name: string;
}

const statements = new WeakMap<QueueSpec, Map<string, QueueStatement>>();

/**
 * The statement `variant` of queue `q`, built the first time it is asked for and kept: the hot queries
 * (claim, expire, renew, release, complete) run on every poll, so their text is built once and PostgreSQL
 * prepares each once per connection. The name carries a hash of the text, so two texts never share a name.
 */
export function queueStatement(q: QueueSpec, variant: string, build: () => string): QueueStatement {
  let byVariant = statements.get(q);
  if (!byVariant) {
    byVariant = new Map();
    statements.set(q, byVariant);
  }
  let statement = byVariant.get(variant);
  if (!statement) {
    const text = build();
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 12);
    // PostgreSQL keeps 63 bytes of a name; the operation's word before the colon is enough to read it.
    const name = `${q.stage}_${variant.split(':')[0]}_${hash}`.slice(0, 63);
    statement = { text, name };
    byVariant.set(variant, statement);
  }
  return statement;
}
