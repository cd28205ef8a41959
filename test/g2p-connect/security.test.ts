// Signed and encrypted messages on the G2P Connect routes: a PBMS stand-in that must sign sends signed
// requests (one tampered with, one unsigned), an encrypted one for the bridge's published key, and checks the
// bridge's signature on its answers and on the callbacks it receives on loopback against /.well-known/jwks.json.
import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSenders, type Senders } from '../../src/config/senders.js';
import { encryptMessage } from '../../src/g2p/encryption.js';
import { ensureBridgeKeys } from '../../src/g2p/keys.js';
import { type SigningKey, signMessage, verifyMessage } from '../../src/g2p/signing.js';
import { type Stack, startStack } from '../pipeline/stack.js';

const FUNDING = 'GCSIGN0001';
const SENDER = 'pbms-signed';
const TODAY = '2030-03-10';

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies, inspected field by field
type Json = any;

const pem = (key: KeyObject) => key.export({ type: 'spki', format: 'pem' }).toString();
const pbms = generateKeyPairSync('ed25519');
const pbmsKey: SigningKey = {
  senderId: SENDER,
  kid: 'pbms-1',
  algorithm: 'ed25519',
  privateKey: pbms.privateKey,
};
const stranger = generateKeyPairSync('ed25519');

describe('G2P Connect: signatures and encryption', () => {
  let s: Stack;
  let dataDir: string;
  let server: Server;
  const received: { path: string; body: Json }[] = [];
  /** The bridge as a sender, with the keys its JWKS publishes: what a PBMS verifies answers and callbacks with. */
  let bridge: Senders;
  let encKey: { key: KeyObject; kid: string };

  const item = (ref: string) => ({
    reference_id: ref,
    payer_fa: `account:${FUNDING}@EXAMPLE`,
    payee_fa: `account:ACC-${ref}@OTHERBANK`,
    amount: '25.00',
    scheduled_timestamp: '2030-03-11T08:00:00Z',
  });

  const request = (action: string, message: unknown, header: Record<string, unknown> = {}) => ({
    signature: null as string | null,
    header: {
      version: '1.0.0',
      message_id: randomUUID(),
      message_ts: new Date().toISOString(),
      action,
      sender_id: SENDER,
      receiver_id: 'g2p-bridge',
      total_count: 1,
      is_msg_encrypted: false,
      ...header,
    },
    message,
  });
  const signed = <B extends { header: unknown; message: unknown }>(body: B, key = pbmsKey) => ({
    ...body,
    signature: signMessage(body, key),
  });
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${s.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await s.token('pbms')}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  };
  const count = async (sql: string) => (await s.db.query<{ n: number }>(sql)).rows[0]!.n;
  const fromBridge = (body: Json) => verifyMessage(bridge, body);

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => {
        text += c;
      });
      req.on('end', () => {
        received.push({ path: req.url ?? '', body: JSON.parse(text) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pbms`;
    // The operator ran `g2p-bridge keys` before starting the bridge.
    dataDir = await mkdtemp(join(tmpdir(), 'g2p-connect-keys-'));
    await ensureBridgeKeys({ DATA_DIR: dataDir, DATABASE_URL: undefined });
    s = await startStack({
      DATA_DIR: dataDir,
      G2P_CONNECT_SENDERS: JSON.stringify({
        [SENDER]: {
          public_keys: [{ kid: 'pbms-1', pem: pem(pbms.publicKey) }],
          must_sign: true,
          callback_base_url: base,
        },
      }),
    });
    s.setNow(`${TODAY}T09:00:00Z`);
    const program = await s.admin('POST', '/admin/programs', {
      benefit_program_mnemonic: 'GC-SIGNED',
      benefit_program_name: 'Cash transfer (signed G2P Connect)',
      funding_org_code: 'MOF',
      funding_org_name: 'Ministry of Finance',
      sponsor_bank_code: 'EXAMPLE',
      sponsor_bank_branch_code: 'BR01',
      sponsor_bank_account_number: FUNDING,
      sponsor_bank_account_currency: 'USD',
      id_mapper_resolution_required: true,
    });
    expect(program.status, JSON.stringify(program.body)).toBe(201);

    const jwks = (await (await fetch(`${s.url}/.well-known/jwks.json`)).json()) as { keys: JWK[] };
    const sig = jwks.keys.find((k) => k.use === 'sig')!;
    const enc = jwks.keys.find((k) => k.use === 'enc')!;
    const sigKey = KeyObject.from((await importJWK(sig, 'EdDSA', { extractable: true })) as never);
    bridge = parseSenders(
      JSON.stringify({
        'g2p-bridge': { public_keys: [{ kid: sig.kid, pem: pem(sigKey) }], must_sign: true },
      }),
    );
    encKey = {
      key: KeyObject.from((await importJWK(enc, 'RSA-OAEP-256', { extractable: true })) as never),
      kid: enc.kid!,
    };
  });
  afterAll(async () => {
    await s?.close();
    await new Promise((resolve) => server?.close(resolve));
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('signs its ack and the callback, which verify against its JWKS; a forged callback does not', async () => {
    const ack = await post(
      '/disburse',
      signed(request('disburse', { transaction_id: 'TXN-S1', disbursements: [item('S1')] })),
    );
    expect(ack.status, JSON.stringify(ack.body)).toBe(200);
    expect(ack.body.message.ack_status).toBe('ACK');
    // The ack's header is a response header (no sender_id): the PBMS knows it called the bridge.
    expect(
      await fromBridge({ ...ack.body, header: { ...ack.body.header, sender_id: 'g2p-bridge' } }),
    ).toMatchObject({ ok: true, signed: true });

    await s.workers.runOnce();
    const callback = received.find((r) => r.path === '/pbms/on-disburse');
    expect(callback, JSON.stringify(received.map((r) => r.path))).toBeDefined();
    expect(callback!.body.header).toMatchObject({
      message_id: ack.body.message.correlation_id,
      sender_id: 'g2p-bridge',
      receiver_id: SENDER,
    });
    expect(callback!.body.signature).toMatch(/^Signature: namespace="g2p", kidId="g2p-bridge\|/);
    expect(await fromBridge(callback!.body)).toMatchObject({ ok: true, signed: true });

    // A callback someone else made up: the bridge's signature moved onto another message, or another key's.
    const altered = {
      ...callback!.body,
      message: { ...callback!.body.message, transaction_id: 'TXN-FORGED' },
    };
    expect(await fromBridge(altered)).toMatchObject({ ok: false, errorCode: 'rjct.signature.invalid' });
    const otherKey: SigningKey = {
      senderId: 'g2p-bridge',
      kid: bridgeKid(callback!.body.signature),
      algorithm: 'ed25519',
      privateKey: stranger.privateKey,
    };
    const forged = { ...altered, signature: signMessage(altered, otherKey) };
    expect(await fromBridge(forged)).toMatchObject({ ok: false, errorCode: 'rjct.signature.invalid' });
  });

  it('refuses a message changed after it was signed, and queues and stores nothing', async () => {
    const message = { transaction_id: 'TXN-S2', disbursements: [item('S2')] };
    const good = signed(request('disburse', message));
    const before = await count('SELECT count(*)::int AS n FROM g2p_connect_callback');
    for (const path of ['/disburse', '/disburse/sync/disburse']) {
      const original = signed(request('disburse', message));
      const tampered = {
        ...original,
        message: { ...message, disbursements: [{ ...item('S2'), amount: '2500.00' }] },
      };
      const res = await post(path, tampered);
      expect(res.status, JSON.stringify(res.body)).toBe(401);
      expect(res.body.header.status).toBe('rjct');
      expect(res.body.header.status_reason_code).toBe('rjct.signature.invalid');
      // The refusal is signed by the bridge too.
      expect(
        await fromBridge({ ...res.body, header: { ...res.body.header, sender_id: 'g2p-bridge' } }),
      ).toMatchObject({ ok: true });
    }
    const byAnother = await post(
      '/disburse/sync/disburse',
      signed(good, { ...pbmsKey, privateKey: stranger.privateKey }),
    );
    expect(byAnother.status).toBe(401);
    expect(byAnother.body.header.status_reason_code).toBe('rjct.signature.invalid');
    expect(
      await count(`SELECT count(*)::int AS n FROM g2p_connect_item WHERE transaction_id = 'TXN-S2'`),
    ).toBe(0);
    expect(await count('SELECT count(*)::int AS n FROM g2p_connect_callback')).toBe(before);
  });

  it('refuses an unsigned message from a must-sign sender on every route', async () => {
    const calls: [string, string, unknown][] = [
      ['/disburse', 'disburse', { transaction_id: 'TXN-S3', disbursements: [item('S3')] }],
      ['/disburse/sync/disburse', 'disburse', { transaction_id: 'TXN-S3', disbursements: [item('S3')] }],
      [
        '/disburse/sync/search',
        'search',
        {
          transaction_id: 'Q-S3',
          search_criteria: [
            {
              reference_id: 'q1',
              request_type: 'disburse',
              attribute_type: 'payer_fa',
              attribute_value: 'x',
            },
          ],
        },
      ],
    ];
    for (const [path, action, message] of calls) {
      const res = await post(path, request(action, message));
      expect(res.status, path).toBe(401);
      expect(res.body.header.status_reason_code, path).toBe('rjct.signature.missing');
    }
    expect(
      await count(`SELECT count(*)::int AS n FROM g2p_connect_item WHERE transaction_id = 'TXN-S3'`),
    ).toBe(0);
  });

  it('decrypts an encrypted message before validating it, and refuses one that does not decrypt', async () => {
    const message = { transaction_id: 'TXN-S4', disbursements: [item('S4')] };
    const encrypted = await encryptMessage(message, encKey.key, encKey.kid);
    const ok = await post(
      '/disburse/sync/disburse',
      signed(request('disburse', encrypted, { is_msg_encrypted: true })),
    );
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    expect(ok.body.header.status).toBe('succ');
    expect(ok.body.message.disbursements_status.map((d: Json) => d.reference_id)).toEqual(['S4']);
    expect(
      await count(`SELECT count(*)::int AS n FROM g2p_connect_item WHERE transaction_id = 'TXN-S4'`),
    ).toBe(1);

    // What it hides is validated like a plain message: an amount that is a number is refused.
    const badInside = await encryptMessage(
      { transaction_id: 'TXN-S5', disbursements: [{ ...item('S5'), amount: 25 }] },
      encKey.key,
      encKey.kid,
    );
    const invalid = await post(
      '/disburse/sync/disburse',
      signed(request('disburse', badInside, { is_msg_encrypted: true })),
    );
    expect(invalid.status).toBe(400);
    expect(JSON.stringify(invalid.body)).toMatch(/amount/);

    const tampered = { ...encrypted, ciphertext: `A${encrypted.ciphertext.slice(1)}` };
    const bad = await post('/disburse', signed(request('disburse', tampered, { is_msg_encrypted: true })));
    expect(bad.status).toBe(400);
    expect(bad.body.header.status_reason_code).toBe('rjct.encryption.invalid');
    // Marked encrypted but sent in clear: never read as plain text.
    const plain = await post(
      '/disburse/sync/disburse',
      signed(
        request(
          'disburse',
          { transaction_id: 'TXN-S6', disbursements: [item('S6')] },
          { is_msg_encrypted: true },
        ),
      ),
    );
    expect(plain.status).toBe(400);
    expect(plain.body.header.status_reason_code).toBe('rjct.encryption.invalid');
    expect(
      await count(
        `SELECT count(*)::int AS n FROM g2p_connect_item WHERE transaction_id IN ('TXN-S5', 'TXN-S6')`,
      ),
    ).toBe(0);
  });
});

/** The unique_key_id in a signature's kidId. */
function bridgeKid(signature: string): string {
  return /kidId="[^|]*\|([^|]*)\|/.exec(signature)![1]!;
}
