// create_disbursements / cancel_disbursements / get_disbursement_status. All-or-nothing: either every item
// of a call is applied, or the call is rejected, every item carries its own response_error_codes and the
// transaction (with the idempotency claim) rolls back. Writes are a handful of set-based statements.
import { randomUUID } from 'node:crypto';
import type { ConnectorLimits } from '../bank/connector.js';
import { amountProblem, DEFAULT_CONNECTOR_LIMITS, referenceProblem } from '../bank/limits.js';
import { copyField, type Queryable } from '../db/index.js';
import { lockEnvelope, lockEnvelopes } from '../envelopes/store.js';
import type { AppContext } from '../feature/context.js';
import { amountOut, positiveMinor } from '../g2p/amounts.js';
import { ErrorCode, ID_PATTERN } from '../g2p/codes.js';
import { dateAsDateTime, isoOrNull, localDate } from '../g2p/dates.js';
import { spareWork } from '../g2p/idempotency.js';
import { Rejection } from '../g2p/message.js';
import { decimalToMinor, formatMinorUnits, minorUnitsOf, normaliseDecimal } from '../money/index.js';
import { PAYOUT_CHANNEL, PAYOUT_CHANNEL_JOINS } from '../payouts/channels.js';
import { type CreatedItems, createdAnswer, type KeptAnswer } from './answer.js';
import { DRAW_RUNS_SQL, freshDisbursementIds, idsOfRuns, packIds } from './ids.js';

export interface DisbursementPayload {
  id?: string | null;
  mis_reference_number?: string | null;
  disbursement_id?: string | null;
  disbursement_envelope_id?: string | null;
  beneficiary_id?: string | null;
  beneficiary_name?: string | null;
  disbursement_amount?: number | string | null;
  narrative?: string | null;
  receipt_time_stamp?: string | null;
  cancellation_status?: 'Not_Cancelled' | 'Cancelled' | null;
  cancellation_time_stamp?: string | null;
  response_error_codes?: string[] | null;
}

type Ctx = Pick<AppContext, 'config' | 'now' | 'bankLimits'>;

const present = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/** Rejects the whole call: the header gets `code`, every item its own codes. */
function rejectItems(
  items: DisbursementPayload[],
  codes: string[][],
  callCode?: string,
  callMessage?: string,
): never {
  const bad = codes.filter((c) => c.length > 0).length;
  const counts = new Map<string, number>();
  for (const c of codes.flat()) counts.set(c, (counts.get(c) ?? 0) + 1);
  const summary = [...counts].map(([code, n]) => `${code} ×${n}`).join(', ');
  throw new Rejection(
    callCode ?? ErrorCode.INVALID_DISBURSEMENT_PAYLOAD,
    callMessage ?? `${bad} of ${items.length} items have errors: ${summary}; nothing was applied`,
    items.map((item, i) => ({ ...item, response_error_codes: codes[i] ?? [] })),
  );
}

function checkSize(items: DisbursementPayload[] | string[], ctx: Ctx) {
  if (items.length > ctx.config.MAX_DISBURSEMENTS_PER_REQUEST) {
    throw new Rejection(
      ErrorCode.TOTAL_COUNT_LIMIT_EXCEEDED,
      `${items.length} items is above the limit of ${ctx.config.MAX_DISBURSEMENTS_PER_REQUEST} per call`,
    );
  }
  if (items.length === 0) {
    throw new Rejection(ErrorCode.INVALID_DISBURSEMENT_PAYLOAD, 'The message has no items');
  }
}

/** What the database knows besides the envelope, read in one statement (see callFacts). */
interface CallFacts {
  /** The sponsor bank code of the envelope's program (null: no envelope). */
  bank: string | null;
  /** The sent ids already stored. */
  taken: Set<string>;
  /** Fresh sequence values as ids, ascending, not yet checked against ids a PBMS sent. */
  drawn: string[];
}

/**
 * One statement for what a call needs besides its locked envelope: the program's sponsor bank (for its
 * connector limits), which of the sent ids are taken, and `draw` fresh ids.
 */
