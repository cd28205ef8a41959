// create / amend / cancel a disbursement envelope, and its status. Each function runs inside the caller's
// transaction and throws a Rejection (business error, code from G2PBridgeErrorCodes) to roll it back.
import { randomUUID } from 'node:crypto';
import { recordAudit } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import { type AppContext, type Caller, requirePrograms } from '../feature/context.js';
import { amountOut } from '../g2p/amounts.js';
import { ErrorCode, FREQUENCIES, ID_PATTERN } from '../g2p/codes.js';
import { addDays, isoOrNull, localDate } from '../g2p/dates.js';
import { Rejection } from '../g2p/message.js';
import {
  decimalToMinor,
  formatMinorUnits,
  minorUnitsOf,
  normaliseDecimal,
  toMinorUnits,
} from '../money/index.js';
import { channelCounts, type LifecycleState, lifecycleCounts, type StateCounts } from './lifecycle.js';
import { type EnvelopeRow, findEnvelope, lockEnvelope, requireOpen } from './store.js';

export interface EnvelopePayload {
  id?: string | null;
  disbursement_envelope_id?: string | null;
  benefit_program_mnemonic?: string | null;
  disbursement_frequency?: (typeof FREQUENCIES)[number] | null;
  cycle_code_mnemonic?: string | null;
  number_of_beneficiaries?: number | null;
  number_of_disbursements?: number | null;
  total_disbursement_amount?: number | string | null;
  disbursement_currency_code?: string | null;
  disbursement_schedule_date?: string | null;
}

type Ctx = Pick<AppContext, 'config' | 'now'>;

const INT4_MAX = 2147483647;

const reject = (code: string, message: string) => new Rejection(code, message);

/** Today in the deployment's time zone. */
export function today(ctx: Ctx): string {
  return localDate(ctx.now(), ctx.config.TIME_ZONE);
}

/** The answer's envelope payload: the reference's fields plus cancellation state and receipt time. */
export function envelopePayload(e: EnvelopeRow) {
  return {
    id: e.disbursement_envelope_id,
    disbursement_envelope_id: e.disbursement_envelope_id,
    benefit_program_mnemonic: e.benefit_program_mnemonic,
    disbursement_frequency: e.disbursement_frequency,
    cycle_code_mnemonic: e.cycle_code_mnemonic,
    number_of_beneficiaries: e.number_of_beneficiaries,
    number_of_disbursements: e.number_of_disbursements,
    total_disbursement_amount: amountOut(e.total_disbursement_amount),
    disbursement_currency_code: e.disbursement_currency_code,
    disbursement_schedule_date: e.disbursement_schedule_date,
    receipt_time_stamp: isoOrNull(e.receipt_time_stamp),
    cancellation_status: e.cancellation_status,
    cancellation_time_stamp: isoOrNull(e.cancellation_time_stamp),
  };
}

function checkCounts(beneficiaries: unknown, disbursements: unknown) {
  if (
    typeof beneficiaries !== 'number' ||
    !Number.isInteger(beneficiaries) ||
    beneficiaries <= 0 ||
    beneficiaries > INT4_MAX
  ) {
    throw reject(
      ErrorCode.INVALID_NO_OF_BENEFICIARIES,
      'number_of_beneficiaries must be a positive whole number',
    );
  }
  if (
    typeof disbursements !== 'number' ||
    !Number.isInteger(disbursements) ||
    disbursements < beneficiaries ||
    disbursements > INT4_MAX
  ) {
    throw reject(
      ErrorCode.INVALID_NO_OF_DISBURSEMENTS,
      'number_of_disbursements must be a whole number, at least number_of_beneficiaries',
    );
  }
}

/** The declared total as an exact decimal string with the currency's decimals. */
function checkTotal(value: unknown, currency: string): string {
  const exponent = minorUnitsOf(currency);
  const parsed = value === null || value === undefined ? null : toMinorUnits(value, exponent);
  if (!parsed?.ok || parsed.minor <= 0n) {
    const why = parsed && !parsed.ok ? ` (${parsed.errorCode.replaceAll('_', ' ')})` : '';
    throw reject(
      ErrorCode.INVALID_TOTAL_DISBURSEMENT_AMOUNT,
      `total_disbursement_amount must be a positive amount in ${currency} with at most ${exponent} decimals${why}`,
    );
  }
  return formatMinorUnits(parsed.minor, exponent);
}

