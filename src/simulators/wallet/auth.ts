// Who may call the GSMA API: a configured key in `X-API-Key`, or a bearer token from the OAuth 2 client
// credentials grant at /oauth/token (RFC 6749 §4.4), as the spec allows. Keys and secrets are compared by
// their SHA-256 in constant time; tokens live in memory until they expire (a restarted provider forgets
// them and its clients ask again, as they would after an expiry).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text).digest();

function oneOf(candidate: string, secrets: readonly Buffer[]): boolean {
  const d = digest(candidate);
  let found = false;
  for (const s of secrets) if (timingSafeEqual(d, s)) found = true;
  return found;
}

export interface IssuedToken {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
}

export type Caller = { via: 'api-key' } | { via: 'oauth'; clientId: string };

export class WalletAuth {
  private readonly keys: Buffer[];
  private readonly clients: Map<string, Buffer>;
  private readonly tokens = new Map<string, { clientId: string; expiresAt: number }>();

  constructor(
    options: { apiKeys: readonly string[]; clients: ReadonlyMap<string, string>; tokenTtlSeconds: number },
    private readonly now: () => Date,
  ) {
    this.keys = options.apiKeys.map(digest);
    this.clients = new Map([...options.clients].map(([id, secret]) => [id, digest(secret)]));
    this.ttl = options.tokenTtlSeconds;
  }

  private readonly ttl: number;

  /** Accepts one more key (the per-process key `start` gives its own connector). */
  addApiKey(key: string): void {
    this.keys.push(digest(key));
  }

  /** Some credential is configured: without one nobody can call the API. */
  get configured(): boolean {
    return this.keys.length > 0 || this.clients.size > 0;
  }

  /** The client credentials grant: a token for a known client with the right secret, else null. */
  issue(clientId: string, secret: string): IssuedToken | null {
    const expected = this.clients.get(clientId);
    // Compare against something even for an unknown client, so timing does not tell which ids exist.
    const ok = oneOf(secret, [expected ?? digest(randomBytes(16).toString('hex'))]) && expected !== undefined;
    if (!ok) return null;
    const token = randomBytes(32).toString('base64url');
    const nowMs = this.now().getTime();
    for (const [t, v] of this.tokens) if (v.expiresAt <= nowMs) this.tokens.delete(t);
    this.tokens.set(digest(token).toString('hex'), { clientId, expiresAt: nowMs + this.ttl * 1000 });
    return { access_token: token, token_type: 'Bearer', expires_in: this.ttl };
  }

  /** Who is calling, from the request headers; null when no credential (or a wrong or expired one) came. */
  check(headers: Record<string, string | string[] | undefined>): Caller | null {
    const key = headers['x-api-key'];
    if (typeof key === 'string' && key !== '' && oneOf(key, this.keys)) return { via: 'api-key' };
    const match = /^Bearer\s+(\S+)$/i.exec(String(headers.authorization ?? ''));
    if (match) {
      const id = digest(match[1]!).toString('hex');
      const entry = this.tokens.get(id);
      if (entry && entry.expiresAt > this.now().getTime()) return { via: 'oauth', clientId: entry.clientId };
    }
    return null;
  }
}
