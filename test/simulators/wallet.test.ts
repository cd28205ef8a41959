// The wallet-provider simulator's GSMA Mobile Money API: every answer against the spec's own schemas, async
// batch processing with the spec's error categories and codes, paging, idempotent correlation ids, exact
// amounts, authentication, failure controls, and a 10,000-transaction batch in a handful of statements.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Harness,
  harness,
  KEY,
  loadSpec,
  ORG,
  openWallets,
  specValidator,
  txn,
} from './wallet-helpers.js';

const check = specValidator();
const spec = loadSpec();
if (!check) console.warn('wallet spec checks SKIPPED: no ../shared/reference (set G2P_SHARED_DIR)');

/** The response matches `#/components/schemas/<name>` of the GSMA spec. */
function conforms(name: string, value: unknown) {
  if (check) expect(check(name, value), `${name}: ${JSON.stringify(value)}`).toEqual([]);
}

let h: Harness;
beforeEach(async () => {
  h = await harness();
  const opened = await h.sim.openAccount({ accountId: ORG, currency: 'USD', openingBalance: '1000' });
  expect(opened.ok).toBe(true);
});
afterEach(async () => h.close());

const post = (transactions: unknown[], headers: Record<string, string> = {}) =>
  h.api('POST', '/batchtransactions', { transactions, batchTitle: 'cycle 1' }, headers);

