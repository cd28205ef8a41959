// Batches as the GSMA API takes and shows them: intake of POST /batchtransactions (idempotent on the client's
// X-CorrelationID; items that do not parse are rejected right away, the rest wait for the processor) and
// the read side: request states, the batch, its completions and rejections, an account's transactions.
// Intake is a fixed number of statements per 5,000 transactions whatever the batch size.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../../db/index.js';
import { isCurrencyCode } from '../../money/index.js';
import {
  accountKeyOf,
  amountProblem,
  type GsmaError,
  isPartyList,
  isPartyPair,
  type Rejection,
} from './gsma.js';

/** Rows per INSERT: set-based, and within PGlite's parameter buffers. */
const CHUNK = 5000;

export interface BatchRequest {
  transactions: Record<string, unknown>[];
  batchTitle?: string;
  batchdescription?: string;
  requestDate?: string;
}

interface BatchRow {
  batch_id: string;
  server_correlation_id: string;
  client_correlation_id: string | null;
  request_hash: string;
  callback_url: string | null;
  batch_title: string | null;
  batch_description: string | null;
  request_date: string | null;
  request_status: 'pending' | 'completed' | 'failed';
  batch_status: 'created' | 'approved' | 'completed';
  error: GsmaError | null;
  transaction_count: number;
  parsing_success_count: number;
  completed_count: number;
  rejection_count: number;
  created_at: Date;
  completed_at: Date | null;
  modified_at: Date;
}

const iso = (d: Date | string) => new Date(d).toISOString();

/** requestStateObject of the request that created a batch. */
export function requestState(b: BatchRow) {
  return {
    serverCorrelationId: b.server_correlation_id,
    objectReference: b.batch_id,
    status: b.request_status,
    notificationMethod: b.callback_url ? 'callback' : 'polling',
    ...(b.request_status === 'pending' ? { pendingReason: 'The batch is queued for processing' } : {}),
    ...(b.error ? { error: b.error } : {}),
  };
}

/** responseBatchTransaction: what GET /batchtransactions/{id} and the callback carry. */
export function batchRepresentation(b: BatchRow) {
  const requestDate = b.request_date && !Number.isNaN(Date.parse(b.request_date)) ? b.request_date : null;
  return {
    batchId: b.batch_id,
    batchStatus: b.batch_status,
    // Batches are approved when taken (no maker-checker step here), so approval is creation.
    approvalDate: iso(b.created_at),
    // Known once processing ends; an in-flight batch has none yet.
    ...(b.completed_at ? { completionDate: iso(b.completed_at) } : {}),
    ...(b.batch_title !== null ? { batchTitle: b.batch_title } : {}),
    ...(b.batch_description !== null ? { batchdescription: b.batch_description } : {}),
    processingFlag: b.request_status === 'pending',
    completedCount: b.completed_count,
    rejectionCount: b.rejection_count,
    parsingSuccessCount: b.parsing_success_count,
    creationDate: iso(b.created_at),
    modificationDate: iso(b.modified_at),
    ...(requestDate ? { requestDate } : {}),
  };
}

const BATCH_COLUMNS = `batch_id, server_correlation_id::text, client_correlation_id::text, request_hash,
  callback_url, batch_title, batch_description, request_date, request_status, batch_status, error,
  transaction_count, parsing_success_count, completed_count, rejection_count, created_at, completed_at,
  modified_at`;

export async function batchById(q: Queryable, batchId: string): Promise<BatchRow | null> {
  const { rows } = await q.query<BatchRow>(
    `SELECT ${BATCH_COLUMNS} FROM example_wallet.batch WHERE batch_id = $1`,
    [batchId],
  );
  return rows[0] ?? null;
}

export async function batchBy(
  q: Queryable,
  column: 'server_correlation_id' | 'client_correlation_id',
  id: string,
): Promise<BatchRow | null> {
  const { rows } = await q.query<BatchRow>(
    `SELECT ${BATCH_COLUMNS} FROM example_wallet.batch WHERE ${column} = $1::uuid`,
    [id],
  );
  return rows[0] ?? null;
}