function checkScheduleDate(date: unknown, ctx: Ctx) {
  const earliest = addDays(today(ctx), ctx.config.DISBURSEMENT_SLA_DAYS);
  if (typeof date !== 'string' || date < earliest) {
    throw reject(
      ErrorCode.INVALID_DISBURSEMENT_SCHEDULE_DATE,
      `disbursement_schedule_date must be on or after ${earliest} (today in ${ctx.config.TIME_ZONE} plus ${ctx.config.DISBURSEMENT_SLA_DAYS} SLA days)`,
    );
  }
}

function checkCycleCode(code: unknown) {
  if (typeof code !== 'string' || code.trim() === '' || code.length > 64) {
    throw reject(
      ErrorCode.INVALID_CYCLE_CODE_MNEMONIC,
      'cycle_code_mnemonic is required (at most 64 characters)',
    );
  }
}

function scheduleDateReached(e: EnvelopeRow, ctx: Ctx) {
  if (today(ctx) >= e.disbursement_schedule_date) {
    throw reject(
      ErrorCode.DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED,
      `The schedule date ${e.disbursement_schedule_date} of envelope ${e.disbursement_envelope_id} has been reached`,
    );
  }
}

export async function createEnvelope(tx: Queryable, ctx: Ctx, p: EnvelopePayload, caller: Caller) {
  // Before anything else: a caller scoped to other programs learns nothing about this one.
  requirePrograms(caller, [p.benefit_program_mnemonic ?? '']);
  const id = p.disbursement_envelope_id ?? randomUUID();
  if (!ID_PATTERN.test(id)) {
    throw reject(
      ErrorCode.INVALID_DISBURSEMENT_ENVELOPE_ID,
      'disbursement_envelope_id must be 1-64 letters, digits or . _ : / - and start with a letter or digit',
    );
  }
  const { rows: programs } = await tx.query<{ currency: string }>(
    `SELECT trim(sponsor_bank_account_currency) AS currency FROM benefit_program WHERE benefit_program_mnemonic = $1`,
    [p.benefit_program_mnemonic ?? ''],
  );
  const program = programs[0];
  if (!program) {
    throw reject(
      ErrorCode.INVALID_PROGRAM_MNEMONIC,
      `No benefit program ${JSON.stringify(p.benefit_program_mnemonic ?? null)}`,
    );
  }
  if (!p.disbursement_frequency || !FREQUENCIES.includes(p.disbursement_frequency)) {
    throw reject(
      ErrorCode.INVALID_DISBURSEMENT_FREQUENCY,
      `disbursement_frequency must be one of ${FREQUENCIES.join(', ')}`,
    );
  }
  checkCycleCode(p.cycle_code_mnemonic);
  checkCounts(p.number_of_beneficiaries, p.number_of_disbursements);
  if (p.disbursement_currency_code !== program.currency) {
    throw reject(
      ErrorCode.INVALID_DISBURSEMENT_CURRENCY_CODE,
      `disbursement_currency_code must be the program account's currency ${program.currency}`,
    );
  }
  const total = checkTotal(p.total_disbursement_amount, program.currency);
  checkScheduleDate(p.disbursement_schedule_date, ctx);

  const inserted = await tx.query(
    `INSERT INTO disbursement_envelope (disbursement_envelope_id, benefit_program_mnemonic, disbursement_frequency,
       cycle_code_mnemonic, number_of_beneficiaries, number_of_disbursements, total_disbursement_amount,
       disbursement_currency_code, disbursement_schedule_date, receipt_time_stamp, sender_id, caller_subject)
     VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8, $9::date, $10, $11, $12)
     ON CONFLICT (disbursement_envelope_id) DO NOTHING RETURNING 1`,
    [
      id,
      p.benefit_program_mnemonic,
      p.disbursement_frequency,
      p.cycle_code_mnemonic,
      p.number_of_beneficiaries,
      p.number_of_disbursements,
      total,
      program.currency,
      p.disbursement_schedule_date,
      ctx.now(),
      caller.senderId,
      caller.subject,
    ],
  );
  if (inserted.rowCount === 0) {
    throw reject(ErrorCode.INVALID_DISBURSEMENT_ENVELOPE_ID, `Envelope ${id} exists already`);
  }
  await tx.query('INSERT INTO disbursement_envelope_batch_status (disbursement_envelope_id) VALUES ($1)', [
    id,
  ]);
  await recordAudit(tx, caller, {
    action: 'create_disbursement_envelope',
    program: p.benefit_program_mnemonic,
    envelopeId: id,
    targetIds: [id],
    summary: {
      number_of_beneficiaries: p.number_of_beneficiaries,
      number_of_disbursements: p.number_of_disbursements,
      total_disbursement_amount: total,
      currency: program.currency,
      disbursement_schedule_date: p.disbursement_schedule_date,
    },
  });
  const envelope = await findEnvelope(tx, id);
  return envelopePayload(envelope!);
}

