// A driving table seen as a work queue. Each stage names its table's columns here; the generic SQL in
// ./sql/ (claim, renew, release, expire) is built from these names, so every stage claims, backs off and
// gives up the same way.

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
