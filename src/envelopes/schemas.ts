// JSON schemas of the envelope calls: strict about types and enums (→ HTTP 400 INVALID_REQUEST), lenient
// about missing values, which get the reference's business codes instead.
import { amountOutSchema, amountSchema } from '../g2p/amounts.js';
import { CANCELLATION_STATUSES, FREQUENCIES } from '../g2p/codes.js';
import { responseHeaderSchema } from '../g2p/message.js';

const nullableString = (maxLength = 1000, description?: string) =>
  ({ type: ['string', 'null'], maxLength, ...(description ? { description } : {}) }) as const;
const nullableInteger = (description: string) => ({ type: ['integer', 'null'], description }) as const;

/**
 * Fields of the bridge's own answers (envelopes and disbursements): a client that sends an answer back is not
 * refused for them; the bridge sets them itself.
 */
export const answerOnlyFields = {
  receipt_time_stamp: { type: ['string', 'null'], description: 'Ignored on input.' },
  cancellation_status: {
    type: ['string', 'null'],
    enum: [...CANCELLATION_STATUSES, null],
    description: 'Ignored on input.',
  },
  cancellation_time_stamp: { type: ['string', 'null'], description: 'Ignored on input.' },
} as const;

export const envelopePayloadSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: nullableString(200, 'Ignored on input; the envelope id on output.'),
    disbursement_envelope_id: nullableString(
      200,
      'Envelope id. Optional on create (the bridge assigns one); required on amend and cancel.',
    ),
    benefit_program_mnemonic: nullableString(200),
    disbursement_frequency: { type: ['string', 'null'], enum: [...FREQUENCIES, null] },
    cycle_code_mnemonic: nullableString(200, 'e.g. MAR-2025'),
    number_of_beneficiaries: nullableInteger('Positive.'),
    number_of_disbursements: nullableInteger('At least number_of_beneficiaries.'),
    total_disbursement_amount: amountSchema,
    disbursement_currency_code: nullableString(3, 'ISO 4217; must be the program account currency.'),
    disbursement_schedule_date: {
      type: ['string', 'null'],
      format: 'date',
      description: 'YYYY-MM-DD; on or after today (TIME_ZONE) plus DISBURSEMENT_SLA_DAYS.',
    },
    ...answerOnlyFields,
  },
} as const;

const dateTime = { type: ['string', 'null'], format: 'date-time' } as const;

export const envelopeOutSchema = {
  type: ['object', 'null'],
  properties: {
    id: { type: ['string', 'null'] },
    disbursement_envelope_id: { type: ['string', 'null'] },
    benefit_program_mnemonic: { type: ['string', 'null'] },
    disbursement_frequency: { type: ['string', 'null'] },
    cycle_code_mnemonic: { type: ['string', 'null'] },
    number_of_beneficiaries: { type: ['integer', 'null'] },
    number_of_disbursements: { type: ['integer', 'null'] },
    total_disbursement_amount: amountOutSchema,
    disbursement_currency_code: { type: ['string', 'null'] },
    disbursement_schedule_date: { type: ['string', 'null'], format: 'date' },
    receipt_time_stamp: { ...dateTime, description: 'Extra beyond 1.0.2.' },
    cancellation_status: {
      type: ['string', 'null'],
      enum: [...CANCELLATION_STATUSES, null],
      description: 'Extra beyond 1.0.2.',
    },
    cancellation_time_stamp: { ...dateTime, description: 'Extra beyond 1.0.2.' },
  },
} as const;

const lifecycleBucket = {
  type: 'object',
  properties: { count: { type: 'integer' }, amount: amountOutSchema },
} as const;

/** A count and an amount per lifecycle state, the shape of lifecycle_summary and of each channel_summary row. */
const lifecycleBuckets = {
  received: lifecycleBucket,
  unresolved: lifecycleBucket,
  shipped: lifecycleBucket,
  refused: lifecycleBucket,
  reconciled: lifecycleBucket,
  reversed: lifecycleBucket,
  cancelled: lifecycleBucket,
} as const;

export const envelopeStatusOutSchema = {
  type: ['object', 'null'],
  properties: {
    disbursement_envelope_id: { type: 'string' },
    number_of_disbursements_received: { type: 'integer' },
    total_disbursement_amount_received: amountOutSchema,
    funds_available_with_bank: {
      type: 'string',
      enum: ['PENDING_CHECK', 'FUNDS_AVAILABLE', 'FUNDS_NOT_AVAILABLE', 'ERROR'],
    },
    funds_available_latest_timestamp: dateTime,
    funds_available_latest_error_code: { type: ['string', 'null'] },
    funds_available_attempts: { type: 'integer' },
    funds_blocked_with_bank: {
      type: 'string',
      enum: ['PENDING_CHECK', 'FUNDS_BLOCK_SUCCESS', 'FUNDS_BLOCK_FAILURE', 'ERROR'],
    },
    funds_blocked_latest_timestamp: dateTime,
    funds_blocked_latest_error_code: { type: ['string', 'null'] },
    funds_blocked_attempts: { type: 'integer' },
    funds_blocked_reference_number: { type: ['string', 'null'] },
    id_mapper_resolution_required: { type: ['boolean', 'null'] },
    number_of_disbursements_shipped: { type: 'integer' },
    number_of_disbursements_reconciled: { type: 'integer' },
    number_of_disbursements_reversed: { type: 'integer' },
    disbursement_currency_code: { type: 'string', description: 'Extra beyond 1.0.2.' },
    lifecycle_summary: {
      type: 'object',
      description:
        'Extra beyond 1.0.2: disbursements of the envelope per lifecycle state (count and amount), from the disbursement_lifecycle view.',
      properties: lifecycleBuckets,
    },
    channel_summary: {
      type: 'array',
      description:
        'Extra beyond 1.0.2: lifecycle_summary per payout channel: `payout_channel` is BANK (the sponsor bank), a wallet provider code, or null for disbursements whose channel is not decided yet (resolution pending or failed). The channels add up to lifecycle_summary exactly.',
      items: {
        type: 'object',
        properties: { payout_channel: { type: ['string', 'null'] }, ...lifecycleBuckets },
      },
    },
  },
} as const;

/** The response schema of a G2P call whose message has the given schema. */
export function g2pResponseSchema(message: object, extra: Record<string, object> = {}) {
  return {
    type: 'object',
    properties: { signature: { type: ['string', 'null'] }, header: responseHeaderSchema, message, ...extra },
  } as const;
}
