// What the dashboard reads. Set-based: one grouped query per figure, never one query per row shown. The
// lifecycle view is the one place where a disbursement's state is decided, so every count of states comes
// from it.
import { auditRows } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import { emptyCounts, type LifecycleState, type StateCounts } from '../envelopes/lifecycle.js';
import { decimalToMinor, formatMinorUnits } from '../money/index.js';
import { PAYOUT_CHANNEL, PAYOUT_CHANNEL_JOINS } from '../payouts/channels.js';

// The lifecycle counts live with the disbursements; the dashboard's modules read them through here.
export {
  emptyCounts,
  LIFECYCLE_STATES,
  type LifecycleState,
  lifecycleCounts,
  type StateCount,
  type StateCounts,
} from '../envelopes/lifecycle.js';

export interface EnvelopeRow {
  disbursement_envelope_id: string;
  benefit_program_mnemonic: string;
  benefit_program_name: string;
  id_mapper_resolution_required: boolean;
  sponsor_bank_code: string;
  sponsor_bank_account_number: string;
  disbursement_frequency: string;
  cycle_code_mnemonic: string;
  number_of_beneficiaries: number;
  number_of_disbursements: number;
  total_disbursement_amount: string;
  disbursement_currency_code: string;
  disbursement_schedule_date: string;
  receipt_time_stamp: Date;
  cancellation_status: string;
  cancellation_time_stamp: Date | null;
  number_of_disbursements_received: number;
  total_disbursement_amount_received: string;
  funds_available_with_bank: string;
  funds_available_latest_timestamp: Date | null;
  funds_available_latest_error_code: string | null;
  funds_available_attempts: number;
  funds_blocked_with_bank: string;
  funds_blocked_latest_timestamp: Date | null;
  funds_blocked_latest_error_code: string | null;
  funds_blocked_attempts: number;
  funds_blocked_reference_number: string | null;
  number_of_disbursements_shipped: number;
  number_of_disbursements_reconciled: number;
  number_of_disbursements_reversed: number;
  next_attempt_at: Date;
}

const ENVELOPE_COLUMNS = `
  e.disbursement_envelope_id, e.benefit_program_mnemonic, p.benefit_program_name, p.id_mapper_resolution_required,
  p.sponsor_bank_code, p.sponsor_bank_account_number, e.disbursement_frequency, e.cycle_code_mnemonic,
  e.number_of_beneficiaries, e.number_of_disbursements, e.total_disbursement_amount::text AS total_disbursement_amount,
  trim(e.disbursement_currency_code) AS disbursement_currency_code, e.disbursement_schedule_date,
  e.receipt_time_stamp, e.cancellation_status, e.cancellation_time_stamp,
  s.number_of_disbursements_received, s.total_disbursement_amount_received::text AS total_disbursement_amount_received,
  s.funds_available_with_bank, s.funds_available_latest_timestamp, s.funds_available_latest_error_code,
  s.funds_available_attempts, s.funds_blocked_with_bank, s.funds_blocked_latest_timestamp,
  s.funds_blocked_latest_error_code, s.funds_blocked_attempts, s.funds_blocked_reference_number,
  s.number_of_disbursements_shipped, s.number_of_disbursements_reconciled, s.number_of_disbursements_reversed,
  s.next_attempt_at`;

const ENVELOPE_FROM = `
  FROM disbursement_envelope e
  JOIN disbursement_envelope_batch_status s ON s.disbursement_envelope_id = e.disbursement_envelope_id
  JOIN benefit_program p ON p.benefit_program_mnemonic = e.benefit_program_mnemonic`;

export interface EnvelopeFilter {
  program?: string;
  limit: number;
  offset: number;
}

export async function listEnvelopes(db: Queryable, filter: EnvelopeFilter) {
  const { rows } = await db.query<EnvelopeRow>(
    `SELECT ${ENVELOPE_COLUMNS} ${ENVELOPE_FROM}
      WHERE ($1::text IS NULL OR e.benefit_program_mnemonic = $1)
      ORDER BY e.receipt_time_stamp DESC, e.disbursement_envelope_id
      LIMIT $2 OFFSET $3`,
    [filter.program ?? null, filter.limit + 1, filter.offset],
  );
  return { envelopes: rows.slice(0, filter.limit), more: rows.length > filter.limit };
}

