// Review item 2 (issue 9): a bridge on 127.0.0.1 behind a local TLS proxy (the documented setup) must not hand
// the simulators to whoever reaches the proxy. With TRUST_PROXY set, or on any request that carries
// X-Forwarded-* / Forwarded headers, the simulators want a token with the admin role even on loopback.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestStack, testStack } from '../cli/stack.js';

async function statusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await fetch(url, { headers });
  await res.arrayBuffer();
  return res.status;
}

const PATHS = ['/example-bank/admin/accounts', '/mapper/admin/entries'];

describe('simulators on loopback behind a trusted proxy (TRUST_PROXY)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack({ TRUST_PROXY: 'loopback' });
  });
  afterAll(async () => stack?.stop());

  it('wants an admin token, proxied headers or not', async () => {
    const admin = await stack.token(['admin']);
    const pbms = await stack.token(['pbms']);
    for (const path of PATHS) {
      expect(await statusOf(`${stack.url}${path}`)).toBe(401);
      expect(await statusOf(`${stack.url}${path}`, { 'x-forwarded-for': '203.0.113.9' })).toBe(401);
      expect(await statusOf(`${stack.url}${path}`, { authorization: `Bearer ${pbms}` })).toBe(403);
      expect(await statusOf(`${stack.url}${path}`, { authorization: `Bearer ${admin}` })).toBe(200);
    }
  });
});

describe('simulators on loopback without TRUST_PROXY', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await testStack();
  });
  afterAll(async () => stack?.stop());

  it('answer a local caller without a token', async () => {
    for (const path of PATHS) expect(await statusOf(`${stack.url}${path}`)).toBe(200);
  });

  it('want an admin token for a request a proxy forwarded', async () => {
    const admin = await stack.token(['admin']);
    const proxied: Record<string, string>[] = [
      { 'x-forwarded-for': '203.0.113.9' },
      { 'x-forwarded-proto': 'https' },
      { 'x-forwarded-host': 'bridge.example.org' },
      { forwarded: 'for=203.0.113.9;proto=https' },
    ];
    for (const path of PATHS)
      for (const headers of proxied) {
        expect(await statusOf(`${stack.url}${path}`, headers)).toBe(401);
        expect(await statusOf(`${stack.url}${path}`, { ...headers, authorization: `Bearer ${admin}` })).toBe(
          200,
        );
      }
  });
});
