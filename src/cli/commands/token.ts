import { isRole, ROLES } from '../../auth/index.js';
import { loadConfig } from '../../config/index.js';
import { parseCommandArgs } from '../args.js';
import { localTokenTtl, mintLocalToken } from '../local-token.js';

const HELP = `Usage: g2p-bridge token <role> [--subject NAME] [--ttl SECONDS]

Mints a bearer token signed with the bridge's local secret (JWT_SECRET, or the one generated on first
start and kept in the database). Roles: ${ROLES.join(', ')}; several may be joined with commas.

  --subject NAME   the token's subject (who is calling), default the role
  --ttl SECONDS    lifetime, default TOKEN_TTL_SECONDS (at most JWT_MAX_LIFETIME_SECONDS)`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { subject: { type: 'string' }, ttl: { type: 'string' } }, HELP, true);
  if (!parsed) return 0;
  const roles = (parsed.positionals[0] ?? '').split(',').filter(Boolean);
  if (roles.length === 0 || !roles.every(isRole)) {
    process.stderr.write(`Give a role: ${ROLES.join(', ')}\n`);
    return 2;
  }
  const config = loadConfig();
  const ttl = parsed.values.ttl ? Number(parsed.values.ttl) : undefined;
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) {
    process.stderr.write('--ttl must be a positive whole number of seconds\n');
    return 2;
  }
  try {
    localTokenTtl(config, ttl);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  const token = await mintLocalToken(config, {
    roles: roles.filter(isRole),
    subject: parsed.values.subject,
    ttlSeconds: ttl,
  });
  process.stdout.write(`${token}\n`);
  return 0;
}
