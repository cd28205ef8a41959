// Figures read from the bridge's own tables at scrape time. Every stage is driven by a table, so the tables
// are the truth about backlog, throughput (rows done, disbursements shipped and reconciled), attempts and
// errors, whichever process did the work. Only small tables are scanned (batches, envelopes, statements,
// error recons); the per-disbursement tables are never read here.
import type { Queryable } from '../db/index.js';
import type { Family, Sample } from './registry.js';

/** The driving table of each background stage. */
export const STAGES = ['mapper_resolution', 'check_funds', 'block_funds', 'disburse', 'statement'] as const;
export type Stage = (typeof STAGES)[number];

interface StageRow {
  stage: Stage;
  status: string;
  rows: number;
  attempts: number;
  /** Rows of this status still to be done (null for finished statuses). */
  open: number;
  due: number;
  oldest: Date | null;
}

// "Open" rows are the ones the stage will still act on; "due" are those whose next attempt time has come.
const STAGE_SQL = `
SELECT 'mapper_resolution' AS stage, resolution_status AS status, count(*)::int AS rows,
       coalesce(sum(resolution_attempts), 0)::int8 AS attempts,
       count(*) FILTER (WHERE resolution_status = 'PENDING')::int AS open,
       count(*) FILTER (WHERE resolution_status = 'PENDING' AND next_attempt_at <= now())::int AS due,
       min(created_at) FILTER (WHERE resolution_status = 'PENDING') AS oldest
  FROM mapper_resolution_batch_status GROUP BY resolution_status
UNION ALL
SELECT 'disburse', disbursement_status, count(*)::int, coalesce(sum(disbursement_attempts), 0)::int8,
       count(*) FILTER (WHERE disbursement_status = 'PENDING')::int,
       count(*) FILTER (WHERE disbursement_status = 'PENDING' AND next_attempt_at <= now())::int,
       min(created_at) FILTER (WHERE disbursement_status = 'PENDING')
  FROM bank_disbursement_batch_status GROUP BY disbursement_status
UNION ALL
SELECT 'statement', statement_process_status, count(*)::int, coalesce(sum(statement_process_attempts), 0)::int8,
       count(*) FILTER (WHERE statement_process_status = 'PENDING')::int,
       count(*) FILTER (WHERE statement_process_status = 'PENDING' AND next_attempt_at <= now())::int,
       min(statement_upload_timestamp) FILTER (WHERE statement_process_status = 'PENDING')
  FROM account_statement GROUP BY statement_process_status
UNION ALL
SELECT 'check_funds', s.funds_available_with_bank, count(*)::int, coalesce(sum(s.funds_available_attempts), 0)::int8,
       count(*) FILTER (WHERE e.cancellation_status = 'Not_Cancelled'
                        AND s.funds_available_with_bank IN ('PENDING_CHECK', 'FUNDS_NOT_AVAILABLE'))::int,
       count(*) FILTER (WHERE e.cancellation_status = 'Not_Cancelled'
                        AND s.funds_available_with_bank IN ('PENDING_CHECK', 'FUNDS_NOT_AVAILABLE')
                        AND s.next_attempt_at <= now())::int,
       NULL::timestamptz
  FROM disbursement_envelope_batch_status s JOIN disbursement_envelope e USING (disbursement_envelope_id)
 GROUP BY s.funds_available_with_bank
UNION ALL
SELECT 'block_funds', s.funds_blocked_with_bank, count(*)::int, coalesce(sum(s.funds_blocked_attempts), 0)::int8,
       count(*) FILTER (WHERE e.cancellation_status = 'Not_Cancelled'
                        AND s.funds_available_with_bank = 'FUNDS_AVAILABLE'
                        AND s.funds_blocked_with_bank IN ('PENDING_CHECK', 'FUNDS_BLOCK_FAILURE'))::int,
       count(*) FILTER (WHERE e.cancellation_status = 'Not_Cancelled'
                        AND s.funds_available_with_bank = 'FUNDS_AVAILABLE'
                        AND s.funds_blocked_with_bank IN ('PENDING_CHECK', 'FUNDS_BLOCK_FAILURE')
                        AND s.next_attempt_at <= now())::int,
       NULL::timestamptz
  FROM disbursement_envelope_batch_status s JOIN disbursement_envelope e USING (disbursement_envelope_id)
 GROUP BY s.funds_blocked_with_bank`;

