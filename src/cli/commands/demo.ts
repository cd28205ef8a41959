// `demo`: a whole disbursement cycle, end to end, against the all-in-one stack: started here on a free port
// and a throw-away embedded database, or a running one given with --url.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { DemoError } from '../../demo/client.js';
import { type DemoPbms, runG2pConnectDemo, startDemoPbms } from '../../demo/g2p-connect.js';
import { DEMO_STATEMENT_FORMATS, type DemoStatementFormat, runDemo, validateSize } from '../../demo/run.js';
import { ensureBridgeKeys } from '../../g2p/keys.js';
import { createLogger } from '../../logger.js';
import { configOrReport, parseCommandArgs, untilSignal } from '../args.js';
import { mintLocalToken } from '../local-token.js';
import { SIMULATED_WALLET_PROVIDER, type Stack, startStack } from './start.js';

const HELP = `Usage: g2p-bridge demo [--size N] [--url URL [--token TOKEN]] [options]

Runs one full disbursement cycle and prints its reconciliation summary:
  a benefit program, a funded account at the example bank, beneficiaries in the example mapper (about 2 %
  of them unknown to it), an envelope, the disbursements in batches of up to 10,000, a few cancellations;
  then it follows id resolution, the funds check and block, shipping, the bank's posting and the statement
  reconciliation with a progress bar per stage, and ends with every disbursement accounted for:
  received, cancelled, unresolved, shipped, reconciled, reversed by reason, with exact amounts.

Without --url it starts the all-in-one bridge in this process on a free port and a temporary embedded
database (removed afterwards unless --keep or --data-dir), with fast worker and bank timers.

  --size N         disbursements, 100 to 1,000,000 (default 1,000)
  --url URL        a running all-in-one bridge ('g2p-bridge start') instead of a new one
  --token TOKEN    for --url: a token with the roles admin and pbms (default G2P_TOKEN, else one minted
                   from the local secret like 'g2p-bridge token admin,pbms')
  --batch N        disbursements per create_disbursements call, at most 10,000 (default 10,000)
  --currency CCY   the program's currency (default USD)
  --timeout S      give up following after S seconds (default 300 + 2 ms per disbursement)
  --statement-format FORMAT
                   what the example bank writes the funding account's statements in: mt940 or camt053
                   (ISO 20022 camt.053.001.08, uploaded to /upload_statement); default: the bank's setting
                   (EXAMPLE_BANK_STATEMENT_FORMAT, mt940 unless set)
  --batch-booking  with camt053: each bank batch is booked as one entry with a transaction per payment
  --bank-channel api|sftp
                   without --url: how the bridge reaches the example bank (EXAMPLE_BANK_CHANNEL). sftp: pain.001
                   files over the bank's SFTP face, pain.002 status reports and statements back the same way;
                   the bank rejects about 1 % of the payments (AC04) so that the summary shows them refused
  --api envelope|g2p-connect
                   which PBMS interface the cycle goes through: the 1.0.2 envelope API (default), or, without
                   --url, the G2P Connect disbursement API: the demo plays a PBMS that signs its async /disburse
                   requests, receives the on-disburse and on-status callbacks on a loopback receiver and checks
                   the bridge's signature on each against /.well-known/jwks.json (bridge keys made first)
  --channels bank|bank,wallet
                   payout channels of the program (default bank). bank,wallet: the mobile-wallet beneficiaries
                   (about a quarter) hold wallets at the wallet-provider simulator (/wallet-provider, provider
                   ${SIMULATED_WALLET_PROVIDER} under start), which the program pays through a GSMA wallet channel; about 5 % of
                   those wallets are suspended or unknown to the provider, so the summary shows them refused
                   with the provider's code; the summary has a line per channel
  --keep           without --url: keep the bridge running after the summary to browse the dashboard
  --data-dir DIR   without --url: keep the embedded database in DIR

Exit status: 0 when every check of the summary passes, 1 otherwise, 2 for bad arguments.`;

