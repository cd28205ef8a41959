import { isRole, ROLES, type Role } from '../../auth/index.js';
import { loadConfig } from '../../config/index.js';
import { parseCommandArgs, UsageError } from '../args.js';
import { localTokenTtl, mintLocalToken, NoBridgeDataError } from '../local-token.js';

const HELP = `Usage: g2p-bridge token <role>[,<role>...] [--subject NAME] [--ttl SECONDS]

Mints a bearer token the running bridge accepts, signed with its local secret: JWT_SECRET if set, else the
one the bridge generated on its first start (DATA_DIR/jwt-secret on the embedded database, the database
itself on PostgreSQL). Run it with the bridge's settings (DATA_DIR or DATABASE_URL); where no bridge has
started yet it refuses rather than mint a token the bridge would not accept.
Roles: ${ROLES.join(', ')}; several may be joined with commas or spaces ("pbms,bank" or pbms bank).

  --subject NAME   the token's subject (who is calling), default the role
  --ttl SECONDS    lifetime, default TOKEN_TTL_SECONDS (at most JWT_MAX_LIFETIME_SECONDS)`;

/** "pbms,bank", "pbms bank" (one quoted argument) and pbms bank (two) all mean the same two roles. */
export function parseRoles(positionals: string[]): Role[] {
  const names = positionals.flatMap((p) => p.split(/[\s,]+/)).filter(Boolean);
  if (names.length === 0) throw new UsageError(`give a role: ${ROLES.join(', ')}`);
  const unknown = names.filter((name) => !isRole(name));
  if (unknown.length) {
    const list = unknown.map((name) => `'${name}'`).join(', ');
    throw new UsageError(
      `unknown role${unknown.length > 1 ? 's' : ''} ${list}: the roles are ${ROLES.join(', ')}`,
    );
  }
  return [...new Set(names.filter(isRole))];
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { subject: { type: 'string' }, ttl: { type: 'string' } }, HELP, true);
  if (!parsed) return 0;
  const roles = parseRoles(parsed.positionals);
  const raw = parsed.values.ttl;
  const ttl = raw === undefined ? undefined : Number(raw);
  if (ttl !== undefined && (!/^\d+$/.test(raw!) || !Number.isSafeInteger(ttl) || ttl <= 0)) {
    throw new UsageError('--ttl must be a positive whole number of seconds');
  }
  const config = loadConfig();
  try {
    localTokenTtl(config, ttl);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  try {
    const token = await mintLocalToken(config, { roles, subject: parsed.values.subject, ttlSeconds: ttl });
    process.stdout.write(`${token}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof NoBridgeDataError)) throw error;
    process.stderr.write(`g2p-bridge token: ${error.message}\n`);
    return 1;
  }
}