describe('authentication', () => {
  it('refuses a call without credentials, with a wrong key or a forged token: 401 and a GSMA error', async () => {
    for (const headers of [
      { 'x-api-key': '' } as Record<string, string>,
      { 'x-api-key': 'wrong' },
      { 'x-api-key': '', authorization: 'Bearer forged' },
    ]) {
      const res = await h.api('GET', '/heartbeat', undefined, headers);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({
        errorCategory: 'authorisation',
        errorCode: 'clientAuthorisationError',
      });
      conforms('errorObject', res.body);
      expect(res.headers['x-date']).toBeTruthy();
    }
  });

  it('issues OAuth 2 client-credentials tokens that work until they expire', async () => {
    const basic = Buffer.from('bridge:s3cret-value').toString('base64');
    const form = { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': '' };
    const token = await h.app.inject({
      method: 'POST',
      url: '/wallet-provider/oauth/token',
      headers: { ...form, authorization: `Basic ${basic}` },
      payload: 'grant_type=client_credentials',
    });
    expect(token.statusCode).toBe(200);
    const issued = token.json();
    expect(issued).toMatchObject({ token_type: 'Bearer', expires_in: 3600 });
    expect(token.headers['cache-control']).toBe('no-store');
    const bearer = { 'x-api-key': '', authorization: `Bearer ${issued.access_token}` };
    expect((await h.api('GET', '/heartbeat', undefined, bearer)).body).toEqual({
      serviceStatus: 'available',
    });
    h.clock.now = new Date(h.clock.now.getTime() + 3601_000);
    expect((await h.api('GET', '/heartbeat', undefined, bearer)).status).toBe(401);

    // Credentials in the body work too; a wrong secret, an unknown client or another grant do not.
    const inBody = await h.app.inject({
      method: 'POST',
      url: '/wallet-provider/oauth/token',
      headers: form,
      payload: 'grant_type=client_credentials&client_id=bridge&client_secret=s3cret-value',
    });
    expect(inBody.statusCode).toBe(200);
    for (const [payload, status, error] of [
      ['grant_type=client_credentials&client_id=bridge&client_secret=wrong', 401, 'invalid_client'],
      ['grant_type=client_credentials&client_id=nobody&client_secret=s3cret-value', 401, 'invalid_client'],
      ['grant_type=password&client_id=bridge&client_secret=s3cret-value', 400, 'unsupported_grant_type'],
    ] as const) {
      const res = await h.app.inject({
        method: 'POST',
        url: '/wallet-provider/oauth/token',
        headers: form,
        payload,
      });
      expect(res.statusCode).toBe(status);
      expect(res.json().error).toBe(error);
    }
  });

  it('keeps the admin routes behind the simulator access rule, apart from the GSMA credentials', async () => {
    const closed = await harness(
      {},
      {
        access: {
          open: false,
          processKey: 'process-key',
          verifier: async (token) => {
            if (token === 'admin-token') return { subject: 'a', roles: ['admin'] } as never;
            throw new Error('bad token');
          },
        },
      },
    );
    try {
      const admin = (headers: Record<string, string>) =>
        closed.app.inject({ method: 'GET', url: '/wallet-provider/admin/accounts', headers });
      expect((await admin({ 'x-api-key': KEY })).statusCode).toBe(401);
      expect((await admin({ authorization: 'Bearer admin-token' })).statusCode).toBe(200);
      expect((await admin({ authorization: 'Bearer process-key' })).statusCode).toBe(200);
      // And the admin token is no GSMA credential.
      const api = await closed.api('GET', '/heartbeat', undefined, {
        'x-api-key': '',
        authorization: 'Bearer admin-token',
      });
      expect(api.status).toBe(401);
    } finally {
      await closed.close();
    }
  });
});

describe('batches', () => {
  it('takes a batch with 202 pending, processes it later, and answers in the spec shapes', async () => {
    const [a, b] = await openWallets(h.sim, 2);
    const correlation = randomUUID();
    const taken = await post(
      [
        txn(a!, '12.5', { requestingOrganisationTransactionReference: 'D-1' }),
        txn(b!, '7.25', { requestingOrganisationTransactionReference: 'D-2' }),
        txn('+254799999999', '3', { requestingOrganisationTransactionReference: 'D-3' }),
      ],
      { 'x-correlationid': correlation, 'x-callback-url': 'http://127.0.0.1:9/callback' },
    );
    expect(taken.status).toBe(202);
    conforms('requestStateObject', taken.body);
    expect(taken.body).toMatchObject({ status: 'pending', notificationMethod: 'callback' });
    const batchId = taken.body.objectReference as string;

    const inFlight = await h.api('GET', `/batchtransactions/${batchId}`);
    expect(inFlight.body).toMatchObject({
      batchId,
      batchStatus: 'approved',
      processingFlag: true,
      parsingSuccessCount: 3,
    });
    expect(inFlight.body.completionDate).toBeUndefined();
    // Nothing moved yet.
    expect((await h.api('GET', `/accounts/accountid@${ORG}/balance`)).body.currentBalance).toBe('1000');

    const { batches } = await h.sim.processNow();
    expect(batches).toEqual([{ batchId, completed: 2, rejected: 1 }]);

    const state = await h.api('GET', `/requeststates/${taken.body.serverCorrelationId}`);
    conforms('requestStateObject', state.body);
    expect(state.body).toMatchObject({ status: 'completed', objectReference: batchId });
    const batch = await h.api('GET', `/batchtransactions/${batchId}`);
    conforms('responseBatchTransaction', batch.body);
    expect(batch.body).toMatchObject({
      batchStatus: 'completed',
      processingFlag: false,
      completedCount: 2,
      rejectionCount: 1,
      batchTitle: 'cycle 1',
    });

    const completions = await h.api('GET', `/batchtransactions/${batchId}/completions`);
    expect(completions.headers['x-records-available-count']).toBe('2');
    expect(completions.headers['x-records-returned-count']).toBe('2');
    for (const c of completions.body) conforms('responseBatchTransactionCompletion', c);
    expect(
      completions.body.map(
        (c: { requestingOrganisationTransactionReference: string }) =>
          c.requestingOrganisationTransactionReference,
      ),
    ).toEqual(['D-1', 'D-2']);
    expect(completions.body[0].customData).toEqual([
      { key: 'amount', value: '12.5' },
      { key: 'currency', value: 'USD' },
    ]);
    const rejections = await h.api('GET', `/batchtransactions/${batchId}/rejections`);
    for (const r of rejections.body) conforms('responseBatchTransactionRejection', r);
    expect(rejections.body).toHaveLength(1);
    expect(rejections.body[0]).toMatchObject({
      requestingOrganisationTransactionReference: 'D-3',
      rejectionReason: 'identifierError',
    });

    // The completion's link is the posted transaction.
    const posted = await h.api('GET', completions.body[0].link);
    conforms('responseTransaction', posted.body);
    expect(posted.body).toMatchObject({
      amount: '12.5',
      currency: 'USD',
      transactionStatus: 'completed',
      type: 'disbursement',
    });

    const org = await h.api('GET', `/accounts/accountid@${ORG}/balance`);
    conforms('responseAccountBalance', org.body);
    expect(org.body).toMatchObject({
      currentBalance: '980.25',
      availableBalance: '980.25',
      currency: 'USD',
      accountStatus: 'available',
    });
    const wallet = await h.api('GET', `/accounts/msisdn/${encodeURIComponent(a!)}/balance`);
    expect(wallet.body.currentBalance).toBe('12.5');

    const heartbeat = await h.api('GET', '/heartbeat');
    conforms('responseHeartbeat', heartbeat.body);
  });

  it("rejects each transaction with the spec's error category and code", async () => {
    const [ok, suspended, kes] = await openWallets(h.sim, 2);
    await h.sim.setWalletState(suspended!, 'suspended');
    const kesWallet = '+254711111111';
    await h.sim.openWallets([{ msisdn: kesWallet, currency: 'KES' }]);
    void kes;
    const cases: [unknown, string, string][] = [
      [txn('+254799999999', '1'), 'identification', 'identifierError'],
      [txn(suspended!, '1'), 'businessRule', 'incorrectState'],
      [txn(kesWallet, '1'), 'validation', 'currencyNotSupported'],
      [txn(ok!, '12.50'), 'validation', 'formatError'],
      [txn(ok!, '1.005'), 'validation', 'formatError'],
      [txn(ok!, 12.5), 'validation', 'formatError'],
      [txn(ok!, '-5'), 'validation', 'negativeValue'],
      [txn(ok!, '0'), 'businessRule', 'lessThanTransactionMinValue'],
      [txn(ok!, '1', { type: 'transfer' }), 'validation', 'transactionTypeError'],
      [txn(ok!, '1', { currency: 'XYZ' }), 'validation', 'currencyNotSupported'],
      [{ ...txn(ok!, '1'), creditParty: undefined }, 'validation', 'mandatoryValueNotSupplied'],
      [
        txn(ok!, '1', { creditParty: [{ key: 'bankaccountno', value: '123' }] }),
        'identification',
        'identifierError',
      ],
      [
        txn(ok!, '1', { debitParty: [{ key: 'msisdn', value: ok! }] }),
        'authorisation',
        'requestingPartyAuthorisationError',
      ],
      [
        txn(ok!, '1', { creditParty: [{ key: 'accountid', value: ORG }] }),
        'businessRule',
        'samePartiesError',
      ],
      [txn(ok!, '5000'), 'businessRule', 'insufficientFunds'],
    ];
    const taken = await post(cases.map(([t]) => t));
    expect(taken.status).toBe(202);
    await h.sim.processNow();
    const rejections = await h.api(
      'GET',
      `/batchtransactions/${taken.body.objectReference}/rejections?limit=100`,
    );
    expect(rejections.body).toHaveLength(cases.length);
    const codes = spec?.components.schemas.errorObject.properties.errorCode.enum as string[] | undefined;
    rejections.body.forEach(
      (r: { customData: { key: string; value: string }[]; rejectionReason: string }, i: number) => {
        const data = Object.fromEntries(r.customData.map((d) => [d.key, d.value]));
        expect([data.errorCategory, data.errorCode], `case ${i}`).toEqual([cases[i]![1], cases[i]![2]]);
        expect(r.rejectionReason).toBe(cases[i]![2]);
        if (codes) expect(codes).toContain(data.errorCode);
        conforms('responseBatchTransactionRejection', r);
      },
    );
    // Nothing moved.
    expect((await h.api('GET', `/accounts/accountid@${ORG}/balance`)).body.currentBalance).toBe('1000');
  });

  it('pays in batch order while the disbursement account covers the running total', async () => {
    const wallets = await openWallets(h.sim, 5);
    const taken = await post(['600', '300', '150', '100', '0.01'].map((a, i) => txn(wallets[i]!, a)));
    await h.sim.processNow();
    const id = taken.body.objectReference;
    const done = await h.api('GET', `/batchtransactions/${id}/completions`);
    expect(done.body.map((c: { customData: { value: string }[] }) => c.customData[0]!.value)).toEqual([
      '600',
      '300',
    ]);
    const rejected = await h.api('GET', `/batchtransactions/${id}/rejections`);
    expect(rejected.body.map((r: { rejectionReason: string }) => r.rejectionReason)).toEqual([
      'insufficientFunds',
      'insufficientFunds',
      'insufficientFunds',
    ]);
    expect((await h.api('GET', `/accounts/accountid@${ORG}/balance`)).body.currentBalance).toBe('100');
  });

  it('moves exact amounts: no float ever touches a sum', async () => {
    await h.sim.fund(ORG, '99999999999999.99');
    const wallets = await openWallets(h.sim, 3);
    const taken = await post([
      txn(wallets[0]!, '0.1'),
      txn(wallets[1]!, '0.2'),
      txn(wallets[2]!, '99999999999999.7'),
    ]);
    await h.sim.processNow();
    expect((await h.api('GET', `/batchtransactions/${taken.body.objectReference}`)).body.completedCount).toBe(
      3,
    );
    // 1000 + 99999999999999.99 - 0.1 - 0.2 - 99999999999999.7
    expect((await h.api('GET', `/accounts/accountid@${ORG}/balance`)).body.currentBalance).toBe('999.99');
    const tx = await h.api('GET', `/accounts/accountid@${ORG}/transactions`);
    expect(tx.headers['x-records-available-count']).toBe('5');
    for (const t of tx.body) conforms('responseTransaction', t);
    expect(tx.body.map((t: { type: string; amount: string }) => `${t.type} ${t.amount}`)).toEqual([
      'deposit 1000',
      'deposit 99999999999999.99',
      'disbursement 0.1',
      'disbursement 0.2',
      'disbursement 99999999999999.7',
    ]);
  });

  it('is idempotent on X-CorrelationID and finds the request again through /responses', async () => {
    const [a] = await openWallets(h.sim, 1);
    const correlation = randomUUID();
    const body = [txn(a!, '10')];
    const first = await post(body, { 'x-correlationid': correlation });
    const again = await post(body, { 'x-correlationid': correlation.toUpperCase() });
    expect(again.status).toBe(202);
    expect(again.body.serverCorrelationId).toBe(first.body.serverCorrelationId);
    const { rows } = await h.db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM example_wallet.batch');
    expect(rows[0]!.n).toBe(1);
    // The same id for other transactions is refused, not taken as a second batch.
    const other = await post([txn(a!, '11')], { 'x-correlationid': correlation });
    expect(other.status).toBe(400);
    expect(other.body).toMatchObject({ errorCategory: 'businessRule', errorCode: 'duplicateRequest' });
    conforms('errorObject', other.body);

    const found = await h.api('GET', `/responses/${correlation}`);
    conforms('responseResponse', found.body);
    expect(found.body.link).toBe(`/batchtransactions/${first.body.objectReference}`);
    expect((await h.api('GET', `/responses/${randomUUID()}`)).status).toBe(404);
    expect((await h.api('GET', '/responses/not-a-uuid')).body.errorCode).toBe('formatError');
    expect((await post(body, { 'x-correlationid': 'not-a-uuid' })).status).toBe(400);
    await h.sim.processNow();
    expect((await h.api('GET', `/accounts/accountid@${ORG}/balance`)).body.currentBalance).toBe('990');
  });

  it('pages completions and rejections with offset and limit and the record-count headers', async () => {
    const wallets = await openWallets(h.sim, 80);
    await h.sim.fund(ORG, '100000');
    const transactions = wallets.map((w, i) => txn(i % 4 === 3 ? '+254700000000' : w, `${i + 1}`));
    const taken = await post(transactions);
    await h.sim.processNow();
    const id = taken.body.objectReference;
    const seen: string[] = [];
    for (let offset = 0; offset < 60; offset += 25) {
      const page = await h.api('GET', `/batchtransactions/${id}/completions?offset=${offset}&limit=25`);
      expect(page.headers['x-records-available-count']).toBe('60');
      expect(page.headers['x-records-returned-count']).toBe(String(Math.min(25, 60 - offset)));
      seen.push(...page.body.map((c: { transactionReference: string }) => c.transactionReference));
    }
    expect(new Set(seen).size).toBe(60);
    const defaults = await h.api('GET', `/batchtransactions/${id}/rejections`);
    expect(defaults.headers['x-records-available-count']).toBe('20');
    expect(defaults.body).toHaveLength(20);
    // The spec's default page is 50 records.
    expect((await h.api('GET', `/batchtransactions/${id}/completions`)).body).toHaveLength(50);
    const bad = await h.api('GET', `/batchtransactions/${id}/completions?offset=-1`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ errorCategory: 'validation', errorCode: 'invalidOffset' });
    const later = await h.api(
      'GET',
      `/batchtransactions/${id}/completions?fromDateTime=2030-01-01T00:00:00Z`,
    );
    expect(later.headers['x-records-available-count']).toBe('0');
    expect((await h.api('GET', '/batchtransactions/BT-nope/completions')).status).toBe(404);
  });

  it('refuses malformed batches as a whole with a validation error', async () => {
    for (const body of [{}, { transactions: [] }, { transactions: 'x' }]) {
      const res = await h.api('POST', '/batchtransactions', body);
      expect(res.status).toBe(400);
      expect(res.body.errorCategory).toBe('validation');
      conforms('errorObject', res.body);
    }
    expect((await post([txn('+254700000001', '1')], { 'x-callback-url': 'ftp://x' })).status).toBe(400);
  });
});

