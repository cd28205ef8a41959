// Where a token this bridge accepts comes from, in words a 401, the login page and the start banner can show.
// Names commands and settings only: never a secret, a path or a key.
import { existsSync } from 'node:fs';
import type { Config } from '../config/index.js';

/**
 * In a checkout (src/ beside this file's package) the command line is the npm script; installed as a package it
 * is the `g2p-bridge` binary. `-s` keeps npm's own header lines out of what the script prints.
 */
export function cliCommand(args: string): string {
  return `${checkout ? 'npm run -s cli --' : 'g2p-bridge'} ${args}`;
}

const checkout = existsSync(new URL('../../src/cli/main.ts', import.meta.url));

/** One sentence: where a token this bridge accepts comes from, given how it verifies tokens. */
export function tokenSource(
  config: Pick<Config, 'JWT_SECRET' | 'JWKS_URL' | 'JWT_PUBLIC_KEY' | 'DATABASE_URL'>,
  role = 'admin',
): string {
  const local = `'${cliCommand(`token ${role}`)}'`;
  if (config.JWT_SECRET)
    return `Tokens are signed with this bridge's JWT_SECRET: ${local} run with the same JWT_SECRET.`;
  if (config.JWKS_URL || config.JWT_PUBLIC_KEY)
    return 'Tokens come from the identity provider this bridge trusts (JWKS_URL or JWT_PUBLIC_KEY).';
  return config.DATABASE_URL
    ? `Get one with ${local}, run with this bridge's DATABASE_URL.`
    : `Get one with ${local}, run with this bridge's DATA_DIR (the secret is DATA_DIR/jwt-secret).`;
}