/** An envelope of a program outside the caller's scope is refused before its state is looked at. */
function inScope(envelope: EnvelopeRow | null, caller: Caller): EnvelopeRow | null {
  if (envelope) requirePrograms(caller, [envelope.benefit_program_mnemonic]);
  return envelope;
}

/** The programs of the given envelopes (unknown ids are left out). */
export async function programsOfEnvelopes(db: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ program: string }>(
    `SELECT DISTINCT benefit_program_mnemonic AS program FROM disbursement_envelope
     WHERE disbursement_envelope_id = ANY($1::text[])`,
    [[...ids]],
  );
  return rows.map((r) => r.program);
}

/** The programs of the given disbursements (unknown ids are left out). */
export async function programsOfDisbursements(db: Queryable, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const { rows } = await db.query<{ program: string }>(
    `SELECT DISTINCT e.benefit_program_mnemonic AS program
     FROM disbursement d JOIN disbursement_envelope e ON e.disbursement_envelope_id = d.disbursement_envelope_id
     WHERE d.disbursement_id = ANY($1::text[])`,
    [[...ids]],
  );
  return rows.map((r) => r.program);
}

/** The code of a change refused because the envelope was created by another sender (HTTP 403). */
export const FORBIDDEN_SENDER = 'forbidden.sender';

/**
 * Refuses (forbidden.sender) a change to envelopes (or to the envelopes of disbursements) that another
 * header.sender_id created, when the creator is a sender that proves who it is (keys or must-sign in
 * G2P_CONNECT_SENDERS; the guard then requires its signature). Without such senders, sender_id authenticates
 * nothing (1.0.2's one trusted PBMS) and binds nothing. Unknown ids and envelopes without a recorded sender are
 * left to the call's own checks.
 */
export async function requireSender(
  db: Queryable,
  caller: Caller,
  ids: { envelopes?: readonly string[]; disbursements?: readonly string[] },
): Promise<void> {
  const envelopes = ids.envelopes ?? [];
  const disbursements = ids.disbursements ?? [];
  const bound = caller.boundSenders ?? [];
  if (bound.length === 0 || (envelopes.length === 0 && disbursements.length === 0)) return;
  const { rows } = await db.query<{ sender: string }>(
    `SELECT DISTINCT e.sender_id AS sender FROM disbursement_envelope e
      WHERE e.sender_id = ANY($4::text[]) AND e.sender_id IS DISTINCT FROM $3
        AND (e.disbursement_envelope_id = ANY($1::text[])
             OR e.disbursement_envelope_id IN
                (SELECT d.disbursement_envelope_id FROM disbursement d WHERE d.disbursement_id = ANY($2::text[])))`,
    [[...envelopes], [...disbursements], caller.senderId ?? null, [...bound]],
  );
  if (rows.length > 0)
    throw reject(
      FORBIDDEN_SENDER,
      `Only the sender that created an envelope may change it; sender ${JSON.stringify(caller.senderId)} did not create this one`,
    );
}

function requireId(p: EnvelopePayload): string {
  const id = p.disbursement_envelope_id;
  if (!id) throw reject(ErrorCode.INVALID_DISBURSEMENT_ENVELOPE_ID, 'disbursement_envelope_id is required');
  return id;
}

/**
 * Changes control figures, cycle, frequency or schedule date before the schedule date. Fields left out
 * (or null) keep their value; program and currency cannot change. The new declared figures may not fall
 * below what has already been received.
 */