/** One transaction as parsed at intake: where its money goes, or why it is rejected at once. */
interface Parsed {
  orgReference: string | null;
  type: string | null;
  amountText: string | null;
  currency: string | null;
  creditParty: unknown;
  debitParty: unknown;
  credit: { key: string; value: string } | null;
  debit: { key: string; value: string } | null;
  rejection: Rejection | null;
}

const text = (v: unknown) => (typeof v === 'string' ? v : null);

/**
 * The party a rejection or completion echoes: the well-formed pairs the client sent (the spec wants 1 to 10);
 * for a party that was missing or had none, one pair saying so.
 */
function echoParty(party: unknown): unknown[] {
  const pairs = Array.isArray(party) ? party.filter(isPartyPair) : [];
  return pairs.length ? pairs.slice(0, 10) : [{ key: 'notSupplied', value: 'none' }];
}

function parseTransaction(t: Record<string, unknown>): Parsed {
  const currency = text(t.currency);
  const parsed: Parsed = {
    orgReference: text(t.requestingOrganisationTransactionReference),
    type: text(t.type),
    amountText:
      typeof t.amount === 'string' ? t.amount : t.amount === undefined ? null : JSON.stringify(t.amount),
    currency,
    creditParty: echoParty(t.creditParty),
    debitParty: echoParty(t.debitParty),
    credit: null,
    debit: null,
    rejection: null,
  };
  const reject = (category: Rejection['category'], code: string, description: string) => {
    parsed.rejection = { category, code, description };
    return parsed;
  };
  const ref = t.requestingOrganisationTransactionReference;
  if (ref !== undefined && (typeof ref !== 'string' || ref.length > 256))
    return reject(
      'validation',
      'formatError',
      'requestingOrganisationTransactionReference must be a string of at most 256 characters',
    );
  if (t.type === undefined) return reject('validation', 'mandatoryValueNotSupplied', 'type is missing');
  if (t.type !== 'disbursement')
    return reject(
      'validation',
      'transactionTypeError',
      'this provider takes only transactions of type disbursement',
    );
  if (t.currency === undefined)
    return reject('validation', 'mandatoryValueNotSupplied', 'currency is missing');
  if (!isCurrencyCode(currency))
    return reject(
      'validation',
      'currencyNotSupported',
      'currency is not an ISO 4217 currency this provider pays in',
    );
  const amount = amountProblem(t.amount, currency);
  if (amount) {
    parsed.rejection = amount;
    return parsed;
  }
  for (const side of ['creditParty', 'debitParty'] as const) {
    if (t[side] === undefined) return reject('validation', 'mandatoryValueNotSupplied', `${side} is missing`);
    if (!isPartyList(t[side]))
      return reject(
        'validation',
        'formatError',
        `${side} must be 1 to 10 key/value pairs of non-empty strings`,
      );
  }
  parsed.credit = accountKeyOf(t.creditParty);
  parsed.debit = accountKeyOf(t.debitParty);
  if (!parsed.credit)
    return reject('identification', 'identifierError', 'creditParty has no msisdn, walletid or accountid');
  if (!parsed.debit)
    return reject('identification', 'identifierError', 'debitParty has no msisdn, walletid or accountid');
  return parsed;
}

/** What a retry must ask again to be the same request: every transaction's money, parties and reference. */
function requestHash(transactions: Record<string, unknown>[]): string {
  const hash = createHash('sha256');
  for (const t of transactions)
    hash.update(
      JSON.stringify([
        t.amount,
        t.currency,
        t.type,
        t.creditParty,
        t.debitParty,
        t.requestingOrganisationTransactionReference,
      ]),
    );
  return hash.digest('hex');
}

export type Intake =
  | { ok: true; batch: BatchRow; replayed: boolean }
  | { ok: false; error: 'duplicateRequest'; batch: BatchRow };

/**
 * Takes a batch. With a correlation id already seen: the first request again when it asked for the same
 * transactions (never a second batch), a duplicateRequest refusal when it asked for others.
 */
