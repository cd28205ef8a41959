// The payout-channel admin API refuses callers without the admin role and bad input with a code, and a
// refused call changes nothing: neither the channel table nor the audit trail.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { addProgram, client } from '../api/helpers.js';
import { type TestApp, testApp } from '../support/app.js';

let t: TestApp;
let program: string;
beforeAll(async () => {
  t = await testApp();
  program = await addProgram(client(t), 'USD');
});
afterAll(async () => t.close());

const url = (p: string, provider = 'MOMO') => `/admin/programs/${p}/payout-channels/${provider}`;
const good = { debit_party_account: 'accountid@FUNDS-1', currency: 'USD' };

async function state() {
  const channels = await t.ctx.db.query('SELECT * FROM program_payout_channel ORDER BY 1, 2');
  const audit = await t.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_event');
  return { channels: channels.rows, audit: audit.rows[0]!.n };
}

async function put(path: string, body: unknown, token?: string) {
  return t.app.inject({
    method: 'PUT',
    url: path,
    payload: body as object,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}

it('refuses a caller without a token (401) or without the admin role (403), changing nothing', async () => {
  const before = await state();
  expect((await put(url(program), good)).statusCode).toBe(401);
  expect((await put(url(program), good, await t.token(['pbms', 'bank']))).statusCode).toBe(403);
  const forged = `${(await t.token('admin')).slice(0, -4)}AAAA`;
  expect((await put(url(program), good, forged)).statusCode).toBe(401);
  expect(await state()).toEqual(before);
});

it('refuses an unknown program, a malformed account, a bad currency and unknown fields, changing nothing', async () => {
  const admin = await t.token('admin');
  const before = await state();
  const cases: Array<[string, unknown, number, string]> = [
    [url('NO-SUCH-PROGRAM'), good, 404, 'channel.program.unknown'],
    [url(program), { ...good, debit_party_account: 'no identifier type' }, 400, 'channel.account.invalid'],
    [url(program), { ...good, currency: 'usd' }, 400, 'channel.currency.invalid'],
    [url(program), { ...good, amount: '1' }, 400, ''],
  ];
  for (const [path, body, status, code] of cases) {
    const res = await put(path, body, admin);
    expect({ path, status: res.statusCode }).toEqual({ path, status });
    if (code) expect(res.json().error).toBe(code);
  }
  expect(await state()).toEqual(before);
});

it('sets a channel with an admin token, with its audit row in the same change', async () => {
  const before = await state();
  const res = await put(url(program), good, await t.token('admin'));
  expect(res.statusCode).toBe(200);
  const after = await state();
  expect(after.channels).toHaveLength(before.channels.length + 1);
  expect(after.audit).toBe(before.audit + 1);
});
