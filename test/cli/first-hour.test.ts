// What a newcomer meets in the first hour with a checkout: mistyped options, roles and currencies, a token
// minted where no bridge runs, a DATABASE_URL that points nowhere. Each gets a message that says what to do.
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { tokenSource } from '../../src/auth/hint.js';
import { existingLocalSecret, localSecret } from '../../src/auth/index.js';
import { closest, UsageError } from '../../src/cli/args.js';
import { parseRoles } from '../../src/cli/commands/token.js';
import { mintLocalToken, NoBridgeDataError } from '../../src/cli/local-token.js';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { checkDatabaseUrl, databaseUrlProblem, openDb } from '../../src/db/open.js';
import { type TestApp, testApp } from '../support/app.js';
import { onPostgres, testDb } from '../support/db.js';

async function captured(fn: () => Promise<number>) {
  let stdout = '';
  let stderr = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((t) => {
    stdout += String(t);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((t) => {
    stderr += String(t);
    return true;
  });
  try {
    const code = await fn();
    return { code, stdout, stderr };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

async function usageMessage(fn: () => Promise<unknown>): Promise<string> {
  const error = await fn().then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as Error).message;
}

describe('command-line mistakes', () => {
  it('an unknown option is named, with the option it was probably meant to be', async () => {
    const { run } = await import('../../src/cli/commands/program.js');
    expect(await usageMessage(() => run(['add', '--acount', '1']))).toBe(
      'unknown option --acount (did you mean --account?)',
    );
    expect(await usageMessage(() => run(['add', '--zzzzzz']))).toBe('unknown option --zzzzzz');
    expect(await usageMessage(() => run(['list', '--json=yes']))).toBe('option --json takes no value');
  });

  it('a missing value and a stray argument say so', async () => {
    const token = await import('../../src/cli/commands/token.js');
    expect(await usageMessage(() => token.run(['admin', '--ttl']))).toBe(
      'option --ttl needs a value: --ttl VALUE',
    );
    const migrate = await import('../../src/cli/commands/migrate.js');
    expect(await usageMessage(() => migrate.run(['now']))).toContain("unexpected argument 'now'");
  });

  it('closest() suggests only near misses', () => {
    expect(closest('acount', ['account', 'currency'])).toBe('account');
    expect(closest('curency', ['account', 'currency'])).toBe('currency');
    expect(closest('x', ['account', 'currency'])).toBeUndefined();
  });

  it('a lower-case currency is refused before the database is opened, with the code to use', async () => {
    const { run } = await import('../../src/cli/commands/program.js');
    vi.stubEnv('DATABASE_URL', 'postgres://nobody@127.0.0.1:1/never-opened');
    try {
      expect(await usageMessage(() => run(['update', 'P1', '--currency', 'usd']))).toBe(
        '--currency takes an ISO 4217 code in capitals: USD, not usd',
      );
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('token: an unknown role is named and the roles listed; spaces join roles like commas', async () => {
    expect(await usageMessage(async () => parseRoles(['superuser']))).toBe(
      "unknown role 'superuser': the roles are pbms, bank, admin",
    );
    expect(await usageMessage(async () => parseRoles([]))).toContain('give a role');
    expect(parseRoles(['pbms,bank'])).toEqual(['pbms', 'bank']);
    expect(parseRoles(['pbms bank'])).toEqual(['pbms', 'bank']);
    expect(parseRoles(['pbms', 'bank,admin', 'pbms'])).toEqual(['pbms', 'bank', 'admin']);
  });
});

describe('token where no bridge has run', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2p-token-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => vi.unstubAllEnvs());

  it('refuses with exit 1 and creates no secret of its own', async () => {
    const empty = join(dir, 'empty');
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('JWT_SECRET', '');
    vi.stubEnv('DATA_DIR', empty);
    const { run } = await import('../../src/cli/commands/token.js');
    const r = await captured(() => run(['admin']));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('No bridge data in DATA_DIR');
    expect(r.stderr).toContain('Start the bridge first');
    expect(existsSync(empty)).toBe(false);
  });

  it("mints with the secret the bridge generated, and the bridge's key verifies it", async () => {
    const data = join(dir, 'bridge');
    const config = loadConfig({ DATA_DIR: data });
    const bridgeKey = await localSecret(config); // what a starting bridge does
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('JWT_SECRET', '');
    vi.stubEnv('DATA_DIR', data);
    const { run } = await import('../../src/cli/commands/token.js');
    const r = await captured(() => run(['pbms bank', '--subject', 'ops']));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { payload } = await jwtVerify(r.stdout.trim(), bridgeKey);
    expect(payload).toMatchObject({ sub: 'ops', roles: ['pbms', 'bank'] });
    expect(await readdir(data)).toEqual(['jwt-secret']);
  });

  it('on a database: none before the bridge ran (never migrated, or no secret yet), the same one after', async () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://unused@127.0.0.1/unused' });
    const db = await testDb();
    try {
      expect(await existingLocalSecret(config, db)).toBeNull();
      const generated = await localSecret(config, db);
      expect(await existingLocalSecret(config, db)).toEqual(generated);
      // A database the bridge was never migrated on has no such table at all.
      await db.exec('DROP TABLE bridge_setting CASCADE');
      expect(await existingLocalSecret(config, db)).toBeNull();
    } finally {
      await db.close();
    }
  });

  it.runIf(onPostgres())(
    'on PostgreSQL: refuses a database no bridge ran on, and leaves it empty',
    async () => {
      const name = `g2p_t_${process.pid}_token_${Date.now().toString(36)}`;
      const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      try {
        const url = new URL(process.env.DATABASE_URL!);
        url.pathname = `/${name}`;
        const config = loadConfig({ DATABASE_URL: url.toString() });
        const error = await mintLocalToken(config, { roles: ['admin'] }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NoBridgeDataError);
        expect((error as Error).message).toContain('No bridge has started on this DATABASE_URL');
        const db = await openDb({ databaseUrl: url.toString() });
        const { rows } = await db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'",
        );
        await db.close();
        expect(rows[0]!.n).toBe(0);
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    },
  );
});

describe('DATABASE_URL that cannot work', () => {
  async function problem(url: string): Promise<string> {
    const error = await openDb({ databaseUrl: url }).then(
      async (db) => {
        await db.close();
        return null;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }

  it('another database system: postgres:// only', async () => {
    const message = await problem('mysql://root:hunter2@localhost:3306/g2p');
    expect(message).toContain('DATABASE_URL must be a postgres:// URL, not mysql://');
    expect(message).not.toContain('hunter2');
    expect(() => checkDatabaseUrl('localhost:5432')).toThrow(ConfigError);
    expect(() => checkDatabaseUrl('not a url')).toThrow(/DATABASE_URL is not a URL/);
  });

  it('a closed port: start PostgreSQL, names DATABASE_URL, hides the password', async () => {
    const message = await problem('postgres://postgres:hunter2@127.0.0.1:1/g2p');
    expect(message).toContain('DATABASE_URL (postgres://postgres@127.0.0.1:1/g2p)');
    expect(message).toContain('nothing accepts connections at 127.0.0.1:1');
    expect(message).toContain('Start PostgreSQL');
    expect(message).not.toContain('hunter2');
  });

  it('a missing database: createdb with its name', () => {
    const url = new URL('postgres://app:secret@db.example:6543/g2p_prod');
    const error = databaseUrlProblem(
      url,
      Object.assign(new Error('database does not exist'), { code: '3D000' }),
    );
    expect(error?.message).toContain(
      `the database "g2p_prod" does not exist on db.example:6543. Create it ('createdb -h db.example -p 6543 -U app g2p_prod')`,
    );
    expect(error?.message).not.toContain('secret');
    expect(databaseUrlProblem(url, Object.assign(new Error('x'), { code: '23505' }))).toBeNull();
  });

  it.runIf(onPostgres())('a missing database on the PostgreSQL at hand', async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = '/g2p_no_such_database';
    const message = await problem(url.toString());
    expect(message).toContain('the database "g2p_no_such_database" does not exist');
    expect(message).toContain('createdb');
  });
});

describe('a script calling the dashboard and the API without the right token', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(async () => t.close());

  it('JSON endpoints answer JSON 401 and 403, whatever the Accept header', async () => {
    const bank = await t.token('bank');
    for (const accept of ['application/json', '*/*', undefined, 'text/html']) {
      const headers = accept ? { accept } : {};
      const anonymous = await t.app.inject({
        method: 'GET',
        url: '/dashboard/envelopes/E1/summary.json',
        headers,
      });
      expect({ accept, status: anonymous.statusCode }).toEqual({ accept, status: 401 });
      expect(anonymous.json()).toMatchObject({ error: 'unauthorized' });
      const wrongRole = await t.app.inject({
        method: 'GET',
        url: '/dashboard/envelopes/E1/progress.json',
        headers: { ...headers, authorization: `Bearer ${bank}` },
      });
      expect({ accept, status: wrongRole.statusCode }).toEqual({ accept, status: 403 });
      expect(wrongRole.json()).toMatchObject({ error: 'forbidden' });
    }
  });

  it('a page asked for by a script (no text/html) is a JSON 401 too; a browser is sent to sign in', async () => {
    const script = await t.app.inject({ method: 'GET', url: '/dashboard', headers: { accept: '*/*' } });
    expect(script.statusCode).toBe(401);
    expect(script.headers['content-type']).toMatch(/application\/json/);
    const browser = await t.app.inject({
      method: 'GET',
      url: '/dashboard',
      headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' },
    });
    expect(browser.statusCode).toBe(303);
    expect(browser.headers.location).toBe('/dashboard/login?next=%2Fdashboard');
  });

  it('every 401 says where a matching token comes from, and nothing secret', async () => {
    for (const authorization of [undefined, 'Bearer not-a-token']) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/dashboard/envelopes/E1/summary.json',
        headers: authorization ? { authorization } : {},
      });
      expect(res.statusCode).toBe(401);
      const { message } = res.json() as { message: string };
      expect(message).toContain("JWT_SECRET: 'npm run -s cli -- token admin' run with the same JWT_SECRET");
      expect(message).not.toContain(t.ctx.config.JWT_SECRET!);
    }
    const login = await t.app.inject({ method: 'GET', url: '/dashboard/login' });
    expect(login.body).toContain('npm run -s cli -- token admin');
    expect(login.body).not.toContain('g2p-bridge token admin');
  });

  it('on the embedded secret the hint names DATA_DIR; behind an identity provider, the provider', () => {
    const embedded = tokenSource(loadConfig({ DATA_DIR: '/srv/private/bridge' }), 'pbms');
    expect(embedded).toBe(
      "Get one with 'npm run -s cli -- token pbms', run with this bridge's DATA_DIR (the secret is DATA_DIR/jwt-secret).",
    );
    expect(embedded).not.toContain('/srv/private');
    expect(tokenSource(loadConfig({ DATABASE_URL: 'postgres://u:pw@h/db' }))).toContain(
      "this bridge's DATABASE_URL",
    );
    expect(tokenSource(loadConfig({ JWKS_URL: 'https://idp.example/jwks' }))).toContain('identity provider');
  });
});