export async function acceptBatch(
  db: Db,
  request: BatchRequest,
  headers: { correlationId: string | null; callbackUrl: string | null },
  now: Date,
): Promise<Intake> {
  const hash = requestHash(request.transactions);
  const batchId = `BT-${randomBytes(9).toString('base64url')}`;
  const parsed = request.transactions.map(parseTransaction);
  const parseOk = parsed.filter((p) => !p.rejection).length;
  return db.transaction(async (tx): Promise<Intake> => {
    const inserted = await tx.query<BatchRow>(
      `INSERT INTO example_wallet.batch (batch_id, server_correlation_id, client_correlation_id, request_hash,
         callback_url, batch_title, batch_description, request_date, transaction_count, parsing_success_count,
         rejection_count, created_at, modified_at)
       VALUES ($1, $2::uuid, $3::uuid, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
       ON CONFLICT (client_correlation_id) DO NOTHING
       RETURNING ${BATCH_COLUMNS}`,
      [
        batchId,
        randomUUID(),
        headers.correlationId,
        hash,
        headers.callbackUrl,
        request.batchTitle ?? null,
        request.batchdescription ?? null,
        request.requestDate ?? null,
        parsed.length,
        parseOk,
        parsed.length - parseOk,
        now,
      ],
    );
    const batch = inserted.rows[0];
    if (!batch) {
      const first = (await batchBy(tx, 'client_correlation_id', headers.correlationId!))!;
      return first.request_hash === hash
        ? { ok: true, batch: first, replayed: true }
        : { ok: false, error: 'duplicateRequest', batch: first };
    }
    for (let start = 0; start < parsed.length; start += CHUNK) {
      const slice = parsed.slice(start, start + CHUNK);
      await tx.query(
        `INSERT INTO example_wallet.txn (batch_id, seq, transaction_reference, org_reference, type, amount_text,
           amount, currency, credit_party, debit_party, credit_key, credit_value, debit_key, debit_value, status,
           error_category, error_code, error_description, decided_at)
         SELECT $1, seq, $1 || '-' || seq, org_ref, type, amount_text,
           CASE WHEN category IS NULL THEN amount_text::numeric END, currency, credit::jsonb, debit::jsonb,
           credit_key, credit_value, debit_key, debit_value,
           CASE WHEN category IS NULL THEN 'received' ELSE 'rejected' END, category, code, description,
           CASE WHEN category IS NULL THEN NULL ELSE $2::timestamptz END
         FROM unnest($3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                     $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[])
           AS t(seq, org_ref, type, amount_text, currency, credit, debit, credit_key, credit_value, debit_key,
                debit_value, category, code, description)`,
        [
          batchId,
          now,
          slice.map((_, i) => start + i + 1),
          slice.map((p) => p.orgReference),
          slice.map((p) => p.type),
          slice.map((p) => p.amountText),
          slice.map((p) => p.currency),
          slice.map((p) => JSON.stringify(p.creditParty)),
          slice.map((p) => JSON.stringify(p.debitParty)),
          slice.map((p) => p.credit?.key ?? null),
          slice.map((p) => p.credit?.value ?? null),
          slice.map((p) => p.debit?.key ?? null),
          slice.map((p) => p.debit?.value ?? null),
          slice.map((p) => p.rejection?.category ?? null),
          slice.map((p) => p.rejection?.code ?? null),
          slice.map((p) => p.rejection?.description ?? null),
        ],
      );
    }
    return { ok: true, batch, replayed: false };
  });
}

export interface Page {
  offset: number;
  limit: number;
  from?: Date;
  to?: Date;
}

interface DecidedRow {
  transaction_reference: string;
  org_reference: string | null;
  credit_party: unknown[];
  debit_party: unknown[];
  amount_text: string | null;
  currency: string | null;
  error_category: string | null;
  error_code: string | null;
  error_description: string | null;
  decided_at: Date;
}

const kv = (pairs: Record<string, string | null>) =>
  Object.entries(pairs)
    .filter((p): p is [string, string] => typeof p[1] === 'string' && p[1] !== '')
    .map(([key, value]) => ({ key, value: value.slice(0, 256) }));