async function callFacts(
  tx: Queryable,
  envelopeId: string | null,
  sentIds: string[],
  draw: number,
): Promise<CallFacts> {
  if (envelopeId === null && sentIds.length === 0) return { bank: null, taken: new Set(), drawn: [] };
  const { rows } = await tx.query<{ bank: string | null; taken: string[]; runs: string[] }>(
    `SELECT (SELECT p.sponsor_bank_code FROM disbursement_envelope e
             JOIN benefit_program p ON p.benefit_program_mnemonic = e.benefit_program_mnemonic
             WHERE e.disbursement_envelope_id = $1) AS bank,
       ARRAY(SELECT disbursement_id FROM disbursement WHERE disbursement_id = ANY($2::text[])) AS taken,
       ${DRAW_RUNS_SQL('$3::int')} AS runs`,
    [envelopeId, sentIds, draw],
  );
  const row = rows[0]!;
  return { bank: row.bank, taken: new Set(row.taken), drawn: idsOfRuns(row.runs) };
}

async function existingIds(tx: Queryable, ids: string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const { rows } = await tx.query<{ disbursement_id: string }>(
    'SELECT disbursement_id FROM disbursement WHERE disbursement_id = ANY($1::text[])',
    [ids],
  );
  return new Set(rows.map((r) => r.disbursement_id));
}

/** What a create_disbursements call stored: its answer, already serialised, and the figures of its audit row. */
export interface CreatedDisbursements {
  /** The answer's message, the JSON text of every item as stored. */
  answer: CreatedItems;
  ids: string[];
  envelopeId: string;
  program: string;
  batchId: string;
  /** The exact sum of the items, with the currency's decimals. */
  amount: string;
  currency: string;
}

/** The columns a call writes, in the order of its COPY rows (the rest take their defaults). */
const COPY_COLUMNS = [
  'disbursement_id',
  'disbursement_envelope_id',
  'mapper_resolution_batch_id',
  'bank_disbursement_batch_id',
  'mis_reference_number',
  'beneficiary_id',
  'beneficiary_name',
  'disbursement_amount',
  'narrative',
  'receipt_time_stamp',
] as const;

/** Rows per piece of COPY text: a piece is checked and written while the database reads the one before. */
const COPY_PIECE_ROWS = 2000;

/** What every row of a call shares (envelope, batch, receipt time), written as COPY text once. */
interface CopyFrame {
  parents: string;
  at: string;
}

function copyFrame(shared: { envelopeId: string; batchId: string; at: string }): CopyFrame {
  return {
    parents: `\t${copyField(shared.envelopeId)}\t${copyField(shared.batchId)}\t${copyField(shared.batchId)}\t`,
    at: `\t${copyField(shared.at)}\n`,
  };
}

/** Rows `from` to `to` (exclusive) of the call in COPY's text format; amounts are the exact decimals. */
function copyPiece(
  items: readonly DisbursementPayload[],
  ids: readonly string[],
  decimals: readonly string[],
  frame: CopyFrame,
  from: number,
  to: number,
): string {
  let piece = '';
  for (let i = from; i < to; i++) {
    const item = items[i]!;
    piece +=
      copyField(ids[i]!) +
      frame.parents +
      copyField(item.mis_reference_number ?? null) +
      '\t' +
      copyField(item.beneficiary_id!) +
      '\t' +
      copyField(item.beneficiary_name!) +
      '\t' +
      decimals[i]! +
      '\t' +
      copyField(item.narrative!) +
      frame.at;
  }
  return piece;
}

/** What the checks of an item need besides the item, all known before the first item is checked. */
interface ItemFacts {
  /** The call's own codes (envelope not found, cancelled, several envelopes): every item carries them. */
  callCodes: readonly string[];
  /** Sent ids already stored. */
  taken: ReadonlySet<string>;
  limits: ConnectorLimits | null;
  currency: string | null;
  exponent: number;
  /** Each item's amount in minor units, null when it is not a positive amount of the currency. */
  minor: readonly (bigint | null)[];
}

