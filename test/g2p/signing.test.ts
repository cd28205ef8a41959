// Signed and encrypted G2P messages on the 1.0.2 PBMS routes: a PBMS stand-in signs with Ed25519 or RS256 keys
// the operator configured (PEM or a JWKS URL on loopback), encrypts for the bridge's published key, and checks
// the bridge's signature on every answer.
import { generateKeyPairSync, KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSenders } from '../../src/config/senders.js';
import { encryptMessage } from '../../src/g2p/encryption.js';
import { ensureBridgeKeys, loadBridgeKeys } from '../../src/g2p/keys.js';
import { type SigningKey, signMessage, verifyMessage } from '../../src/g2p/signing.js';
import {
  addEnvelope,
  addProgram,
  type Client,
  client,
  disbursement,
  envelopeMessage,
  expectUnchanged,
  g2p,
  NOW,
} from '../api/helpers.js';
import { type TestApp, testApp } from '../support/app.js';

const pem = (key: KeyObject | Parameters<typeof KeyObject.from>[0]) =>
  (key instanceof KeyObject ? key : KeyObject.from(key)).export({ type: 'spki', format: 'pem' }).toString();
const ed = generateKeyPairSync('ed25519');
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('ed25519');
const jwksKey = generateKeyPairSync('ed25519');

const edKey: SigningKey = {
  senderId: 'test-pbms',
  kid: 'ed-1',
  algorithm: 'ed25519',
  privateKey: ed.privateKey,
};
const rsaKey: SigningKey = {
  senderId: 'test-pbms',
  kid: 'rsa-1',
  algorithm: 'rsa-sha256',
  privateKey: rsa.privateKey,
};

let jwksServer: Server;
let jwksUrl: string;
let dataDir: string;
let t: TestApp;
let c: Client;
let envelope: string;
let program: string;

function sendersJson(extra: Record<string, unknown> = {}) {
  return JSON.stringify({
    'test-pbms': {
      public_keys: [
        { kid: 'ed-1', pem: pem(ed.publicKey) },
        { kid: 'rsa-1', pem: pem(rsa.publicKey) },
      ],
      must_sign: false,
    },
    'strict-pbms': { public_keys: [pem(ed.publicKey)], must_sign: true },
    'jwks-pbms': { jwks_url: jwksUrl, must_sign: true },
    ...extra,
  });
}

/** A signed request as a PBMS sends it: the signature over {header, message} as they travel. */
function signed(
  action: string,
  message: unknown,
  key: SigningKey | null,
  header: Record<string, unknown> = {},
) {
  const body = g2p(action, message, { sender_id: key?.senderId ?? 'test-pbms', ...header });
  return { ...body, signature: key ? signMessage(body, key) : null };
}

/** An envelope created by `key`'s sender: only that sender may add to it (forbidden.sender). */
async function envelopeOf(key: SigningKey) {
  const res = await post(
    'create_disbursement_envelope',
    signed('create_disbursement_envelope', envelopeMessage(program), key),
  );
  expect(res.body.header.status, JSON.stringify(res.body.header)).toBe('succ');
  return res.body.message.disbursement_envelope_id as string;
}

