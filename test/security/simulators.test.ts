// Issue 9 §2: the simulators `start` mounts are no back door. Bound beyond loopback, every attack the issue
// reproduced is refused to an outsider without a token (401) and to a caller without the admin role (403),
// and changes nothing; the bridge's own connector and mapper client still reach them.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '../../src/auth/index.js';
import { banner, type Stack, startStack } from '../../src/cli/commands/start.js';
import { loadConfig } from '../../src/config/index.js';
import { runDemo } from '../../src/demo/run.js';
import { createLogger } from '../../src/logger.js';
import { collector, type TestStack, testStack } from '../cli/stack.js';
import { testDb } from '../support/db.js';

const FUND = 'SIM-SEC-FUND';

/** The answer's status, its body read to the end so the connection is free again (else it holds shutdown). */
async function statusOf(url: string, init?: RequestInit): Promise<number> {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  return res.status;
}

const payment = (id: string, blockReference: string) => ({
  disbursement_id: id,
  remitting_account: FUND,
  remitting_account_currency: 'USD',
  payment_amount: '300.00',
  funds_blocked_reference_number: blockReference,
  beneficiary_id: 'OUTSIDER',
  beneficiary_name: 'Outsider',
  beneficiary_account: 'OUT-1',
  beneficiary_account_currency: 'USD',
  beneficiary_account_type: 'BANK_ACCOUNT',
  beneficiary_bank_code: 'OTHER',
  disbursement_narrative: 'x',
  benefit_program_mnemonic: 'P',
  cycle_code_mnemonic: 'C',
});

const g2p = (action: string, message: object) => ({
  signature: null,
  header: {
    version: '1.0.0',
    message_id: `m-${action}`,
    message_ts: new Date().toISOString(),
    action,
    sender_id: 'outsider',
    total_count: 1,
    is_msg_encrypted: false,
  },
  message,
});

