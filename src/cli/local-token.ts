// Tokens the CLI mints for itself or prints for an operator, signed with the bridge's local secret.
import { openDatabase } from '../app.js';
import { localSecret, mintToken, type Role } from '../auth/index.js';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';

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

/**
 * A token carrying the configured issuer and audience. The secret is JWT_SECRET, DATA_DIR/jwt-secret for the
 * embedded database (left closed: the bridge may be running on it), or the PostgreSQL database.
 */
export async function mintLocalToken(
  config: Config,
  options: { roles: Role[]; subject?: string; ttlSeconds?: number },
  /** A database this process already has open (it is left open). */
  openDb?: Db,
): Promise<string> {
  const db: Db | undefined =
    openDb ?? (config.DATABASE_URL && !config.JWT_SECRET ? await openDatabase(config) : undefined);
  try {
    return await mintToken(await localSecret(config, db), {
      ...options,
      ttlSeconds: localTokenTtl(config, options.ttlSeconds),
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    });
  } finally {
    if (!openDb) await db?.close();
  }
}
