import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { healthRoutes } from './api/health.js';
import { buildServer, type Feature } from './api/server.js';
import { createVerifier } from './auth/index.js';
import { bankLimitsSource } from './bank/registry.js';
import type { Config } from './config/index.js';
import { dashboardRoutes } from './dashboard/index.js';
import { type Db, dbSettings, migrate, openDb } from './db/index.js';
import { disbursementRoutes } from './disbursements/routes.js';
import { envelopeRoutes } from './envelopes/routes.js';
import type { AppContext } from './feature/context.js';
import { g2pSecurityRoutes } from './g2p/guard.js';
import { g2pConnectRoutes } from './g2p-connect/routes.js';
import { metricsRoutes } from './metrics/index.js';
import { walletCallbackRoutes } from './payouts/callbacks.js';
import { payoutChannelRoutes } from './payouts/routes.js';
import { programRoutes } from './programs/routes.js';
import { returnReasonRoutes } from './statements/return-reasons.js';
import { statementUploadRoutes } from './statements/upload.js';

/** Every route group of the bridge API, in registration order. */
export const FEATURES: Feature[] = [
  metricsRoutes,
  healthRoutes,
  g2pSecurityRoutes,
  programRoutes,
  envelopeRoutes,
  disbursementRoutes,
  g2pConnectRoutes,
  statementUploadRoutes,
  returnReasonRoutes,
  dashboardRoutes,
  walletCallbackRoutes,
  payoutChannelRoutes,
];

/** The bridge's database, migrated. */
export async function openDatabase(config: Config): Promise<Db> {
  const db = await openDb(dbSettings(config));
  await migrate(db, 'bridge');
  return db;
}

export async function createContext(
  config: Config,
  db: Db,
  log: Logger,
  now = () => new Date(),
): Promise<AppContext> {
  const verifier = config.AUTH_MODE === 'none' ? null : await createVerifier(db, config);
  const bankLimits = bankLimitsSource({ spec: config.BANK_CONNECTORS, env: process.env, log });
  return { config, db, log, now, verifier, bankLimits };
}

export async function createApp(ctx: AppContext, features: Feature[] = FEATURES): Promise<FastifyInstance> {
  return buildServer(ctx, features);
}
