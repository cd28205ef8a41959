// The all-in-one stack of `start` on a test database, with the demo's fast timers: a real HTTP port, real
// workers, the example bank and the mapper, everything a browser or the demo can talk to.

import { localSecret, mintToken, type Role } from '../../src/auth/index.js';
import { FAST_SETTINGS } from '../../src/cli/commands/demo.js';
import { type Stack, startStack } from '../../src/cli/commands/start.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { testDb } from '../support/db.js';

export interface TestStack extends Stack {
  token(roles: Role[]): Promise<string>;
}

export async function testStack(overrides: Record<string, string> = {}): Promise<TestStack> {
  const db = await testDb();
  const env = {
    ...FAST_SETTINGS,
    WORKER_POLL_INTERVAL_SECONDS: '0.1',
    EXAMPLE_BANK_PROCESS_INTERVAL_MS: '200',
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'test-secret-0123456789abcdef',
    PORT: '0',
    HOST: '127.0.0.1',
    ...overrides,
  };
  const config = loadConfig(env);
  const stack = await startStack({ config, env, log: createLogger('silent'), mode: 'all', db });
  const secret = await localSecret(config, db);
  return { ...stack, token: (roles) => mintToken(secret, { roles }) };
}

/** Collects what a command writes, as a non-terminal output. */
export function collector() {
  const chunks: string[] = [];
  return {
    isTTY: false,
    write(text: string) {
      chunks.push(text);
      return true;
    },
    text: () => chunks.join(''),
  };
}
