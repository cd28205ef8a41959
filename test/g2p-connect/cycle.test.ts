// The G2P Connect disbursement API end to end: a PBMS stand-in sends asynchronous disburse requests and
// receives the callbacks on loopback, through the embedded stack (bridge, example bank, example mapper).
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../pipeline/stack.js';

const TODAY = '2030-03-10';
const SCHEDULE = '2030-03-11';
const FUNDING = 'GCFUND0001';
const SENDER = 'pbms-gc';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies, inspected field by field
type Json = any;

/** The PBMS stand-in's callback endpoint: records what it receives; answers 503 while `down`. */
function receiver() {
  const received: { path: string; body: Json }[] = [];
  const state = { down: false };
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => {
      text += c;
    });
    req.on('end', () => {
      if (state.down) {
        res.writeHead(503).end();
        return;
      }
      received.push({ path: req.url ?? '', body: JSON.parse(text) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"message":{"ack_status":"ACK"}}');
    });
  });
  return { server, received, state };
}

describe('G2P Connect: async disburse, callbacks and status pushes', () => {
  let s: Stack;
  const r = receiver();
  let base = '';

  const post = async (
    path: string,
    action: string,
    message: unknown,
    header: Record<string, unknown> = {},
  ) => {
    const body = {
      signature: null,
      header: {
        version: '1.0.0',
        message_id: randomUUID(),
        message_ts: new Date().toISOString(),
        action,
        sender_id: SENDER,
        receiver_id: 'g2p-bridge',
        total_count: Array.isArray((message as Json).disbursements)
          ? (message as Json).disbursements.length
          : 1,
        is_msg_encrypted: false,
        ...header,
      },
      message,
    };
    const res = await fetch(`${s.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await s.token('pbms')}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json, sent: body };
  };
  const callbacks = async () =>
    (
      await s.db.query<{
        message_id: string;
        action: string;
        delivery_status: string;
        latest_error_code: string | null;
      }>(
        'SELECT message_id, action, delivery_status, latest_error_code FROM g2p_connect_callback ORDER BY created_at',
      )
    ).rows;

  beforeAll(async () => {
    await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/pbms`;
    s = await startStack({
      G2P_CONNECT_SENDERS: JSON.stringify({ [SENDER]: { callback_base_url: base, subscribe_status: true } }),
      // A failed delivery waits an hour; the test moves its next attempt forward instead of waiting.
      RETRY_BACKOFF_BASE_SECONDS: '3600',
    });
    s.setNow(`${TODAY}T09:00:00Z`);
    const program = await s.admin('POST', '/admin/programs', {
      benefit_program_mnemonic: 'GC-CASH',
      benefit_program_name: 'Cash transfer (G2P Connect)',
      funding_org_code: 'MOF',
      funding_org_name: 'Ministry of Finance',
      sponsor_bank_code: 'EXAMPLE',
      sponsor_bank_branch_code: 'BR01',
      sponsor_bank_account_number: FUNDING,
      sponsor_bank_account_currency: 'USD',
      // The mapper knows none of these payees: with payee_fa given, it must not be asked.
      id_mapper_resolution_required: true,
    });
    expect(program.status, JSON.stringify(program.body)).toBe(201);
    expect(
      (
        await s.bank.openAccount({
          accountNumber: FUNDING,
          currency: 'USD',
          openingBalance: '1000.00',
          statementsEnabled: true,
        })
      ).ok,
    ).toBe(true);
  });
  afterAll(async () => {
    await s?.close();
    await new Promise((resolve) => r.server.close(resolve));
  });

  const items = [1, 2, 3].map((i) => ({
    reference_id: `REF-${i}`,
    payer_fa: `account:${FUNDING}@EXAMPLE`,
    payee_fa: `account:ACC${i}@OTHERBANK`,
    amount: `1${i}.50`,
    scheduled_timestamp: `${SCHEDULE}T08:00:00Z`,
    payee_name: `Person ${i}`,
    note: 'March benefit',
  }));

  it('carries a disburse transaction to reconciled, with callbacks delivered once, through an outage', async () => {
    // sender_uri names a URL the operator never listed: the bridge must not call it.
    const first = await post(
      '/disburse',
      'disburse',
      { transaction_id: 'TXN-1', disbursements: items },
      {
        sender_uri: 'http://169.254.169.254/latest/meta-data',
      },
    );
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.message.ack_status).toBe('ACK');

    // A replay of the same message id gets the same ack and queues nothing more.
    const replay = await fetch(`${s.url}/disburse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await s.token('pbms')}` },
      body: JSON.stringify(first.sent),
    });
    expect(((await replay.json()) as Json).message.correlation_id).toBe(first.body.message.correlation_id);
    expect(await callbacks()).toHaveLength(1);

    // The receiver is down: the callback waits (retried), then is delivered exactly once.
    r.state.down = true;
    await s.workers.runOnce();
    const waiting = await callbacks();
    expect(waiting[0]).toMatchObject({ delivery_status: 'PENDING', latest_error_code: 'CALLBACK_HTTP_503' });
    r.state.down = false;
    await s.db.query(
      `UPDATE g2p_connect_callback SET next_attempt_at = now() WHERE delivery_status = 'PENDING'`,
    );
    await s.workers.runOnce();
    expect((await callbacks())[0]!.delivery_status).toBe('DELIVERED');
    const onDisburse = r.received.filter((c) => c.path === '/pbms/on-disburse');
    expect(onDisburse).toHaveLength(1);
    expect(onDisburse[0]!.body.header).toMatchObject({
      message_id: first.body.message.correlation_id,
      action: 'on-disburse',
      status: 'succ',
      receiver_id: SENDER,
    });
    expect(
      onDisburse[0]!.body.message.disbursements_status.map((d: Json) => [d.reference_id, d.status]),
    ).toEqual([
      ['REF-1', 'rcvd'],
      ['REF-2', 'rcvd'],
      ['REF-3', 'rcvd'],
    ]);
    // The payee FA was its own resolution: no mapper call, every row resolved.
    const { rows: resolved } = await s.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM mapper_resolution_details m JOIN g2p_connect_item i USING (disbursement_id)
        WHERE m.resolved AND m.bank_code = 'OTHERBANK'`,
    );
    expect(resolved[0]!.n).toBe(3);

    // The schedule date: shipped, pushed as on-status (pdng).
    s.setNow(`${SCHEDULE}T09:00:00Z`);
    await s.workers.runOnce();
    const pushes = () => r.received.filter((c) => c.path === '/pbms/disburse/txn/on-status');
    expect(
      pushes()
        .at(-1)!
        .body.message.txnstatus_response.txn_status.disbursements_status.map((d: Json) => d.status),
    ).toEqual(['pdng', 'pdng', 'pdng']);

    // The bank pays and sends its statement: each item pushed with its final state (the example bank returns
    // some payments: reversed is rjct with the bank's reason, reconciled is succ).
    await s.bank.processNow();
    await s.workers.runOnce();
    const { rows: finals } = await s.db.query<{ ref: string; state: string }>(
      `SELECT i.reference_id AS ref, l.lifecycle_status AS state FROM g2p_connect_item i
         JOIN disbursement_lifecycle l USING (disbursement_id) WHERE i.transaction_id = 'TXN-1' ORDER BY 1`,
    );
    expect(finals.every((f) => f.state === 'reconciled' || f.state === 'reversed')).toBe(true);
    const pushed = new Map<string, Json>();
    for (const p of pushes())
      for (const d of p.body.message.txnstatus_response.txn_status.disbursements_status)
        pushed.set(d.reference_id, d);
    for (const f of finals) {
      expect(pushed.get(f.ref)!.status).toBe(f.state === 'reconciled' ? 'succ' : 'rjct');
      expect(pushed.get(f.ref)!.status_reason_message).toMatch(new RegExp(`^${f.state}`));
    }
    expect([...pushed.values()].map((d) => d.amount).sort()).toEqual(['11.50', '12.50', '13.50']);
    // Every callback went to the configured base URL, each with its own message id.
    const ids = r.received.map((c) => c.body.header.message_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect((await callbacks()).every((c) => c.delivery_status === 'DELIVERED')).toBe(true);

    // The sync status call agrees.
    const status = await post('/disburse/sync/txn/status', 'search', {
      transaction_id: 'TXN-STATUS',
      txnstatus_request: {
        reference_id: 'Q1',
        txn_type: 'disburse',
        attribute_type: 'transaction_id',
        attribute_value: 'TXN-1',
      },
    });
    expect(status.body.header.status, JSON.stringify(status.body)).toBe('succ');
    expect(
      status.body.message.txnstatus_response.txn_status.disbursements_status.map((d: Json) => d.status),
    ).toEqual(finals.map((f) => (f.state === 'reconciled' ? 'succ' : 'rjct')));
  });

  it('refuses callbacks for a sender the operator did not list, whatever sender_uri says', async () => {
    const before = (await callbacks()).length;
    const res = await post(
      '/disburse',
      'disburse',
      { transaction_id: 'TXN-X', disbursements: [{ ...items[0], reference_id: 'X1' }] },
      { sender_id: 'stranger', sender_uri: 'http://127.0.0.1:1/steal' },
    );
    expect(res.body.message).toMatchObject({ ack_status: 'ERR', error: { code: 'err.sender_id.invalid' } });
    expect(await callbacks()).toHaveLength(before);
  });

  it('rejects a bad item with the spec reason code and applies nothing (sync)', async () => {
    const res = await post('/disburse/sync/disburse', 'disburse', {
      transaction_id: 'TXN-BAD',
      disbursements: [
        { ...items[0], reference_id: 'B1', scheduled_timestamp: undefined },
        {
          ...items[1],
          reference_id: 'B2',
          payer_fa: 'account:NOSUCH@EXAMPLE',
          scheduled_timestamp: undefined,
        },
      ],
    });
    expect(res.body.header.status).toBe('rjct');
    expect(res.body.header.status_reason_code).toBe('rjct.payer_fa.invalid');
    expect(res.body.message.disbursements_status[1].status_reason_code).toBe('rjct.payer_fa.invalid');
    const { rows } = await s.db.query(`SELECT 1 FROM g2p_connect_item WHERE transaction_id = 'TXN-BAD'`);
    expect(rows).toHaveLength(0);
  });
});
