import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthRoutes } from '../src/api/health.js';
import type { Feature } from '../src/api/server.js';
import { mintToken, rolesOf } from '../src/auth/index.js';
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

  it('accepts the token from the dashboard cookie', async () => {
    const pbms = await t.token('pbms');
    const ok = await t.app.inject({
      method: 'GET',
      url: '/probe/pbms',
      headers: { cookie: `x=1; g2p_token=${pbms}` },
    });
    expect(ok.statusCode).toBe(200);
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