/** `own` with `code` added (an item's codes are made only when it has one). */
function withCode(own: string[] | undefined, code: string): string[] {
  if (own === undefined) return [code];
  own.push(code);
  return own;
}

/**
 * Checks items `from` to `to` (exclusive), in order: `seen` holds the sent ids of the items before. Records
 * the codes of the items that have some (a good call allocates none) and tells whether none had.
 */
function checkItems(
  items: readonly DisbursementPayload[],
  facts: ItemFacts,
  seen: Set<string>,
  codes: (string[] | undefined)[],
  from: number,
  to: number,
): boolean {
  const { callCodes, taken, limits } = facts;
  let good = true;
  for (let i = from; i < to; i++) {
    const item = items[i]!;
    let own: string[] | undefined = callCodes.length > 0 ? [] : undefined;
    if (!present(item.disbursement_envelope_id))
      own = withCode(own, ErrorCode.INVALID_DISBURSEMENT_ENVELOPE_ID);
    if (callCodes.length > 0) own!.push(...callCodes);
    const id = item.disbursement_id;
    if (id !== null && id !== undefined) {
      const valid = ID_PATTERN.test(id);
      const tooMuch = limits && valid ? referenceProblem(limits, id) : null;
      if (!valid) own = withCode(own, ErrorCode.INVALID_DISBURSEMENT_ID);
      else if (tooMuch) own = withCode(own, tooMuch);
      else if (taken.has(id) || seen.has(id)) own = withCode(own, ErrorCode.DUPLICATE_DISBURSEMENT);
      seen.add(id);
    }
    if (!present(item.beneficiary_id)) own = withCode(own, ErrorCode.INVALID_BENEFICIARY_ID);
    if (!present(item.beneficiary_name)) own = withCode(own, ErrorCode.INVALID_BENEFICIARY_NAME);
    if (!present(item.narrative)) own = withCode(own, ErrorCode.INVALID_NARRATIVE);
    const minor = facts.minor[i]!;
    if (minor === null) own = withCode(own, ErrorCode.INVALID_DISBURSEMENT_AMOUNT);
    else if (limits && facts.currency) {
      const tooLarge = amountProblem(limits, minor, facts.exponent);
      if (tooLarge) own = withCode(own, tooLarge);
    }
    if (own !== undefined) {
      codes[i] = own;
      good = false;
    }
  }
  return good;
}

/**
 * The same rows as `copyPiece`, for a database handle without COPY (PGlite): one INSERT … SELECT FROM
 * unnest of six array parameters.
 */
function insertRows(
  tx: Queryable,
  items: readonly DisbursementPayload[],
  ids: readonly string[],
  decimals: readonly string[],
  shared: { envelopeId: string; batchId: string; at: string },
) {
  const count = items.length;
  const mis: (string | null)[] = new Array(count);
  const beneficiaryIds: string[] = new Array(count);
  const names: string[] = new Array(count);
  const narratives: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const item = items[i]!;
    mis[i] = item.mis_reference_number ?? null;
    beneficiaryIds[i] = item.beneficiary_id!;
    names[i] = item.beneficiary_name!;
    narratives[i] = item.narrative!;
  }
  return tx.query(
    `INSERT INTO disbursement (${COPY_COLUMNS.join(', ')})
     SELECT u.id, $1, $2, $2, u.mis, u.beneficiary_id, u.beneficiary_name, u.amount, u.narrative, $3
     FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::numeric[], $9::text[])
       AS u(id, mis, beneficiary_id, beneficiary_name, amount, narrative)`,
    [shared.envelopeId, shared.batchId, shared.at, ids, mis, beneficiaryIds, names, decimals, narratives],
  );
}

/**
 * Stores a batch of disbursements of one envelope. Checks every item, then the envelope's running
 * figures under a row lock on the envelope, so concurrent calls can never exceed the declared count or
 * amount. Statements: the envelope's lock; one read of the bank, the taken ids and the fresh ids; one for
 * the two batch rows and the counters; one COPY of all disbursements (an INSERT from arrays where the
 * database has no COPY: PGlite), whose parents a statement trigger checks once
 * (migrations/bridge/009_ingest.sql), under a savepoint. The answer is serialised while the
 * database copies.
 */