export async function getEnvelope(db: Queryable, id: string): Promise<EnvelopeRow | null> {
  const { rows } = await db.query<EnvelopeRow>(
    `SELECT ${ENVELOPE_COLUMNS} ${ENVELOPE_FROM} WHERE e.disbursement_envelope_id = $1`,
    [id],
  );
  return rows[0] ?? null;
}

export interface BatchProgress {
  mapperTotal: number;
  mapperProcessed: number;
  mapperError: number;
  /** Pending batches whose latest attempt failed (they will be retried), and the latest such error code. */
  mapperRetrying: number;
  mapperRetryCode: string | null;
  bankTotal: number;
  bankProcessed: number;
  bankError: number;
  bankRetrying: number;
  bankRetryCode: string | null;
}

function emptyProgress(): BatchProgress {
  return {
    mapperTotal: 0,
    mapperProcessed: 0,
    mapperError: 0,
    mapperRetrying: 0,
    mapperRetryCode: null,
    bankTotal: 0,
    bankProcessed: 0,
    bankError: 0,
    bankRetrying: 0,
    bankRetryCode: null,
  };
}

/** Batch counts by status per envelope (the mapper and bank stages). */
export async function batchProgress(
  db: Queryable,
  envelopeIds: string[],
): Promise<Map<string, BatchProgress>> {
  const out = new Map<string, BatchProgress>(envelopeIds.map((id) => [id, emptyProgress()]));
  if (envelopeIds.length === 0) return out;
  const { rows } = await db.query<{
    envelope: string;
    kind: 'mapper' | 'bank';
    status: string;
    count: number;
    retrying: number;
    code: string | null;
  }>(
    `SELECT disbursement_envelope_id AS envelope, 'mapper' AS kind, resolution_status AS status, count(*)::int AS count,
            count(latest_error_code)::int AS retrying, max(latest_error_code) AS code
       FROM mapper_resolution_batch_status WHERE disbursement_envelope_id = ANY($1::text[]) GROUP BY 1, 3
     UNION ALL
     SELECT disbursement_envelope_id, 'bank', disbursement_status, count(*)::int,
            count(latest_error_code)::int, max(latest_error_code)
       FROM bank_disbursement_batch_status WHERE disbursement_envelope_id = ANY($1::text[]) GROUP BY 1, 3`,
    [envelopeIds],
  );
  for (const r of rows) {
    const p = out.get(r.envelope);
    if (!p) continue;
    const pending = r.status === 'PENDING';
    if (r.kind === 'mapper') {
      p.mapperTotal += r.count;
      if (r.status === 'PROCESSED') p.mapperProcessed += r.count;
      if (r.status === 'ERROR') p.mapperError += r.count;
      if (pending && r.retrying) {
        p.mapperRetrying += r.retrying;
        p.mapperRetryCode = r.code;
      }
    } else {
      p.bankTotal += r.count;
      if (r.status === 'PROCESSED') p.bankProcessed += r.count;
      if (r.status === 'ERROR') p.bankError += r.count;
      if (pending && r.retrying) {
        p.bankRetrying += r.retrying;
        p.bankRetryCode = r.code;
      }
    }
  }
  return out;
}

export interface BatchRow {
  batch_id: string;
  status: string;
  attempts: number;
  latest_error_code: string | null;
  time_stamp: Date | null;
  next_attempt_at: Date;
  created_at: Date;
}

export interface EnvelopeBreakdown {
  /** Per lifecycle state and reason (reversal or unresolved reason). */
  byStateReason: Array<{ state: LifecycleState; reason: string | null; count: number; amount: string }>;
  /** Per bank batch and state. */
  byBankBatch: Map<string, StateCounts>;
  /** Per mapper batch and state. */
  byMapperBatch: Map<string, StateCounts>;
  /** Per payout channel ('BANK' or a wallet provider code; '' not decided yet) and state. */
  byChannel: Map<string, StateCounts>;
}

