import { readFileSync } from 'node:fs';
import {
  bool,
  int,
  num,
  oneOf,
  optionalStr,
  readEnv,
  str,
  timeZone,
  type Values,
  type VarSpec,
} from './env.js';
import { DEFAULT_FA_PATTERNS, type FaPattern, parseFaPatternsConfig } from './fa-patterns.js';
import { type CallerScopes, parseCallerScopes } from './scopes.js';
import { parseSenders, type Senders } from './senders.js';

export { ConfigError } from './env.js';

/**
 * Every setting of the bridge, the example bank and the mapper simulator. Documented in
 * docs/configuration.md; a test checks that every variable here appears there.
 */
export const CONFIG_SPEC = {
  // Service
  PORT: int('HTTP port of the bridge API (and, under `start`, of the dashboard).', 8000, {
    min: 0,
    max: 65535,
  }),
  HOST: optionalStr(
    'Interface to listen on. Default 127.0.0.1 (this machine only) for `start`, `bank` and `mapper`, whose simulators answer without a token there; 0.0.0.0 for `serve`.',
  ),
  TRUST_PROXY: {
    doc: 'Reverse proxies whose X-Forwarded-For/-Proto/-Host headers are believed (Fastify trustProxy): `false`, `true` (any), a hop count, or comma-separated addresses, CIDRs or `loopback`/`linklocal`/`uniquelocal`. Decides, among other things, whether the dashboard cookie is marked Secure.',
    default: false,
    parse(raw) {
      if (raw === 'true' || raw === 'false') return raw === 'true';
      if (/^\d{1,2}$/.test(raw)) return Number(raw);
      const list = raw.split(',').map((s) => s.trim());
      const ok = /^(?:[0-9A-Fa-f.:]+(?:\/\d{1,3})?|loopback|linklocal|uniquelocal)$/;
      if (list.some((s) => !ok.test(s)))
        throw new Error(`must be true, false, a hop count or addresses/CIDRs, got ${JSON.stringify(raw)}`);
      return list.join(',');
    },
  } as VarSpec<boolean | number | string>,
  REQUEST_TIMEOUT_MS: int(
    'Deadline for receiving a whole request, headers and body; a slower client gets 408 and its connection is closed.',
    120000,
    { min: 100, max: 3600000 },
  ),
  CONNECTION_TIMEOUT_MS: int(
    'A connection on which nothing moves (no byte in either direction) for this long is closed.',
    300000,
    { min: 100, max: 3600000 },
  ),
  KEEP_ALIVE_TIMEOUT_MS: int('How long an idle keep-alive connection waits for its next request.', 72000, {
    min: 100,
    max: 3600000,
  }),
  PUBLIC_URL: optionalStr(
    'URL under which others reach the bridge (used in start-up hints and by the example bank to upload statements). Default http://127.0.0.1:PORT.',
  ),
  LOG_LEVEL: oneOf(
    'pino log level.',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const,
    'info',
  ),
  // Database
  DATABASE_URL: optionalStr(
    'PostgreSQL connection URL. When unset the embedded PGlite database in DATA_DIR is used.',
  ),
  DATA_DIR: str('Directory of the embedded database and other local state.', './data'),
  DATABASE_POOL_SIZE: int('Connections per process to PostgreSQL.', 10, { min: 1, max: 500 }),
  // Business rules
  TIME_ZONE: timeZone('IANA time zone in which "today" and "schedule date reached" are judged.', 'UTC'),
  DISBURSEMENT_SLA_DAYS: int('Days between today and the earliest schedule date an envelope may have.', 0, {
    min: 0,
    max: 365,
  }),
  MAX_DISBURSEMENTS_PER_REQUEST: int(
    'Largest number of items in one create_disbursements or cancel_disbursements call.',
    10000,
    { min: 1, max: 1000000 },
  ),
  MAX_BODY_BYTES: int('Largest JSON request body, in bytes.', 16 * 1024 * 1024, { min: 1024 }),
  G2P_LENIENT_HEADER: bool(
    'Accept PBMS calls whose header.action differs from the route, whose header.total_count differs from the item count or whose header.message_ts is not a date-time (a legacy client). Default: refused with rjct.action.invalid, rjct.total_count.invalid, rjct.message_ts.invalid.',
    false,
  ),
  IDEMPOTENCY_RETENTION_DAYS: int(
    'Days a successful answer is kept for replays of the same message id (0: forever). Purged hourly by the workers.',
    90,
    { min: 0, max: 3650 },
  ),
  MAX_STATEMENT_BYTES: int('Largest MT940 upload, in bytes.', 64 * 1024 * 1024, { min: 1024 }),
  AUDIT_RETENTION_DAYS: int(
    'Days audit_event rows are kept (0: forever). Purged hourly by the workers, with the stored answers.',
    0,
    { min: 0, max: 36500 },
  ),
  // Authentication
  AUTH_MODE: oneOf(
    '`jwt` (bearer tokens required) or `none` (no authentication, for trying things out; logs a warning).',
    ['jwt', 'none'] as const,
    'jwt',
  ),
  JWT_SECRET: optionalStr(
    'Shared HS256 secret. When unset and no public keys are configured, one is generated on first start and stored in the database.',
  ),
  JWT_PUBLIC_KEY: optionalStr('PEM public key (RS256/ES256/EdDSA) that verifies tokens issued elsewhere.'),
  JWKS_URL: optionalStr('URL of a JSON Web Key Set that verifies tokens issued elsewhere.'),
  JWT_ISSUER: optionalStr('Required `iss` claim, when set.'),
  JWT_AUDIENCE: optionalStr('Required `aud` claim, when set.'),
  TOKEN_TTL_SECONDS: int('Lifetime of tokens minted by the `token` command.', 24 * 3600, { min: 60 }),
  JWT_MAX_LIFETIME_SECONDS: int(
    'Longest lifetime a token may have (`exp` − `iat`, or `exp` − now without `iat`); longer ones are refused, as are tokens without `exp`. 0: no limit.',
    24 * 3600,
    { min: 0 },
  ),
  CALLER_SCOPES: {
    doc: 'Scopes by token subject: JSON `{"<subject>": {"programs": [...], "bank_codes": [...]}, "*": {...}}`, or the path of a file holding it. Narrows what the token\'s own `programs` / `bank_codes` claims allow. Unset: no scoping (docs/api.md).',
    parse: parseCallerScopesSetting,
  } as VarSpec<CallerScopes | undefined>,
  G2P_CONNECT_SENDERS: {
    doc: 'G2P senders (G2P Connect and 1.0.2 PBMS): JSON `{"<sender_id>": {"callback_base_url": "https://...", "subscribe_status": true, "public_keys": ["-----BEGIN PUBLIC KEY-----..."], "jwks_url": "https://...", "must_sign": true}}`, or the path of a file holding it. Callbacks go only to these URLs; signatures are checked with these keys (docs/api.md, docs/security.md).',
    parse: (raw: string) => {
      const senders = parseSenders(raw);
      return senders.size ? senders : undefined;
    },
  } as VarSpec<Senders | undefined>,
  G2P_SIGNATURE_MAX_AGE_SECONDS: int(
    "Longest validity window (`expires` − `created`) of a G2P sender's signature, and how long after `created` (plus 5 minutes' clock skew) it is still accepted; longer ones are refused with rjct.signature.expired.",
    600,
    { min: 1 },
  ),
  DOCS_ENABLED: bool('Serve the OpenAPI documentation at /docs.', true),
  // ID-account mapper (src/mapper) and its simulator (src/simulators/mapper); see docs/mapper.md
  MAPPER_URL: {
    doc: 'Base URL of the G2P Connect ID-account mapper; the bridge posts to MAPPER_URL/sync/resolve. Default http://127.0.0.1:PORT/mapper (the built-in simulator).',
    parse(raw) {
      if (!/^https?:\/\/[^/]/.test(raw) || !URL.canParse(raw))
        throw new Error(`must be an http(s) URL, got ${JSON.stringify(raw)}`);
      return raw;
    },
  } as VarSpec<string | undefined>,
  MAPPER_TIMEOUT_MS: int(
    'Time allowed for one resolve call (sending the batch and reading the answer).',
    30000,
    {
      min: 100,
      max: 600000,
    },
  ),
  MAPPER_SENDER_ID: str("`header.sender_id` of the bridge's resolve requests.", 'g2p-bridge'),
  MAPPER_TOKEN: optionalStr(
    'Bearer token the bridge sends to the mapper. A simulator listening beyond loopback wants one with the admin role; under `start` its own mapper is reached with a key of the process.',
  ),
  MAPPER_FA_PATTERNS: {
    doc: 'JSON array of `{"faType", "pattern", "flags"?}` (or the string "defaults"): named-group regular expressions that split financial-address strings, tried in order.',
    default: DEFAULT_FA_PATTERNS,
    defaultText: 'OpenG2P dot-separated and G2P Connect `type:id@provider` forms (docs/mapper.md)',
    parse: parseFaPatternsConfig,
  } as VarSpec<readonly FaPattern[]>,
  MAPPER_SIMULATOR_PORT: int('HTTP port of the stand-alone mapper simulator (`g2p-bridge mapper`).', 8002, {
    min: 0,
    max: 65535,
  }),
  MAPPER_SIMULATOR_CSV: optionalStr(
    'CSV file (columns id,fa,name) the mapper simulator loads when it starts; rows replace existing ids.',
  ),
  // Operator experience: dashboard and metrics (src/dashboard, src/metrics); see docs/operations.md
  DASHBOARD_ENABLED: bool('Serve the web dashboard at /dashboard (roles admin or pbms).', true),
  DASHBOARD_REFRESH_SECONDS: int(
    'How often dashboard pages reload themselves while work is in progress; 0 turns automatic reload off.',
    5,
    { min: 0, max: 3600 },
  ),
  METRICS_PUBLIC: bool(
    'Serve /metrics without a token (the usual in-cluster Prometheus scrape); false makes it admin-only.',
    true,
  ),
  // Background stages (src/pipeline, src/statements); see docs/pipeline.md
  WORKER_POLL_INTERVAL_SECONDS: num(
    'Seconds a stage waits before polling its table again after finding nothing to do.',
    2,
    { min: 0.05, max: 3600 },
  ),
  STAGE_MAX_ATTEMPTS: int(
    'Attempts a row gets in a stage (mapper batch, funds check, funds block, bank batch, statement) before it becomes ERROR.',
    10,
    { min: 1, max: 1000 },
  ),
  LEASE_SECONDS: num(
    'How long a claimed row stays reserved for its worker (renewed while the work runs); rows of a dead worker are taken over after this.',
    60,
    { min: 1, max: 86400 },
  ),
  RETRY_BACKOFF_BASE_SECONDS: num(
    'First retry delay after a failed attempt; each further failure doubles it.',
    5,
    { min: 0, max: 86400 },
  ),
  RETRY_BACKOFF_MAX_SECONDS: num('Longest retry delay.', 300, { min: 0, max: 604800 }),
  WORKER_BATCH_SIZE: int(
    'Rows a stage claims per poll (mapper batches, envelopes, bank batches), worked on a few at a time.',
    10,
    { min: 1, max: 1000 },
  ),
  STATEMENT_BATCH_SIZE: int('Statements a worker claims per poll (reconciled one after the other).', 1, {
    min: 1,
    max: 100,
  }),
  STATEMENT_CHUNK_ENTRIES: int(
    'Statement entries reconciled per transaction: a large statement is applied in chunks of this many, resuming where it stopped after a crash.',
    2000,
    { min: 1, max: 1000000 },
  ),
  // Bank connectors (src/bank) and the example bank simulator (src/simulators/example-bank); see docs/bank-connectors.md
  BANK_CONNECTORS: str(
    'Connector per sponsor bank code: `CODE=builtin:example`, `CODE=./path/to/module.js` or `CODE=package-name`, comma separated.',
    'EXAMPLE=builtin:example',
  ),
  // Payout channels (issue 15; src/payouts, src/bank/gsma); see docs/bank-connectors.md, "Payout channels"
  WALLET_PROVIDERS: {
    doc: 'Connector per wallet provider code, comma separated, as BANK_CONNECTORS: `MPESA=builtin:gsma-mmapi`, `AIRTEL=./my-connector.js`. Each provider reads its own WALLET_<CODE>_* settings. Empty: no wallet channel.',
    default: '',
    parse(raw) {
      for (const item of raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean))
        if (!/^[A-Za-z0-9_.-]{1,64}=\S+$/.test(item))
          throw new Error(`'${item}' is not CODE=connector (e.g. MPESA=builtin:gsma-mmapi)`);
      return raw;
    },
  } as VarSpec<string>,
  EXAMPLE_BANK_URL: optionalStr(
    'Base URL of the example bank for the builtin example connector. Default http://127.0.0.1:PORT/example-bank (the bank mounted by `start`).',
  ),
  EXAMPLE_BANK_TOKEN: optionalStr(
    'Bearer token the example connector sends to the example bank: one with the admin role when the bank listens beyond loopback. Under `start` its own bank is reached with a key of the process.',
  ),
  EXAMPLE_BANK_TIMEOUT_MS: int(
    'Deadline of one call from the example connector to the example bank.',
    10000,
    {
      min: 1,
      max: 600000,
    },
  ),
  EXAMPLE_BANK_CODE: str(
    "The example bank's own bank code: payments whose beneficiary bank code equals it credit its own accounts.",
    'EXAMPLE',
  ),
  EXAMPLE_BANK_PORT: int('HTTP port of the stand-alone example bank (`g2p-bridge bank`).', 8001, {
    min: 0,
    max: 65535,
  }),
  EXAMPLE_BANK_ACCOUNTS: optionalStr(
    'Accounts the example bank opens at start when missing: `number:currency:opening_balance`, comma separated.',
  ),
  EXAMPLE_BANK_REVERSAL_RATE: num(
    'Share (0..1) of payments to other banks that the example bank returns as reversals.',
    0.3,
    { min: 0, max: 1 },
  ),
  EXAMPLE_BANK_SEED: str(
    "Seed of the example bank's random choices (which payments are reversed, and why).",
    'example-bank',
  ),
  EXAMPLE_BANK_PROCESS_INTERVAL_MS: int(
    'How often the example bank processes accepted payments; 0 leaves processing to the admin endpoint.',
    5000,
    { min: 0 },
  ),
  EXAMPLE_BANK_PROCESS_BATCH_SIZE: int('Payments the example bank posts in one transaction.', 5000, {
    min: 1,
    max: 1000000,
  }),
  EXAMPLE_BANK_STATEMENT_AFTER_PROCESSING: bool(
    'Write and deliver a statement for each funding account after a processing round that touched it.',
    true,
  ),
  EXAMPLE_BANK_STATEMENT_INTERVAL_MS: int(
    'How often the example bank writes and delivers statements of unreported entries; 0 turns it off.',
    0,
    { min: 0 },
  ),
  EXAMPLE_BANK_STATEMENT_MAX_ENTRIES: int(
    'Most entries in one generated statement; more make several.',
    10000,
    {
      min: 1,
      max: 1000000,
    },
  ),
  EXAMPLE_BANK_STATEMENT_FORMAT: oneOf(
    'What the example bank writes its statements in: mt940, or camt053 (ISO 20022 camt.053.001.08). An account may override it (PATCH /example-bank/admin/accounts/:number).',
    ['mt940', 'camt053'] as const,
    'mt940',
  ),
  EXAMPLE_BANK_BATCH_BOOKING: bool(
    'camt053 statements: book the payments of one bank batch posted together as one debit entry with a TxDtls per payment (else one entry per payment). An account may override it.',
    false,
  ),
  EXAMPLE_BANK_DELIVER_STATEMENTS: bool(
    "Upload generated statements to the bridge's /upload_mt940 (false: keep them for download only).",
    true,
  ),
  EXAMPLE_BANK_BRIDGE_URL: optionalStr(
    'Where the example bank uploads statements (EXAMPLE_BANK_BRIDGE_URL/upload_mt940). Default PUBLIC_URL, else http://127.0.0.1:PORT.',
  ),
  EXAMPLE_BANK_BRIDGE_TOKEN: optionalStr(
    'Bearer token (role bank) the example bank sends with its uploads. Under `start` one is minted in process.',
  ),
  // The example bank's host-to-host face (issue 12; src/simulators/example-bank/sftp, docs/bank-connectors.md)
  EXAMPLE_BANK_CHANNEL: oneOf(
    "How the bridge reaches the example bank under `start` and `demo`: api (HTTP, builtin:example) or sftp (pain.001 files over the bank's SFTP face, builtin:iso20022-sftp).",
    ['api', 'sftp'] as const,
    'api',
  ),
  EXAMPLE_BANK_SFTP_PORT: int(
    "Port of the example bank's SFTP face when it runs (`start` with EXAMPLE_BANK_CHANNEL=sftp, `bank --sftp-port`); 0 picks a free one.",
    0,
    { min: 0, max: 65535 },
  ),
  EXAMPLE_BANK_SFTP_DIR: optionalStr(
    'Folder of the SFTP face: one folder pair per customer and the host key. Default DATA_DIR/bank-sftp.',
  ),
  EXAMPLE_BANK_SFTP_HOST_KEY_FILE: optionalStr(
    'Private host key of the SFTP face (generated when missing). Default EXAMPLE_BANK_SFTP_DIR/ssh_host_ed25519_key.',
  ),
  EXAMPLE_BANK_SFTP_CUSTOMERS: optionalStr(
    'SFTP customers of the example bank: `user=/path/to/key.pub` (OpenSSH public keys, one or more lines), comma separated. `start` adds the bridge itself.',
  ),
  // The wallet-provider simulator (issue 15; src/simulators/wallet, docs/wallet-simulator.md)
  WALLET_SIMULATOR_PORT: int(
    'HTTP port of the stand-alone wallet-provider simulator (`g2p-bridge wallet`).',
    8003,
    {
      min: 0,
      max: 65535,
    },
  ),
  WALLET_SIMULATOR_API_KEYS: optionalStr(
    'API keys the wallet-provider simulator accepts in `X-API-Key`, comma separated.',
  ),
  WALLET_SIMULATOR_CLIENTS: optionalStr(
    'OAuth 2 clients of the wallet-provider simulator (client credentials grant at /oauth/token): `client_id:secret`, comma separated.',
  ),
  WALLET_SIMULATOR_TOKEN_TTL_SECONDS: int('Lifetime of the access tokens the simulator issues.', 3600, {
    min: 1,
    max: 86400,
  }),
  WALLET_SIMULATOR_ACCOUNTS: optionalStr(
    'Disbursement accounts the simulator opens at start when missing: `account_id:currency:opening_balance`, comma separated.',
  ),
  WALLET_SIMULATOR_PROCESS_INTERVAL_MS: int(
    'How often the simulator processes accepted batches and sends due callbacks; 0 leaves it to the admin routes.',
    200,
    { min: 0, max: 3600000 },
  ),
  WALLET_SIMULATOR_CALLBACK_ATTEMPTS: int('Attempts at one callback before the simulator gives up.', 8, {
    min: 1,
    max: 100,
  }),
  WALLET_SIMULATOR_CALLBACK_BACKOFF_MS: int(
    'Wait after the first failed callback attempt; it doubles with every further failure.',
    500,
    { min: 0, max: 3600000 },
  ),
  WALLET_SIMULATOR_CALLBACK_API_KEY: optionalStr(
    'Key the simulator sends in `X-API-Key` with its callbacks, so the receiver can tell them from forgeries.',
  ),
} as const;

export type Config = Values<typeof CONFIG_SPEC>;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  return readEnv(CONFIG_SPEC, env);
}

/** CALLER_SCOPES: inline JSON, or a file path (read once, here at start). */
function parseCallerScopesSetting(raw: string): CallerScopes | undefined {
  const value = raw.trim();
  if (!value) return undefined;
  if (value.startsWith('{')) return parseCallerScopes(value);
  let text: string;
  try {
    text = readFileSync(value, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the file ${JSON.stringify(value)}: ${(error as Error).message}`);
  }
  return parseCallerScopes(text);
}