export async function createDisbursements(
  tx: Queryable,
  ctx: Ctx,
  items: DisbursementPayload[],
): Promise<CreatedDisbursements> {
  checkSize(items, ctx);
  const count = items.length;
  const callCodes: string[] = [];

  const envelopeIds = new Set<string>();
  const sentIds: string[] = [];
  let missing = 0;
  for (const item of items) {
    if (present(item.disbursement_envelope_id)) envelopeIds.add(item.disbursement_envelope_id);
    if (present(item.disbursement_id)) sentIds.push(item.disbursement_id);
    if (item.disbursement_id == null) missing++;
  }
  const [first] = envelopeIds;
  const single = envelopeIds.size === 1 ? first! : null;
  const envelope = single ? await lockEnvelope(tx, single) : null;
  // Fresh ids are drawn only for an open envelope (the values of a call refused later are simply not used).
  const open = envelope !== null && envelope.cancellation_status !== 'Cancelled';
  const factsRead = callFacts(
    tx,
    envelope?.disbursement_envelope_id ?? null,
    sentIds,
    open && envelopeIds.size === 1 ? missing : 0,
  );
  // The amounts need only the envelope's currency: they are read while the database answers.
  const currency = envelope?.disbursement_currency_code ?? null;
  const minor: (bigint | null)[] = new Array(count);
  let amountsGood = true;
  let sum = 0n;
  for (let i = 0; i < count; i++) {
    const m = positiveMinor(items[i]!.disbursement_amount, currency);
    minor[i] = m;
    if (m === null) amountsGood = false;
    else sum += m;
  }
  const facts = await factsRead;
  if (envelopeIds.size > 1) callCodes.push(ErrorCode.MULTIPLE_ENVELOPES_FOUND);
  else if (single) {
    if (!envelope) callCodes.push(ErrorCode.DISBURSEMENT_ENVELOPE_NOT_FOUND);
    else if (envelope.cancellation_status === 'Cancelled')
      callCodes.push(ErrorCode.DISBURSEMENT_ENVELOPE_ALREADY_CANCELED);
  }
  // The program's bank must be able to carry every item: its connector's limits (reference, amount digits).
  const limits = envelope
    ? facts.bank && ctx.bankLimits
      ? await ctx.bankLimits(facts.bank)
      : DEFAULT_CONNECTOR_LIMITS
    : null;
  const exponent = currency ? minorUnitsOf(currency) : 0;
  const itemFacts: ItemFacts = { callCodes, taken: facts.taken, limits, currency, exponent, minor };
  const seen = new Set<string>();
  const codes: (string[] | undefined)[] = new Array(count);
  const itemCodes = () => Array.from(codes, (c) => c ?? []);

  const countOver =
    envelope !== null && envelope.number_of_disbursements_received + count > envelope.number_of_disbursements;
  const amountOver =
    envelope !== null &&
    decimalToMinor(envelope.total_disbursement_amount_received, exponent) + sum >
      decimalToMinor(envelope.total_disbursement_amount, exponent);
  // A call refused whatever its items hold, or a database without COPY, has its items checked here;
  // otherwise each piece of rows is checked as it is made, while the database reads the one before, and a
  // bad item abandons the COPY. Either way item codes come before the call's own refusals.
  let checkedUpTo = 0;
  if (!tx.copyFrom || callCodes.length > 0 || !amountsGood || countOver || amountOver) {
    if (!checkItems(items, itemFacts, seen, codes, 0, count)) rejectItems(items, itemCodes(), callCodes[0]);
    checkedUpTo = count;
  }
  // From here on `envelope` is the one open envelope, locked: without one there is a call code (several,
  // none found, cancelled, or every item lacks one) and the items were refused above.
  const e = envelope!;
  if (countOver) {
    rejectItems(
      items,
      [],
      ErrorCode.NO_OF_DISBURSEMENTS_EXCEEDS_DECLARED,
      `${e.number_of_disbursements_received} received + ${count} in this call exceeds the declared ${e.number_of_disbursements}`,
    );
  }
  if (amountOver) {
    rejectItems(
      items,
      [],
      ErrorCode.TOTAL_DISBURSEMENT_AMOUNT_EXCEEDS_DECLARED,
      `${e.total_disbursement_amount_received} received + ${formatMinorUnits(sum, exponent)} in this call exceeds the declared ${e.total_disbursement_amount}`,
    );
  }

  // Ids sent in this call are not handed out again; neither are ids found stored when the COPY clashed.
  const notFresh = new Set(sentIds);
  let fresh = await freshDisbursementIds(tx, missing, notFresh, facts.drawn);
  const ids: string[] = new Array(count);
  const decimals: string[] = new Array(count);
  const assign = () => {
    let next = 0;
    for (let i = 0; i < count; i++) ids[i] = items[i]!.disbursement_id ?? fresh[next++]!;
  };
  assign();
  const writeDecimals = (from: number, to: number) => {
    for (let i = from; i < to; i++) decimals[i] = formatMinorUnits(minor[i]!, exponent);
  };
  const batchId = randomUUID();
  const receivedAt = ctx.now();
  const envelopeId = e.disbursement_envelope_id;
  const amount = formatMinorUnits(sum, exponent);

  // The two batch rows and the envelope's running figures in one statement (all of it rolls back with
  // the call when the COPY fails for good).
  await tx.query(
    `WITH mapper AS (
       INSERT INTO mapper_resolution_batch_status (mapper_resolution_batch_id, disbursement_envelope_id)
       VALUES ($1, $2)),
     bank AS (
       INSERT INTO bank_disbursement_batch_status (bank_disbursement_batch_id, disbursement_envelope_id)
       VALUES ($1, $2))
     UPDATE disbursement_envelope_batch_status
     SET number_of_disbursements_received = number_of_disbursements_received + $3,
         total_disbursement_amount_received = total_disbursement_amount_received + $4::numeric
     WHERE disbursement_envelope_id = $2`,
    [batchId, envelopeId, count, amount],
  );
  // An id may be taken by the time the rows arrive (another call's, or one a PBMS stored that equals a fresh
  // one): the savepoint lets us name it, or draw again for the fresh ones.
  await tx.query('SAVEPOINT create_disbursements');
  const shared = { envelopeId, batchId, at: receivedAt.toISOString() };
  const frame = copyFrame(shared);
  // The rows as COPY text, piece by piece, each checked first (until every item has been).
  function* pieces(): Generator<string> {
    for (let from = 0; from < count; from += COPY_PIECE_ROWS) {
      const to = Math.min(count, from + COPY_PIECE_ROWS);
      if (to > checkedUpTo) {
        if (!checkItems(items, itemFacts, seen, codes, from, to)) {
          checkItems(items, itemFacts, seen, codes, to, count);
          rejectItems(items, itemCodes());
        }
        checkedUpTo = to;
      }
      writeDecimals(from, to);
      yield copyPiece(items, ids, decimals, frame, from, to);
    }
  }
  for (;;) {
    let sent: () => void = () => {};
    const handedOver = new Promise<void>((resolve) => {
      sent = resolve;
    });
    let failure: unknown = null;
    if (!tx.copyFrom) writeDecimals(0, count);
    const copying = (
      tx.copyFrom
        ? tx.copyFrom('disbursement', COPY_COLUMNS, pieces(), sent)
        : insertRows(tx, items, ids, decimals, shared)
    ).then(
      () => {},
      (error: unknown) => {
        failure = error;
      },
    );
    // The answer is written, and the request hashed, while the database reads the rows: once they are all
    // in the connection's socket, not before (COPY's pieces wait for the server's go-ahead, a turn away).
    await Promise.race([handedOver, copying]);
    const kept: KeptAnswer = {
      envelope: envelopeId,
      currency: e.disbursement_currency_code,
      at: shared.at,
      assigned: packIds(fresh),
    };
    const answer = failure === null ? createdAnswer(items, ids, decimals, kept) : null;
    spareWork(tx);
    await copying;
    if (failure === null)
      return {
        answer: answer!,
        ids,
        envelopeId,
        program: e.benefit_program_mnemonic,
        batchId,
        amount,
        currency: e.disbursement_currency_code,
      };
    if ((failure as { code?: string }).code !== UNIQUE_VIOLATION) throw failure;
    await tx.query('ROLLBACK TO SAVEPOINT create_disbursements');
    const clash = await existingIds(tx, ids);
    // None stored: not a clash this call can name (its own ids are distinct by the checks above).
    if (clash.size === 0) throw failure;
    const clashed = (item: DisbursementPayload) =>
      item.disbursement_id != null && clash.has(item.disbursement_id);
    if (items.some(clashed)) {
      // The COPY may have stopped before the last pieces were checked: their codes are named too.
      if (checkedUpTo < count) checkItems(items, itemFacts, seen, codes, checkedUpTo, count);
      rejectItems(
        items,
        items.map((item, i) => {
          const own = codes[i] ?? [];
          return clashed(item) ? [...own, ErrorCode.DUPLICATE_DISBURSEMENT] : own;
        }),
      );
    }
    // Only fresh ids clashed (ids some PBMS stored before): those items get other fresh ids.
    for (const id of clash) notFresh.add(id);
    const more = await freshDisbursementIds(tx, clash.size, notFresh, []);
    let m = 0;
    fresh = fresh.map((id) => (clash.has(id) ? more[m++]! : id));
    assign();
  }
}