describe('accounts', () => {
  it('finds accounts by every identifier form and refuses unknown or malformed ones', async () => {
    const [a] = await openWallets(h.sim, 1);
    const walletId = `W${a!.slice(1)}`;
    for (const path of [
      `/accounts/msisdn@${encodeURIComponent(a!)}/balance`,
      `/accounts/walletid@${walletId}/balance`,
      `/accounts/walletid/${walletId}/balance`,
      `/accounts/msisdn@${encodeURIComponent(a!)}$walletid@${walletId}/balance`,
    ]) {
      const res = await h.api('GET', path);
      expect(res.status, path).toBe(200);
      expect(res.body.currentBalance).toBe('0');
    }
    const unknown = await h.api('GET', '/accounts/msisdn/+254000000000/balance');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ errorCategory: 'identification', errorCode: 'identifierError' });
    expect((await h.api('GET', '/accounts/nonsense/balance')).status).toBe(400);
    await h.sim.setWalletState(a!, 'suspended');
    expect((await h.api('GET', `/accounts/walletid@${walletId}/balance`)).body.accountStatus).toBe(
      'unavailable',
    );
  });
});

describe('failure controls', () => {
  it('is down for N calls, refuses batches outright, and loses answers after taking the batch', async () => {
    const [a] = await openWallets(h.sim, 1);
    h.sim.faults.down(2);
    for (let i = 0; i < 2; i++) {
      const res = await h.api('GET', '/heartbeat');
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ errorCategory: 'serviceUnavailable' });
    }
    expect((await h.api('GET', '/heartbeat')).status).toBe(200);

    h.sim.faults.refuseBatches(1, 400);
    const refused = await post([txn(a!, '1')], { 'x-correlationid': randomUUID() });
    expect(refused.status).toBe(400);
    conforms('errorObject', refused.body);
    const counted = async () =>
      (await h.db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM example_wallet.batch')).rows[0]!.n;
    expect(await counted()).toBe(0);

    // Over HTTP as well.
    const armed = await h.app.inject({
      method: 'POST',
      url: '/wallet-provider/admin/faults',
      payload: { loseAnswers: 1 },
    });
    expect(armed.json()).toMatchObject({ loseAnswers: 1 });
    const correlation = randomUUID();
    const lost = await post([txn(a!, '1')], { 'x-correlationid': correlation });
    expect(lost.status).toBe(500);
    expect(await counted()).toBe(1);
    // The client recovers the request instead of sending a second batch.
    const found = await h.api('GET', `/responses/${correlation}`);
    expect(found.status).toBe(200);
    const retried = await post([txn(a!, '1')], { 'x-correlationid': correlation });
    expect(retried.status).toBe(202);
    expect(found.body.link).toBe(`/batchtransactions/${retried.body.objectReference}`);
    expect(await counted()).toBe(1);
  });
});

