import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthRoutes } from '../src/api/health.js';
import { createVerifier, mintToken, rolesOf } from '../src/auth/index.js';
import { parseCallerScopes } from '../src/auth/scopes.js';
import { localTokenTtl } from '../src/cli/local-token.js';
import { loadConfig } from '../src/config/index.js';
import type { Db } from '../src/db/index.js';
import type { Feature } from '../src/feature/context.js';
import { type TestApp, testApp } from './support/app.js';

const probe: Feature = (app) => {
  app.get('/probe/pbms', { config: { roles: ['pbms'] } }, async (request) => ({
    who: request.principal?.subject,
  }));
  app.get('/probe/admin', async () => ({ ok: true }));
};

describe('authentication', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp({}, [healthRoutes, probe]);
  });
  afterAll(async () => t.close());

  it('refuses a call without a token with 401', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/probe/pbms' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('refuses a forged or expired token with 401', async () => {
    const forged = await mintToken(new TextEncoder().encode('some-other-secret-xxxxxxxxxxxx'), {
      roles: ['pbms'],
    });
    const expired = await new SignJWT({ roles: ['pbms'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode('test-secret-0123456789abcdef'));
    for (const token of [forged, expired, 'not-a-jwt']) {
      const res = await t.app.inject({
        method: 'GET',
        url: '/probe/pbms',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.statusCode).toBe(401);
    }
  });

  it('refuses the wrong role with 403 and accepts the right one', async () => {
    const bank = await t.token('bank');
    const denied = await t.app.inject({
      method: 'GET',
      url: '/probe/pbms',
      headers: { authorization: `Bearer ${bank}` },
    });
    expect(denied.statusCode).toBe(403);
    const pbms = await t.token('pbms');
    const ok = await t.app.inject({
      method: 'GET',
      url: '/probe/pbms',
      headers: { authorization: `Bearer ${pbms}` },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ who: 'pbms' });
  });

  it('keeps routes without declared roles for admins', async () => {
    const pbms = await t.token('pbms');
    const denied = await t.app.inject({
      method: 'GET',
      url: '/probe/admin',
      headers: { authorization: `Bearer ${pbms}` },
    });
    expect(denied.statusCode).toBe(403);
    const admin = await t.token('admin');
    const ok = await t.app.inject({
      method: 'GET',
      url: '/probe/admin',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('does not take the dashboard cookie outside /dashboard (test/security/dashboard.test.ts)', async () => {
    const pbms = await t.token('pbms');
    const refused = await t.app.inject({
      method: 'GET',
      url: '/probe/pbms',
      headers: { cookie: `x=1; g2p_token=${pbms}` },
    });
    expect(refused.statusCode).toBe(401);
  });

  it('reads roles from roles, role and scope claims', () => {
    expect(rolesOf({ roles: ['pbms', 'nobody'] })).toEqual(['pbms']);
    expect(rolesOf({ scope: 'openid bank admin' })).toEqual(['bank', 'admin']);
    expect(rolesOf({ role: 'admin' })).toEqual(['admin']);
  });
});

describe('tokens from an identity provider', () => {
  it('verifies RS256 tokens against JWT_PUBLIC_KEY and checks issuer and audience', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const pem = await exportSPKI(publicKey);
    const t = await testApp(
      { JWT_SECRET: '', JWT_PUBLIC_KEY: pem, JWT_ISSUER: 'https://idp.example', JWT_AUDIENCE: 'g2p-bridge' },
      [probe],
    );
    try {
      const sign = (iss: string) =>
        new SignJWT({ roles: ['pbms'] })
          .setProtectedHeader({ alg: 'RS256' })
          .setIssuer(iss)
          .setAudience('g2p-bridge')
          .setSubject('mis-1')
          .setExpirationTime('5m')
          .sign(privateKey);
      const good = await t.app.inject({
        method: 'GET',
        url: '/probe/pbms',
        headers: { authorization: `Bearer ${await sign('https://idp.example')}` },
      });
      expect(good.statusCode).toBe(200);
      expect(good.json()).toEqual({ who: 'mis-1' });
      const wrongIssuer = await t.app.inject({
        method: 'GET',
        url: '/probe/pbms',
        headers: { authorization: `Bearer ${await sign('https://evil.example')}` },
      });
      expect(wrongIssuer.statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('lets everything through in the explicit no-auth mode', async () => {
    const t = await testApp({ AUTH_MODE: 'none' }, [probe]);
    try {
      const res = await t.app.inject({ method: 'GET', url: '/probe/admin' });
      expect(res.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('token lifetime and caller scopes', () => {
  const secret = new TextEncoder().encode('test-secret-0123456789abcdef');
  const now = () => Math.floor(Date.now() / 1000);
  const sign = (claims: Record<string, unknown>, times: { iat?: number; exp?: number }) => {
    let jwt = new SignJWT({ roles: ['pbms'], ...claims })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('mis-1');
    if (times.iat !== undefined) jwt = jwt.setIssuedAt(times.iat);
    if (times.exp !== undefined) jwt = jwt.setExpirationTime(times.exp);
    return jwt.sign(secret);
  };
  const who = (t: TestApp, token: string) =>
    t.app.inject({ method: 'GET', url: '/probe/pbms', headers: { authorization: `Bearer ${token}` } });

  it('refuses a token without exp, and one that lives longer than JWT_MAX_LIFETIME_SECONDS', async () => {
    const t = await testApp({ JWT_MAX_LIFETIME_SECONDS: '3600' }, [probe]);
    try {
      expect((await who(t, await sign({}, { iat: now() }))).statusCode).toBe(401);
      expect((await who(t, await sign({}, { iat: now(), exp: now() + 3601 }))).statusCode).toBe(401);
      // No iat: judged by the time left.
      expect((await who(t, await sign({}, { exp: now() + 7200 }))).statusCode).toBe(401);
      // Issued long ago with a long life, even if little is left: still too long-lived.
      expect((await who(t, await sign({}, { iat: now() - 7000, exp: now() + 300 }))).statusCode).toBe(401);
      expect((await who(t, await sign({}, { iat: now(), exp: now() + 3600 }))).statusCode).toBe(200);
      expect((await who(t, await sign({}, { exp: now() + 600 }))).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('measures a token’s lifetime from now too: a future iat buys no extra life', async () => {
    const t = await testApp({ JWT_MAX_LIFETIME_SECONDS: '3600' }, [probe]);
    try {
      // exp far away, iat a minute before it: exp − iat is small, but the token lives ~75 years from now.
      const exp = Date.UTC(2100, 0, 1) / 1000;
      expect((await who(t, await sign({}, { iat: exp - 60, exp }))).statusCode).toBe(401);
      // iat in the future beyond clock skew is refused even when the life left is short.
      expect((await who(t, await sign({}, { iat: now() + 600, exp: now() + 900 }))).statusCode).toBe(401);
      // A little clock skew is tolerated.
      expect((await who(t, await sign({}, { iat: now() + 30, exp: now() + 600 }))).statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('judges exp, iat and the lifetime cap by the clock the verifier is given', async () => {
    const config = loadConfig({
      JWT_SECRET: 'test-secret-0123456789abcdef',
      JWT_MAX_LIFETIME_SECONDS: '3600',
    });
    const issued = Date.UTC(2030, 0, 1, 12) / 1000;
    const token = await sign({}, { iat: issued, exp: issued + 1800 });
    const at = (seconds: number) =>
      createVerifier(null as unknown as Db, config, () => new Date(seconds * 1000));
    // Real time (now) is years before the token was issued: refused, iat in the future.
    await expect((await createVerifier(null as unknown as Db, config))(token)).rejects.toThrow(/future/);
    await expect((await at(issued + 60))(token)).resolves.toMatchObject({ subject: 'mis-1' });
    await expect((await at(issued - 30))(token)).resolves.toMatchObject({ subject: 'mis-1' }); // skew
    await expect((await at(issued + 1801))(token)).rejects.toThrow(/exp/);
  });

  it('accepts the tokens the bridge mints itself under the default maximum', async () => {
    const t = await testApp({}, [probe]);
    try {
      expect((await who(t, await t.token('pbms'))).statusCode).toBe(200);
      expect((await who(t, await sign({}, { iat: now(), exp: now() + 86400 }))).statusCode).toBe(200);
      expect((await who(t, await sign({}, { iat: now(), exp: now() + 86401 }))).statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });

  it('reads programs and bank_codes claims, narrowed by CALLER_SCOPES', async () => {
    const scopes = JSON.stringify({
      'mis-1': { programs: ['A', 'B'] },
      '*': { programs: [], bank_codes: ['EXAMPLE'] },
    });
    const t = await testApp({ CALLER_SCOPES: scopes }, [probe]);
    try {
      const verify = t.ctx.verifier!;
      const exp = now() + 600;
      expect(await verify(await sign({}, { exp }))).toMatchObject({ subject: 'mis-1', programs: ['A', 'B'] });
      expect(await verify(await sign({ programs: ['B', 'C'] }, { exp }))).toMatchObject({ programs: ['B'] });
      const other = await new SignJWT({ roles: ['bank'], bank_codes: 'EXAMPLE OTHER' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('bank-9')
        .setExpirationTime(exp)
        .sign(secret);
      expect(await verify(other)).toMatchObject({ subject: 'bank-9', programs: [], bankCodes: ['EXAMPLE'] });
    } finally {
      await t.close();
    }
    // Without configuration a token is unscoped unless its claims say otherwise.
    const plain = await testApp({}, [probe]);
    try {
      const p = await plain.ctx.verifier!(await sign({}, { exp: now() + 600 }));
      expect(p.programs).toBeUndefined();
      expect(p.bankCodes).toBeUndefined();
    } finally {
      await plain.close();
    }
  });

  it('refuses a CALLER_SCOPES that is not a map of programs / bank_codes lists', () => {
    expect(() => parseCallerScopes('[]')).toThrow();
    expect(() => parseCallerScopes('{"mis": {"program": ["A"]}}')).toThrow(/unknown key/);
    expect(() => parseCallerScopes('{"mis": {"programs": "A"}}')).toThrow(/array/);
    expect(() => loadConfig({ CALLER_SCOPES: '/nonexistent/scopes.json' })).toThrow(/cannot read/);
    expect(parseCallerScopes('{"mis": {"programs": ["A"], "bank_codes": []}}').get('mis')).toEqual({
      programs: ['A'],
      bankCodes: [],
    });
  });

  it('mints local tokens within JWT_MAX_LIFETIME_SECONDS', () => {
    const config = loadConfig({ TOKEN_TTL_SECONDS: '86400', JWT_MAX_LIFETIME_SECONDS: '3600' });
    expect(localTokenTtl(config)).toBe(3600);
    expect(localTokenTtl(config, 600)).toBe(600);
    expect(() => localTokenTtl(config, 7200)).toThrow(/JWT_MAX_LIFETIME_SECONDS/);
    expect(localTokenTtl(loadConfig({ JWT_MAX_LIFETIME_SECONDS: '0' }), 10 ** 7)).toBe(10 ** 7);
  });
});
