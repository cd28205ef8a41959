import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApp, createContext, FEATURES } from '../../src/app.js';
import { localSecret, mintToken, type Role } from '../../src/auth/index.js';
import { type Config, loadConfig } from '../../src/config/index.js';
import type { AppContext, Feature } from '../../src/feature/context.js';
import { createLogger } from '../../src/logger.js';
import { testDb } from './db.js';

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  token(role: Role | Role[]): Promise<string>;
  /** Sets the clock the bridge sees (schedule dates, "today"). */
  setNow(date: Date | string): void;
  close(): Promise<void>;
}

/** The bridge API on a fresh cloned database, driven with `app.inject` (no port). */
export async function testApp(
  overrides: Partial<Record<string, string>> = {},
  features: Feature[] = FEATURES,
): Promise<TestApp> {
  const db = await testDb();
  // Its own DATA_DIR: a test that unsets JWT_SECRET must not leave a secret in the checkout's ./data.
  const dataDir = await mkdtemp(join(tmpdir(), 'g2p-app-'));
  const config: Config = loadConfig({
    LOG_LEVEL: 'silent',
    JWT_SECRET: 'test-secret-0123456789abcdef',
    DATA_DIR: dataDir,
    ...overrides,
  });
  let now = new Date();
  const ctx = await createContext(config, db, createLogger(config.LOG_LEVEL), () => now);
  const app = await createApp(ctx, features);
  await app.ready();
  const secret = await localSecret(config, db);
  return {
    app,
    ctx,
    token: (role) => mintToken(secret, { roles: Array.isArray(role) ? role : [role] }),
    setNow(date) {
      now = typeof date === 'string' ? new Date(date) : date;
    },
    async close() {
      await app.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
