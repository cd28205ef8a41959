// `start` serves the wallet-provider simulator under /wallet-provider: the GSMA API behind its own
// credentials (the process key among them, for the bridge's own connector), the admin routes behind the
// simulators' access rule, and a banner line naming it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { banner } from '../../src/cli/commands/start.js';
import { loadConfig } from '../../src/config/index.js';
import { type TestStack, testStack } from '../cli/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await testStack({ WALLET_SIMULATOR_ACCOUNTS: 'ORG-1:USD:100' });
});
afterAll(async () => stack?.stop());

describe('start mounts the wallet-provider simulator', () => {
  it('answers the GSMA API with credentials only, the process key among them', async () => {
    const bare = await fetch(`${stack.url}/wallet-provider/heartbeat`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ errorCategory: 'authorisation' });
    const access = stack.simulatorAccess!;
    const key = 'processKey' in access ? access.processKey : undefined;
    expect(key).toBeTruthy();
    const ok = await fetch(`${stack.url}/wallet-provider/accounts/accountid@ORG-1/balance`, {
      headers: { 'x-api-key': key! },
    });
    expect(await ok.json()).toMatchObject({ currentBalance: '100', currency: 'USD' });
    // Admin routes: open on loopback, as the other simulators.
    const opened = await fetch(`${stack.url}/wallet-provider/admin/wallets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ msisdn: '+254700000001', currency: 'USD' }),
    });
    expect(opened.status).toBe(201);
    expect(stack.wallet).toBeDefined();
    expect(banner(stack, loadConfig({}), 'all')).toContain('/wallet-provider');
  });
});
