// Issue 9 §8: the dashboard's sign-in cannot be driven from another site, its cookie opens the dashboard
// only (never the API), and behind a trusted TLS proxy the cookie is marked Secure.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from '../support/app.js';

const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('dashboard sign-in and cookie', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await testApp();
    admin = await t.token(['admin', 'pbms']);
  });
  afterAll(async () => t.close());

  const login = (headers: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/dashboard/login',
      headers: { host: 'bridge.example', ...FORM, ...headers },
      payload: form({ token: admin, next: '/dashboard' }),
    });

  it('refuses a login posted from another site (Origin), with 403 and a code, and sets no cookie', async () => {
    for (const origin of ['https://evil.example', 'null', 'http://bridge.example.evil.example']) {
      const res = await login({ origin });
      expect({ origin, status: res.statusCode }).toEqual({ origin, status: 403 });
      expect(res.body).toContain('CROSS_SITE_REQUEST');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('refuses one the browser marks cross-site (Sec-Fetch-Site) even without Origin', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const res = await login({ 'sec-fetch-site': site });
      expect(res.statusCode).toBe(403);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
  });

  it('refuses a cross-site logout too', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/dashboard/logout',
      headers: { host: 'bridge.example', origin: 'https://evil.example', cookie: `g2p_token=${admin}` },
    });
    expect(res.statusCode).toBe(403);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('accepts the same origin, a same-origin fetch, and a client that sends neither (curl)', async () => {
    const cases: Array<Record<string, string>> = [
      { origin: 'http://bridge.example' },
      { 'sec-fetch-site': 'same-origin', origin: 'http://bridge.example' },
      { 'sec-fetch-site': 'none' },
      {},
    ];
    for (const headers of cases) {
      const res = await login(headers);
      expect({ headers, status: res.statusCode }).toEqual({ headers, status: 303 });
      expect(String(res.headers['set-cookie'])).toContain('g2p_token=');
    }
  });

  it('does not accept the dashboard cookie on API routes', async () => {
    for (const [method, url] of [
      ['GET', '/admin/programs'],
      ['POST', '/upload_mt940'],
      ['POST', '/create_disbursement_envelope'],
    ] as const) {
      const res = await t.app.inject({
        method,
        url,
        headers: { cookie: `g2p_token=${encodeURIComponent(admin)}`, 'content-type': 'application/json' },
        payload: method === 'POST' ? '{}' : undefined,
      });
      expect({ url, status: res.statusCode }).toEqual({ url, status: 401 });
    }
    // ... while the dashboard itself still takes it
    const page = await t.app.inject({
      method: 'GET',
      url: '/dashboard',
      headers: { cookie: `g2p_token=${encodeURIComponent(admin)}`, accept: 'application/json' },
    });
    expect(page.statusCode).toBe(200);
  });

  it('does not believe X-Forwarded-Proto from a proxy it was not told to trust', async () => {
    const res = await login({ 'x-forwarded-proto': 'https' });
    expect(res.statusCode).toBe(303);
    expect(String(res.headers['set-cookie'])).not.toMatch(/;\s*Secure/);
  });
});

describe('behind a trusted TLS proxy (TRUST_PROXY)', () => {
  let t: TestApp;
  let admin: string;
  beforeAll(async () => {
    t = await testApp({ TRUST_PROXY: 'loopback' }); // inject's requests come from 127.0.0.1
    admin = await t.token(['admin']);
  });
  afterAll(async () => t.close());

  it('marks the cookie Secure when the proxy says the request came over https', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/dashboard/login',
      headers: {
        host: 'internal:8000',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'bridge.example',
        origin: 'https://bridge.example',
        ...FORM,
      },
      payload: form({ token: admin }),
    });
    expect(res.statusCode).toBe(303);
    expect(String(res.headers['set-cookie'])).toMatch(/;\s*Secure/);
    const logout = await t.app.inject({
      method: 'POST',
      url: '/dashboard/logout',
      headers: {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'bridge.example',
        origin: 'https://bridge.example',
      },
    });
    expect(logout.statusCode).toBe(303);
    expect(String(logout.headers['set-cookie'])).toMatch(/;\s*Secure/);
  });

  it('still refuses another origin behind the proxy', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/dashboard/login',
      headers: {
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'bridge.example',
        origin: 'http://bridge.example',
        ...FORM,
      },
      payload: form({ token: admin }),
    });
    expect(res.statusCode).toBe(403);
  });
});