export async function amendEnvelope(tx: Queryable, ctx: Ctx, p: EnvelopePayload, caller: Caller) {
  const id = requireId(p);
  const e = requireOpen(inScope(await lockEnvelope(tx, id), caller), id);
  await requireSender(tx, caller, { envelopes: [id] });
  scheduleDateReached(e, ctx);
  if (p.benefit_program_mnemonic != null && p.benefit_program_mnemonic !== e.benefit_program_mnemonic) {
    throw reject(ErrorCode.INVALID_PROGRAM_MNEMONIC, 'The program of an envelope cannot change');
  }
  if (p.disbursement_currency_code != null && p.disbursement_currency_code !== e.disbursement_currency_code) {
    throw reject(ErrorCode.INVALID_DISBURSEMENT_CURRENCY_CODE, 'The currency of an envelope cannot change');
  }
  const next = {
    frequency: p.disbursement_frequency ?? e.disbursement_frequency,
    cycle: p.cycle_code_mnemonic ?? e.cycle_code_mnemonic,
    beneficiaries: p.number_of_beneficiaries ?? e.number_of_beneficiaries,
    disbursements: p.number_of_disbursements ?? e.number_of_disbursements,
    total: e.total_disbursement_amount,
    date: p.disbursement_schedule_date ?? e.disbursement_schedule_date,
  };
  checkCycleCode(next.cycle);
  checkCounts(next.beneficiaries, next.disbursements);
  if (p.total_disbursement_amount != null) {
    next.total = checkTotal(p.total_disbursement_amount, e.disbursement_currency_code);
  }
  if (p.disbursement_schedule_date != null && p.disbursement_schedule_date !== e.disbursement_schedule_date) {
    checkScheduleDate(next.date, ctx);
  }
  if (next.disbursements < e.number_of_disbursements_received) {
    throw reject(
      ErrorCode.NO_OF_DISBURSEMENTS_EXCEEDS_DECLARED,
      `${e.number_of_disbursements_received} disbursements were already received; number_of_disbursements cannot be lower`,
    );
  }
  const exponent = minorUnitsOf(e.disbursement_currency_code);
  if (decimalToMinor(next.total, exponent) < decimalToMinor(e.total_disbursement_amount_received, exponent)) {
    throw reject(
      ErrorCode.TOTAL_DISBURSEMENT_AMOUNT_EXCEEDS_DECLARED,
      `${e.total_disbursement_amount_received} was already received; total_disbursement_amount cannot be lower`,
    );
  }
  await tx.query(
    `UPDATE disbursement_envelope SET disbursement_frequency = $2, cycle_code_mnemonic = $3,
       number_of_beneficiaries = $4, number_of_disbursements = $5, total_disbursement_amount = $6::numeric,
       disbursement_schedule_date = $7::date
     WHERE disbursement_envelope_id = $1`,
    [id, next.frequency, next.cycle, next.beneficiaries, next.disbursements, next.total, next.date],
  );
  const before = {
    disbursement_frequency: e.disbursement_frequency,
    cycle_code_mnemonic: e.cycle_code_mnemonic,
    number_of_beneficiaries: e.number_of_beneficiaries,
    number_of_disbursements: e.number_of_disbursements,
    total_disbursement_amount: normaliseDecimal(e.total_disbursement_amount, exponent),
    disbursement_schedule_date: e.disbursement_schedule_date,
  };
  const after: typeof before = {
    disbursement_frequency: next.frequency,
    cycle_code_mnemonic: next.cycle,
    number_of_beneficiaries: next.beneficiaries,
    number_of_disbursements: next.disbursements,
    total_disbursement_amount: normaliseDecimal(next.total, exponent),
    disbursement_schedule_date: next.date,
  };
  const changed: Record<string, { from: unknown; to: unknown }> = {};
  for (const key of Object.keys(before) as Array<keyof typeof before>) {
    if (before[key] !== after[key]) changed[key] = { from: before[key], to: after[key] };
  }
  await recordAudit(tx, caller, {
    action: 'amend_disbursement_envelope',
    program: e.benefit_program_mnemonic,
    envelopeId: id,
    targetIds: [id],
    summary: { changed },
  });
  return envelopePayload((await findEnvelope(tx, id))!);
}

/**
 * Cancels an envelope before its schedule date; it cannot be undone. Its disbursements are cancelled with
 * it (so their lifecycle says so); the received counters keep what was received.
 */
export async function cancelEnvelope(tx: Queryable, ctx: Ctx, p: EnvelopePayload, caller: Caller) {
  const id = requireId(p);
  const e = requireOpen(inScope(await lockEnvelope(tx, id), caller), id);
  await requireSender(tx, caller, { envelopes: [id] });
  scheduleDateReached(e, ctx);
  const at = ctx.now();
  await tx.query(
    `UPDATE disbursement_envelope SET cancellation_status = 'Cancelled', cancellation_time_stamp = $2
     WHERE disbursement_envelope_id = $1`,
    [id, at],
  );
  const cancelled = await tx.query(
    `UPDATE disbursement SET cancellation_status = 'Cancelled', cancellation_time_stamp = $2
     WHERE disbursement_envelope_id = $1 AND cancellation_status = 'Not_Cancelled'`,
    [id, at],
  );
  await recordAudit(tx, caller, {
    action: 'cancel_disbursement_envelope',
    program: e.benefit_program_mnemonic,
    envelopeId: id,
    targetIds: [id],
    summary: {
      disbursements_cancelled: cancelled.rowCount,
      number_of_disbursements_received: e.number_of_disbursements_received,
      total_disbursement_amount_received: e.total_disbursement_amount_received,
    },
  });
  return envelopePayload((await findEnvelope(tx, id))!);
}