/** One pass over the envelope's disbursements, grouped finely enough for every table of its page. */
export async function envelopeBreakdown(db: Queryable, envelopeId: string): Promise<EnvelopeBreakdown> {
  const { rows } = await db.query<{
    bank_batch: string;
    mapper_batch: string;
    state: LifecycleState;
    reason: string | null;
    channel: string;
    count: number;
    amount: string;
  }>(
    `SELECT d.bank_disbursement_batch_id AS bank_batch, d.mapper_resolution_batch_id AS mapper_batch,
            l.lifecycle_status AS state, l.lifecycle_reason AS reason, coalesce(${PAYOUT_CHANNEL}, '') AS channel,
            count(*)::int AS count, sum(d.disbursement_amount)::text AS amount
       FROM disbursement d
       JOIN disbursement_lifecycle l ON l.disbursement_id = d.disbursement_id
       ${PAYOUT_CHANNEL_JOINS}
      WHERE d.disbursement_envelope_id = $1
      GROUP BY 1, 2, 3, 4, 5`,
    [envelopeId],
  );
  const byStateReason = new Map<
    string,
    { state: LifecycleState; reason: string | null; parts: string[]; count: number }
  >();
  const byBankBatch = new Map<string, StateCounts>();
  const byMapperBatch = new Map<string, StateCounts>();
  const byChannel = new Map<string, StateCounts>();
  const add = (
    map: Map<string, StateCounts>,
    key: string,
    state: LifecycleState,
    count: number,
    amount: string,
  ) => {
    let counts = map.get(key);
    if (!counts) {
      counts = emptyCounts();
      map.set(key, counts);
    }
    counts[state].count += count;
    counts[state].amount = addDecimal(counts[state].amount, amount);
  };
  for (const r of rows) {
    const key = `${r.state}\u0000${r.reason ?? ''}`;
    const entry = byStateReason.get(key) ?? { state: r.state, reason: r.reason, parts: [], count: 0 };
    entry.count += r.count;
    entry.parts.push(r.amount);
    byStateReason.set(key, entry);
    add(byBankBatch, r.bank_batch, r.state, r.count, r.amount);
    add(byMapperBatch, r.mapper_batch, r.state, r.count, r.amount);
    add(byChannel, r.channel, r.state, r.count, r.amount);
  }
  return {
    byStateReason: [...byStateReason.values()].map((e) => ({
      state: e.state,
      reason: e.reason,
      count: e.count,
      amount: e.parts.reduce(addDecimal, '0'),
    })),
    byBankBatch,
    byMapperBatch,
    byChannel,
  };
}

/** Exact addition of two decimal strings of any scale (amount sums of several groups). */
export function addDecimal(a: string, b: string): string {
  const scale = Math.max(decimals(a), decimals(b));
  return formatMinorUnits(decimalToMinor(a, scale) + decimalToMinor(b, scale), scale);
}