// The latest error code each row carries, for rows the stage has not finished successfully.
const ERROR_SQL = `
SELECT 'mapper_resolution' AS stage, latest_error_code AS code, count(*)::int AS rows
  FROM mapper_resolution_batch_status
 WHERE latest_error_code IS NOT NULL AND resolution_status <> 'PROCESSED' GROUP BY latest_error_code
UNION ALL
SELECT 'disburse', latest_error_code, count(*)::int FROM bank_disbursement_batch_status
 WHERE latest_error_code IS NOT NULL AND disbursement_status <> 'PROCESSED' GROUP BY latest_error_code
UNION ALL
SELECT 'statement', statement_process_error_code, count(*)::int FROM account_statement
 WHERE statement_process_error_code IS NOT NULL AND statement_process_status <> 'PROCESSED'
 GROUP BY statement_process_error_code
UNION ALL
SELECT 'check_funds', funds_available_latest_error_code, count(*)::int FROM disbursement_envelope_batch_status
 WHERE funds_available_latest_error_code IS NOT NULL AND funds_available_with_bank <> 'FUNDS_AVAILABLE'
 GROUP BY funds_available_latest_error_code
UNION ALL
SELECT 'block_funds', funds_blocked_latest_error_code, count(*)::int FROM disbursement_envelope_batch_status
 WHERE funds_blocked_latest_error_code IS NOT NULL AND funds_blocked_with_bank <> 'FUNDS_BLOCK_SUCCESS'
 GROUP BY funds_blocked_latest_error_code`;

const ENVELOPE_SQL = `
SELECT e.disbursement_currency_code AS currency,
       count(*) FILTER (WHERE e.cancellation_status = 'Not_Cancelled')::int AS active,
       count(*) FILTER (WHERE e.cancellation_status = 'Cancelled')::int AS cancelled,
       coalesce(sum(s.number_of_disbursements_received), 0)::int8 AS received,
       coalesce(sum(s.total_disbursement_amount_received), 0)::text AS amount_received,
       coalesce(sum(s.number_of_disbursements_shipped), 0)::int8 AS shipped,
       coalesce(sum(s.number_of_disbursements_reconciled), 0)::int8 AS reconciled,
       coalesce(sum(s.number_of_disbursements_reversed), 0)::int8 AS reversed
  FROM disbursement_envelope e JOIN disbursement_envelope_batch_status s USING (disbursement_envelope_id)
 GROUP BY e.disbursement_currency_code`;

const ERROR_RECON_SQL = `SELECT error_reason AS reason, count(*)::int AS rows FROM disbursement_error_recon GROUP BY error_reason`;

// The wallet ledger's open errors (src/payouts/ledger.ts): the partial index keeps this to the open rows.
const LEDGER_ERROR_SQL = `SELECT provider_code AS provider, error_reason AS reason, count(*)::int AS rows
  FROM wallet_ledger_error WHERE resolved_at IS NULL GROUP BY provider_code, error_reason`;

const gauge = (name: string, help: string, samples: Sample[]): Family => ({
  name,
  help,
  type: 'gauge',
  samples,
});
const counter = (name: string, help: string, samples: Sample[]): Family => ({
  name,
  help,
  type: 'counter',
  samples,
});