const UNIQUE_VIOLATION = '23505';

interface DisbursementRow {
  disbursement_id: string;
  disbursement_envelope_id: string;
  mis_reference_number: string | null;
  beneficiary_id: string;
  beneficiary_name: string;
  disbursement_amount: string;
  narrative: string;
  receipt_time_stamp: Date;
  cancellation_status: 'Not_Cancelled' | 'Cancelled';
  cancellation_time_stamp: Date | null;
}

const DISBURSEMENT_COLUMNS = `disbursement_id, disbursement_envelope_id, mis_reference_number, beneficiary_id,
  beneficiary_name, disbursement_amount::text AS disbursement_amount, narrative, receipt_time_stamp,
  cancellation_status, cancellation_time_stamp`;

/**
 * Cancels disbursements before their envelope's schedule date and takes them off the envelope's received
 * count and amount. One unknown, already cancelled or late item and nothing is cancelled.
 */
export async function cancelDisbursements(tx: Queryable, ctx: Ctx, items: DisbursementPayload[]) {
  checkSize(items, ctx);
  const ids = items.map((i) => i.disbursement_id).filter(present);
  // Lock the envelopes first (in id order, as every caller does), then the disbursements.
  const { rows: envelopeRows } = await tx.query<{ disbursement_envelope_id: string }>(
    'SELECT DISTINCT disbursement_envelope_id FROM disbursement WHERE disbursement_id = ANY($1::text[])',
    [ids],
  );
  const envelopes = await lockEnvelopes(
    tx,
    envelopeRows.map((r) => r.disbursement_envelope_id),
  );
  const { rows } = await tx.query<DisbursementRow>(
    `SELECT ${DISBURSEMENT_COLUMNS} FROM disbursement WHERE disbursement_id = ANY($1::text[]) FOR UPDATE`,
    [ids],
  );
  const found = new Map(rows.map((r) => [r.disbursement_id, r]));
  const today = localDate(ctx.now(), ctx.config.TIME_ZONE);
  const seen = new Set<string>();
  const codes = items.map((item) => {
    const id = item.disbursement_id;
    const d = present(id) ? found.get(id) : undefined;
    if (!present(id) || !d || seen.has(id)) return [ErrorCode.INVALID_DISBURSEMENT_ID];
    seen.add(id);
    const own: string[] = [];
    const e = envelopes.get(d.disbursement_envelope_id);
    if (d.cancellation_status === 'Cancelled') own.push(ErrorCode.DISBURSEMENT_ALREADY_CANCELED);
    if (e?.cancellation_status === 'Cancelled') own.push(ErrorCode.DISBURSEMENT_ENVELOPE_ALREADY_CANCELED);
    if (e && today >= e.disbursement_schedule_date)
      own.push(ErrorCode.DISBURSEMENT_ENVELOPE_SCHEDULE_DATE_REACHED);
    return own;
  });
  if (codes.some((c) => c.length > 0)) rejectItems(items, codes);

  const at = ctx.now();
  const { rows: cancelled } = await tx.query<DisbursementRow>(
    `UPDATE disbursement SET cancellation_status = 'Cancelled', cancellation_time_stamp = $2
     WHERE disbursement_id = ANY($1::text[]) RETURNING ${DISBURSEMENT_COLUMNS}`,
    [ids, at],
  );
  await tx.query(
    `UPDATE disbursement_envelope_batch_status bs
     SET number_of_disbursements_received = bs.number_of_disbursements_received - c.n,
         total_disbursement_amount_received = bs.total_disbursement_amount_received - c.amount
     FROM (SELECT disbursement_envelope_id, count(*) AS n, sum(disbursement_amount) AS amount
           FROM disbursement WHERE disbursement_id = ANY($1::text[]) GROUP BY disbursement_envelope_id) c
     WHERE bs.disbursement_envelope_id = c.disbursement_envelope_id`,
    [ids],
  );
  const byId = new Map(cancelled.map((r) => [r.disbursement_id, r]));
  return ids.map((id) => {
    const d = byId.get(id)!;
    const e = envelopes.get(d.disbursement_envelope_id)!;
    return { ...disbursementPayload(d, e.disbursement_currency_code), response_error_codes: [] as string[] };
  });
}

