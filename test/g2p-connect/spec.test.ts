// Spec drift: the bridge's G2P Connect schemas (src/g2p-connect/schemas.ts) against the specification itself,
// ../shared/reference/g2p-connect-disburse-core-api-1.0.0.yaml, loaded here. Requests built from the spec's
// schemas and examples must pass the bridge's validator; what the bridge sends (callback headers, status
// items, acks) must pass the spec's; required fields, enums, patterns and reason codes must agree.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CALLBACK_HEADER_ACTIONS, CALLBACK_PATHS, callbackHeader } from '../../src/g2p-connect/callbacks.js';
import { ack } from '../../src/g2p-connect/routes.js';
import {
  AMOUNT_PATTERN,
  CURRENCY_PATTERN,
  DisburseReason,
  disburseItemSchema,
  disburseRequestSchema,
  HeaderReason,
  headerSchema,
  LANGUAGE_PATTERN,
  REQUEST_ACTIONS,
  SearchReason,
  searchRequestSchema,
  txnStatusRequestSchema,
} from '../../src/g2p-connect/schemas.js';
import { itemStatus, statusOfLifecycle } from '../../src/g2p-connect/service.js';
import { sharedFile } from '../support/shared.js';

// biome-ignore lint/suspicious/noExplicitAny: the spec is walked as plain JSON
type Json = any;

const SPEC_FILE = sharedFile('reference/g2p-connect-disburse-core-api-1.0.0.yaml');
if (!SPEC_FILE) console.warn('g2p-connect spec test SKIPPED: no ../shared/reference (set G2P_SHARED_DIR)');

/** The spec as written, the spec as meant (two of its schema slips mended), and validators of the latter. */
function loadSpec() {
  const spec: Json = parse(readFileSync(SPEC_FILE!, 'utf8'));
  const schemas: Json = spec.components.schemas;
  // The spec's DisburseRequest requires "disburemsents", a typo for the property it defines: the one place the
  // bridge reads the spec as meant rather than as written (if the spec is corrected, this test says so).
  expect(schemas.DisburseRequest.required).toContain('disburemsents');
  const meant: Json = structuredClone(spec);
  meant.components.schemas.DisburseRequest.required = ['transaction_id', 'disbursements'];
  // And TxnStatusRequest's attribute_value is oneOf two string schemas (a transaction id, a correlation id),
  // which no string can satisfy exactly once: read as anyOf.
  const meantValue =
    meant.components.schemas.TxnStatusRequest.properties.txnstatus_request.properties.attribute_value;
  expect(meantValue.oneOf).toHaveLength(3);
  meantValue.anyOf = meantValue.oneOf;
  delete meantValue.oneOf;
  // The spec as a JSON Schema validator (OpenAPI 3.0 keywords like `example` ignored; formats not checked).
  const specAjv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  specAjv.addSchema({ ...meant, $id: 'spec' });
  const specValidator = (pointer: string) => specAjv.compile({ $ref: `spec#${pointer}` });
  return { spec, schemas, meant, specValidator };
}
const { spec, schemas, meant, specValidator } = SPEC_FILE
  ? loadSpec()
  : { spec: null as Json, schemas: null as Json, meant: null as Json, specValidator: null as Json };

/** The bridge's validator, with the options of its server (src/api/server.ts). */
const bridgeAjv = new Ajv({ removeAdditional: false, coerceTypes: false, allErrors: true, strict: false });

function resolve(schema: Json): Json {
  let s = schema;
  while (s?.$ref)
    s = s.$ref
      .slice(2)
      .split('/')
      .reduce((at: Json, key: string) => at[key], spec);
  return s;
}

