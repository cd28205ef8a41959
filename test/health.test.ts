import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestApp, testApp } from './support/app.js';

describe('health endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
  });
  afterAll(async () => t.close());

  it('answers ping without a token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/ping' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok' });
  });

  it('is ready when the database answers', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/ready' });
    expect(res.statusCode).toBe(200);
    expect(res.json().database).toBe(process.env.DATABASE_URL ? 'postgres' : 'pglite');
  });
});

describe('API documentation', () => {
  it('serves the OpenAPI document and UI at /docs without a token', async () => {
    const t = await testApp();
    try {
      const ui = await t.app.inject({ method: 'GET', url: '/docs/' });
      expect(ui.statusCode).toBe(200);
      expect(ui.headers['content-type']).toMatch(/html/);
      const doc = await t.app.inject({ method: 'GET', url: '/docs/json' });
      expect(doc.statusCode).toBe(200);
      expect(doc.json().openapi).toMatch(/^3\./);
      expect(Object.keys(doc.json().paths)).toContain('/ping');
    } finally {
      await t.close();
    }
  });
});
