import { answerOnlyFields } from '../envelopes/schemas.js';
import { amountOutSchema, amountSchema } from '../g2p/amounts.js';

const nullableString = (maxLength = 1000, description?: string) =>
  ({ type: ['string', 'null'], maxLength, ...(description ? { description } : {}) }) as const;
const dateTime = { type: ['string', 'null'], format: 'date-time' } as const;

/** One disbursement as the PBMS sends it (1.0.2 DisbursementPayload). */
export const disbursementPayloadSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    id: nullableString(200, 'Ignored on input; the disbursement id on output.'),
    mis_reference_number: nullableString(200, "The PBMS's own reference, kept and returned."),
    disbursement_id: nullableString(
      200,
      'Optional: kept when sent (unique across the bridge; 1-64 of A-Z a-z 0-9 . _ : / -); assigned by the bridge when absent (≤16 characters, fits MT940 :61:).',
    ),
    disbursement_envelope_id: nullableString(200),
    beneficiary_id: nullableString(),
    beneficiary_name: nullableString(),
    disbursement_amount: amountSchema,
    narrative: nullableString(),
    ...answerOnlyFields,
    response_error_codes: {
      type: ['array', 'null'],
      items: { type: 'string' },
      description: 'Ignored on input.',
    },
  },
} as const;

export const disbursementListSchema = { type: 'array', items: disbursementPayloadSchema } as const;

export const disbursementOutSchema = {
  type: 'object',
  properties: {
    id: { type: ['string', 'null'] },
    mis_reference_number: { type: ['string', 'null'] },
    disbursement_id: { type: ['string', 'null'] },
    disbursement_envelope_id: { type: ['string', 'null'] },
    beneficiary_id: { type: ['string', 'null'] },
    beneficiary_name: { type: ['string', 'null'] },
    disbursement_amount: amountOutSchema,
    narrative: { type: ['string', 'null'] },
    receipt_time_stamp: { type: ['string', 'null'] },
    cancellation_status: { type: ['string', 'null'] },
    cancellation_time_stamp: { type: ['string', 'null'] },
    response_error_codes: {
      type: 'array',
      items: { type: 'string' },
      description:
        "This item's error codes; empty for a good item (the whole call is rejected if any item has one).",
    },
  },
} as const;

export const disbursementListOutSchema = { type: ['array', 'null'], items: disbursementOutSchema } as const;

const reconPayload = {
  type: 'object',
  properties: {
    bank_disbursement_batch_id: { type: 'string' },
    disbursement_id: { type: 'string' },
    disbursement_envelope_id: { type: ['string', 'null'] },
    beneficiary_name_from_bank: { type: ['string', 'null'] },
    remittance_reference_number: { type: ['string', 'null'] },
    remittance_statement_id: { type: ['string', 'null'] },
    remittance_statement_number: { type: ['string', 'null'] },
    remittance_statement_sequence: { type: ['string', 'null'] },
    remittance_entry_sequence: { type: ['string', 'null'] },
    remittance_entry_date: dateTime,
    remittance_value_date: dateTime,
    reversal_found: { type: ['boolean', 'null'] },
    reversal_statement_id: { type: ['string', 'null'] },
    reversal_statement_number: { type: ['string', 'null'] },
    reversal_statement_sequence: { type: ['string', 'null'] },
    reversal_entry_sequence: { type: ['string', 'null'] },
    reversal_entry_date: dateTime,
    reversal_value_date: dateTime,
    reversal_reason: { type: ['string', 'null'] },
  },
} as const;

const errorReconPayload = {
  type: 'object',
  properties: {
    statement_id: { type: ['string', 'null'] },
    statement_number: { type: ['string', 'null'] },
    statement_sequence: { type: ['string', 'null'] },
    entry_sequence: { type: ['string', 'null'] },
    entry_date: dateTime,
    value_date: dateTime,
    error_reason: { type: ['string', 'null'] },
    disbursement_id: { type: 'string' },
    bank_reference_number: { type: ['string', 'null'] },
  },
} as const;

export const disbursementStatusOutSchema = {
  type: ['array', 'null'],
  items: {
    type: 'object',
    properties: {
      disbursement_id: { type: 'string' },
      disbursement_recon_records: {
        type: ['object', 'null'],
        properties: {
          disbursement_recon_payloads: { type: ['array', 'null'], items: reconPayload },
          disbursement_error_recon_payloads: { type: ['array', 'null'], items: errorReconPayload },
        },
      },
      lifecycle_status: {
        type: ['string', 'null'],
        enum: ['received', 'unresolved', 'shipped', 'refused', 'reconciled', 'reversed', 'cancelled', null],
        description:
          'Extra beyond 1.0.2: the disbursement_lifecycle state; null for an unknown id. `refused`: the bank (or the bridge, by the connector’s limits) refused this payment of its batch; the rest of the batch went on.',
      },
      lifecycle_reason: {
        type: ['string', 'null'],
        description:
          'Extra beyond 1.0.2: why unresolved (mapper), refused (the bank’s code) or reversed (bank reason).',
      },
      payout_channel: {
        type: ['string', 'null'],
        description:
          'Extra beyond 1.0.2: the channel that pays it: BANK (the program’s sponsor bank) or the wallet provider code; null while its financial address is not resolved.',
      },
      refused_by: {
        type: ['string', 'null'],
        enum: ['BANK', 'BRIDGE', 'BANK_STATUS', 'WALLET_PROVIDER', null],
        description:
          'Extra beyond 1.0.2: for a `refused` disbursement, who refused it (lifecycle_reason holds the code).',
      },
      refusal_error_category: {
        type: ['string', 'null'],
        description:
          'Extra beyond 1.0.2: for a payment a wallet provider rejected, its GSMA error category (e.g. identification, businessRule); lifecycle_reason holds the GSMA error code.',
      },
      response_error_codes: {
        type: 'array',
        items: { type: 'string' },
        description: 'Extra beyond 1.0.2: INVALID_DISBURSEMENT_ID when the bridge does not know the id.',
      },
    },
  },
} as const;