async function post(action: string, body: unknown) {
  const res = await t.app.inject({
    method: 'POST',
    url: `/${action}`,
    headers: { authorization: `Bearer ${await c.tokenFor('pbms')}` },
    payload: body as object,
  });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  jwksServer = createServer(async (req, res) => {
    const jwk = {
      ...(jwksKey.publicKey.export({ format: 'jwk' }) as JWK),
      kid: 'jw-1',
      alg: 'EdDSA',
      use: 'sig',
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: req.url === '/jwks.json' ? [jwk] : [] }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  dataDir = await mkdtemp(join(tmpdir(), 'g2p-keys-'));
  t = await testApp({ G2P_CONNECT_SENDERS: sendersJson(), DATA_DIR: dataDir });
  t.setNow(NOW);
  c = client(t);
  program = await addProgram(c);
  envelope = await addEnvelope(c, program, {
    number_of_beneficiaries: 100,
    number_of_disbursements: 100,
    total_disbursement_amount: 10000,
  });
});

afterAll(async () => {
  await t?.close();
  await new Promise((resolve) => jwksServer?.close(resolve));
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('incoming signatures (1.0.2 PBMS calls)', () => {
  it('takes a good Ed25519 signature and a good RS256 one', async () => {
    for (const key of [edKey, rsaKey]) {
      const res = await post(
        'create_disbursements',
        signed('create_disbursements', [disbursement(envelope)], key),
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.header.status).toBe('succ');
    }
  });

  it('refuses a signature that is not a string with a 4xx, never a 500', async () => {
    for (const signature of [42, { alg: 'none' }, ['x'], true]) {
      const body = { ...signed('create_disbursements', [disbursement(envelope)], edKey), signature };
      const res = await expectUnchanged(t, () => post('create_disbursements', body));
      expect(res.status, JSON.stringify(signature)).toBeGreaterThanOrEqual(400);
      expect(res.status, JSON.stringify(signature)).toBeLessThan(500);
    }
  });

  it('refuses a message changed after it was signed, whoever the sender', async () => {
    const body = signed('create_disbursements', [disbursement(envelope)], edKey);
    (body.message as { disbursement_amount: number }[])[0]!.disbursement_amount = 999;
    const res = await expectUnchanged(t, () => post('create_disbursements', body));
    expect(res.status).toBe(401);
    expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: 'rjct.signature.invalid' });
  });

  it('refuses a signature by a key the sender was not given, or by a sender with no keys', async () => {
    const stranger = { ...edKey, privateKey: other.privateKey };
    const bad = await expectUnchanged(t, () =>
      post('create_disbursements', signed('create_disbursements', [disbursement(envelope)], stranger)),
    );
    expect(bad.status).toBe(401);
    expect(bad.body.header.status_reason_code).toBe('rjct.signature.invalid');
    const unknownKid = { ...edKey, kid: 'ed-9' };
    const res = await post(
      'create_disbursements',
      signed('create_disbursements', [disbursement(envelope)], unknownKid),
    );
    expect(res.status).toBe(401);
    expect(res.body.header.status_reason_code).toBe('rjct.signature.key_unknown');
    const unlisted = { ...edKey, senderId: 'nobody' };
    const res2 = await post(
      'create_disbursements',
      signed('create_disbursements', [disbursement(envelope)], unlisted),
    );
    expect(res2.status).toBe(401);
    expect(res2.body.header.status_reason_code).toBe('rjct.signature.key_unknown');
  });

  it('refuses a signature whose kidId names another sender than the header', async () => {
    const body = signed('create_disbursements', [disbursement(envelope)], edKey, {
      sender_id: 'strict-pbms',
    });
    const res = await post('create_disbursements', body);
    expect(res.status).toBe(401);
    expect(res.body.header.status_reason_code).toBe('rjct.signature.invalid');
  });

  it('refuses an unsigned message from a must-sign sender, and takes one from a sender that need not sign', async () => {
    const res = await expectUnchanged(t, () =>
      post(
        'create_disbursements',
        signed('create_disbursements', [disbursement(envelope)], null, { sender_id: 'strict-pbms' }),
      ),
    );
    expect(res.status).toBe(401);
    expect(res.body.header.status_reason_code).toBe('rjct.signature.missing');
    const ok = await post(
      'create_disbursements',
      signed('create_disbursements', [disbursement(envelope)], null),
    );
    expect(ok.body.header.status).toBe('succ');
    const strict = { ...edKey, senderId: 'strict-pbms', kid: 'any' };
    const signedOk = await post(
      'create_disbursements',
      signed('create_disbursements', [disbursement(await envelopeOf(strict))], strict),
    );
    expect(signedOk.body.header.status, JSON.stringify(signedOk.body.header)).toBe('succ');
  });

  it('refuses a signature out of its created/expires window', () => {
    const body = g2p('x', [], { sender_id: 'test-pbms' });
    const old = { ...body, signature: signMessage(body, edKey, new Date('2020-01-01T00:00:00Z')) };
    return expect(verifyMessage(parseSenders(sendersJson()), old)).resolves.toMatchObject({
      ok: false,
      errorCode: 'rjct.signature.expired',
    });
  });

  it('answers a replayed signed message from its stored answer: paid once', async () => {
    const body = signed('create_disbursements', [disbursement(envelope)], edKey);
    const first = await post('create_disbursements', body);
    const again = await post('create_disbursements', body);
    expect(first.body.header.status).toBe('succ');
    expect(again.body.message).toEqual(first.body.message);
    const ids = first.body.message.map((d: { disbursement_id: string }) => d.disbursement_id);
    const { rows } = await t.ctx.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM disbursement WHERE disbursement_id = ANY($1)',
      [ids],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it("reads a sender's keys from its JWKS URL", async () => {
    const key: SigningKey = {
      senderId: 'jwks-pbms',
      kid: 'jw-1',
      algorithm: 'ed25519',
      privateKey: jwksKey.privateKey,
    };
    const res = await post(
      'create_disbursements',
      signed('create_disbursements', [disbursement(await envelopeOf(key))], key),
    );
    expect(res.body.header.status, JSON.stringify(res.body.header)).toBe('succ');
    const wrongKid = await post(
      'create_disbursements',
      signed('create_disbursements', [disbursement(envelope)], { ...key, kid: 'jw-2' }),
    );
    expect(wrongKid.status).toBe(401);
    expect(wrongKid.body.header.status_reason_code).toBe('rjct.signature.key_unknown');
  });
});

describe("the bridge's keys, its signed answers and encrypted messages", () => {
  it('refuses an encrypted message while the bridge has no key, and publishes no JWKS', async () => {
    expect(t.app.g2pSecurity?.keys).toBeNull();
    const jwks = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(404);
    const someKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const message = await encryptMessage([disbursement(envelope)], someKey, 'k');
    const res = await expectUnchanged(t, () =>
      post(
        'create_disbursements',
        signed('create_disbursements', message, edKey, { is_msg_encrypted: true, total_count: 1 }),
      ),
    );
    expect(res.status).toBe(400);
    expect(res.body.header.status_reason_code).toBe('rjct.encryption.not_supported');
  });

  it('creates its keys once, keeps them in DATA_DIR or bridge_setting, and publishes them', async () => {
    const made = await ensureBridgeKeys(t.ctx.config, t.ctx.db);
    expect(made.created).toBe(true);
    const again = await ensureBridgeKeys(t.ctx.config, t.ctx.db);
    expect(again.created).toBe(false);
    expect(again.keys.signing.kid).toBe(made.keys.signing.kid);
    const inDb = { DATA_DIR: dataDir, DATABASE_URL: 'postgres://stored-in-bridge-setting' };
    expect(await loadBridgeKeys(inDb, t.ctx.db)).toBeNull();
    const pg = await ensureBridgeKeys(inDb, t.ctx.db);
    expect((await loadBridgeKeys(inDb, t.ctx.db))?.decryption.kid).toBe(pg.keys.decryption.kid);
    t.app.g2pSecurity!.keys = made.keys; // what a restart after `g2p-bridge keys` loads
    const jwks = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(jwks.statusCode).toBe(200);
    const body = jwks.json() as { keys: JWK[] };
    expect(body.keys.map((k) => k.use)).toEqual(['sig', 'enc']);
    expect(body.keys.every((k) => k.d === undefined && k.p === undefined)).toBe(true);
  });

  it('signs every answer, refusals too, so that its JWKS verifies them', async () => {
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as {
      keys: JWK[];
    };
    const sig = jwks.keys.find((k) => k.use === 'sig')!;
    const bridge = parseSenders(
      JSON.stringify({
        'g2p-bridge': {
          public_keys: [
            { kid: sig.kid, pem: pem((await importJWK(sig, 'EdDSA', { extractable: true })) as never) },
          ],
        },
      }),
    );
    const ok = await post(
      'create_disbursements',
      signed('create_disbursements', [disbursement(envelope)], edKey),
    );
    const refused = await post(
      'create_disbursements',
      signed('create_disbursements', [disbursement(envelope)], null, { sender_id: 'strict-pbms' }),
    );
    for (const res of [ok, refused]) {
      expect(res.body.signature).toMatch(/^Signature: namespace="g2p", kidId="g2p-bridge\|/);
      expect(
        await verifyMessage(bridge, { ...res.body, header: { ...res.body.header, sender_id: 'g2p-bridge' } }),
      ).toMatchObject({ ok: true, signed: true });
    }
    const forged = { ...ok.body, header: { ...ok.body.header, sender_id: 'g2p-bridge', status: 'rjct' } };
    expect((await verifyMessage(bridge, forged)).ok).toBe(false);
  });

  it('decrypts a message encrypted for its published key', async () => {
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as {
      keys: JWK[];
    };
    const enc = jwks.keys.find((k) => k.use === 'enc')!;
    const publicKey = (await importJWK(enc, 'RSA-OAEP-256', { extractable: true })) as never;
    const item = disbursement(envelope);
    const message = await encryptMessage([item], publicKey, enc.kid!);
    const res = await post(
      'create_disbursements',
      signed('create_disbursements', message, edKey, { is_msg_encrypted: true }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.header.status).toBe('succ');
    expect(res.body.message[0].beneficiary_id).toBe(item.beneficiary_id);
    const tampered = { ...message, ciphertext: `A${message.ciphertext.slice(1)}` };
    const bad = await expectUnchanged(t, () =>
      post(
        'create_disbursements',
        signed('create_disbursements', tampered, edKey, { is_msg_encrypted: true }),
      ),
    );
    expect(bad.status).toBe(400);
    expect(bad.body.header.status_reason_code).toBe('rjct.encryption.invalid');
    const plain = await post(
      'create_disbursements',
      signed('create_disbursements', [item], edKey, { is_msg_encrypted: true }),
    );
    expect(plain.body.header.status_reason_code).toBe('rjct.encryption.invalid');
  });
});
