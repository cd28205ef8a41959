import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createRemoteJWKSet,
  importSPKI,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';
import { isRole, type Role } from './roles.js';
import { effectiveScope, type Scope, scopeOfClaims } from './scopes.js';

const SECRET_SETTING = 'jwt_hs256_secret';

/**
 * The local HS256 secret: JWT_SECRET, else one generated on first start. The embedded database cannot be
 * opened by two processes at once, so there it lives in DATA_DIR/jwt-secret (mode 0600) where the `token`
 * command can read it while the bridge runs; on PostgreSQL it lives in the database, shared by every process.
 */
export async function localSecret(
  config: Pick<Config, 'JWT_SECRET' | 'DATABASE_URL' | 'DATA_DIR'>,
  db?: Db,
): Promise<Uint8Array> {
  if (config.JWT_SECRET) return new TextEncoder().encode(config.JWT_SECRET);
  const candidate = randomBytes(32).toString('base64url');
  if (!config.DATABASE_URL) {
    const path = join(config.DATA_DIR, 'jwt-secret');
    await mkdir(config.DATA_DIR, { recursive: true });
    try {
      await writeFile(path, `${candidate}\n`, { flag: 'wx', mode: 0o600 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    return new TextEncoder().encode((await readFile(path, 'utf8')).trim());
  }
  if (!db) throw new Error('the local secret of a PostgreSQL deployment is kept in its database');
  await db.query('INSERT INTO bridge_setting (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [
    SECRET_SETTING,
    candidate,
  ]);
  const { rows } = await db.query<{ value: string }>('SELECT value FROM bridge_setting WHERE name = $1', [
    SECRET_SETTING,
  ]);
  return new TextEncoder().encode(rows[0]!.value);
}

/**
 * The local secret a bridge already generated, without generating one: null when no bridge has started on
 * this DATA_DIR (no DATA_DIR/jwt-secret) or this database (no bridge tables, or no secret in them). A token
 * signed with a fresh secret would be one the running bridge refuses.
 */
export async function existingLocalSecret(
  config: Pick<Config, 'JWT_SECRET' | 'DATABASE_URL' | 'DATA_DIR'>,
  db?: Db,
): Promise<Uint8Array | null> {
  if (config.JWT_SECRET) return new TextEncoder().encode(config.JWT_SECRET);
  if (!config.DATABASE_URL) {
    try {
      return new TextEncoder().encode((await readFile(join(config.DATA_DIR, 'jwt-secret'), 'utf8')).trim());
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }
  if (!db) throw new Error('the local secret of a PostgreSQL deployment is kept in its database');
  const { rows } = await db
    .query<{ value: string }>('SELECT value FROM bridge_setting WHERE name = $1', [SECRET_SETTING])
    .catch((error: { code?: string }) => {
      if (error.code === '42P01') return { rows: [] }; // undefined_table: never migrated
      throw error;
    });
  return rows[0] ? new TextEncoder().encode(rows[0].value) : null;
}

/** A verified caller: who, with which roles, and (when scoped) which programs or bank codes it may reach. */
export interface Principal extends Scope {
  subject: string;
  roles: Role[];
}

export type TokenVerifier = (token: string) => Promise<Principal>;

/** Roles come from a `roles` array claim or a space-separated `scope`/`role` claim. */
export function rolesOf(payload: JWTPayload): Role[] {
  const raw: unknown[] = [];
  if (Array.isArray(payload.roles)) raw.push(...payload.roles);
  for (const claim of ['role', 'scope']) {
    const value = payload[claim];
    if (typeof value === 'string') raw.push(...value.split(/\s+/));
  }
  return [...new Set(raw.filter(isRole))];
}

/**
 * `now`: the clock tokens are judged by (exp, iat, the lifetime cap), one for jose and for checkLifetime. The
 * app passes none on purpose: a token's life is wall-clock time, while the app's clock is the business day
 * (tests move it to schedule dates without re-minting tokens).
 */
export async function createVerifier(
  db: Db,
  config: Config,
  now: () => Date = () => new Date(),
): Promise<TokenVerifier> {
  const options = {
    ...(config.JWT_ISSUER ? { issuer: config.JWT_ISSUER } : {}),
    ...(config.JWT_AUDIENCE ? { audience: config.JWT_AUDIENCE } : {}),
  };
  const keys: Array<Uint8Array | JWTVerifyGetKey | Awaited<ReturnType<typeof importSPKI>>> = [];
  if (config.JWKS_URL) keys.push(createRemoteJWKSet(new URL(config.JWKS_URL)));
  if (config.JWT_PUBLIC_KEY) {
    const pem = config.JWT_PUBLIC_KEY.replace(/\\n/g, '\n');
    const alg = /BEGIN PUBLIC KEY/.test(pem) ? await guessAlg(pem) : 'RS256';
    keys.push(await importSPKI(pem, alg));
  }
  if (config.JWT_SECRET || keys.length === 0) keys.push(await localSecret(config, db));

  return async (token) => {
    let lastError: unknown;
    for (const key of keys) {
      let payload: JWTPayload;
      const at = now();
      try {
        ({ payload } =
          typeof key === 'function'
            ? await jwtVerify(token, key, { ...options, requiredClaims: ['exp'], currentDate: at })
            : await jwtVerify(token, key, { ...options, requiredClaims: ['exp'], currentDate: at }));
      } catch (error) {
        lastError = error;
        continue;
      }
      checkLifetime(payload, config.JWT_MAX_LIFETIME_SECONDS, at.getTime() / 1000);
      const subject = String(payload.sub ?? 'unknown');
      const scope = effectiveScope(subject, scopeOfClaims(payload), config.CALLER_SCOPES);
      return { subject, roles: rolesOf(payload), ...scope };
    }
    throw lastError ?? new Error('no verification key');
  };
}

/** How far in the future a token's iat may lie (the issuer's clock running ahead of ours). */
export const CLOCK_SKEW_SECONDS = 60;

/**
 * A token must expire, and within `maxSeconds` of being issued and of now: a leaked long-lived token is the
 * one a rotation cannot reach. An iat more than CLOCK_SKEW_SECONDS in the future is refused (else a token
 * with exp in 2100 and iat a minute before it would pass). 0 leaves the lifetime unlimited.
 */
export function checkLifetime(payload: JWTPayload, maxSeconds: number, nowSeconds: number) {
  if (typeof payload.exp !== 'number') throw new Error('the token has no exp claim');
  if (typeof payload.iat === 'number' && payload.iat > nowSeconds + CLOCK_SKEW_SECONDS)
    throw new Error('the token was issued in the future (iat)');
  if (maxSeconds <= 0) return;
  const lifetimes = [payload.exp - nowSeconds];
  if (typeof payload.iat === 'number') lifetimes.push(payload.exp - payload.iat);
  if (lifetimes.some((seconds) => seconds > maxSeconds)) {
    throw new Error(`the token lives longer than JWT_MAX_LIFETIME_SECONDS (${maxSeconds} s)`);
  }
}

async function guessAlg(pem: string): Promise<string> {
  for (const alg of ['RS256', 'ES256', 'EdDSA', 'ES384', 'PS256']) {
    try {
      await importSPKI(pem, alg);
      return alg;
    } catch {
      // try the next algorithm
    }
  }
  throw new Error('JWT_PUBLIC_KEY is not an RSA, EC or Ed25519 public key in PEM form');
}

/** Mints a token with the local secret (the `token` CLI command and tests). */
export async function mintToken(
  secret: Uint8Array,
  options: { roles: Role[]; subject?: string; ttlSeconds?: number; issuer?: string; audience?: string },
): Promise<string> {
  let jwt = new SignJWT({ roles: options.roles })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.subject ?? options.roles.join('+'))
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 86400}s`);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(secret);
}
