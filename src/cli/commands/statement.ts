// `statement upload FILE`: hands an MT940 file to a running bridge through its upload_mt940 route, as a bank
// would. For operators re-sending a statement the bank delivered some other way.
// `statement parse FILE`: reads an MT940, camt.053 or camt.054 file (the format is detected) and prints JSON.
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { type CamtProblem, parseCamt, parseCamtStream } from '../../camt/index.js';
import { type Mt940Problem, parseMt940, parseMt940Stream } from '../../mt940/index.js';
import { detectStatementFormat, SNIFF_BYTES } from '../../statements/detect.js';
import { configOrReport, parseCommandArgs } from '../args.js';
import { mintLocalToken } from '../local-token.js';
import { decodeStatementBytes } from './mt940.js';

const PARSE_HELP = `Usage: g2p-bridge statement parse FILE [--compact | --ndjson]

Reads a statement file, MT940 or ISO 20022 camt.053 / camt.054 (.001.02, .04, .08; detected from the
file), and prints it as JSON: {"format": ..., "statements": [...], "problems": [...]}. Amounts are exact
decimal strings. Use '-' for standard input.

  --compact   one-line JSON instead of indented
  --ndjson    stream: one JSON object per line as it is read, for very large files (MT940: one statement
              per line; camt: {"type":"header"|"entry"|"statement", ...}, statements without their entries)

Exit status: 0 read without errors, 1 errors (unreadable file, unknown format or version, a failed balance
or TxsSummry check, damaged values), 2 bad arguments.`;

const HELP = `Usage: g2p-bridge statement upload FILE [--url URL] [--token TOKEN]
       g2p-bridge statement parse FILE [--compact | --ndjson]   (see statement parse --help)

Uploads an MT940 statement file to a running bridge (POST URL/upload_mt940, multipart field statement_file)
and prints the statement id it was stored under. The bridge reconciles it in the background; follow it on the
dashboard (/dashboard/statements).

  --url URL       the bridge, default PUBLIC_URL or http://127.0.0.1:PORT
  --token TOKEN   a bearer token with the bank role; default G2P_TOKEN, else one minted from the local secret
                  (JWT_SECRET, DATA_DIR/jwt-secret of the embedded database, or the PostgreSQL database)
  --timeout S     seconds to wait for the answer, default 120

Exit status: 0 stored, 1 refused by the bridge or not reachable, 2 bad arguments.`;

export async function run(argv: string[]): Promise<number> {
  if (argv[0] === 'parse') return parse(argv.slice(1));
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

type AnyProblem = { severity: string };
const hasErrors = (problems: AnyProblem[]) => problems.some((p) => p.severity !== 'warning');

async function readHead(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const buf = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buf, 0, SNIFF_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function readAll(file: string): Promise<Uint8Array> {
  if (file !== '-') return readFile(file);
  const parts: Buffer[] = [];
  for await (const chunk of process.stdin) parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(parts);
}

function printProblem(p: Mt940Problem | CamtProblem): void {
  process.stderr.write(`statement: line ${p.line}, column ${p.column}: ${p.severity}: ${p.message}\n`);
}

async function parse(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    { compact: { type: 'boolean' }, ndjson: { type: 'boolean' } },
    PARSE_HELP,
    true,
  );
  if (!parsed) return 0;
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length || (parsed.values.compact && parsed.values.ndjson)) {
    process.stderr.write(`${PARSE_HELP}\n`);
    return 2;
  }
  const indent = parsed.values.compact ? undefined : 2;
  try {
    // standard input cannot be sniffed and then re-read as a stream: it is read whole
    const streaming = parsed.values.ndjson && file !== '-';
    const whole = streaming ? undefined : await readAll(file);
    const detected = detectStatementFormat(whole ?? (await readHead(file)));
    if (detected.format === 'unknown') {
      process.stderr.write(`statement: ${file} is not a statement the bridge reads: ${detected.reason}\n`);
      return 1;
    }
    const format = detected.format === 'mt940' ? 'mt940' : `camt.${detected.kind}.${detected.version}`;
    if (parsed.values.ndjson) {
      const line = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
      let failed = false;
      if (detected.format === 'mt940') {
        const source = whole ? [decodeStatementBytes(whole)] : createReadStream(file, { encoding: 'utf8' });
        const fileProblems: Mt940Problem[] = [];
        for await (const s of parseMt940Stream(source as AsyncIterable<string>, (p) =>
          fileProblems.push(p),
        )) {
          if (hasErrors(s.problems)) failed = true;
          line({ format, ...s });
        }
        fileProblems.forEach(printProblem);
        return failed || hasErrors(fileProblems) ? 1 : 0;
      }
      const source = whole ? [whole] : createReadStream(file);
      const fileProblems: CamtProblem[] = [];
      for await (const event of parseCamtStream(source as AsyncIterable<Uint8Array>, {
        onProblem: (p) => fileProblems.push(p),
      })) {
        if (event.type === 'statement' && hasErrors(event.statement.problems)) failed = true;
        line(event.type === 'header' ? { ...event, format } : event);
      }
      fileProblems.forEach(printProblem);
      return failed || hasErrors(fileProblems) ? 1 : 0;
    }
    if (detected.format === 'mt940') {
      const result = parseMt940(decodeStatementBytes(whole!));
      process.stdout.write(`${JSON.stringify({ format, ...result }, null, indent)}\n`);
      return hasErrors(result.problems) || result.statements.some((s) => hasErrors(s.problems)) ? 1 : 0;
    }
    const doc = parseCamt(whole!);
    process.stdout.write(`${JSON.stringify({ format, ...doc }, null, indent)}\n`);
    if (doc.fatal) printProblem(doc.fatal);
    return hasErrors(doc.problems) || doc.statements.some((s) => hasErrors(s.problems)) ? 1 : 0;
  } catch (e) {
    if (e instanceof Error && 'problem' in e) printProblem((e as Error & { problem: CamtProblem }).problem);
    else process.stderr.write(`statement: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
