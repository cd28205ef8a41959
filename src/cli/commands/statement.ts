// `statement upload FILE`: hands an MT940 file to a running bridge through its upload_mt940 route, as a bank
// would. For operators re-sending a statement the bank delivered some other way.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { configOrReport, parseCommandArgs } from '../args.js';
import { mintLocalToken } from '../local-token.js';

const HELP = `Usage: g2p-bridge statement upload FILE [--url URL] [--token TOKEN]

Uploads an MT940 statement file to a running bridge (POST URL/upload_mt940, multipart field statement_file)
and prints the statement id it was stored under. The bridge reconciles it in the background; follow it on the
dashboard (/dashboard/statements).

  --url URL       the bridge, default PUBLIC_URL or http://127.0.0.1:PORT
  --token TOKEN   a bearer token with the bank role; default G2P_TOKEN, else one minted from the local secret
                  (JWT_SECRET, DATA_DIR/jwt-secret of the embedded database, or the PostgreSQL database)
  --timeout S     seconds to wait for the answer, default 120

Exit status: 0 stored, 1 refused by the bridge or not reachable, 2 bad arguments.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    { url: { type: 'string' }, token: { type: 'string' }, timeout: { type: 'string' } },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const [action, file, ...extra] = parsed.positionals;
  if (action !== 'upload' || !file || extra.length) {
    process.stderr.write(`${HELP}\n`);
    return 2;
  }
  const timeout = Number(parsed.values.timeout ?? '120');
  if (!Number.isFinite(timeout) || timeout <= 0) {
    process.stderr.write('--timeout must be a positive number of seconds\n');
    return 2;
  }
  try {
    if (!(await stat(file)).isFile()) throw new Error('not a file');
  } catch {
    process.stderr.write(`Cannot read ${file}\n`);
    return 2;
  }
  const config = configOrReport();
  if (!config) return 2;
  const url = (parsed.values.url ?? config.PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`).replace(
    /\/+$/,
    '',
  );
  const token =
    parsed.values.token ??
    (config.AUTH_MODE === 'none'
      ? ''
      : process.env.G2P_TOKEN ||
        (await mintLocalToken(config, { roles: ['bank'], subject: 'statement-cli', ttlSeconds: 600 })));

  const form = new FormData();
  form.append('statement_file', new Blob([await readFile(file)], { type: 'text/plain' }), basename(file));
  let response: Response;
  try {
    response = await fetch(`${url}/upload_mt940`, {
      method: 'POST',
      body: form,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeout * 1000),
    });
  } catch (error) {
    process.stderr.write(`Could not reach the bridge at ${url}: ${(error as Error).message}\n`);
    return 1;
  }
  const text = await response.text();
  let body: {
    header?: { status?: string; status_reason_code?: string | null; status_reason_message?: string | null };
    statement_id?: string | null;
    message?: { size_bytes?: number; content_sha256?: string } | null;
  } = {};
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported below with the HTTP status
  }
  const status = body.header?.status;
  if (!response.ok || status === 'rjct' || !body.statement_id) {
    const reason = body.header?.status_reason_code
      ? `${body.header.status_reason_code}: ${body.header.status_reason_message ?? ''}`
      : text.slice(0, 300);
    process.stderr.write(`The bridge refused the statement (HTTP ${response.status}) ${reason}\n`);
    return 1;
  }
  process.stdout.write(
    `stored as statement ${body.statement_id} (${body.message?.size_bytes ?? '?'} bytes); ` +
      `follow it at ${url}/dashboard/statements/${encodeURIComponent(body.statement_id)}\n`,
  );
  return 0;
}