/** Settings that make a small cycle finish in seconds rather than minutes (each only when not set already). */
export const FAST_SETTINGS: Record<string, string> = {
  WORKER_POLL_INTERVAL_SECONDS: '0.2',
  RETRY_BACKOFF_BASE_SECONDS: '1',
  RETRY_BACKOFF_MAX_SECONDS: '5',
  EXAMPLE_BANK_PROCESS_INTERVAL_MS: '500',
  EXAMPLE_BANK_STATEMENT_AFTER_PROCESSING: 'true',
  DISBURSEMENT_SLA_DAYS: '0',
  [`WALLET_${SIMULATED_WALLET_PROVIDER}_POLL_SECONDS`]: '2',
};

function number(value: string | undefined, name: string): number | null | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/[_,]/g, ''));
  if (!Number.isFinite(n)) {
    process.stderr.write(`${name} must be a number\n`);
    return null;
  }
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
      size: { type: 'string' },
      url: { type: 'string' },
      token: { type: 'string' },
      batch: { type: 'string' },
      currency: { type: 'string' },
      timeout: { type: 'string' },
      keep: { type: 'boolean' },
      'data-dir': { type: 'string' },
      run: { type: 'string' },
      'statement-format': { type: 'string' },
      'batch-booking': { type: 'boolean' },
      api: { type: 'string' },
      'bank-channel': { type: 'string' },
      channels: { type: 'string' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const v = parsed.values;
  const rawSize = number(v.size, '--size');
  const size = rawSize === undefined ? 1000 : rawSize;
  const batch = number(v.batch, '--batch');
  const timeout = number(v.timeout, '--timeout');
  if (size === null || batch === null || timeout === null) return 2;
  const sizeProblem = validateSize(size);
  if (sizeProblem) {
    process.stderr.write(`${sizeProblem}\n`);
    return 2;
  }
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1 || batch > 10_000)) {
    process.stderr.write('--batch must be a whole number from 1 to 10,000\n');
    return 2;
  }
  if (timeout !== undefined && !(timeout > 0)) {
    process.stderr.write('--timeout must be a positive number of seconds\n');
    return 2;
  }
  const statementFormat = v['statement-format'];
  if (
    statementFormat !== undefined &&
    !(DEMO_STATEMENT_FORMATS as readonly string[]).includes(statementFormat)
  ) {
    process.stderr.write(`--statement-format must be one of ${DEMO_STATEMENT_FORMATS.join(', ')}\n`);
    return 2;
  }
  if (v['batch-booking'] && statementFormat !== 'camt053') {
    process.stderr.write('--batch-booking applies to --statement-format camt053 only\n');
    return 2;
  }
  const api = v.api ?? 'envelope';
  if (api !== 'envelope' && api !== 'g2p-connect') {
    process.stderr.write('--api must be envelope or g2p-connect\n');
    return 2;
  }
  if (api === 'g2p-connect' && (v.url || statementFormat)) {
    process.stderr.write(
      '--api g2p-connect needs the demo to start its own bridge (no --url), with its default statements\n',
    );
    return 2;
  }
  const bankChannel = v['bank-channel'];
  if (bankChannel !== undefined && bankChannel !== 'api' && bankChannel !== 'sftp') {
    process.stderr.write('--bank-channel must be api or sftp\n');
    return 2;
  }
  if (v.url && bankChannel) {
    process.stderr.write('--bank-channel applies only when the demo starts its own bridge (no --url)\n');
    return 2;
  }
  const channels = (v.channels ?? 'bank')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .sort()
    .join(',');
  if (channels !== 'bank' && channels !== 'bank,wallet') {
    process.stderr.write('--channels must be bank or bank,wallet\n');
    return 2;
  }
  if (channels === 'bank,wallet' && api !== 'envelope') {
    process.stderr.write('--channels bank,wallet runs through the envelope API (--api envelope)\n');
    return 2;
  }
  if (v.url && (v.keep || v['data-dir'])) {
    process.stderr.write('--keep and --data-dir apply only when the demo starts its own bridge (no --url)\n');
    return 2;
  }

  let stack: Stack | undefined;
  let pbms: DemoPbms | undefined;
  let tempDir: string | undefined;
  let url = v.url?.replace(/\/+$/, '');
  let token = v.token ?? process.env.G2P_TOKEN ?? '';
  try {
    if (!url) {
      if (!v['data-dir']) tempDir = await mkdtemp(join(tmpdir(), 'g2p-demo-'));
      const dataDir = v['data-dir'] ?? tempDir!;
      // The PBMS the G2P Connect demo plays: its callback receiver on loopback, listed as a must-sign sender.
      if (api === 'g2p-connect') pbms = await startDemoPbms();
      const env: Record<string, string | undefined> = {
        ...FAST_SETTINGS,
        ...process.env,
        DATA_DIR: dataDir,
        DATABASE_URL: '',
        PORT: '0',
        HOST: '127.0.0.1',
        PUBLIC_URL: '',
        LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
        ...(pbms ? { G2P_CONNECT_SENDERS: pbms.sendersConfig } : {}),
        ...(bankChannel ? { EXAMPLE_BANK_CHANNEL: bankChannel } : {}),
      };
      const config = configOrReport(env);
      if (!config) return 2;
      // What `g2p-bridge keys` does: the bridge signs its answers and callbacks with these.
      if (pbms) await ensureBridgeKeys(config);
      // Logs go to stderr so that the progress bars and the summary own stdout.
      const log = createLogger(config.LOG_LEVEL, 'g2p-bridge', pino.destination(2));
      process.stdout.write(
        `Starting the all-in-one bridge on a temporary embedded database (${dataDir}) ...\n`,
      );
      stack = await startStack({ config, env, log, mode: 'all' });
      // Over SFTP the bank rejects a few payments in its pain.002 (AC04), which end `refused` in the summary.
      stack.bankSftp?.faults.rejectNextTransactions(Math.max(1, Math.floor(size / 100)), 'AC04');
      url = stack.url;
      token = await mintLocalToken(config, { roles: ['admin', 'pbms'], subject: 'demo' }, stack.db);
    } else if (!token) {
      const config = configOrReport();
      if (!config) return 2;
      if (config.AUTH_MODE !== 'none') {
        token = await mintLocalToken(config, { roles: ['admin', 'pbms'], subject: 'demo' });
      }
    }

    const result = pbms
      ? await runG2pConnectDemo({
          url,
          token,
          pbms,
          size,
          batchSize: batch,
          currency: v.currency,
          run: v.run,
          timeoutMs: timeout !== undefined ? timeout * 1000 : undefined,
          out: process.stdout,
        })
      : await runDemo({
          url,
          token,
          size,
          batchSize: batch,
          currency: v.currency,
          run: v.run,
          timeoutMs: timeout !== undefined ? timeout * 1000 : undefined,
          out: process.stdout,
          dashboardHint: !stack || Boolean(v.keep),
          statementFormat: statementFormat as DemoStatementFormat | undefined,
          batchBooking: v['batch-booking'] ? true : undefined,
          walletProvider: channels === 'bank,wallet' ? SIMULATED_WALLET_PROVIDER : undefined,
        });

    if (stack && v.keep) {
      process.stdout.write(
        `\nThe bridge keeps running at ${url}; sign in to ${url}/dashboard/login with this token:\n${token}\nCtrl-C stops it.\n`,
      );
      await untilSignal();
    }
    return result.ok ? 0 : 1;
  } catch (error) {
    if (error instanceof DemoError) {
      process.stderr.write(`demo: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await stack?.stop();
    await pbms?.close();
    if (tempDir) await rm(tempDir, { recursive: true, force: true });
  }
}
