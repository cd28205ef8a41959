// The builtin `gsma-mmapi` wallet connector: GSMA Mobile Money API 1.2 bulk disbursements
// (../shared/reference/gsma-mmapi-1.2.0-disbursements.yaml). One POST /batchtransactions per channel batch,
// exact string amounts, our disbursement id as each transaction's requestingOrganisationTransactionReference.
//
// Exactly once: the X-CorrelationID of a batch is derived from the bank batch id and the provider, so every
// attempt sends the same id. Before sending, GET /responses/{clientCorrelationId} asks whether the provider has
// a request under that id already (an earlier attempt whose answer was lost); if so it is adopted and nothing is
// sent. A /responses answer that is neither "found" nor "not found" fails the attempt: we never send blind.
//
// Nothing here throws: transport trouble, HTTP errors and odd answers come back as FAILURE (retried later).
import { createHash } from 'node:crypto';
import type { ConnectorFailure } from '../connector.js';
import { failure, transportErrorCode } from '../errors.js';
import {
  type BalanceResult,
  type BatchStateResult,
  LEDGER_NOT_SUPPORTED,
  type LedgerTransaction,
  type LedgerWindow,
  type OutcomePage,
  type SendBatchResult,
  type WalletBatch,
  type WalletBatchRef,
  type WalletCompletion,
  type WalletConnector,
  type WalletConnectorFactory,
  type WalletRejection,
} from '../wallet-connector.js';
import { type GsmaSettings, gsmaSettings } from './settings.js';

const UUID = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;
/** GSMA amount: no sign, no exponent, at most 4 decimals, no trailing zero after the point. */
const GSMA_AMOUNT = /^([0]|([1-9][0-9]{0,17}))([.][0-9]{0,3}[1-9])?$/;
/** Fixed namespace of the bridge's correlation ids (a random UUID, chosen once). */
const NAMESPACE = '5b0c3f1e-8d0a-4c53-9a53-0e6b2f7d41a9';
/** Error categories a GSMA errorObject may carry. */
const CATEGORIES = new Set([
  'businessRule',
  'validation',
  'authorisation',
  'identification',
  'internal',
  'serviceUnavailable',
]);
/** Completions whose amount must be fetched from their transaction are fetched this many at a time. */
const LOOKUP_CONCURRENCY = 8;

/**
 * The client correlation id of one provider's part of one bank batch: a name-based UUID (version 5 layout,
 * SHA-1 of a fixed namespace and `<batch id>|<provider>`), the same on every retry and every worker.
 */