describe('scale', () => {
  it('takes and processes a 10,000-transaction batch in a fixed handful of statements', async () => {
    const counter = { n: 0 };
    const big = await harness({}, { countQueries: counter });
    try {
      await big.sim.openAccount({ accountId: ORG, currency: 'USD', openingBalance: '1000000' });
      await openWallets(big.sim, 9_990);
      await big.sim.setWalletState('+254700000007', 'suspended');
      const transactions = Array.from({ length: 10_000 }, (_, i) =>
        txn(`+2547${String(i + 1).padStart(8, '0')}`, `${(i % 100) + 1}.25`),
      );
      counter.n = 0;
      const taken = await big.api('POST', '/batchtransactions', { transactions });
      expect(taken.status).toBe(202);
      const intake = counter.n;
      counter.n = 0;
      await big.sim.processNow();
      const processing = counter.n;
      expect(intake).toBeLessThanOrEqual(4);
      expect(processing).toBeLessThanOrEqual(14);
      const batch = await big.api('GET', `/batchtransactions/${taken.body.objectReference}`);
      // 10 msisdns have no wallet, one wallet is suspended.
      expect(batch.body).toMatchObject({ completedCount: 9_989, rejectionCount: 11 });
      // What left the account is what the wallets got, to the cent: 1,000,000 in all.
      const { rows } = await big.db.query<{ org: string; wallets: string; paid: string }>(
        `SELECT trim_scale(sum(balance) FILTER (WHERE kind = 'disbursement'))::text AS org,
                trim_scale(sum(balance) FILTER (WHERE kind = 'wallet'))::text AS wallets,
                (SELECT trim_scale(sum(amount))::text FROM example_wallet.movement WHERE type = 'disbursement') AS paid
           FROM example_wallet.account`,
      );
      expect(rows[0]!.wallets).toBe(rows[0]!.paid);
      const { rows: total } = await big.db.query<{ t: string }>(
        'SELECT trim_scale($1::numeric + $2::numeric)::text AS t',
        [rows[0]!.org, rows[0]!.paid],
      );
      expect(total[0]!.t).toBe('1000000');
      expect((await big.api('GET', `/accounts/accountid@${ORG}/balance`)).body.currentBalance).toBe(
        rows[0]!.org,
      );
    } finally {
      await big.close();
    }
  });
});
