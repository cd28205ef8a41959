// An envelope belongs to the sender that created it (issue 14): amend, cancel, create and cancel disbursements
// from another header.sender_id are refused (403 forbidden.sender) and change nothing, so a sender that must
// sign cannot have its envelopes changed by an unsigned message under another sender_id.
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { g2pRequest } from '../../src/api/g2p-request.js';
import { type SigningKey, signMessage } from '../../src/g2p/signing.js';
import { addProgram, client, disbursement, envelopeMessage, expectUnchanged, NOW } from '../api/helpers.js';
import { type TestApp, testApp } from '../support/app.js';

const SIGNED = 'pbms-signed';
const pair = generateKeyPairSync('ed25519');
const key: SigningKey = { senderId: SIGNED, kid: 'k1', algorithm: 'ed25519', privateKey: pair.privateKey };

// biome-ignore lint/suspicious/noExplicitAny: JSON bodies, inspected field by field
type Json = any;

describe('envelopes are bound to their creating sender', () => {
  let t: TestApp;
  let program: string;
  let token: string;

  const call = async (action: string, message: unknown, sender: string, sign: boolean) => {
    const body = g2pRequest(action, message, sender, { meta: null });
    const payload = sign ? { ...body, signature: signMessage(body, key) } : body;
    const res = await t.app.inject({
      method: 'POST',
      url: `/${action}`,
      headers: { authorization: `Bearer ${token}` },
      payload,
    });
    return { status: res.statusCode, body: res.json() as Json };
  };

  beforeAll(async () => {
    t = await testApp({
      G2P_CONNECT_SENDERS: JSON.stringify({
        [SIGNED]: {
          public_keys: [
            { kid: 'k1', pem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString() },
          ],
          must_sign: true,
        },
      }),
    });
    t.setNow(NOW);
    program = await addProgram(client(t));
    token = await t.token('pbms');
  });
  afterAll(async () => t.close());

  it("refuses changes to a must-sign sender's envelope from another sender_id", async () => {
    const created = await call('create_disbursement_envelope', envelopeMessage(program), SIGNED, true);
    expect(created.body.header.status, JSON.stringify(created.body)).toBe('succ');
    const id = created.body.message.disbursement_envelope_id;
    const added = await call('create_disbursements', [disbursement(id)], SIGNED, true);
    expect(added.body.header.status, JSON.stringify(added.body)).toBe('succ');
    const disbursementId = added.body.message[0].disbursement_id;

    const changes: [string, unknown][] = [
      ['amend_disbursement_envelope', { disbursement_envelope_id: id, number_of_disbursements: 9 }],
      ['cancel_disbursement_envelope', { disbursement_envelope_id: id }],
      ['create_disbursements', [disbursement(id)]],
      ['cancel_disbursements', [{ disbursement_id: disbursementId }]],
    ];
    for (const [action, message] of changes) {
      const res = await expectUnchanged(t, () => call(action, message, 'intruder', false));
      expect(res.status, `${action}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.header).toMatchObject({ status: 'rjct', status_reason_code: 'forbidden.sender' });
      // Under the creator's sender_id but unsigned: its signature is required.
      const unsigned = await expectUnchanged(t, () => call(action, message, SIGNED, false));
      expect(unsigned.status).toBe(401);
      expect(unsigned.body.header.status_reason_code).toBe('rjct.signature.missing');
    }
    const amended = await call(
      'amend_disbursement_envelope',
      { disbursement_envelope_id: id, number_of_disbursements: 9 },
      SIGNED,
      true,
    );
    expect(amended.body.header.status, JSON.stringify(amended.body)).toBe('succ');
  });

  it('keeps one unsigned PBMS working on its own envelopes', async () => {
    const created = await call('create_disbursement_envelope', envelopeMessage(program), 'pbms-plain', false);
    expect(created.body.header.status).toBe('succ');
    const id = created.body.message.disbursement_envelope_id;
    const added = await call('create_disbursements', [disbursement(id)], 'pbms-plain', false);
    expect(added.body.header.status, JSON.stringify(added.body)).toBe('succ');
    const cancel = await call(
      'cancel_disbursements',
      [{ disbursement_id: added.body.message[0].disbursement_id }],
      'pbms-plain',
      false,
    );
    expect(cancel.body.header.status, JSON.stringify(cancel.body)).toBe('succ');
    const done = await call(
      'cancel_disbursement_envelope',
      { disbursement_envelope_id: id },
      'pbms-plain',
      false,
    );
    expect(done.body.header.status, JSON.stringify(done.body)).toBe('succ');
  });
});
