// Reading an envelope together with its running state. Every call that changes an envelope or its
// counters locks both rows through `lockEnvelope`, always with the same statement, so they queue behind
// each other in one order and a running total can never be overtaken.

import type { Queryable } from '../db/index.js';
import { ErrorCode, type FREQUENCIES } from '../g2p/codes.js';
import { Rejection } from '../g2p/message.js';

export interface EnvelopeRow {
  disbursement_envelope_id: string;
  benefit_program_mnemonic: string;
  disbursement_frequency: (typeof FREQUENCIES)[number];
  cycle_code_mnemonic: string;
  number_of_beneficiaries: number;
  number_of_disbursements: number;
  total_disbursement_amount: string;
  disbursement_currency_code: string;
  disbursement_schedule_date: string;
  receipt_time_stamp: Date;
  cancellation_status: 'Not_Cancelled' | 'Cancelled';
  cancellation_time_stamp: Date | null;
  number_of_disbursements_received: number;
  total_disbursement_amount_received: string;
}

const SELECT_ENVELOPE = `
  SELECT e.disbursement_envelope_id, e.benefit_program_mnemonic, e.disbursement_frequency, e.cycle_code_mnemonic,
    e.number_of_beneficiaries, e.number_of_disbursements, e.total_disbursement_amount::text AS total_disbursement_amount,
    trim(e.disbursement_currency_code) AS disbursement_currency_code, e.disbursement_schedule_date,
    e.receipt_time_stamp, e.cancellation_status, e.cancellation_time_stamp,
    bs.number_of_disbursements_received,
    bs.total_disbursement_amount_received::text AS total_disbursement_amount_received
  FROM disbursement_envelope e
  JOIN disbursement_envelope_batch_status bs ON bs.disbursement_envelope_id = e.disbursement_envelope_id`;

export async function findEnvelope(db: Queryable, id: string): Promise<EnvelopeRow | null> {
  const { rows } = await db.query<EnvelopeRow>(`${SELECT_ENVELOPE} WHERE e.disbursement_envelope_id = $1`, [
    id,
  ]);
  return rows[0] ?? null;
}

/** The envelope and its batch status, row-locked until the transaction ends; null when unknown. */
export async function lockEnvelope(tx: Queryable, id: string): Promise<EnvelopeRow | null> {
  const { rows } = await tx.query<EnvelopeRow>(
    `${SELECT_ENVELOPE} WHERE e.disbursement_envelope_id = $1 FOR UPDATE OF e, bs`,
    [id],
  );
  return rows[0] ?? null;
}

/** Several envelopes locked in id order (the one order every caller uses, so two calls cannot deadlock). */
export async function lockEnvelopes(tx: Queryable, ids: string[]): Promise<Map<string, EnvelopeRow>> {
  const { rows } = await tx.query<EnvelopeRow>(
    `${SELECT_ENVELOPE} WHERE e.disbursement_envelope_id = ANY($1::text[])
     ORDER BY e.disbursement_envelope_id FOR UPDATE OF e, bs`,
    [ids],
  );
  return new Map(rows.map((r) => [r.disbursement_envelope_id, r]));
}

/** Not found, cancelled: the two reasons nothing may be done to an envelope. */
export function requireOpen(envelope: EnvelopeRow | null, id: string): EnvelopeRow {
  if (!envelope)
    throw new Rejection(ErrorCode.DISBURSEMENT_ENVELOPE_NOT_FOUND, `No disbursement envelope ${id}`);
  if (envelope.cancellation_status === 'Cancelled') {
    throw new Rejection(ErrorCode.DISBURSEMENT_ENVELOPE_ALREADY_CANCELED, `Envelope ${id} is cancelled`);
  }
  return envelope;
}
