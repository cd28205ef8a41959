// The answer to a create_disbursements call: every item as stored, written as UTF-8 bytes while the database
// copies the rows, and rebuilt byte for byte from the same request when the call is replayed.
import { amountOut, positiveMinor } from '../g2p/amounts.js';
import { type JsonRoom, RawJson } from '../g2p/json.js';
import { formatMinorUnits, minorUnitsOf } from '../money/index.js';
import { unpackIds } from './ids.js';
import type { DisbursementPayload } from './service.js';

/** The items of a create_disbursements answer as JSON, with what a replay needs to write them again. */
export class CreatedItems extends RawJson {
  constructor(
    bytes: Buffer,
    room: JsonRoom,
    /** What a replay needs, besides its own (identical) message, to rebuild the bytes. */
    readonly kept: KeptAnswer,
  ) {
    super(bytes, room);
  }
}

/**
 * Spare bytes before the items for the answer's signature and header (a few hundred bytes), and after them
 * for its closing brace: the answer goes out from the items' own buffer, not a 4 MB copy made after the commit.
 */
const ANSWER_ROOM: JsonRoom = { before: 2048, after: 1 };

/** The stored form of a create_disbursements answer: a few bytes besides the assigned ids. */
export interface KeptAnswer {
  envelope: string;
  currency: string;
  at: string;
  /** The ids the bridge assigned, in item order, as `packIds` writes them. */
  assigned: string;
}

const json = (value: string | null | undefined): string => (value == null ? 'null' : JSON.stringify(value));

/** amountOut without its regular expressions for the usual short decimal (≤ 15 characters: ≤ 15 digits). */
const amountOfDecimal = (decimal: string): string =>
  decimal.length <= 15 ? String(Number(decimal)) : JSON.stringify(amountOut(decimal));

const OPEN = 0x5b; // [
const COMMA = 0x2c;
const CLOSE = 0x5d; // ]

/**
 * The answer's items (1.0.2 DisbursementPayload, fields in the order of disbursementOutSchema), from the
 * request's items, the ids and the decimals: what JSON.stringify writes for those objects. Each item is
 * written as a short string straight into one buffer of the exact size; 10,000 objects and a 4 MB string,
 * then encoded, took three times as long, most of it in fresh memory for the string.
 */
export function createdAnswer(
  items: readonly DisbursementPayload[],
  ids: readonly string[],
  decimals: readonly string[],
  kept: KeptAnswer,
): CreatedItems {
  const count = items.length;
  const envelope = json(kept.envelope);
  const rest =
    `,"receipt_time_stamp":${json(kept.at)},"cancellation_status":"Not_Cancelled",` +
    `"cancellation_time_stamp":null,"response_error_codes":[]}`;
  const texts: string[] = new Array(count);
  let bytes = count + 1; // brackets and commas
  for (let i = 0; i < count; i++) {
    const item = items[i]!;
    const id = json(ids[i]);
    const text =
      `{"id":${id},"mis_reference_number":${json(item.mis_reference_number)},"disbursement_id":${id},` +
      `"disbursement_envelope_id":${envelope},"beneficiary_id":${json(item.beneficiary_id)},` +
      `"beneficiary_name":${json(item.beneficiary_name)},"disbursement_amount":${amountOfDecimal(decimals[i]!)},` +
      `"narrative":${json(item.narrative)}${rest}`;
    texts[i] = text;
    bytes += Buffer.byteLength(text, 'utf8');
  }
  const out = Buffer.allocUnsafe(ANSWER_ROOM.before + (count === 0 ? 2 : bytes) + ANSWER_ROOM.after);
  let at = ANSWER_ROOM.before;
  out[at++] = OPEN;
  for (let i = 0; i < count; i++) {
    if (i > 0) out[at++] = COMMA;
    at += out.write(texts[i]!, at, 'utf8');
  }
  out[at++] = CLOSE;
  // Every byte written (allocUnsafe's memory is not zeroed): a miscount would send old memory.
  if (at !== out.length - ANSWER_ROOM.after) throw new Error(`answer of ${at} bytes in ${out.length}`);
  return new CreatedItems(out, ANSWER_ROOM, kept);
}

/** The first answer's message again, for a replay of the identical request (see `KeptAnswer`). */
export function rebuildCreatedAnswer(items: readonly DisbursementPayload[], kept: KeptAnswer): CreatedItems {
  const exponent = minorUnitsOf(kept.currency);
  const assigned = unpackIds(kept.assigned);
  let next = 0;
  const ids = items.map((item) => item.disbursement_id ?? assigned[next++]!);
  const decimals = items.map((item) =>
    formatMinorUnits(positiveMinor(item.disbursement_amount, kept.currency) ?? 0n, exponent),
  );
  return createdAnswer(items, ids, decimals, kept);
}
