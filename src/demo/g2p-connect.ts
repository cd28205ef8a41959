// `demo --api g2p-connect`: the whole cycle through the G2P Connect disbursement API, as a PBMS that speaks it
// would run it. The demo is the PBMS: it signs its asynchronous /disburse requests with its own Ed25519 key (the
// bridge is configured to require that), receives the bridge's on-disburse and on-status callbacks on a loopback
// receiver it starts itself, checks every callback's signature against the bridge's /.well-known/jwks.json, and
// follows the pushes until every disbursement is paid (succ) or refused/returned (rjct). Payees are given by
// financial address (account:<no>@<bank>), so no mapper is involved.
import { createPublicKey, generateKeyPairSync, KeyObject, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { importJWK, type JWK } from 'jose';
import { parseSenders, type Senders } from '../config/senders.js';
import { type SigningKey, signMessage, verifyMessage } from '../g2p/signing.js';
import { decimalToMinor, formatMinorUnits } from '../money/index.js';
import { BridgeClient, DemoError } from './client.js';
import type { Output } from './progress.js';
import { groupAmount } from './summary.js';

export const DEMO_PBMS_ID = 'g2p-connect-demo-pbms';

interface Callback {
  path: string;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body, read field by field
  body: any;
}

/** The PBMS side the demo plays: its signing key and the callback receiver on loopback. */
export interface DemoPbms {
  key: SigningKey;
  /** The receiver's base URL: the sender's callback_base_url. */
  callbackBaseUrl: string;
  received: Callback[];
  /** G2P_CONNECT_SENDERS for the bridge: this PBMS, must sign, callbacks and status pushes to the receiver. */
  sendersConfig: string;
  close(): Promise<void>;
}

/** Starts the PBMS's callback receiver on 127.0.0.1 (a free port) and makes its key pair. */
export async function startDemoPbms(): Promise<DemoPbms> {
  const pair = generateKeyPairSync('ed25519');
  const received: Callback[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        received.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        res.writeHead(400).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: { ack_status: 'ACK', timestamp: new Date().toISOString() } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const callbackBaseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pbms`;
  const pem = createPublicKey(pair.privateKey).export({ type: 'spki', format: 'pem' }).toString();
  return {
    key: { senderId: DEMO_PBMS_ID, kid: 'demo-1', algorithm: 'ed25519', privateKey: pair.privateKey },
    callbackBaseUrl,
    received,
    sendersConfig: JSON.stringify({
      [DEMO_PBMS_ID]: {
        public_keys: [{ kid: 'demo-1', pem }],
        must_sign: true,
        callback_base_url: callbackBaseUrl,
        subscribe_status: true,
      },
    }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface G2pConnectDemoOptions {
  url: string;
  token: string;
  pbms: DemoPbms;
  size: number;
  /** Disbursements per /disburse transaction (default 1,000). */
  batchSize?: number;
  currency?: string;
  bankCode?: string;
  run?: string;
  pollMs?: number;
  timeoutMs?: number;
  out: Output;
}

export interface G2pConnectDemoResult {
  ok: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
  summary: string;
  transactions: string[];
  /** reference_id → last pushed status. */
  final: Map<string, { status: string; amount: string }>;
}

const FINAL = new Set(['succ', 'rjct']);

export async function runG2pConnectDemo(options: G2pConnectDemoOptions): Promise<G2pConnectDemoResult> {
  const started = Date.now();
  const say = (text: string) => options.out.write(`${text}\n`);
  const client = new BridgeClient(options.url.replace(/\/+$/, ''), options.token);
  const run = options.run ?? randomBytes(3).toString('hex');
  const currency = options.currency ?? 'USD';
  const bankCode = options.bankCode ?? 'EXAMPLE';
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 1000, 10_000));
  const { pbms } = options;
  const funding = `GC${run.toUpperCase()}FUND`;
  const amountMinor = (i: number) => BigInt(1000 + ((i * 37) % 9000)); // 10.00 to 99.99
  let totalMinor = 0n;
  for (let i = 0; i < options.size; i++) totalMinor += amountMinor(i);
  const money = (minor: bigint) => formatMinorUnits(minor, 2);

  say(
    `g2p-bridge demo (G2P Connect API): ${options.size.toLocaleString('en-US')} disbursements through ${client.baseUrl}  (run ${run})`,
  );
  await client.call('POST', '/example-bank/admin/accounts', {
    account_number: funding,
    currency,
    holder_name: `G2P Connect demo ${run} funding`,
    opening_balance: money(totalMinor + totalMinor / 20n),
    statements_enabled: true,
  });
  await client.call('POST', '/admin/programs', {
    benefit_program_mnemonic: `GC-DEMO-${run.toUpperCase()}`,
    benefit_program_name: `G2P Connect demo ${run}`,
    funding_org_code: 'DEMO-MIN',
    funding_org_name: 'Ministry of Demonstrations',
    sponsor_bank_code: bankCode,
    sponsor_bank_branch_code: 'HQ',
    sponsor_bank_account_number: funding,
    sponsor_bank_account_currency: currency,
    id_mapper_resolution_required: true,
  });
  say(`  program GC-DEMO-${run.toUpperCase()}, payer_fa account:${funding}@${bankCode}`);

  // The bridge's public keys: what the PBMS verifies answers and callbacks with.
  const jwks = await client.getJson<{ keys: JWK[] }>('/.well-known/jwks.json').catch(() => null);
  const bridge = await bridgeSenders(jwks);
  if (!bridge)
    say('  the bridge publishes no signing key (run `g2p-bridge keys`): its signatures cannot be checked');

  // 1. Signed asynchronous /disburse requests, one transaction per batch.
  const transactions: string[] = [];
  const acks = new Map<string, string>(); // callback message id → transaction id
  let answersVerified = 0;
  for (let from = 0, t = 1; from < options.size; from += batchSize, t++) {
    const txn = `GC-${run}-T${t}`;
    const disbursements = [];
    for (let i = from; i < Math.min(options.size, from + batchSize); i++)
      disbursements.push({
        reference_id: `${txn}-${i + 1}`,
        payer_fa: `account:${funding}@${bankCode}`,
        payee_fa: `account:GC${run.toUpperCase()}${String(i + 1).padStart(7, '0')}@OTHERBANK`,
        amount: money(amountMinor(i)),
        currency_code: currency,
        payee_name: `Demo beneficiary ${i + 1}`,
        note: `G2P Connect demo ${run}`,
      });
    const header = {
      version: '1.0.0',
      message_id: randomUUID(),
      message_ts: new Date().toISOString(),
      action: 'disburse',
      sender_id: pbms.key.senderId,
      receiver_id: 'g2p-bridge',
      total_count: disbursements.length,
      is_msg_encrypted: false,
    };
    const message = { transaction_id: txn, disbursements };
    const r = await client.call<{
      header: { status: string };
      message: { ack_status: string; correlation_id: string; error?: unknown };
    }>(
      'POST',
      '/disburse',
      { signature: signMessage({ header, message }, pbms.key), header, message },
      [200],
    );
    const answer = r.body;
    if (answer.message.ack_status !== 'ACK')
      throw new DemoError(
        `/disburse ${txn} was not acknowledged: ${JSON.stringify(answer.message).slice(0, 300)}`,
      );
    if (bridge && (await verifyFromBridge(bridge, answer))) answersVerified++;
    acks.set(answer.message.correlation_id, txn);
    transactions.push(txn);
  }
  say(
    `  sent ${transactions.length} signed /disburse transaction${transactions.length === 1 ? '' : 's'}, each acknowledged (ACK)`,
  );

  // 2. Follow the callbacks until every disbursement's last pushed status is final.
  const pollMs = options.pollMs ?? 1000;
  const deadline = started + (options.timeoutMs ?? 300_000 + options.size * 2);
  const final = new Map<string, { status: string; amount: string }>();
  let lastShown = '';
  let seen = 0;
  for (;;) {
    for (; seen < pbms.received.length; seen++) {
      const c = pbms.received[seen]!;
      if (c.path.endsWith('/disburse/txn/on-status'))
        for (const d of c.body?.message?.txnstatus_response?.txn_status?.disbursements_status ?? [])
          final.set(d.reference_id, { status: d.status, amount: d.amount });
    }
    const done = [...final.values()].filter((v) => FINAL.has(v.status)).length;
    const onDisburse = pbms.received.filter((c) => c.path.endsWith('/on-disburse')).length;
    const line = `  callbacks: ${onDisburse} / ${transactions.length} on-disburse, ${pbms.received.length - onDisburse} on-status; ${done} / ${options.size} disbursements final`;
    if (line !== lastShown) say(line);
    lastShown = line;
    if (done === options.size && onDisburse >= transactions.length) break;
    if (Date.now() > deadline) {
      say(`  stopped following: timed out after ${Math.round((Date.now() - started) / 1000)} s`);
      break;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }

  // 3. Checks: signatures, duplicates, exact amounts, and the sync status API against the pushes.
  const ids = pbms.received.map((c) => c.body?.header?.message_id);
  let callbacksVerified = 0;
  if (bridge) for (const c of pbms.received) if (await verifyFromBridge(bridge, c.body)) callbacksVerified++;
  const onDisburse = pbms.received.filter((c) => c.path.endsWith('/on-disburse'));
  const answered = new Set(onDisburse.map((c) => c.body?.header?.message_id));
  const paid = [...final.values()].filter((v) => v.status === 'succ');
  const refused = [...final.values()].filter((v) => v.status === 'rjct');
  const sum = (rows: { amount: string }[]) => rows.reduce((n, r) => n + decimalToMinor(r.amount, 2), 0n);
  let statusAgrees = true;
  for (const txn of transactions) {
    const header = {
      version: '1.0.0',
      message_id: randomUUID(),
      message_ts: new Date().toISOString(),
      action: 'search',
      sender_id: pbms.key.senderId,
      receiver_id: 'g2p-bridge',
      total_count: 1,
      is_msg_encrypted: false,
    };
    const message = {
      transaction_id: `${txn}-Q`,
      txnstatus_request: {
        reference_id: `${txn}-Q1`,
        txn_type: 'disburse',
        attribute_type: 'transaction_id',
        attribute_value: txn,
      },
    };
    const r = await client.call<{
      message: {
        txnstatus_response?: {
          txn_status?: { disbursements_status?: { reference_id: string; status: string }[] };
        };
      };
    }>(
      'POST',
      '/disburse/sync/txn/status',
      { signature: signMessage({ header, message }, pbms.key), header, message },
      [200],
    );
    for (const d of r.body.message.txnstatus_response?.txn_status?.disbursements_status ?? [])
      if (final.get(d.reference_id)?.status !== d.status) statusAgrees = false;
  }
  const checks = [
    {
      name: 'every disbursement ended paid or refused',
      ok: paid.length + refused.length === options.size,
      detail: `${paid.length} succ + ${refused.length} rjct of ${options.size}`,
    },
    {
      name: 'every amount pushed back exactly',
      ok: sum(paid) + sum(refused) === totalMinor,
      detail: `${groupAmount(money(sum(paid) + sum(refused)))} of ${groupAmount(money(totalMinor))} ${currency}`,
    },
    {
      name: 'one on-disburse per acknowledged transaction',
      ok: [...acks.keys()].every((id) => answered.has(id)) && onDisburse.length === transactions.length,
      detail: `${onDisburse.length} for ${transactions.length} ACKs`,
    },
    {
      name: 'no callback delivered twice',
      ok: new Set(ids).size === ids.length,
      detail: `${ids.length} callbacks, ${new Set(ids).size} message ids`,
    },
    {
      name: "answers and callbacks signed with the bridge's published key",
      ok:
        bridge !== null &&
        answersVerified === transactions.length &&
        callbacksVerified === pbms.received.length,
      detail: `${answersVerified} / ${transactions.length} answers, ${callbacksVerified} / ${pbms.received.length} callbacks verified`,
    },
    {
      name: 'sync txn/status agrees with the pushes',
      ok: statusAgrees,
      detail: statusAgrees ? 'same status for every reference_id' : 'differs',
    },
  ];
  const summary = [
    `G2P Connect summary (run ${run}, ${Math.round((Date.now() - started) / 100) / 10} s)`,
    `  paid (succ)      ${String(paid.length).padStart(8)}  ${groupAmount(money(sum(paid))).padStart(16)} ${currency}`,
    `  refused (rjct)   ${String(refused.length).padStart(8)}  ${groupAmount(money(sum(refused))).padStart(16)} ${currency}`,
    `  sent             ${String(options.size).padStart(8)}  ${groupAmount(money(totalMinor)).padStart(16)} ${currency}`,
    ...checks.map((c) => `  [${c.ok ? 'ok' : 'FAIL'}] ${c.name}: ${c.detail}`),
  ].join('\n');
  options.out.write(`\n${summary}\n`);
  return { ok: checks.every((c) => c.ok), checks, summary, transactions, final };
}

/** The bridge as a sender whose key the JWKS gives; null when it publishes none. */
async function bridgeSenders(jwks: { keys: JWK[] } | null): Promise<Senders | null> {
  const sig = jwks?.keys?.find((k) => k.use === 'sig');
  if (!sig?.kid) return null;
  const key = KeyObject.from((await importJWK(sig, 'EdDSA', { extractable: true })) as never);
  const pem = key.export({ type: 'spki', format: 'pem' }).toString();
  return parseSenders(
    JSON.stringify({ 'g2p-bridge': { public_keys: [{ kid: sig.kid, pem }], must_sign: true } }),
  );
}

/** A body from the bridge verifies with its published key (an answer's header names no sender: the bridge). */
async function verifyFromBridge(
  bridge: Senders,
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body
  body: any,
): Promise<boolean> {
  if (!body?.header || typeof body.signature !== 'string') return false;
  const header = { ...body.header, sender_id: body.header.sender_id ?? 'g2p-bridge' };
  return (await verifyMessage(bridge, { ...body, header })).ok === true;
}