export function walletCorrelationId(bankBatchId: string, providerCode: string): string {
  const ns = Buffer.from(NAMESPACE.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(`${bankBatchId}|${providerCode}`, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A GSMA account id (`key@value`, up to three joined by `$`) as a party array. */
export function partyOf(accountId: string): Array<{ key: string; value: string }> {
  return accountId.split('$').map((part) => {
    const at = part.indexOf('@');
    return { key: part.slice(0, at), value: part.slice(at + 1) };
  });
}

const ACCOUNT_KEYS =
  'accountcategory|bankaccountno|accountrank|identityalias|iban|accountid|msisdn|swiftbic|sortcode|organisationid|username|walletid|linkref|consumerno|serviceprovider|storeid|bankname|bankaccounttitle|emailaddress|mandatereference';
const ACCOUNT_ID = new RegExp(`^(?:${ACCOUNT_KEYS})@[^$\\n@]+(?:\\$(?:${ACCOUNT_KEYS})@[^$\\n@]+){0,2}$`);

/** Null when `accountId` is a GSMA account id; else why not. */
export function accountIdProblem(accountId: string): string | null {
  if (accountId.length > 256) return 'longer than 256 characters';
  if (!ACCOUNT_ID.test(accountId))
    return 'must be key@value (up to three joined by $), key one of the GSMA account identifiers such as accountid, msisdn, walletid';
  return null;
}

/** Our exact decimal string in the GSMA amount form ("12.50" → "12.5", "10.00" → "10"). */
export function gsmaAmount(amount: string): string {
  let out = amount.trim();
  if (out.includes('.')) out = out.replace(/0+$/, '').replace(/\.$/, '');
  out = out.replace(/^0+(?=\d)/, '');
  if (!GSMA_AMOUNT.test(out)) throw new Error(`amount ${JSON.stringify(amount)} cannot be written as GSMA`);
  return out;
}

type Answer = { status: number; body: unknown; headers: Headers } | ConnectorFailure;
const isFail = (a: Answer | unknown): a is ConnectorFailure =>
  typeof a === 'object' && a !== null && (a as ConnectorFailure).status === 'FAILURE';

function errorOf(body: unknown): { errorCategory: string; errorCode: string } | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  if (typeof b.errorCode !== 'string' || typeof b.errorCategory !== 'string') return null;
  return { errorCategory: b.errorCategory.slice(0, 64), errorCode: b.errorCode.slice(0, 64) };
}

/**
 * An answer of the account-transactions route that says the provider has no such route: 501, or a 404 that
 * is not a GSMA error object (a GSMA 404, e.g. identification/identifierError for an unknown account, stays
 * a failure the operator must see).
 */
function ledgerNotSupported(a: { status: number; body: unknown }): ConnectorFailure | null {
  if (a.status === 501 || (a.status === 404 && !errorOf(a.body)))
    return failure(
      LEDGER_NOT_SUPPORTED,
      `the provider answered ${a.status} to GET /accounts/{id}/transactions`,
    );
  return null;
}

function partyValue(parties: unknown, key: string): string | null {
  if (!Array.isArray(parties)) return null;
  for (const p of parties as Array<Record<string, unknown>>)
    if (p && p.key === key && typeof p.value === 'string') return p.value;
  return null;
}

function customValue(custom: unknown, key: string): string | null {
  return partyValue(custom, key);
}

export class GsmaConnector implements WalletConnector {
  readonly providerCode: string;
  readonly pollSeconds: number;
  readonly callbackBaseUrl: string | null;
  private token: { value: string; expiresAt: number } | null = null;

  constructor(private readonly s: GsmaSettings) {
    this.providerCode = s.providerCode;
    this.pollSeconds = s.pollSeconds;
    this.callbackBaseUrl = s.callbackBaseUrl;
  }

  async balance(debitPartyAccount: string): Promise<BalanceResult> {
    const a = await this.call('GET', `/accounts/${encodeURIComponent(debitPartyAccount)}/balance`);
    if (isFail(a)) return a;
    if (a.status !== 200) return this.httpFailure(a);
    const b = (a.body ?? {}) as Record<string, unknown>;
    const amount = typeof b.availableBalance === 'string' ? b.availableBalance : b.currentBalance;
    if (typeof amount !== 'string' || !GSMA_AMOUNT.test(amount) || typeof b.currency !== 'string')
      return failure('WALLET_BAD_RESPONSE', 'the balance answer has no usable amount and currency');
    return {
      status: 'SUCCESS',
      available: amount,
      currency: b.currency,
      accountStatus: typeof b.accountStatus === 'string' ? b.accountStatus : null,
    };
  }

  async sendBatch(batch: WalletBatch, callbackUrl: string | null): Promise<SendBatchResult> {
    if (!UUID.test(batch.correlationId)) return failure('WALLET_BAD_CORRELATION_ID');
    const earlier = await this.lookUp(batch.correlationId);
    if (earlier === 'unknown') {
      // Not seen by the provider: send.
    } else if (isFail(earlier)) return earlier;
    else return { status: 'ACCEPTED', ...earlier, adopted: true };

    const debitParty = partyOf(batch.debitPartyAccount);
    let transactions: unknown[];
    try {
      transactions = batch.payments.map((p) => ({
        type: 'disbursement',
        amount: gsmaAmount(p.amount),
        currency: p.currency,
        creditParty: [{ key: 'msisdn', value: p.msisdn }],
        debitParty,
        requestingOrganisationTransactionReference: p.disbursementId,
        descriptionText: p.narrative.slice(0, 160),
      }));
    } catch (error) {
      return failure('WALLET_AMOUNT_NOT_WRITABLE', (error as Error).message);
    }
    const headers: Record<string, string> = { 'x-correlationid': batch.correlationId };
    if (callbackUrl) headers['x-callback-url'] = callbackUrl;
    const a = await this.call(
      'POST',
      '/batchtransactions',
      { batchTitle: batch.title.slice(0, 256), batchDescription: batch.title.slice(0, 256), transactions },
      headers,
    );
    if (isFail(a)) return a;
    const err = errorOf(a.body);
    if (err?.errorCode === 'duplicateRequest') {
      // The provider has this correlation id (our lost answer): adopt what it holds.
      const again = await this.lookUp(batch.correlationId);
      if (again === 'unknown')
        return failure('WALLET_DUPLICATE_NOT_FOUND', 'duplicateRequest, but /responses does not know it');
      if (isFail(again)) return again;
      return { status: 'ACCEPTED', ...again, adopted: true };
    }
    if (
      a.status === 400 &&
      err &&
      (err.errorCategory === 'businessRule' || err.errorCategory === 'validation')
    )
      return { status: 'REFUSED', ...err };
    if (a.status !== 202 && a.status !== 200 && a.status !== 201) return this.httpFailure(a);
    const state = this.requestState(a.body);
    if (isFail(state)) return state;
    if (state.status === 'failed')
      return {
        status: 'REFUSED',
        ...(state.error ?? { errorCategory: 'internal', errorCode: 'genericError' }),
      };
    return {
      status: 'ACCEPTED',
      serverCorrelationId: state.serverCorrelationId,
      providerBatchId: state.objectReference,
      adopted: false,
    };
  }

  async batchState(ref: WalletBatchRef): Promise<BatchStateResult> {
    let providerBatchId = ref.providerBatchId;
    if (!providerBatchId) {
      if (!ref.serverCorrelationId) {
        const found = await this.lookUp(ref.correlationId);
        if (found === 'unknown')
          return failure('WALLET_BATCH_UNKNOWN', 'the provider does not know the batch');
        if (isFail(found)) return found;
        if (found.providerBatchId) providerBatchId = found.providerBatchId;
        else if (found.serverCorrelationId) ref = { ...ref, serverCorrelationId: found.serverCorrelationId };
      }
      if (!providerBatchId) {
        const a = await this.call('GET', `/requeststates/${encodeURIComponent(ref.serverCorrelationId!)}`);
        if (isFail(a)) return a;
        if (a.status !== 200) return this.httpFailure(a);
        const state = this.requestState(a.body);
        if (isFail(state)) return state;
        if (state.status === 'failed')
          return {
            status: 'FAILED',
            ...(state.error ?? { errorCategory: 'internal', errorCode: 'genericError' }),
          };
        if (state.status === 'pending' || !state.objectReference) return { status: 'PENDING' };
        providerBatchId = state.objectReference;
      }
    }
    return { status: 'COMPLETED', providerBatchId };
  }

  async completions(
    providerBatchId: string,
    offset: number,
    limit: number,
  ): Promise<OutcomePage<WalletCompletion> | ConnectorFailure> {
    const page = await this.page(
      `/batchtransactions/${encodeURIComponent(providerBatchId)}/completions`,
      offset,
      limit,
    );
    if (isFail(page)) return page;
    const items: WalletCompletion[] = [];
    const lookups: Array<{ item: WalletCompletion; link: string }> = [];
    for (const raw of page.items) {
      const r = (raw ?? {}) as Record<string, unknown>;
      if (typeof r.transactionReference !== 'string')
        return failure('WALLET_BAD_RESPONSE', 'a completion without transactionReference');
      const amount = (typeof r.amount === 'string' ? r.amount : null) ?? customValue(r.customData, 'amount');
      const currency =
        (typeof r.currency === 'string' ? r.currency : null) ?? customValue(r.customData, 'currency');
      const item: WalletCompletion = {
        disbursementId:
          typeof r.requestingOrganisationTransactionReference === 'string'
            ? r.requestingOrganisationTransactionReference
            : null,
        providerTransactionReference: r.transactionReference,
        msisdn: partyValue(r.creditParty, 'msisdn'),
        amount,
        currency,
      };
      items.push(item);
      // The spec's completion names no amount: the transaction it links to does.
      if (amount === null || currency === null)
        lookups.push({
          item,
          link:
            typeof r.link === 'string' && r.link
              ? r.link
              : `/transactions/${encodeURIComponent(r.transactionReference)}`,
        });
    }
    for (let i = 0; i < lookups.length; i += LOOKUP_CONCURRENCY) {
      const slice = lookups.slice(i, i + LOOKUP_CONCURRENCY);
      const answers = await Promise.all(slice.map((l) => this.transaction(l.link)));
      for (const [j, answer] of answers.entries()) {
        if (isFail(answer)) return answer;
        const item = slice[j]!.item;
        item.amount = answer.amount;
        item.currency = answer.currency;
        item.disbursementId ??= answer.reference;
      }
    }
    return { items, available: page.available };
  }

  async rejections(
    providerBatchId: string,
    offset: number,
    limit: number,
  ): Promise<OutcomePage<WalletRejection> | ConnectorFailure> {
    const page = await this.page(
      `/batchtransactions/${encodeURIComponent(providerBatchId)}/rejections`,
      offset,
      limit,
    );
    if (isFail(page)) return page;
    const items = page.items.map((raw): WalletRejection => {
      const r = (raw ?? {}) as Record<string, unknown>;
      const reason = typeof r.rejectionReason === 'string' ? r.rejectionReason : 'genericError';
      const code = customValue(r.customData, 'errorCode');
      const category = customValue(r.customData, 'errorCategory');
      const split = rejectionReasonParts(reason);
      return {
        disbursementId:
          typeof r.requestingOrganisationTransactionReference === 'string'
            ? r.requestingOrganisationTransactionReference
            : null,
        providerTransactionReference:
          typeof r.transactionReference === 'string' ? r.transactionReference : null,
        errorCategory: (category ?? split.category)?.slice(0, 64) ?? null,
        errorCode: (code ?? split.code).slice(0, 64),
      };
    });
    return { items, available: page.available };
  }

  /**
   * GET /accounts/{account}/transactions for the window, one page. The direction is read from the parties:
   * the account asked about as debit party is a DEBIT, as credit party a CREDIT. GSMA's toDateTime is taken
   * as inclusive, so the window's end is sent one millisecond early.
   */
  async accountTransactions(
    account: string,
    window: LedgerWindow,
    offset: number,
    limit: number,
  ): Promise<OutcomePage<LedgerTransaction> | ConnectorFailure> {
    const from = encodeURIComponent(window.from.toISOString());
    const to = encodeURIComponent(new Date(window.to.getTime() - 1).toISOString());
    const page = await this.page(
      `/accounts/${encodeURIComponent(account)}/transactions`,
      offset,
      limit,
      `&fromDateTime=${from}&toDateTime=${to}`,
      ledgerNotSupported,
    );
    if (isFail(page)) return page;
    const ours = partyOf(account);
    const isOurs = (parties: unknown) =>
      Array.isArray(parties) && ours.every((o) => partyValue(parties, o.key) === o.value);
    const items: LedgerTransaction[] = [];
    for (const raw of page.items) {
      const r = (raw ?? {}) as Record<string, unknown>;
      if (typeof r.transactionReference !== 'string' || r.transactionReference === '')
        return failure('WALLET_BAD_RESPONSE', 'an account transaction without transactionReference');
      const posted = typeof r.creationDate === 'string' ? new Date(r.creationDate) : null;
      items.push({
        providerTransactionReference: r.transactionReference,
        disbursementId:
          typeof r.requestingOrganisationTransactionReference === 'string'
            ? r.requestingOrganisationTransactionReference
            : null,
        direction: isOurs(r.debitParty) ? 'DEBIT' : isOurs(r.creditParty) ? 'CREDIT' : null,
        type: typeof r.type === 'string' ? r.type : null,
        status: typeof r.transactionStatus === 'string' ? r.transactionStatus : null,
        amount: typeof r.amount === 'string' ? r.amount : null,
        currency: typeof r.currency === 'string' ? r.currency : null,
        postedAt: posted && !Number.isNaN(posted.getTime()) ? posted.toISOString() : null,
      });
    }
    return { items, available: page.available };
  }

  // --- plumbing ---

  /** GET /responses/{id}: the provider's earlier request under this correlation id, or 'unknown'. */
  private async lookUp(
    correlationId: string,
  ): Promise<
    { serverCorrelationId: string | null; providerBatchId: string | null } | 'unknown' | ConnectorFailure
  > {
    const a = await this.call('GET', `/responses/${correlationId}`);
    if (isFail(a)) return a;
    if (a.status === 404) return 'unknown';
    if (a.status !== 200) return this.httpFailure(a);
    const link = (a.body as Record<string, unknown> | null)?.link;
    if (typeof link !== 'string') return failure('WALLET_BAD_RESPONSE', '/responses answered without a link');
    const path = link.replace(/^https?:\/\/[^/]+/, '').split('?')[0]!;
    const batch = /\/batchtransactions\/([^/]+)\/?$/.exec(path);
    if (batch) return { serverCorrelationId: null, providerBatchId: decodeURIComponent(batch[1]!) };
    const state = /\/requeststates\/([^/]+)\/?$/.exec(path);
    if (state) return { serverCorrelationId: decodeURIComponent(state[1]!), providerBatchId: null };
    return failure('WALLET_BAD_RESPONSE', '/responses links to neither a batch nor a request state');
  }

  private requestState(body: unknown):
    | {
        status: 'pending' | 'completed' | 'failed';
        serverCorrelationId: string | null;
        objectReference: string | null;
        error: { errorCategory: string; errorCode: string } | null;
      }
    | ConnectorFailure {
    const b = (body ?? {}) as Record<string, unknown>;
    if (b.status !== 'pending' && b.status !== 'completed' && b.status !== 'failed')
      return failure('WALLET_BAD_RESPONSE', 'a request state without a known status');
    return {
      status: b.status,
      serverCorrelationId: typeof b.serverCorrelationId === 'string' ? b.serverCorrelationId : null,
      objectReference: typeof b.objectReference === 'string' && b.objectReference ? b.objectReference : null,
      error: errorOf(b.error),
    };
  }

  private async page(
    path: string,
    offset: number,
    limit: number,
    extraQuery = '',
    /** A route-specific reading of a non-200 answer; null: the usual WALLET_HTTP_<status>. */
    readFailure: (a: { status: number; body: unknown }) => ConnectorFailure | null = () => null,
  ): Promise<OutcomePage<unknown> | ConnectorFailure> {
    const a = await this.call('GET', `${path}?offset=${offset}&limit=${limit}${extraQuery}`);
    if (isFail(a)) return a;
    if (a.status !== 200) return readFailure(a) ?? this.httpFailure(a);
    if (!Array.isArray(a.body)) return failure('WALLET_BAD_RESPONSE', `${path} did not answer a list`);
    const count = a.headers.get('x-records-available-count');
    return { items: a.body, available: count && /^\d+$/.test(count) ? Number(count) : null };
  }

  private async transaction(
    link: string,
  ): Promise<
    { amount: string | null; currency: string | null; reference: string | null } | ConnectorFailure
  > {
    const path = link.replace(/^https?:\/\/[^/]+/, '').replace(/^.*?(\/transactions\/)/, '$1');
    const a = await this.call('GET', path);
    if (isFail(a)) return a;
    if (a.status !== 200) return this.httpFailure(a);
    const b = (a.body ?? {}) as Record<string, unknown>;
    return {
      amount: typeof b.amount === 'string' ? b.amount : null,
      currency: typeof b.currency === 'string' ? b.currency : null,
      reference:
        typeof b.requestingOrganisationTransactionReference === 'string'
          ? b.requestingOrganisationTransactionReference
          : null,
    };
  }

  private httpFailure(a: { status: number; body: unknown }): ConnectorFailure {
    const err = errorOf(a.body);
    const code = `WALLET_HTTP_${a.status}`;
    return failure(code, err ? `${err.errorCategory}/${err.errorCode}` : undefined);
  }

  private async authHeaders(): Promise<Record<string, string> | ConnectorFailure> {
    const h: Record<string, string> = {};
    if (this.s.apiKey) h['x-api-key'] = this.s.apiKey;
    if (this.s.clientId && this.s.clientSecret && this.s.tokenUrl) {
      if (!this.token || this.token.expiresAt <= Date.now()) {
        const got = await this.fetchToken();
        if (isFail(got)) return got;
        this.token = got;
      }
      h.authorization = `Bearer ${this.token.value}`;
    }
    return h;
  }

  /** OAuth 2 client credentials (RFC 6749 §4.4), the client authenticated with HTTP Basic. */
  private async fetchToken(): Promise<{ value: string; expiresAt: number } | ConnectorFailure> {
    let res: Response;
    try {
      res = await fetch(this.s.tokenUrl!, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(
            `${encodeURIComponent(this.s.clientId!)}:${encodeURIComponent(this.s.clientSecret!)}`,
          ).toString('base64')}`,
        },
        body: 'grant_type=client_credentials',
        signal: AbortSignal.timeout(this.s.timeoutMs),
      });
    } catch (error) {
      return failure(transportErrorCode(error).replace(/^BANK_/, 'WALLET_'), 'token request');
    }
    if (res.status !== 200) return failure('WALLET_AUTH_FAILED', `token endpoint answered ${res.status}`);
    const body = (await res.json().catch(() => null)) as Record<string, unknown> | null;
    if (!body || typeof body.access_token !== 'string')
      return failure('WALLET_AUTH_FAILED', 'token endpoint answered no access_token');
    const ttl = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 300;
    // Renewed a little before it runs out, so a call never goes out with a token about to expire.
    return { value: body.access_token, expiresAt: Date.now() + Math.max(1, ttl - 30) * 1000 };
  }

  private async call(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    extra: Record<string, string> = {},
    retried = false,
  ): Promise<Answer> {
    const auth = await this.authHeaders();
    if (isFail(auth)) return auth;
    let res: Response;
    try {
      res = await fetch(`${this.s.baseUrl}${path}`, {
        method,
        headers: {
          accept: 'application/json',
          'x-date': new Date().toISOString(),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...auth,
          ...extra,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.s.timeoutMs),
      });
    } catch (error) {
      return failure(
        transportErrorCode(error).replace(/^BANK_/, 'WALLET_'),
        `${method} ${path.split('?')[0]}`,
      );
    }
    let parsed: unknown = null;
    const text = await res.text().catch(() => '');
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        if (res.ok) return failure('WALLET_BAD_RESPONSE', `${method} ${path.split('?')[0]} answered no JSON`);
      }
    }
    // A token the provider no longer takes (revoked, clock skew): ask for a new one, once.
    if (res.status === 401 && this.s.clientId && !retried) {
      this.token = null;
      return this.call(method, path, body, extra, true);
    }
    return { status: res.status, body: parsed, headers: res.headers };
  }
}

/** "identification/identifierError", "identifierError" or free text: the GSMA category and code in it. */
function rejectionReasonParts(reason: string): { category: string | null; code: string } {
  const m = /^\s*([A-Za-z]+)\s*[/:.]\s*([A-Za-z]+)\s*$/.exec(reason);
  if (m && CATEGORIES.has(m[1]!)) return { category: m[1]!, code: m[2]! };
  return { category: null, code: reason.trim() || 'genericError' };
}

export const createGsmaConnector: WalletConnectorFactory = ({ providerCode, env }) =>
  new GsmaConnector(gsmaSettings(providerCode, env));