function decimals(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

export async function mapperBatches(db: Queryable, envelopeId: string) {
  const { rows } = await db.query<BatchRow & { resolved: number; unresolved: number }>(
    `SELECT b.mapper_resolution_batch_id AS batch_id, b.resolution_status AS status,
            b.resolution_attempts AS attempts, b.latest_error_code, b.resolution_time_stamp AS time_stamp,
            b.next_attempt_at, b.created_at,
            coalesce(m.resolved, 0)::int AS resolved, coalesce(m.unresolved, 0)::int AS unresolved
       FROM mapper_resolution_batch_status b
       LEFT JOIN (SELECT mapper_resolution_batch_id, count(*) FILTER (WHERE resolved) AS resolved,
                         count(*) FILTER (WHERE NOT resolved) AS unresolved
                    FROM mapper_resolution_details
                   WHERE mapper_resolution_batch_id IN
                         (SELECT mapper_resolution_batch_id FROM mapper_resolution_batch_status
                           WHERE disbursement_envelope_id = $1)
                   GROUP BY 1) m ON m.mapper_resolution_batch_id = b.mapper_resolution_batch_id
      WHERE b.disbursement_envelope_id = $1
      ORDER BY b.created_at, b.mapper_resolution_batch_id`,
    [envelopeId],
  );
  return rows;
}

export async function bankBatches(db: Queryable, envelopeId: string) {
  const { rows } = await db.query<BatchRow>(
    `SELECT bank_disbursement_batch_id AS batch_id, disbursement_status AS status,
            disbursement_attempts AS attempts, latest_error_code, disbursement_time_stamp AS time_stamp,
            next_attempt_at, created_at
       FROM bank_disbursement_batch_status
      WHERE disbursement_envelope_id = $1
      ORDER BY created_at, bank_disbursement_batch_id`,
    [envelopeId],
  );
  return rows;
}

export interface ErrorReconRow {
  id: number;
  statement_id: string;
  statement_number: string | null;
  statement_sequence: string | null;
  entry_sequence: number;
  entry_date: string | null;
  value_date: string | null;
  error_reason: string;
  disbursement_id: string | null;
  bank_reference_number: string | null;
  /** What the bank wrote (exact decimal text and currency); null on rows older than these columns. */
  entry_amount: string | null;
  entry_currency: string | null;
  created_at: Date;
}

const ERROR_RECON_COLUMNS = `er.id, er.statement_id, er.statement_number, er.statement_sequence, er.entry_sequence,
  er.entry_date, er.value_date, er.error_reason, er.disbursement_id, er.bank_reference_number,
  er.entry_amount::text AS entry_amount, er.entry_currency, er.created_at`;

/** Error recons that name a disbursement of the envelope (duplicates, reversals without a debit). */
export async function envelopeErrorRecons(db: Queryable, envelopeId: string, limit: number) {
  const { rows } = await db.query<ErrorReconRow>(
    `SELECT ${ERROR_RECON_COLUMNS}
       FROM disbursement_error_recon er
       JOIN disbursement d ON d.disbursement_id = er.disbursement_id
      WHERE d.disbursement_envelope_id = $1
      ORDER BY er.created_at, er.id
      LIMIT $2`,
    [envelopeId, limit],
  );
  return rows;
}

export interface StatementRow {
  statement_id: string;
  account_number: string | null;
  benefit_program_mnemonic: string | null;
  reference_number: string | null;
  statement_number: string | null;
  sequence_number: string | null;
  statement_date: string | null;
  size_bytes: number;
  content_sha256: string;
  uploaded_by: string | null;
  statement_upload_timestamp: Date;
  statement_process_status: string;
  statement_process_error_code: string | null;
  statement_process_error_message: string | null;
  statement_process_timestamp: Date | null;
  statement_process_attempts: number;
  duplicate_of_statement_id: string | null;
  error_recons: number;
}

const STATEMENT_SELECT = `
  SELECT s.statement_id, s.account_number, p.benefit_program_mnemonic, s.reference_number, s.statement_number,
         s.sequence_number, s.statement_date, s.size_bytes, s.content_sha256, s.uploaded_by,
         s.statement_upload_timestamp, s.statement_process_status, s.statement_process_error_code,
         s.statement_process_error_message, s.statement_process_timestamp, s.statement_process_attempts,
         s.duplicate_of_statement_id,
         (SELECT count(*)::int FROM disbursement_error_recon er WHERE er.statement_id = s.statement_id) AS error_recons
    FROM account_statement s
    LEFT JOIN benefit_program p ON p.sponsor_bank_account_number = s.account_number`;

export async function listStatements(db: Queryable, limit: number, offset: number) {
  const { rows } = await db.query<StatementRow>(
    `${STATEMENT_SELECT} ORDER BY s.statement_upload_timestamp DESC, s.statement_id LIMIT $1 OFFSET $2`,
    [limit + 1, offset],
  );
  return { statements: rows.slice(0, limit), more: rows.length > limit };
}

export async function getStatement(db: Queryable, id: string) {
  const { rows } = await db.query<StatementRow>(`${STATEMENT_SELECT} WHERE s.statement_id = $1`, [id]);
  const statement = rows[0];
  if (!statement) return null;
  const counts = await db.query<{ debits: number; reversals: number }>(
    `SELECT (SELECT count(*)::int FROM disbursement_recon WHERE remittance_statement_id = $1) AS debits,
            (SELECT count(*)::int FROM disbursement_recon WHERE reversal_statement_id = $1) AS reversals`,
    [id],
  );
  const errors = await db.query<ErrorReconRow>(
    `SELECT ${ERROR_RECON_COLUMNS} FROM disbursement_error_recon er WHERE er.statement_id = $1
      ORDER BY er.entry_sequence LIMIT 1000`,
    [id],
  );
  return { statement, matched: counts.rows[0]!, errorRecons: errors.rows };
}

export async function statementText(db: Queryable, id: string): Promise<string | null> {
  const { rows } = await db.query<{ statement_lob: string }>(
    'SELECT statement_lob FROM account_statement_lob WHERE statement_id = $1',
    [id],
  );
  return rows[0]?.statement_lob ?? null;
}

export interface DisbursementDetail {
  disbursement: {
    disbursement_id: string;
    disbursement_envelope_id: string;
    mapper_resolution_batch_id: string;
    bank_disbursement_batch_id: string;
    mis_reference_number: string | null;
    beneficiary_id: string;
    beneficiary_name: string;
    disbursement_amount: string;
    disbursement_currency_code: string;
    narrative: string;
    receipt_time_stamp: Date;
    cancellation_status: string;
    cancellation_time_stamp: Date | null;
    lifecycle_status: LifecycleState;
    lifecycle_reason: string | null;
    /** 'BANK' or the wallet provider code; null while not resolved. */
    payout_channel: string | null;
    refused_by: string | null;
    /** A wallet provider's GSMA error category, for a payment it rejected. */
    refusal_error_category: string | null;
  };
  resolution: {
    resolved: boolean;
    unresolved_reason: string | null;
    mapper_resolved_fa_type: string | null;
    bank_code: string | null;
    branch_code: string | null;
    mobile_wallet_provider: string | null;
    email_wallet_provider: string | null;
    resolved_at: Date;
  } | null;
  recon: {
    remittance_reference_number: string;
    remittance_statement_id: string;
    remittance_statement_number: string | null;
    remittance_statement_sequence: string | null;
    remittance_entry_sequence: number;
    remittance_entry_date: string | null;
    remittance_value_date: string | null;
    beneficiary_name_from_bank: string | null;
    reversal_found: boolean;
    reversal_statement_id: string | null;
    reversal_entry_sequence: number | null;
    reversal_entry_date: string | null;
    reversal_reason: string | null;
  } | null;
  errorRecons: ErrorReconRow[];
}

export async function getDisbursement(db: Queryable, id: string): Promise<DisbursementDetail | null> {
  const { rows } = await db.query<DisbursementDetail['disbursement']>(
    `SELECT d.disbursement_id, d.disbursement_envelope_id, d.mapper_resolution_batch_id,
            d.bank_disbursement_batch_id, d.mis_reference_number, d.beneficiary_id, d.beneficiary_name,
            d.disbursement_amount::text AS disbursement_amount,
            trim(e.disbursement_currency_code) AS disbursement_currency_code, d.narrative, d.receipt_time_stamp,
            d.cancellation_status, d.cancellation_time_stamp, l.lifecycle_status, l.lifecycle_reason,
            ${PAYOUT_CHANNEL} AS payout_channel, x.refused_by,
            CASE WHEN x.refused_by = 'WALLET_PROVIDER' THEN w.error_category END AS refusal_error_category
       FROM disbursement d
       ${PAYOUT_CHANNEL_JOINS}
       JOIN disbursement_lifecycle l ON l.disbursement_id = d.disbursement_id
       LEFT JOIN disbursement_bank_refusal x ON x.disbursement_id = d.disbursement_id
      WHERE d.disbursement_id = $1`,
    [id],
  );
  const disbursement = rows[0];
  if (!disbursement) return null;
  const resolution = await db.query<NonNullable<DisbursementDetail['resolution']>>(
    `SELECT resolved, unresolved_reason, mapper_resolved_fa_type, bank_code, branch_code, mobile_wallet_provider,
            email_wallet_provider, resolved_at
       FROM mapper_resolution_details WHERE disbursement_id = $1`,
    [id],
  );
  const recon = await db.query<NonNullable<DisbursementDetail['recon']>>(
    `SELECT remittance_reference_number, remittance_statement_id, remittance_statement_number,
            remittance_statement_sequence, remittance_entry_sequence, remittance_entry_date, remittance_value_date,
            beneficiary_name_from_bank, reversal_found, reversal_statement_id, reversal_entry_sequence,
            reversal_entry_date, reversal_reason
       FROM disbursement_recon WHERE disbursement_id = $1`,
    [id],
  );
  const errors = await db.query<ErrorReconRow>(
    `SELECT ${ERROR_RECON_COLUMNS} FROM disbursement_error_recon er WHERE er.disbursement_id = $1
      ORDER BY er.created_at, er.id`,
    [id],
  );
  return {
    disbursement,
    resolution: resolution.rows[0] ?? null,
    recon: recon.rows[0] ?? null,
    errorRecons: errors.rows,
  };
}

/** Columns of the per-disbursement CSV, in order. */
export const CSV_COLUMNS = [
  'disbursement_id',
  'mis_reference_number',
  'beneficiary_id',
  'disbursement_amount',
  'currency',
  'lifecycle_status',
  'lifecycle_reason',
  'mapper_resolution_batch_id',
  'bank_disbursement_batch_id',
  'resolved_fa_type',
  'bank_reference_number',
  'remittance_statement_id',
  'remittance_entry_date',
  'reversal_statement_id',
  'reversal_entry_date',
] as const;

export type CsvRow = Record<(typeof CSV_COLUMNS)[number], string | null>;

/** The bank batches of an envelope in a stable order: the CSV is read one batch (one indexed query) at a time. */
export async function envelopeBankBatchIds(db: Queryable, envelopeId: string): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT bank_disbursement_batch_id AS id FROM bank_disbursement_batch_status
      WHERE disbursement_envelope_id = $1 ORDER BY created_at, bank_disbursement_batch_id`,
    [envelopeId],
  );
  return rows.map((r) => r.id);
}

export async function csvRowsOfBatch(db: Queryable, bankBatchId: string): Promise<CsvRow[]> {
  const { rows } = await db.query<CsvRow>(
    `SELECT d.disbursement_id, d.mis_reference_number, d.beneficiary_id,
            d.disbursement_amount::text AS disbursement_amount, trim(e.disbursement_currency_code) AS currency,
            l.lifecycle_status, l.lifecycle_reason, d.mapper_resolution_batch_id, d.bank_disbursement_batch_id,
            m.mapper_resolved_fa_type AS resolved_fa_type, r.remittance_reference_number AS bank_reference_number,
            r.remittance_statement_id, r.remittance_entry_date::text AS remittance_entry_date,
            r.reversal_statement_id, r.reversal_entry_date::text AS reversal_entry_date
       FROM disbursement d
       JOIN disbursement_envelope e ON e.disbursement_envelope_id = d.disbursement_envelope_id
       JOIN disbursement_lifecycle l ON l.disbursement_id = d.disbursement_id
       LEFT JOIN mapper_resolution_details m ON m.disbursement_id = d.disbursement_id
       LEFT JOIN disbursement_recon r ON r.disbursement_id = d.disbursement_id
      WHERE d.bank_disbursement_batch_id = $1
      ORDER BY d.disbursement_id`,
    [bankBatchId],
  );
  return rows;
}

/** Statements waiting for the statement stage, and those it gave up on (all accounts). */
export async function statementBacklog(db: Queryable): Promise<{ pending: number; error: number }> {
  const { rows } = await db.query<{ pending: number; error: number }>(
    `SELECT count(*) FILTER (WHERE statement_process_status = 'PENDING')::int AS pending,
            count(*) FILTER (WHERE statement_process_status = 'ERROR')::int AS error
       FROM account_statement`,
  );
  return rows[0] ?? { pending: 0, error: 0 };
}

/** Statements of one account by status, and their unmatched entries. */
export async function accountStatements(db: Queryable, account: string) {
  const { rows } = await db.query<{
    processed: number;
    pending: number;
    error: number;
    error_recons: number;
  }>(
    `SELECT count(*) FILTER (WHERE statement_process_status = 'PROCESSED')::int AS processed,
            count(*) FILTER (WHERE statement_process_status = 'PENDING')::int AS pending,
            count(*) FILTER (WHERE statement_process_status = 'ERROR')::int AS error,
            (SELECT count(*)::int FROM disbursement_error_recon er
               JOIN account_statement s2 ON s2.statement_id = er.statement_id
              WHERE s2.account_number = $1) AS error_recons
       FROM account_statement WHERE account_number = $1`,
    [account],
  );
  return rows[0]!;
}

export type { AuditRow } from '../audit/index.js';

/** An envelope's audit trail, oldest first (at most `limit` rows; an envelope sees a handful of changes). */
export async function envelopeAudit(db: Queryable, envelopeId: string, limit: number) {
  return auditRows(db, { envelopeId, limit });
}

/** The whole audit trail, newest first, a page at a time by id (`before`: the last id of the previous page). */
export async function auditPage(db: Queryable, limit: number, before?: number) {
  const rows = await auditRows(db, { limit: limit + 1, newestFirst: true, afterId: before });
  return { rows: rows.slice(0, limit), more: rows.length > limit };
}

/** G2P Connect callbacks per sender: pending (never tried or waiting), delivered, failing (retried or given up). */
export interface CallbackSenderRow {
  sender_id: string;
  pending: number;
  delivered: number;
  failing: number;
  last_delivered_at: string | null;
}

/** One callback not yet delivered (no body: it carries payee addresses and names). */
export interface CallbackRow {
  message_id: string;
  sender_id: string;
  action: string;
  transaction_id: string | null;
  delivery_status: string;
  delivery_attempts: number;
  latest_error_code: string | null;
  next_attempt_at: string;
  created_at: string;
}

export async function callbackSenders(db: Queryable): Promise<CallbackSenderRow[]> {
  const { rows } = await db.query<CallbackSenderRow>(
    `SELECT sender_id,
            count(*) FILTER (WHERE delivery_status = 'PENDING' AND delivery_attempts = 0)::int AS pending,
            count(*) FILTER (WHERE delivery_status = 'DELIVERED')::int AS delivered,
            count(*) FILTER (WHERE delivery_status = 'ERROR'
                               OR (delivery_status = 'PENDING' AND delivery_attempts > 0))::int AS failing,
            max(delivered_at)::text AS last_delivered_at
       FROM g2p_connect_callback GROUP BY sender_id ORDER BY sender_id`,
  );
  return rows;
}

/** The callbacks not delivered yet, failing ones first, oldest first. */
export async function undeliveredCallbacks(db: Queryable, limit: number): Promise<CallbackRow[]> {
  const { rows } = await db.query<CallbackRow>(
    `SELECT message_id, sender_id, action, transaction_id, delivery_status, delivery_attempts, latest_error_code,
            next_attempt_at::text AS next_attempt_at, created_at::text AS created_at
       FROM g2p_connect_callback WHERE delivery_status <> 'DELIVERED'
      ORDER BY (delivery_status = 'ERROR' OR delivery_attempts > 0) DESC, created_at, message_id LIMIT $1`,
    [limit],
  );
  return rows;
}
