// Tokens the CLI mints for itself or prints for an operator, signed with the bridge's local secret.
import { resolve } from 'node:path';
import { cliCommand } from '../auth/hint.js';
import { existingLocalSecret, localSecret, mintToken, type Role } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { type Db, dbSettings, openDb } from '../db/index.js';

/**
 * The lifetime of a token minted here: the one asked for, else TOKEN_TTL_SECONDS, never beyond what the
 * verifier accepts (JWT_MAX_LIFETIME_SECONDS) — asking for more is an error, not a token that fails later.
 */
export function localTokenTtl(
  config: Pick<Config, 'TOKEN_TTL_SECONDS' | 'JWT_MAX_LIFETIME_SECONDS'>,
  asked?: number,
): number {
  const max =
    config.JWT_MAX_LIFETIME_SECONDS > 0 ? config.JWT_MAX_LIFETIME_SECONDS : Number.POSITIVE_INFINITY;
  if (asked === undefined) return Math.min(config.TOKEN_TTL_SECONDS, max);
  if (asked > max) {
    throw new Error(`a token may live at most JWT_MAX_LIFETIME_SECONDS (${max} s); ${asked} s was asked for`);
  }
  return asked;
}

/** No bridge has run where this process looks, so no secret exists that a running bridge would accept. */
export class NoBridgeDataError extends Error {
  constructor(config: Pick<Config, 'DATABASE_URL' | 'DATA_DIR'>) {
    super(
      config.DATABASE_URL
        ? 'No bridge has started on this DATABASE_URL (its database holds no token secret yet), so a token ' +
            'signed here would be refused. Start the bridge first (g2p-bridge start, serve or migrate), or ' +
            "point DATABASE_URL at the bridge's database. Tokens can also come from JWT_SECRET."
        : `No bridge data in DATA_DIR (${resolve(config.DATA_DIR)}): the bridge writes DATA_DIR/jwt-secret on ` +
            `its first start and accepts only tokens signed with it. Start the bridge first (${cliCommand('start')}), or run ` +
            "this command with the bridge's DATA_DIR (or with its JWT_SECRET).",
    );
    this.name = 'NoBridgeDataError';
  }
}

/**
 * A token carrying the configured issuer and audience. The secret is JWT_SECRET, DATA_DIR/jwt-secret for the
 * embedded database (read only: the bridge may be running on it), or the one in the PostgreSQL database. It is
 * never generated here: with no bridge data this throws NoBridgeDataError instead of minting a token the bridge
 * would refuse. A database this process already has open (`openDb`, left open) is this process's own bridge,
 * which generates its secret itself.
 */
export async function mintLocalToken(
  config: Config,
  options: { roles: Role[]; subject?: string; ttlSeconds?: number },
  openedDb?: Db,
): Promise<string> {
  let secret: Uint8Array | null;
  if (openedDb) secret = await localSecret(config, openedDb);
  else if (config.DATABASE_URL && !config.JWT_SECRET) {
    // Opened without migrating: a database the bridge never ran on stays untouched.
    const db = await openDb(dbSettings(config));
    try {
      secret = await existingLocalSecret(config, db);
    } finally {
      await db.close();
    }
  } else secret = await existingLocalSecret(config);
  if (!secret) throw new NoBridgeDataError(config);
  return mintToken(secret, {
    ...options,
    ttlSeconds: localTokenTtl(config, options.ttlSeconds),
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
  });
}
