// A signature's validity window is capped (issue 14): expires − created at most G2P_SIGNATURE_MAX_AGE_SECONDS
// (default 600), and a created further in the past than that (plus the clock skew) is refused, so a captured
// signed message cannot be replayed for years.
import { sign as cryptoSign, generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { g2pRequest } from '../../src/api/g2p-request.js';
import { parseSenders } from '../../src/config/senders.js';
import { digestOf, type SigningKey, signMessage, verifyMessage } from '../../src/g2p/signing.js';
import { addProgram, client, envelopeMessage, expectUnchanged, NOW } from '../api/helpers.js';
import { type TestApp, testApp } from '../support/app.js';

const SENDER = 'pbms-window';
const pair = generateKeyPairSync('ed25519');
const key: SigningKey = { senderId: SENDER, kid: 'k1', algorithm: 'ed25519', privateKey: pair.privateKey };
const sendersJson = JSON.stringify({
  [SENDER]: {
    public_keys: [{ kid: 'k1', pem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
    must_sign: true,
  },
});

/** A correct signature with the given created / expires (Unix seconds). */
function signedAt(body: { header: unknown; message: unknown }, created: number, expires: number) {
  const text = Buffer.from(`(created): ${created}\n(expires): ${expires}\ndigest: ${digestOf(body)}`);
  const value = cryptoSign(null, text, pair.privateKey).toString('base64');
  return (
    `Signature: namespace="g2p", kidId="${SENDER}|k1|ed25519", algorithm="ed25519", created="${created}", ` +
    `expires="${expires}", headers="(created) (expires) digest", signature="${value}"`
  );
}

describe('signature validity window', () => {
  const senders = parseSenders(sendersJson);
  const now = new Date(NOW);
  const t0 = Math.floor(now.getTime() / 1000);
  const body = g2pRequest('create_disbursement_envelope', { any: 'thing' }, SENDER);

  it('refuses a signature valid for longer than the maximum (default 600 s)', async () => {
    const forever = await verifyMessage(
      senders,
      { ...body, signature: signedAt(body, t0, t0 + 100 * 365 * 86400) },
      { now },
    );
    expect(forever).toMatchObject({ ok: false, errorCode: 'rjct.signature.expired' });
    const hour = await verifyMessage(
      senders,
      { ...body, signature: signedAt(body, t0 - 60, t0 + 3540) },
      { now },
    );
    expect(hour).toMatchObject({ ok: false, errorCode: 'rjct.signature.expired' });
    const fine = await verifyMessage(
      senders,
      { ...body, signature: signedAt(body, t0 - 60, t0 + 540) },
      { now },
    );
    expect(fine).toMatchObject({ ok: true, signed: true });
    // The bridge's own signatures (600 s) pass its own check.
    expect(
      await verifyMessage(senders, { ...body, signature: signMessage(body, key, now) }, { now }),
    ).toMatchObject({
      ok: true,
    });
  });

  it('refuses a created further in the past than the maximum age plus skew', async () => {
    const old = await verifyMessage(
      senders,
      { ...body, signature: signedAt(body, t0 - 200, t0 + 100) },
      { now, maxAgeSeconds: 60 },
    );
    expect(old).toMatchObject({ ok: false, errorCode: 'rjct.signature.expired' });
  });

  describe('G2P_SIGNATURE_MAX_AGE_SECONDS on the routes', () => {
    let t: TestApp;
    let program: string;
    beforeAll(async () => {
      t = await testApp({ G2P_CONNECT_SENDERS: sendersJson, G2P_SIGNATURE_MAX_AGE_SECONDS: '120' });
      t.setNow(NOW);
      program = await addProgram(client(t));
    });
    afterAll(async () => t.close());

    it('refuses a wider window than configured, accepts one within it', async () => {
      const token = await t.token('pbms');
      const post = async (sig: (b: typeof body) => string) => {
        const b = g2pRequest('create_disbursement_envelope', envelopeMessage(program), SENDER, {
          meta: null,
        });
        const res = await t.app.inject({
          method: 'POST',
          url: '/create_disbursement_envelope',
          headers: { authorization: `Bearer ${token}` },
          payload: { ...b, signature: sig(b) },
        });
        return { status: res.statusCode, body: res.json() };
      };
      const real = Math.floor(Date.now() / 1000);
      const wide = await expectUnchanged(t, () => post((b) => signedAt(b, real, real + 300)));
      expect(wide.status).toBe(401);
      expect(wide.body.header.status_reason_code).toBe('rjct.signature.expired');
      const ok = await post((b) => signedAt(b, real, real + 120));
      expect(ok.body.header.status, JSON.stringify(ok.body)).toBe('succ');
    });
  });
});