describe('simulators under a start bound beyond loopback', () => {
  let stack: TestStack;
  let admin: string;
  let blockReference: string;
  const attacks: Array<{ name: string; method: string; path: string; body?: unknown }> = [];

  beforeAll(async () => {
    stack = await testStack({ HOST: '0.0.0.0' });
    admin = await stack.token(['admin']);
    await stack.bank!.openAccount({ accountNumber: FUND, currency: 'USD', openingBalance: '1000.00' });
    await stack.mapper!.link([{ id: 'BEN-1', fa: 'account:GOOD-1@EXAMPLE', name: 'Ben One' }]);
    const blocked = await fetch(`${stack.url}/example-bank/block_funds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin}` },
      body: JSON.stringify({
        account_number: FUND,
        currency: 'USD',
        amount: '500.00',
        idempotency_key: 'k1',
      }),
    });
    expect(blocked.status).toBe(200);
    blockReference = ((await blocked.json()) as { block_reference: string }).block_reference;
    attacks.push(
      {
        name: 're-point a beneficiary',
        method: 'POST',
        path: '/mapper/sync/link',
        body: g2p('link', {
          transaction_id: 't',
          link_request: [{ reference_id: 'r', id: 'BEN-1', fa: 'account:EVIL-1@OTHER' }],
        }),
      },
      {
        name: 'resolve beneficiaries',
        method: 'POST',
        path: '/mapper/sync/resolve',
        body: g2p('resolve', { transaction_id: 't', resolve_request: [{ reference_id: 'r', id: 'BEN-1' }] }),
      },
      { name: 'read a block reference', method: 'GET', path: `/example-bank/admin/accounts/${FUND}` },
      { name: 'list accounts', method: 'GET', path: '/example-bank/admin/accounts' },
      {
        name: 'pay an outsider',
        method: 'POST',
        path: '/example-bank/initiate_payment',
        body: { batch_id: 'EVIL-BATCH', payments: [payment('EVIL-1', blockReference)] },
      },
      {
        name: 'deposit',
        method: 'POST',
        path: `/example-bank/admin/accounts/${FUND}/deposit`,
        body: { amount: '1000000.00' },
      },
      {
        name: 'inject a fault',
        method: 'POST',
        path: '/example-bank/admin/faults',
        body: { operation: 'initiate_payment', count: 5 },
      },
      { name: 'read statements', method: 'GET', path: '/example-bank/statements' },
      { name: 'list the mapper', method: 'GET', path: '/mapper/admin/entries' },
      { name: 'read one mapper entry', method: 'GET', path: '/mapper/admin/entries/BEN-1' },
      { name: 'empty the mapper', method: 'DELETE', path: '/mapper/admin/entries' },
      {
        name: 'arm a mapper failure',
        method: 'POST',
        path: '/mapper/admin/faults',
        body: { failNext: 3, mode: 'error' },
      },
    );
  });
  afterAll(async () => stack?.stop());

  const send = (attack: (typeof attacks)[number], token?: string) =>
    fetch(`${stack.url}${attack.path}`, {
      method: attack.method,
      headers: {
        ...(attack.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: attack.body === undefined ? undefined : JSON.stringify(attack.body),
    });

  async function state() {
    const account = await stack.bank!.getAccount(FUND);
    const batches = await stack.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM example_bank.payment_batch',
    );
    return {
      balance: account?.book_balance,
      available: account?.available_balance,
      batches: batches.rows[0]!.n,
      bankFaults: stack.bank!.faults.snapshot(),
      mapperFaults: stack.mapper!.faults.state(),
      mapper: await stack.mapper!.list(),
    };
  }

  it('refuses every attack without a token (401, a clear code) and changes nothing', async () => {
    const before = await state();
    for (const attack of attacks) {
      const res = await send(attack);
      const body = (await res.json()) as Record<string, unknown>;
      expect({ attack: attack.name, status: res.status }).toEqual({ attack: attack.name, status: 401 });
      expect(JSON.stringify(body)).toContain('SIMULATOR_UNAUTHORIZED');
      expect(JSON.stringify(body)).not.toContain(blockReference);
      expect(JSON.stringify(body)).not.toContain('Ben One');
    }
    expect(await state()).toEqual(before);
  });

  it('refuses them to a bridge token without the admin role (403), and to a forged token (401)', async () => {
    const before = await state();
    const pbmsBank = await stack.token(['pbms', 'bank']);
    for (const attack of attacks) {
      const res = await send(attack, pbmsBank);
      expect({ attack: attack.name, status: res.status }).toEqual({ attack: attack.name, status: 403 });
      expect(await res.text()).toContain('SIMULATOR_FORBIDDEN');
      const forged = await send(attack, `${admin.slice(0, -4)}AAAA`);
      expect({ attack: attack.name, status: forged.status }).toEqual({ attack: attack.name, status: 401 });
    }
    expect(await state()).toEqual(before);
  });

  it('the dashboard cookie does not open them either', async () => {
    const cookie = `g2p_token=${encodeURIComponent(admin)}`;
    expect(await statusOf(`${stack.url}/mapper/admin/entries`, { headers: { cookie } })).toBe(401);
  });

  it('lets an admin token in', async () => {
    const authorization = `Bearer ${admin}`;
    expect(await statusOf(`${stack.url}/mapper/admin/entries`, { headers: { authorization } })).toBe(200);
  });

  it("the bridge's own connector and mapper client still reach them: a whole demo cycle completes", async () => {
    const result = await runDemo({
      url: stack.url,
      token: await stack.token(['admin', 'pbms']),
      size: 100,
      run: 'sec1',
      pollMs: 200,
      timeoutMs: 90_000,
      out: collector(),
    });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
  }, 120_000);

  it('the banner says which simulators are mounted, where, and that they need an admin token', () => {
    const text = banner(stack, loadConfig({ HOST: '0.0.0.0' }), 'all');
    expect(text).toMatch(/example bank +http:\/\/\S+\/example-bank/);
    expect(text).toMatch(/mapper +http:\/\/\S+\/mapper/);
    expect(text).toMatch(/admin token/);
  });
});

describe('simulators under a start bound to loopback (the default)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack({ HOST: '', EXAMPLE_BANK_PROCESS_INTERVAL_MS: '0' });
  });
  afterAll(async () => stack?.stop());

  it('listens on 127.0.0.1 and serves the simulators without a token there', async () => {
    expect((stack.app.server.address() as { address: string }).address).toBe('127.0.0.1');
    expect(await statusOf(`${stack.url}/mapper/admin/entries`)).toBe(200);
    const text = banner(stack, loadConfig({}), 'all');
    expect(text).toMatch(/this machine only/);
  });
});