function disbursementPayload(d: DisbursementRow, currency: string) {
  const exponent = minorUnitsOf(currency);
  return {
    id: d.disbursement_id,
    mis_reference_number: d.mis_reference_number,
    disbursement_id: d.disbursement_id,
    disbursement_envelope_id: d.disbursement_envelope_id,
    beneficiary_id: d.beneficiary_id,
    beneficiary_name: d.beneficiary_name,
    disbursement_amount: amountOut(normaliseDecimal(d.disbursement_amount, exponent)),
    narrative: d.narrative,
    receipt_time_stamp: isoOrNull(d.receipt_time_stamp),
    cancellation_status: d.cancellation_status,
    cancellation_time_stamp: isoOrNull(d.cancellation_time_stamp),
  };
}

interface ReconRow {
  disbursement_id: string;
  bank_disbursement_batch_id: string;
  disbursement_envelope_id: string;
  beneficiary_name_from_bank: string | null;
  remittance_reference_number: string;
  remittance_statement_id: string;
  remittance_statement_number: string | null;
  remittance_statement_sequence: string | null;
  remittance_entry_sequence: number;
  remittance_entry_date: string | null;
  remittance_value_date: string | null;
  reversal_found: boolean;
  reversal_statement_id: string | null;
  reversal_statement_number: string | null;
  reversal_statement_sequence: string | null;
  reversal_entry_sequence: number | null;
  reversal_entry_date: string | null;
  reversal_value_date: string | null;
  reversal_reason: string | null;
}

