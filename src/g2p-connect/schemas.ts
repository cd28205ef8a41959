// JSON schemas of the G2P Connect disbursement API 1.0.0 as the bridge validates it: the spec's own
// DisburseRequest, TxnStatusRequest and SearchRequest (../shared/reference/g2p-connect-disburse-core-api-1.0.0.yaml),
// written out so Fastify's validator can use them. test/g2p-connect/spec.test.ts loads the YAML and checks
// that these agree with it, so the bridge and the spec cannot drift apart unnoticed.

import { requestHeaderSchema } from '../g2p/message.js';

/** The spec's Amount: a decimal string, at most 13 integer digits and 1-2 decimals. */
export const AMOUNT_PATTERN = '^\\d{1,13}\\.\\d{1,2}$';
export const CURRENCY_PATTERN = '^[A-Z]{3,3}$';
export const LANGUAGE_PATTERN = '^[a-z]{3,3}$';

const transactionId = { type: 'string', maxLength: 99, minLength: 1 } as const;
const referenceId = { type: 'string', minLength: 1, maxLength: 99 } as const;
const financialAddress = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const dateTime = { type: 'string', maxLength: 64 } as const;

/**
 * header.action each request path takes: the spec's value for the path (its path schemas, copy-paste slips
 * included: `search` on /disburse/sync/disburse, `on-disburse`/`on-search` on /disburse/txn/status) and the
 * value the path's name means. test/g2p-connect/spec.test.ts checks every spec value is here.
 */
export const REQUEST_ACTIONS = {
  '/disburse': ['disburse'],
  '/disburse/sync/disburse': ['disburse', 'search'],
  '/disburse/search': ['search'],
  '/disburse/sync/search': ['search'],
  '/disburse/txn/status': ['search', 'subscribe', 'txn/status', 'status', 'on-disburse', 'on-search'],
  '/disburse/sync/txn/status': ['search', 'subscribe', 'txn/status', 'status', 'on-disburse', 'on-search'],
} as const satisfies Record<string, readonly string[]>;

/** The spec's MsgHeader_V1.0.0: the bridge's request header, `version` a string, `action` fixed by the route. */
export function headerSchema(actions: readonly string[]) {
  return {
    ...requestHeaderSchema,
    properties: {
      ...requestHeaderSchema.properties,
      version: { type: 'string' },
      action: { type: 'string', enum: [...actions] },
    },
  } as const;
}

export const disburseItemSchema = {
  type: 'object',
  required: ['reference_id', 'payer_fa', 'payee_fa', 'amount'],
  properties: {
    reference_id: referenceId,
    payer_fa: financialAddress,
    payee_fa: financialAddress,
    amount: { type: 'string', pattern: AMOUNT_PATTERN },
    scheduled_timestamp: dateTime,
    payer_name: { type: 'string', maxLength: 200 },
    payee_name: { type: 'string', maxLength: 200 },
    note: { type: 'string', maxLength: 99 },
    purpose: { type: 'string', maxLength: 99 },
    instruction: { type: 'string', maxLength: 999 },
    meta: {},
    currency_code: { type: 'string', pattern: CURRENCY_PATTERN },
    locale: { type: 'string', pattern: LANGUAGE_PATTERN },
  },
} as const;

export const disburseRequestSchema = {
  type: 'object',
  // The spec's `required` says "disburemsents" (a typo); the property it means is `disbursements`.
  required: ['transaction_id', 'disbursements'],
  properties: {
    transaction_id: transactionId,
    disbursements: { type: 'array', minItems: 1, items: disburseItemSchema },
  },
} as const;

export const txnStatusRequestSchema = {
  type: 'object',
  required: ['transaction_id', 'txnstatus_request'],
  properties: {
    transaction_id: transactionId,
    txnstatus_request: {
      type: 'object',
      required: ['reference_id', 'txn_type', 'attribute_type', 'attribute_value'],
      properties: {
        reference_id: referenceId,
        txn_type: { type: 'string', enum: ['disburse', 'search'] },
        attribute_type: { type: 'string', enum: ['transaction_id', 'reference_id_list', 'correlation_id'] },
        attribute_value: {
          anyOf: [
            { type: 'string', maxLength: 99 },
            { type: 'array', items: referenceId, maxItems: 10000 },
          ],
        },
        locale: { type: 'string', pattern: LANGUAGE_PATTERN },
      },
    },
  },
} as const;

export const searchRequestSchema = {
  type: 'object',
  required: ['transaction_id', 'search_criteria'],
  properties: {
    transaction_id: transactionId,
    search_criteria: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      items: {
        type: 'object',
        required: ['reference_id', 'request_type', 'attribute_type', 'attribute_value'],
        properties: {
          reference_id: referenceId,
          timestamp: dateTime,
          request_type: { type: 'string', enum: ['disburse'] },
          attribute_type: { type: 'string', enum: ['payer_fa', 'payee_fa'] },
          attribute_value: financialAddress,
          locale: { type: 'string', pattern: LANGUAGE_PATTERN },
        },
      },
    },
  },
} as const;

/** The spec's DisburseStatusReasonCode. */
export const DisburseReason = {
  REFERENCE_ID_INVALID: 'rjct.reference_id.invalid',
  REFERENCE_ID_DUPLICATE: 'rjct.reference_id.duplicate',
  TIMESTAMP_INVALID: 'rjct.timestamp.invalid',
  PAYER_FA_INVALID: 'rjct.payer_fa.invalid',
  PAYEE_FA_INVALID: 'rjct.payee_fa.invalid',
  AMOUNT_INVALID: 'rjct.amount.invalid',
  SCHEDULE_TS_INVALID: 'rjct.schedule_ts.invalid',
  CURRENCY_CODE_INVALID: 'rjct.currency_code.invalid',
} as const;

/** The spec's SearchStatusReasonCode values the bridge uses. */
export const SearchReason = {
  TRANSACTION_NOT_FOUND: 'rjct.srch_transaction_id.not_found',
  REFERENCE_NOT_FOUND: 'rjct_srch_reference_id.not_found',
  TOO_MANY: 'rjct.srch.too_many_records_found',
} as const;

/** Header reason codes of the spec's MsgHeaderStatusReasonCode the bridge answers with. */
export const HeaderReason = {
  ACTION_INVALID: 'rjct.action.invalid',
  TOTAL_COUNT_INVALID: 'rjct.total_count.invalid',
  TOTAL_COUNT_LIMIT_EXCEEDED: 'rjct.total_count.limit_exceeded',
  MESSAGE_ID_DUPLICATE: 'rjct.message_id.duplicate',
  MESSAGE_TS_INVALID: 'rjct.message_ts.invalid',
  ERRORS_TOO_MANY: 'rjct.errors.too_many',
} as const;