/** Reads the stage and envelope figures. `now` is the bridge clock (ages of the oldest waiting rows). */
export async function collectDatabase(db: Queryable, now: Date): Promise<Family[]> {
  const stages = (await db.query<StageRow>(STAGE_SQL)).rows;
  const errors = (await db.query<{ stage: Stage; code: string; rows: number }>(ERROR_SQL)).rows;
  const envelopes = (
    await db.query<{
      currency: string;
      active: number;
      cancelled: number;
      received: number;
      amount_received: string;
      shipped: number;
      reconciled: number;
      reversed: number;
    }>(ENVELOPE_SQL)
  ).rows;
  const errorRecons = (await db.query<{ reason: string; rows: number }>(ERROR_RECON_SQL)).rows;
  const ledgerErrors = (await db.query<{ provider: string; reason: string; rows: number }>(LEDGER_ERROR_SQL))
    .rows;

  const perStage = (pick: (rows: StageRow[]) => number): Sample[] =>
    STAGES.map((stage) => ({ labels: { stage }, value: pick(stages.filter((r) => r.stage === stage)) }));
  const sum = (rows: StageRow[], field: 'attempts' | 'open' | 'due') =>
    rows.reduce((total, r) => total + Number(r[field]), 0);

  const oldest = perStage((rows) => {
    const times = rows.map((r) => r.oldest).filter((t): t is Date => t !== null);
    if (times.length === 0) return 0;
    return Math.max(0, (now.getTime() - Math.min(...times.map((t) => new Date(t).getTime()))) / 1000);
  });

  const byCurrency = (field: 'received' | 'shipped' | 'reconciled' | 'reversed') =>
    envelopes.map((e) => ({ labels: { currency: e.currency.trim() }, value: Number(e[field]) }));

  return [
    gauge(
      'g2p_stage_rows',
      'Rows of each stage driving table by status (batches, envelopes, statements).',
      stages.map((r) => ({ labels: { stage: r.stage, status: r.status }, value: r.rows })),
    ),
    gauge(
      'g2p_stage_backlog',
      'Rows a stage still has to act on (pending, or retrying below the attempt limit).',
      perStage((rows) => sum(rows, 'open')),
    ),
    gauge(
      'g2p_stage_backlog_due',
      'Backlog rows whose next attempt time has come.',
      perStage((rows) => sum(rows, 'due')),
    ),
    gauge(
      'g2p_stage_backlog_oldest_seconds',
      'Age of the oldest pending batch or statement (0 when none waits).',
      oldest.filter((s) => ['mapper_resolution', 'disburse', 'statement'].includes(s.labels.stage!)),
    ),
    counter(
      'g2p_stage_attempts_total',
      'Attempts recorded on the stage driving rows.',
      perStage((rows) => sum(rows, 'attempts')),
    ),
    gauge(
      'g2p_stage_errors',
      'Unfinished rows whose latest attempt failed, by stage and error code.',
      errors.map((e) => ({ labels: { stage: e.stage, code: e.code }, value: e.rows })),
    ),
    gauge(
      'g2p_envelopes',
      'Disbursement envelopes by cancellation status.',
      envelopes.flatMap((e) => [
        { labels: { currency: e.currency.trim(), status: 'active' }, value: e.active },
        { labels: { currency: e.currency.trim(), status: 'cancelled' }, value: e.cancelled },
      ]),
    ),
    gauge(
      'g2p_disbursements_received',
      'Disbursements received and not cancelled (envelope counters).',
      byCurrency('received'),
    ),
    gauge(
      'g2p_disbursement_amount_received',
      'Amount received and not cancelled, in major units of the currency (for graphs; the API has the exact figure).',
      envelopes.map((e) => ({ labels: { currency: e.currency.trim() }, value: Number(e.amount_received) })),
    ),
    counter(
      'g2p_disbursements_shipped_total',
      'Disbursements handed to the sponsor bank.',
      byCurrency('shipped'),
    ),
    counter(
      'g2p_disbursements_reconciled_total',
      'Disbursements matched to a debit on a bank statement.',
      byCurrency('reconciled'),
    ),
    counter(
      'g2p_disbursements_reversed_total',
      'Disbursements whose debit the bank reversed.',
      byCurrency('reversed'),
    ),
    gauge(
      'g2p_error_recons',
      'Statement entries that could not be reconciled, by reason.',
      errorRecons.map((r) => ({ labels: { reason: r.reason }, value: r.rows })),
    ),
    gauge(
      'g2p_wallet_ledger_errors',
      "Open contradictions between a wallet provider's ledger and the bridge, by provider and reason.",
      ledgerErrors.map((r) => ({ labels: { provider: r.provider, reason: r.reason }, value: r.rows })),
    ),
  ];
}