/** Completed or rejected transactions of a batch, in batch order, with the total for the paging headers. */
export async function decided(
  db: Db,
  batchId: string,
  status: 'completed' | 'rejected',
  page: Page,
): Promise<{ total: number; items: object[] }> {
  const where = `batch_id = $1 AND status = $2 AND ($3::timestamptz IS NULL OR decided_at >= $3)
    AND ($4::timestamptz IS NULL OR decided_at <= $4)`;
  const params = [batchId, status, page.from ?? null, page.to ?? null];
  const [count, rows] = await Promise.all([
    db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM example_wallet.txn WHERE ${where}`, params),
    db.query<DecidedRow>(
      `SELECT transaction_reference, org_reference, credit_party, debit_party, amount_text, currency,
              error_category, error_code, error_description, decided_at
         FROM example_wallet.txn WHERE ${where} ORDER BY seq OFFSET $5 LIMIT $6`,
      [...params, page.offset, page.limit],
    ),
  ]);
  const items = rows.rows.map((r) => {
    const base = {
      transactionReference: r.transaction_reference,
      ...(r.org_reference ? { requestingOrganisationTransactionReference: r.org_reference } : {}),
      creditParty: r.credit_party,
      debitParty: r.debit_party,
    };
    if (status === 'completed')
      return {
        ...base,
        completionDate: iso(r.decided_at),
        link: `/transactions/${r.transaction_reference}`,
        // Not in the completion object itself: the amount paid, so the client can check it to the unit.
        customData: kv({ amount: r.amount_text, currency: r.currency }),
      };
    return {
      ...base,
      // The harmonised error code; its category and a description travel in customData.
      rejectionReason: r.error_code ?? 'genericError',
      rejectionDate: iso(r.decided_at),
      customData: kv({
        errorCategory: r.error_category,
        errorCode: r.error_code,
        errorDescription: r.error_description,
        amount: r.amount_text,
        currency: r.currency,
      }),
    };
  });
  return { total: count.rows[0]!.n, items };
}

interface MovementRow {
  transaction_reference: string;
  org_reference: string | null;
  type: string;
  amount: string;
  currency: string;
  debit_party: unknown[];
  credit_party: unknown[];
  created_at: Date;
}

const MOVEMENT_COLUMNS = `transaction_reference, org_reference, type, trim_scale(amount)::text AS amount,
  currency, debit_party, credit_party, created_at`;

/** responseTransaction of a posted movement. */
function transactionOf(m: MovementRow) {
  return {
    transactionReference: m.transaction_reference,
    ...(m.org_reference ? { requestingOrganisationTransactionReference: m.org_reference } : {}),
    creditParty: m.credit_party,
    debitParty: m.debit_party,
    type: m.type,
    transactionStatus: 'completed',
    amount: m.amount,
    currency: m.currency,
    transactionReceipt: m.transaction_reference,
    creationDate: iso(m.created_at),
    modificationDate: iso(m.created_at),
  };
}

/** Money in and out of one account (debits and credits), oldest first. */
export async function accountTransactions(
  db: Db,
  accountId: string,
  page: Page & { status?: string; type?: string },
): Promise<{ total: number; items: object[] }> {
  const where = `(debit_account = $1 OR credit_account = $1)
    AND ($2::timestamptz IS NULL OR created_at >= $2) AND ($3::timestamptz IS NULL OR created_at <= $3)
    AND ($4::text IS NULL OR $4 = 'completed') AND ($5::text IS NULL OR type = $5)`;
  const params = [accountId, page.from ?? null, page.to ?? null, page.status ?? null, page.type ?? null];
  const [count, rows] = await Promise.all([
    db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM example_wallet.movement WHERE ${where}`, params),
    db.query<MovementRow>(
      `SELECT ${MOVEMENT_COLUMNS} FROM example_wallet.movement WHERE ${where}
        ORDER BY movement_id OFFSET $6 LIMIT $7`,
      [...params, page.offset, page.limit],
    ),
  ]);
  return { total: count.rows[0]!.n, items: rows.rows.map(transactionOf) };
}

export async function transactionByReference(db: Db, reference: string): Promise<object | null> {
  const { rows } = await db.query<MovementRow>(
    `SELECT ${MOVEMENT_COLUMNS} FROM example_wallet.movement WHERE transaction_reference = $1`,
    [reference],
  );
  return rows[0] ? transactionOf(rows[0]) : null;
}

export type { BatchRow };