/** A value the spec's schema describes: its example where the example satisfies the schema, else a made one. */
function exampleOf(schema: Json): Json {
  const s = resolve(schema);
  if (s.allOf) return s.allOf.reduce((acc: Json, part: Json) => merge(acc, exampleOf(part)), undefined);
  if (s.oneOf || s.anyOf) return exampleOf((s.oneOf ?? s.anyOf)[0]);
  if (s.enum) return s.enum[0];
  if (s.type === 'object' || s.properties) {
    const out: Json = {};
    for (const [name, prop] of Object.entries(s.properties ?? {})) out[name] = exampleOf(prop);
    return out;
  }
  if (s.type === 'array') return [exampleOf(s.items)];
  if (s.type === 'integer' || s.type === 'number') return typeof s.example === 'number' ? s.example : 1;
  if (s.type === 'boolean') return false;
  if (s.type === 'string' || s.type === undefined) {
    if (s.format === 'date-time') return '2022-12-04T17:20:07-04:00';
    const example = s.example === undefined ? undefined : String(s.example);
    const fits = (v: string | undefined) =>
      v !== undefined &&
      v !== '' &&
      (!s.pattern || new RegExp(s.pattern).test(v)) &&
      (!s.maxLength || v.length <= s.maxLength);
    if (fits(example)) return example;
    for (const made of ['1250.75', 'SLL', 'eng', 'ref-0001']) if (fits(made)) return made;
    throw new Error(`no example for ${JSON.stringify(s)}`);
  }
  return {};
}

function merge(a: Json, b: Json): Json {
  if (a === undefined) return b;
  if (b && typeof b === 'object' && !Array.isArray(b) && a && typeof a === 'object') return { ...a, ...b };
  return b;
}

const accepts = (schema: object, value: unknown) => {
  const validate = bridgeAjv.compile(schema);
  return validate(value) ? null : validate.errors;
};
const specAccepts = (pointer: string, value: unknown) => {
  const validate = specValidator(pointer);
  return validate(value) ? null : validate.errors;
};