interface ErrorReconRow {
  disbursement_id: string;
  statement_id: string;
  statement_number: string | null;
  statement_sequence: string | null;
  entry_sequence: number;
  entry_date: string | null;
  value_date: string | null;
  error_reason: string;
  bank_reference_number: string | null;
}

const seq = (n: number | null) => (n === null ? null : String(n));

/**
 * Per requested id: its recon record (0 or 1) and error recons (0..n) in the reference's shape, plus its
 * lifecycle status and reason. An id the bridge does not know gets INVALID_DISBURSEMENT_ID in
 * response_error_codes (it may still have error recons: a statement entry naming it).
 */
export async function disbursementStatus(db: Queryable, ctx: Ctx, ids: string[]) {
  checkSize(ids, ctx);
  const [recons, errors, lifecycle] = await Promise.all([
    db.query<ReconRow>('SELECT * FROM disbursement_recon WHERE disbursement_id = ANY($1::text[])', [ids]),
    db.query<ErrorReconRow>(
      `SELECT disbursement_id, statement_id, statement_number, statement_sequence, entry_sequence, entry_date,
         value_date, error_reason, bank_reference_number
       FROM disbursement_error_recon WHERE disbursement_id = ANY($1::text[]) ORDER BY id`,
      [ids],
    ),
    db.query<{
      disbursement_id: string;
      lifecycle_status: string;
      lifecycle_reason: string | null;
      payout_channel: string | null;
      refused_by: string | null;
      refusal_error_category: string | null;
    }>(
      `SELECT l.disbursement_id, l.lifecycle_status, l.lifecycle_reason, ${PAYOUT_CHANNEL} AS payout_channel,
              CASE WHEN l.lifecycle_status = 'refused' THEN x.refused_by END AS refused_by,
              CASE WHEN l.lifecycle_status = 'refused' THEN w.error_category END AS refusal_error_category
         FROM disbursement_lifecycle l
         JOIN disbursement d ON d.disbursement_id = l.disbursement_id
         ${PAYOUT_CHANNEL_JOINS}
         LEFT JOIN disbursement_bank_refusal x ON x.disbursement_id = l.disbursement_id
        WHERE l.disbursement_id = ANY($1::text[])`,
      [ids],
    ),
  ]);
  const reconById = new Map(recons.rows.map((r) => [r.disbursement_id, r]));
  const errorsById = new Map<string, ErrorReconRow[]>();
  for (const r of errors.rows) {
    const list = errorsById.get(r.disbursement_id);
    if (list) list.push(r);
    else errorsById.set(r.disbursement_id, [r]);
  }
  const lifeById = new Map(lifecycle.rows.map((r) => [r.disbursement_id, r]));

  return ids.map((id) => {
    const recon = reconById.get(id);
    const life = lifeById.get(id);
    return {
      disbursement_id: id,
      disbursement_recon_records: {
        disbursement_recon_payloads: recon
          ? [
              {
                bank_disbursement_batch_id: recon.bank_disbursement_batch_id,
                disbursement_id: recon.disbursement_id,
                disbursement_envelope_id: recon.disbursement_envelope_id,
                beneficiary_name_from_bank: recon.beneficiary_name_from_bank,
                remittance_reference_number: recon.remittance_reference_number,
                remittance_statement_id: recon.remittance_statement_id,
                remittance_statement_number: recon.remittance_statement_number,
                remittance_statement_sequence: recon.remittance_statement_sequence,
                remittance_entry_sequence: seq(recon.remittance_entry_sequence),
                remittance_entry_date: dateAsDateTime(recon.remittance_entry_date),
                remittance_value_date: dateAsDateTime(recon.remittance_value_date),
                reversal_found: recon.reversal_found,
                reversal_statement_id: recon.reversal_statement_id,
                reversal_statement_number: recon.reversal_statement_number,
                reversal_statement_sequence: recon.reversal_statement_sequence,
                reversal_entry_sequence: seq(recon.reversal_entry_sequence),
                reversal_entry_date: dateAsDateTime(recon.reversal_entry_date),
                reversal_value_date: dateAsDateTime(recon.reversal_value_date),
                reversal_reason: recon.reversal_reason,
              },
            ]
          : [],
        disbursement_error_recon_payloads: (errorsById.get(id) ?? []).map((r) => ({
          statement_id: r.statement_id,
          statement_number: r.statement_number,
          statement_sequence: r.statement_sequence,
          entry_sequence: seq(r.entry_sequence),
          entry_date: dateAsDateTime(r.entry_date),
          value_date: dateAsDateTime(r.value_date),
          error_reason: r.error_reason,
          disbursement_id: r.disbursement_id,
          bank_reference_number: r.bank_reference_number,
        })),
      },
      lifecycle_status: life?.lifecycle_status ?? null,
      lifecycle_reason: life?.lifecycle_reason ?? null,
      payout_channel: life?.payout_channel ?? null,
      refused_by: life?.refused_by ?? null,
      refusal_error_category: life?.refusal_error_category ?? null,
      response_error_codes: life ? [] : [ErrorCode.INVALID_DISBURSEMENT_ID],
    };
  });
}
