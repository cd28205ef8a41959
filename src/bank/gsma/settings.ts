// Settings of one wallet provider reached through the builtin gsma-mmapi connector, read from
// WALLET_<CODE>_* (CODE: the provider code upper-cased, anything but letters and digits as '_'). Checked when
// the connector is built, at start, so a missing URL or half an OAuth pair stops the bridge with a clear message.

export interface GsmaSettings {
  providerCode: string;
  /** The provider's GSMA base URL, e.g. https://api.provider.example/mm/v1.2 (no trailing slash). */
  baseUrl: string;
  apiKey: string | null;
  /** OAuth 2 client credentials; the token is asked for at `tokenUrl` and cached until shortly before expiry. */
  clientId: string | null;
  clientSecret: string | null;
  tokenUrl: string | null;
  /** Our public base URL for callbacks (the provider PUTs to <base>/wallet-callbacks/<code>/<secret>); null: poll. */
  callbackBaseUrl: string | null;
  pollSeconds: number;
  timeoutMs: number;
  /** Completions and rejections read per page. */
  pageSize: number;
}

/** The prefix of a provider's variables: WALLET_MPESA_, WALLET_AIRTEL_KE_. */
export function walletEnvPrefix(providerCode: string): string {
  return `WALLET_${providerCode.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

function httpUrl(name: string, raw: string): string {
  const url = raw.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url))
    throw new Error(`${name} must be an http(s) URL, got ${JSON.stringify(raw)}`);
  return url;
}

function positive(name: string, raw: string | undefined, def: number, max: number): number {
  if (raw === undefined || raw === '') return def;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max)
    throw new Error(`${name} must be a number above 0 and at most ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

export function gsmaSettings(providerCode: string, env: Record<string, string | undefined>): GsmaSettings {
  const p = walletEnvPrefix(providerCode);
  const get = (k: string) => env[`${p}${k}`] || undefined;
  const url = get('URL');
  if (!url) throw new Error(`${p}URL is not set (the provider's GSMA Mobile Money API base URL)`);
  const clientId = get('CLIENT_ID') ?? null;
  const clientSecret = get('CLIENT_SECRET') ?? null;
  if ((clientId === null) !== (clientSecret === null))
    throw new Error(`${p}CLIENT_ID and ${p}CLIENT_SECRET go together (OAuth 2 client credentials)`);
  const baseUrl = httpUrl(`${p}URL`, url);
  const tokenRaw = get('TOKEN_URL');
  const callback = get('CALLBACK_URL');
  return {
    providerCode,
    baseUrl,
    apiKey: get('API_KEY') ?? null,
    clientId,
    clientSecret,
    tokenUrl: clientId ? (tokenRaw ? httpUrl(`${p}TOKEN_URL`, tokenRaw) : `${baseUrl}/oauth/token`) : null,
    callbackBaseUrl: callback ? httpUrl(`${p}CALLBACK_URL`, callback) : null,
    pollSeconds: positive(`${p}POLL_SECONDS`, get('POLL_SECONDS'), 30, 86400),
    timeoutMs: Math.round(positive(`${p}TIMEOUT_MS`, get('TIMEOUT_MS'), 15000, 600000)),
    pageSize: Math.round(positive(`${p}PAGE_SIZE`, get('PAGE_SIZE'), 500, 10000)),
  };
}