describe.skipIf(!SPEC_FILE)('the bridge and the G2P Connect disburse spec 1.0.0', () => {
  it('accepts requests made from the spec, with every field the spec defines', () => {
    for (const [name, bridge] of [
      ['DisburseRequest', disburseRequestSchema],
      ['TxnStatusRequest', txnStatusRequestSchema],
      ['SearchRequest', searchRequestSchema],
    ] as const) {
      const example = exampleOf(schemas[name]);
      expect(specAccepts(`/components/schemas/${name}`, example), name).toBeNull();
      expect(accepts(bridge, example), name).toBeNull();
    }
    // The request header of each call, as the spec's path schemas describe it.
    const header = { ...exampleOf(schemas['MsgHeader_V1.0.0']), action: 'disburse' };
    expect(accepts(headerSchema(['disburse']), header)).toBeNull();
    // The reference_id_list form of a status request, and every enum value the spec allows.
    const status = exampleOf(schemas.TxnStatusRequest);
    for (const attribute_type of schemas.TxnStatusRequest.properties.txnstatus_request.properties
      .attribute_type.enum)
      expect(
        accepts(txnStatusRequestSchema, {
          ...status,
          txnstatus_request: { ...status.txnstatus_request, attribute_type, attribute_value: ['r1', 'r2'] },
        }),
      ).toBeNull();
  });

  it('takes every header.action the spec gives a path, and sends callbacks with the action of theirs', () => {
    const actionsOf = (path: string): string[] =>
      spec.paths[path].post.requestBody.content['application/json'].schema.properties.header.allOf[1]
        .properties.action.enum;
    for (const [path, actions] of Object.entries(REQUEST_ACTIONS)) {
      expect(spec.paths[path], path).toBeDefined();
      for (const action of actionsOf(path)) expect(actions, path).toContain(action);
    }
    for (const [action, path] of Object.entries(CALLBACK_PATHS))
      expect(actionsOf(path), action).toContain(
        CALLBACK_HEADER_ACTIONS[action as keyof typeof CALLBACK_PATHS],
      );
  });

  it('requires what the spec requires, and knows every property it defines', () => {
    const pairs: [string, Json, Json][] = [
      ['DisburseRequest', meant.components.schemas.DisburseRequest, disburseRequestSchema],
      ['disbursement', schemas.DisburseRequest.properties.disbursements.items, disburseItemSchema],
      ['TxnStatusRequest', schemas.TxnStatusRequest, txnStatusRequestSchema],
      [
        'txnstatus_request',
        schemas.TxnStatusRequest.properties.txnstatus_request,
        txnStatusRequestSchema.properties.txnstatus_request,
      ],
      ['SearchRequest', schemas.SearchRequest, searchRequestSchema],
      [
        'search_criteria',
        schemas.SearchRequest.properties.search_criteria.items,
        searchRequestSchema.properties.search_criteria.items,
      ],
      ['MsgHeader', schemas['MsgHeader_V1.0.0'], headerSchema(['disburse'])],
    ];
    for (const [name, fromSpec, bridge] of pairs) {
      expect([...bridge.required].sort(), name).toEqual([...fromSpec.required].sort());
      expect(Object.keys(bridge.properties).sort(), name).toEqual(Object.keys(fromSpec.properties).sort());
    }
  });

  it('uses the spec enums, patterns, statuses and reason codes', () => {
    const values = (o: object) => Object.values(o).sort();
    expect(values(DisburseReason)).toEqual([...schemas.DisburseStatusReasonCode.enum].sort());
    for (const code of values(SearchReason)) expect(schemas.SearchStatusReasonCode.enum).toContain(code);
    for (const code of values(HeaderReason)) expect(schemas.MsgHeaderStatusReasonCode.enum).toContain(code);
    expect(AMOUNT_PATTERN).toBe(schemas.Amount.pattern);
    expect(CURRENCY_PATTERN).toBe(schemas.CurrencyCode.pattern);
    expect(LANGUAGE_PATTERN).toBe(schemas.LanguageCode.pattern);
    const txn = txnStatusRequestSchema.properties.txnstatus_request.properties;
    const specTxn = schemas.TxnStatusRequest.properties.txnstatus_request.properties;
    expect(txn.txn_type.enum).toEqual(specTxn.txn_type.enum);
    expect(txn.attribute_type.enum).toEqual(specTxn.attribute_type.enum);
    const criterion = searchRequestSchema.properties.search_criteria.items.properties;
    const specCriterion = schemas.SearchRequest.properties.search_criteria.items.properties;
    expect(criterion.request_type.enum).toEqual(specCriterion.request_type.enum);
    expect(criterion.attribute_type.enum).toEqual(specCriterion.attribute_type.enum);
    const statuses = ['received', 'shipped', 'reconciled', 'reversed', 'rejected', null].map(
      statusOfLifecycle,
    );
    for (const s of statuses) expect(schemas.RequestStatus.enum).toContain(s);
  });

  it('sends callbacks and acks the spec accepts', () => {
    const item = itemStatus(
      {
        transaction_id: 'T1',
        reference_id: 'R1',
        payer_fa: 'account:FUND1@EXAMPLE',
        payee_fa: 'account:ACC1@OTHERBANK',
        amount: '1250.75',
        currency: 'USD',
        lifecycle_status: 'reversed',
        lifecycle_reason: 'account closed',
      },
      new Date().toISOString(),
    );
    const onDisburse = {
      signature: 'Signature: namespace="g2p", kidId="g2p-bridge|k|ed25519", algorithm="ed25519"',
      header: callbackHeader('m-1', new Date(), 'on-disburse', 'pbms', 'succ', { total: 1, completed: 1 }),
      message: { transaction_id: 'T1', disbursements_status: [item] },
    };
    const body = (path: string) =>
      `/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/post/requestBody/content/application~1json/schema`;
    expect(specAccepts(body('/on-disburse'), onDisburse)).toBeNull();
    // A rejected call: the header carries a header reason code only; the item codes stay on the items.
    const rejected = callbackHeader('m-2', new Date(), 'on-disburse', 'pbms', 'rjct', {
      code: DisburseReason.PAYER_FA_INVALID,
      message: 'unknown payer',
      total: 1,
    });
    expect(specAccepts('/components/schemas/MsgCallbackHeader_V1.0.0', rejected)).toBeNull();
    expect(rejected.status_reason_message).toBe('unknown payer');
    const onStatus = {
      ...onDisburse,
      header: callbackHeader('m-3', new Date(), 'on-status', 'pbms', 'succ', { total: 1, completed: 1 }),
      message: {
        transaction_id: 'T1',
        correlation_id: 'T1',
        txnstatus_response: {
          txn_type: 'on-disburse',
          txn_status: { transaction_id: 'T1', disbursements_status: [item] },
        },
      },
    };
    expect(specAccepts(body('/disburse/txn/on-status'), onStatus)).toBeNull();
    const header = {
      message_id: 'h-1',
      message_ts: new Date().toISOString(),
      action: 'disburse',
      sender_id: 'p',
      total_count: 1,
    };
    for (const answer of [
      ack('ACK', 'c-1', header as never, new Date()),
      ack('ERR', null, header as never, new Date()),
    ])
      expect(
        specAccepts('/components/responses/Response/content/application~1json/schema', answer),
      ).toBeNull();
  });
});