describe('serve', () => {
  let stack: Stack;
  const env = { LOG_LEVEL: 'silent', JWT_SECRET: 'test-secret-0123456789abcdef', PORT: '0' };
  beforeAll(async () => {
    const config = loadConfig(env);
    stack = await startStack({ config, env, log: createLogger('silent'), mode: 'api', db: await testDb() });
  });
  afterAll(async () => stack?.stop());

  it('mounts no simulator, and listens on every interface by default', async () => {
    expect((stack.app.server.address() as { address: string }).address).toBe('0.0.0.0');
    const admin = await mintToken(new TextEncoder().encode(env.JWT_SECRET), { roles: ['admin'] });
    for (const path of ['/example-bank/admin/accounts', '/mapper/admin/entries']) {
      expect(await statusOf(`${stack.url}${path}`, { headers: { authorization: `Bearer ${admin}` } })).toBe(
        404,
      );
    }
    expect(stack.bank).toBeUndefined();
    expect(stack.mapper).toBeUndefined();
    expect(banner(stack, loadConfig({}), 'api')).toContain('none mounted');
  });
});

describe('the simulators run alone (g2p-bridge bank, g2p-bridge mapper) beyond loopback', () => {
  const secret = 'test-secret-standalone-0123456789';
  const children: ChildProcess[] = [];
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2p-sim-sec-'));
  });
  afterAll(async () => {
    await Promise.all(
      children.map(
        (child) =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve(null);
            child.once('exit', resolve);
            child.kill('SIGTERM');
          }),
      ),
    );
    await rm(dir, { recursive: true, force: true });
  });

  /** Starts the command and gives the URL its banner prints for the bridge. */
  function spawnSimulator(command: 'bank' | 'mapper', host?: string) {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', command, '--port', '0', ...(host ? ['--host', host] : [])],
      {
        env: {
          ...process.env,
          DATABASE_URL: '', // its own embedded database, not the test server's
          DATA_DIR: join(dir, `${command}-${host ?? 'default'}`),
          HOST: '',
          JWT_SECRET: secret,
          LOG_LEVEL: 'warn',
          EXAMPLE_BANK_DELIVER_STATEMENTS: 'false',
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    children.push(child);
    return new Promise<{ url: string; banner: string }>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /(?:EXAMPLE_BANK_URL|MAPPER_URL)=(\S+)/.exec(out);
        if (m && out.includes('callers:')) resolve({ url: m[1]!, banner: out });
      });
      child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${out}`)));
    });
  }

  it('refuse every call without an admin token, and say so in the banner', async () => {
    const [bank, mapper] = await Promise.all([
      spawnSimulator('bank', '0.0.0.0'),
      spawnSimulator('mapper', '0.0.0.0'),
    ]);
    expect(bank.banner).toMatch(/admin role/);
    expect(mapper.banner).toMatch(/admin role/);
    const admin = await mintToken(new TextEncoder().encode(secret), { roles: ['admin'] });
    const pbms = await mintToken(new TextEncoder().encode(secret), { roles: ['pbms', 'bank'] });
    const calls = [
      { url: `${bank.url}/admin/accounts`, method: 'GET' },
      { url: `${bank.url}/admin/faults`, method: 'DELETE' },
      { url: `${mapper.url}/admin/entries`, method: 'GET' },
      { url: `${mapper.url}/admin/entries`, method: 'DELETE' },
    ];
    for (const call of calls) {
      expect(await statusOf(call.url, { method: call.method })).toBe(401);
      const headers = (token: string) => ({ authorization: `Bearer ${token}` });
      expect(await statusOf(call.url, { method: call.method, headers: headers(pbms) })).toBe(403);
      expect(await statusOf(call.url, { method: call.method, headers: headers(admin) })).toBe(200);
    }
  }, 120_000);

  it('listen on 127.0.0.1 by default, open to this machine', async () => {
    const mapper = await spawnSimulator('mapper');
    expect(mapper.banner).toMatch(/loopback/);
    expect(await statusOf(`${mapper.url}/admin/entries`)).toBe(200);
  }, 120_000);
});
