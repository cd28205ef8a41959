import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.js';
import { addEnvelope, type Client, client, expectUnchanged, NOW } from './helpers.js';

const program = (mnemonic: string, account: string, fields: Record<string, unknown> = {}) => ({
  benefit_program_mnemonic: mnemonic,
  benefit_program_name: 'Child benefit',
  funding_org_code: 'MOF',
  funding_org_name: 'Ministry of Finance',
  sponsor_bank_code: 'EXAMPLE',
  sponsor_bank_account_number: account,
  sponsor_bank_account_currency: 'KES',
  ...fields,
});

describe('benefit program admin API', () => {
  let t: TestApp;
  let c: Client;
  beforeAll(async () => {
    t = await testApp();
    t.setNow(NOW);
    c = client(t);
  });
  afterAll(async () => t.close());

  it('creates, gets, lists and updates programs', async () => {
    const created = await c.admin('POST', '/admin/programs', program('CHILD', 'KE0001'));
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      benefit_program_mnemonic: 'CHILD',
      sponsor_bank_account_currency: 'KES',
      sponsor_bank_branch_code: null,
      id_mapper_resolution_required: true,
    });
    expect((await c.admin('GET', '/admin/programs/CHILD')).body).toEqual(created.body);
    await c.admin(
      'POST',
      '/admin/programs',
      program('ELDER', 'KE0002', { id_mapper_resolution_required: false }),
    );
    const list = await c.admin('GET', '/admin/programs');
    expect(
      list.body.programs.map((p: { benefit_program_mnemonic: string }) => p.benefit_program_mnemonic),
    ).toEqual(['CHILD', 'ELDER']);
    const updated = await c.admin('PATCH', '/admin/programs/CHILD', {
      benefit_program_name: 'Child support',
      sponsor_bank_branch_code: 'NBO',
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({
      benefit_program_name: 'Child support',
      sponsor_bank_branch_code: 'NBO',
    });
  });

  it('refuses a currency that is not ISO 4217', async () => {
    for (const currency of ['XYZ', 'usd']) {
      const res = await expectUnchanged(t, () =>
        c.admin(
          'POST',
          '/admin/programs',
          program('BAD-CUR', 'KE0100', { sponsor_bank_account_currency: currency }),
        ),
      );
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('INVALID_CURRENCY_CODE');
    }
    const patch = await c.admin('PATCH', '/admin/programs/ELDER', { sponsor_bank_account_currency: 'ABC' });
    expect(patch.body.error).toBe('INVALID_CURRENCY_CODE');
  });

  it('refuses a sponsor bank that has no connector configured', async () => {
    const res = await expectUnchanged(t, () =>
      c.admin('POST', '/admin/programs', program('NO-BANK', 'KE0200', { sponsor_bank_code: 'NOBANK' })),
    );
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('UNKNOWN_SPONSOR_BANK_CODE');
    expect(res.body.message).toMatch(/BANK_CONNECTORS has EXAMPLE/);
    const patch = await c.admin('PATCH', '/admin/programs/ELDER', { sponsor_bank_code: 'NOBANK' });
    expect(patch.body.error).toBe('UNKNOWN_SPONSOR_BANK_CODE');
  });

  it('refuses a funding account another program uses, and a duplicate mnemonic', async () => {
    const dupAccount = await expectUnchanged(t, () =>
      c.admin('POST', '/admin/programs', program('OTHER', 'KE0001')),
    );
    expect(dupAccount.status).toBe(409);
    expect(dupAccount.body.error).toBe('DUPLICATE_FUNDING_ACCOUNT');
    const dupPatch = await expectUnchanged(t, () =>
      c.admin('PATCH', '/admin/programs/ELDER', { sponsor_bank_account_number: 'KE0001' }),
    );
    expect(dupPatch.body.error).toBe('DUPLICATE_FUNDING_ACCOUNT');
    const dupMnemonic = await expectUnchanged(t, () =>
      c.admin('POST', '/admin/programs', program('CHILD', 'KE0999')),
    );
    expect(dupMnemonic.status).toBe(409);
    expect(dupMnemonic.body.error).toBe('DUPLICATE_PROGRAM_MNEMONIC');
  });

  it('validates the body and answers unknown programs with 404', async () => {
    const missing = await c.admin('POST', '/admin/programs', { benefit_program_mnemonic: 'X' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('INVALID_REQUEST');
    const badMnemonic = await c.admin('POST', '/admin/programs', program('has space', 'KE0200'));
    expect(badMnemonic.status).toBe(400);
    expect((await c.admin('GET', '/admin/programs/NOPE')).status).toBe(404);
    const patch = await c.admin('PATCH', '/admin/programs/NOPE', { benefit_program_name: 'x' });
    expect(patch.status).toBe(404);
    expect(patch.body.error).toBe('PROGRAM_NOT_FOUND');
  });

  it('answers malformed JSON with the documented INVALID_REQUEST, not a Fastify code', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/admin/programs',
      headers: { authorization: `Bearer ${await c.tokenFor('admin')}`, 'content-type': 'application/json' },
      payload: '{"benefit_program_mnemonic":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ error: 'INVALID_REQUEST', statusCode: 400 });
  });

  it('keeps the currency of a program that has envelopes', async () => {
    await c.admin(
      'POST',
      '/admin/programs',
      program('USED', 'KE0300', { sponsor_bank_account_currency: 'USD' }),
    );
    await addEnvelope(c, 'USED');
    const res = await c.admin('PATCH', '/admin/programs/USED', { sponsor_bank_account_currency: 'EUR' });
    expect(res.status).toBe(409);
    expect(res.body.error).toBe('PROGRAM_HAS_ENVELOPES');
  });
});