/** The order of `lifecycle_summary`'s keys in the status answer. */
export const LIFECYCLE_STATUSES = [
  'received',
  'unresolved',
  'shipped',
  'refused',
  'reconciled',
  'reversed',
  'cancelled',
] as const satisfies readonly LifecycleState[];

interface StatusRow {
  disbursement_envelope_id: string;
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
  id_mapper_resolution_required: boolean;
  number_of_disbursements_shipped: number;
  number_of_disbursements_reconciled: number;
  number_of_disbursements_reversed: number;
  currency: string;
}

/**
 * The envelope batch status in the reference's shape, plus `lifecycle_summary`: how many disbursements
 * (and how much money) are in each lifecycle state right now.
 */
export async function envelopeStatus(db: Queryable, id: string) {
  const { rows } = await db.query<StatusRow>(
    `SELECT bs.disbursement_envelope_id, bs.number_of_disbursements_received,
       bs.total_disbursement_amount_received::text AS total_disbursement_amount_received,
       bs.funds_available_with_bank, bs.funds_available_latest_timestamp, bs.funds_available_latest_error_code,
       bs.funds_available_attempts, bs.funds_blocked_with_bank, bs.funds_blocked_latest_timestamp,
       bs.funds_blocked_latest_error_code, bs.funds_blocked_attempts, bs.funds_blocked_reference_number,
       p.id_mapper_resolution_required, bs.number_of_disbursements_shipped,
       bs.number_of_disbursements_reconciled, bs.number_of_disbursements_reversed,
       trim(e.disbursement_currency_code) AS currency
     FROM disbursement_envelope_batch_status bs
     JOIN disbursement_envelope e ON e.disbursement_envelope_id = bs.disbursement_envelope_id
     JOIN benefit_program p ON p.benefit_program_mnemonic = e.benefit_program_mnemonic
     WHERE bs.disbursement_envelope_id = $1`,
    [id],
  );
  const s = rows[0];
  if (!s) throw reject(ErrorCode.DISBURSEMENT_ENVELOPE_NOT_FOUND, `No disbursement envelope ${id}`);
  const [counts, channels] = await Promise.all([
    lifecycleCounts(db, [id]).then((m) => m.get(id)!),
    channelCounts(db, [id]).then((m) => m.get(id)!),
  ]);
  const exponent = minorUnitsOf(s.currency);
  const buckets = (c: StateCounts) => {
    const out: Record<string, { count: number; amount: number | string }> = {};
    for (const status of LIFECYCLE_STATUSES)
      out[status] = {
        count: c[status].count,
        amount: amountOut(normaliseDecimal(c[status].amount, exponent)),
      };
    return out;
  };
  const summary = buckets(counts);
  return {
    disbursement_envelope_id: s.disbursement_envelope_id,
    number_of_disbursements_received: s.number_of_disbursements_received,
    total_disbursement_amount_received: amountOut(
      normaliseDecimal(s.total_disbursement_amount_received, exponent),
    ),
    funds_available_with_bank: s.funds_available_with_bank,
    funds_available_latest_timestamp: isoOrNull(s.funds_available_latest_timestamp),
    funds_available_latest_error_code: s.funds_available_latest_error_code,
    funds_available_attempts: s.funds_available_attempts,
    funds_blocked_with_bank: s.funds_blocked_with_bank,
    funds_blocked_latest_timestamp: isoOrNull(s.funds_blocked_latest_timestamp),
    funds_blocked_latest_error_code: s.funds_blocked_latest_error_code,
    funds_blocked_attempts: s.funds_blocked_attempts,
    funds_blocked_reference_number: s.funds_blocked_reference_number,
    id_mapper_resolution_required: s.id_mapper_resolution_required,
    number_of_disbursements_shipped: s.number_of_disbursements_shipped,
    number_of_disbursements_reconciled: s.number_of_disbursements_reconciled,
    number_of_disbursements_reversed: s.number_of_disbursements_reversed,
    disbursement_currency_code: s.currency,
    lifecycle_summary: summary,
    channel_summary: channels.map((c) => ({ payout_channel: c.channel, ...buckets(c.counts) })),
  };
}
