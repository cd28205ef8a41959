// `start`: the whole system in one process on one port: the PBMS API, the dashboard and /metrics, the
// background workers, the example bank under /example-bank and the example mapper under /mapper, on the
// embedded database unless DATABASE_URL is set. `serve` uses the same code with only the API, and never
// mounts a simulator.
import { randomBytes, randomUUID } from 'node:crypto';
import { type AddressInfo, createServer } from 'node:net';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { closeWithGrace } from '../../api/server.js';
import { createApp, createContext, openDatabase } from '../../app.js';
import { cliCommand } from '../../auth/hint.js';
import { localSecret, mintToken } from '../../auth/index.js';
import {
  BankConnectorConfigError,
  type ConnectorRegistry,
  createConnectorRegistry,
} from '../../bank/index.js';
import { createWalletRegistry, type WalletRegistry } from '../../bank/registry.js';
import type { Config } from '../../config/index.js';
import type { Db } from '../../db/index.js';
import type { AppContext } from '../../feature/context.js';
import { createLogger } from '../../logger.js';
import { mapperClientFromConfig } from '../../mapper/index.js';
import { startWorkers, type Workers } from '../../pipeline/index.js';
import { type SimulatorAccess, simulatorAccess } from '../../simulators/access.js';
import {
  contentTypeOf,
  createExampleBank,
  type ExampleBank,
  type StatementFormat,
  uploadRouteOf,
} from '../../simulators/example-bank/index.js';
import { type ExampleBankSftp, startExampleBankSftp } from '../../simulators/example-bank/sftp/channel.js';
import {
  BRIDGE_CUSTOMER,
  bridgeClientKey,
  exampleBankSftpSettings,
  sftpConnectorEnv,
} from '../../simulators/example-bank/sftp/setup.js';
import { createMapperSimulator, type MapperSimulator } from '../../simulators/mapper/index.js';
import { createWalletSimulator, type WalletSimulator } from '../../simulators/wallet/index.js';
import { configOrReport, parseCommandArgs, untilSignal } from '../args.js';
import { boundHeapGrowth } from '../heap.js';

const HELP = `Usage: g2p-bridge start [--port N]

Runs the whole system in one process, on one port (PORT, default 8000):
  the PBMS API              /create_disbursement_envelope ...   (OpenAPI docs at /docs)
  the dashboard             /dashboard   (sign in with a token of role admin or pbms)
  metrics and health        /metrics, /health, /ready
  the background workers    mapper resolution, funds check and block, shipping, statement reconciliation
  the example bank          /example-bank   (its statements are uploaded to the bridge as role bank)
  the example mapper        /mapper
  the wallet provider       /wallet-provider   (GSMA Mobile Money API simulator)
  the bank's SFTP face      with EXAMPLE_BANK_CHANNEL=sftp: the bridge ships to the example bank as pain.001 files
                            over SFTP (builtin:iso20022-sftp, key pair in DATA_DIR/bridge-sftp, host key pinned)
on the embedded database in DATA_DIR (default ./data) unless DATABASE_URL is set.
It listens on 127.0.0.1 unless HOST says otherwise; beyond loopback the example bank and the mapper need a
token with the admin role (they move money and decide where it goes).
Stop it with Ctrl-C (SIGINT) or SIGTERM: workers finish what they hold, then the server and database close.

  --port N   listen on this port instead of PORT (0: any free port)

Tokens: ${cliCommand('token admin')}   (run with the same DATA_DIR or DATABASE_URL)
The banner goes to standard output, the JSON logs to standard error.
Settings: docs/configuration.md. Operations: docs/operations.md.`;

export interface StackOptions {
  config: Config;
  /** The raw environment the simulators and the bank connector modules read their own settings from. */
  env?: Record<string, string | undefined>;
  log: Logger;
  /** 'all': API, workers and simulators (start); 'api': the API alone (serve). */
  mode: 'all' | 'api';
  now?: () => Date;
  /** false: neither the workers nor the bank run on timers; drive them with runOnce() / processNow() (tests). */
  poll?: boolean;
  /** An open, migrated database to use instead of opening one from the settings (tests); stop() closes it. */
  db?: Db;
}

export interface Stack {
  app: FastifyInstance;
  ctx: AppContext;
  db: Db;
  /** Where this process can reach itself, e.g. http://127.0.0.1:8000. */
  url: string;
  workers?: Workers;
  bank?: ExampleBank;
  /** The example bank's SFTP face, when EXAMPLE_BANK_CHANNEL=sftp. */
  bankSftp?: ExampleBankSftp;
  mapper?: MapperSimulator;
  /** The wallet-provider simulator (GSMA Mobile Money API) under /wallet-provider. */
  wallet?: WalletSimulator;
  /** The simulator as this bridge's wallet provider, when WALLET_PROVIDERS is not set (mode all). */
  simulatedProvider?: SimulatedProvider;
  /** Who may call the simulators (when mounted). */
  simulatorAccess?: SimulatorAccess;
  /** Graceful shutdown: not ready, bank and workers stop, server closes, database closes. */
  stop(): Promise<void>;
}

/** The wallet-provider simulator as a payout channel of this very process (mode all, WALLET_PROVIDERS unset). */
export interface SimulatedProvider {
  providerCode: string;
  /** The disbursement account opened at the simulator, as a channel's debit party (`accountid@...`). */
  debitPartyAccount: string;
  currency: string;
}

/** Provider code of the simulator when `start` configures it; the demo's wallet beneficiaries use it. */
export const SIMULATED_WALLET_PROVIDER = 'MOMO';
const SIMULATED_WALLET_ACCOUNT = { accountId: 'BRIDGE-FUNDS', currency: 'USD', openingBalance: '1000000' };

/**
 * WALLET_PROVIDERS and the provider's settings that make the simulator under /wallet-provider provider
 * SIMULATED_WALLET_PROVIDER: reached on this process's own URL with the process key, its callbacks sent back
 * here. A poll interval set for the code is kept.
 */
export function simulatedWalletEnv(
  env: Record<string, string | undefined>,
  url: string,
  processKey: string,
): Record<string, string | undefined> {
  const p = `WALLET_${SIMULATED_WALLET_PROVIDER}_`;
  return {
    ...env,
    WALLET_PROVIDERS: `${SIMULATED_WALLET_PROVIDER}=builtin:gsma-mmapi`,
    [`${p}URL`]: `${url}/wallet-provider`,
    [`${p}API_KEY`]: processKey,
    [`${p}CALLBACK_URL`]: url,
    [`${p}CLIENT_ID`]: undefined,
    [`${p}CLIENT_SECRET`]: undefined,
  };
}

function loopbackUrl(address: AddressInfo | string | null): string {
  if (!address || typeof address === 'string') throw new Error('the server is not listening on a TCP port');
  const host =
    address.address === '0.0.0.0' || address.address === '::'
      ? '127.0.0.1'
      : address.family === 'IPv6'
        ? `[${address.address}]`
        : address.address;
  return `http://${host}:${address.port}`;
}

/**
 * The multipart body of one statement: `head`, the text encoded `size` characters at a time, `tail`. The text
 * (up to EXAMPLE_BANK_STATEMENT_MAX_ENTRIES entries, megabytes) is never copied whole into one buffer. A piece
 * never ends between the two halves of a surrogate pair, since each piece is encoded on its own.
 */
export function* statementBody(
  head: string,
  text: string,
  tail: string,
  size = 64 * 1024,
): Generator<Buffer> {
  yield Buffer.from(head, 'utf8');
  for (let at = 0; at < text.length; ) {
    let end = Math.min(at + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end += end - 1 > at ? -1 : 1;
    yield Buffer.from(text.slice(at, end), 'utf8');
    at = end;
  }
  yield Buffer.from(tail, 'utf8');
}

/** A multipart upload of one statement through the bridge's own route (by its format), as the bank role. */
function uploadThrough(app: FastifyInstance, token: () => Promise<string>) {
  return async (text: string, fileName: string, format?: StatementFormat) => {
    const route = uploadRouteOf(format);
    const boundary = `----g2p-${randomUUID()}`;
    const safeName = fileName.replace(/["\r\n]/g, '_');
    const head =
      `--${boundary}\r\nContent-Disposition: form-data; name="statement_file"; filename="${safeName}"\r\n` +
      `Content-Type: ${contentTypeOf(format)}\r\n\r\n`;
    const tail = `\r\n--${boundary}--\r\n`;
    const length = Buffer.byteLength(head) + Buffer.byteLength(text, 'utf8') + Buffer.byteLength(tail);
    const res = await app.inject({
      method: 'POST',
      url: route,
      headers: {
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'content-length': String(length),
        authorization: `Bearer ${await token()}`,
      },
      // Read in pieces, as a statement arrives over the network.
      payload: Readable.from(statementBody(head, text, tail)),
    });
    const status = (res.json() as { header?: { status?: string } }).header?.status;
    if (res.statusCode !== 200 || status === 'rjct') {
      throw new Error(`${route.slice(1)} answered HTTP ${res.statusCode}: ${res.body.slice(0, 200)}`);
    }
  };
}

/** start is for one machine unless told otherwise; serve is what a deployment puts behind its network. */
export function listenHost(config: Pick<Config, 'HOST'>, mode: 'all' | 'api'): string {
  return config.HOST ?? (mode === 'all' ? '127.0.0.1' : '0.0.0.0');
}

function portProblem(error: NodeJS.ErrnoException, host: string, port: number): string | null {
  if (error.code === 'EADDRINUSE')
    return `PORT ${port} is already in use on ${host} (another g2p-bridge start?): stop that process, or choose another port with PORT=${port + 1} or --port ${port + 1}.`;
  if (error.code === 'EACCES')
    return `PORT ${port} on ${host} needs privileges this process does not have: choose a port above 1023 with PORT or --port.`;
  if (error.code === 'EADDRNOTAVAIL')
    return `HOST ${host} is not an address of this machine: correct HOST (PORT ${port}).`;
  return null;
}

/**
 * Whether `port` can be listened on, checked in a moment before the database is opened and migrated (which takes
 * seconds): the problem in words naming PORT, or null. Port 0 (any free port) is always free.
 */
export async function portCheck(host: string, port: number): Promise<string | null> {
  if (port === 0) return null;
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => resolve(portProblem(error, host, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(null)));
  });
}

/** Opens the database and builds, listens and starts everything `mode` asks for. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const { config, log } = options;
  const rawEnv = options.env ?? process.env;
  const db = options.db ?? (await openDatabase(config));
  const cleanup: Array<() => Promise<void>> = [async () => db.close()];
  try {
    const ctx = await createContext(config, db, log, options.now);
    if (config.AUTH_MODE === 'none') log.warn('AUTH_MODE=none: every API call is accepted without a token');
    const app = await createApp(ctx);
    cleanup.unshift(async () => {
      await app.close();
    });

    const host = listenHost(config, options.mode);
    let mapper: MapperSimulator | undefined;
    let wallet: WalletSimulator | undefined;
    let bank: ExampleBank | undefined;
    let bankSftp: ExampleBankSftp | undefined;
    let bridgeKeyFile: string | undefined;
    let access: SimulatorAccess | undefined;
    // How this process's own connector and mapper client get past the simulators' check: never printed,
    // never valid anywhere but on the simulators of this process, gone when it exits.
    const processKey = randomBytes(32).toString('base64url');
    if (options.mode === 'all') {
      access = simulatorAccess({
        host,
        verifier: ctx.verifier,
        processKey,
        trustProxy: config.TRUST_PROXY as boolean | number | string,
      });
      if (access.open && access.why === 'auth-off')
        log.warn(
          { host },
          'AUTH_MODE=none: the example bank and the mapper are open to anyone who reaches this port',
        );
      mapper = await createMapperSimulator({ db, log, config });
      await mapper.register(app, '/mapper', access);
      const secret = await localSecret(config, db);
      const bankToken = () =>
        mintToken(secret, {
          roles: ['bank'],
          subject: 'example-bank',
          ttlSeconds: 300,
          issuer: config.JWT_ISSUER,
          audience: config.JWT_AUDIENCE,
        });
      const upload = uploadThrough(app, bankToken);
      if (config.EXAMPLE_BANK_CHANNEL === 'sftp') {
        // The bank's SFTP face, with this bridge as customer `bridge` on a key pair kept in DATA_DIR.
        const client = bridgeClientKey(config.DATA_DIR);
        bridgeKeyFile = client.privateKeyFile;
        const face = await startExampleBankSftp({
          db,
          log,
          now: options.now,
          settings: exampleBankSftpSettings(config, {
            customers: [{ username: BRIDGE_CUSTOMER, authorizedKeys: [client.publicKey] }],
          }),
        });
        bankSftp = face;
        cleanup.unshift(() => face.close());
      }
      bank = await createExampleBank({
        db,
        log,
        config,
        // Over SFTP, the statements of accounts paid by file go to the customer's from-bank/ folder.
        uploadStatement: bankSftp ? bankSftp.statementUploader(upload) : upload,
        now: options.now,
      });
      await bank.register(app, '/example-bank', access);
      // The wallet provider; this process's key is one of its API keys, for the bridge's own connector.
      wallet = await createWalletSimulator({ db, log, config, now: options.now, processKey });
      await wallet.register(app, '/wallet-provider', access);
    }

    let stopping = false;
    app.readinessChecks.set('process', () =>
      stopping ? { ok: false, detail: 'shutting down' } : { ok: true },
    );
    await app.listen({ port: config.PORT, host });
    const url = loopbackUrl(app.server.address());

    let workers: Workers | undefined;
    let connectors: ConnectorRegistry | undefined;
    let wallets: WalletRegistry | undefined;
    let simulatedProvider: SimulatedProvider | undefined;
    if (options.mode === 'all') {
      // The connectors and the mapper client reach the simulators on this very port unless told otherwise.
      // The key goes only where the URL is this process's own simulator.
      const mapperClient = mapperClientFromConfig(
        {
          ...config,
          MAPPER_URL: config.MAPPER_URL ?? `${url}/mapper`,
          MAPPER_TOKEN: config.MAPPER_URL ? config.MAPPER_TOKEN : processKey,
        },
        log.child({ component: 'pipeline' }),
        ctx.now,
      );
      // Connector modules read their own settings from an environment (ConnectorOptions.env, a public contract).
      const apiEnv = {
        ...rawEnv,
        EXAMPLE_BANK_URL: rawEnv.EXAMPLE_BANK_URL || `${url}/example-bank`,
        EXAMPLE_BANK_TOKEN: rawEnv.EXAMPLE_BANK_URL ? rawEnv.EXAMPLE_BANK_TOKEN : processKey,
      };
      // EXAMPLE_BANK_CHANNEL=sftp: the example bank's code goes over builtin:iso20022-sftp to its face.
      const workerEnv =
        bankSftp && bridgeKeyFile
          ? sftpConnectorEnv(apiEnv, config.EXAMPLE_BANK_CODE, {
              host: bankSftp.server.host,
              port: bankSftp.server.port,
              hostPublicKey: bankSftp.server.hostPublicKey,
              privateKeyFile: bridgeKeyFile,
            })
          : apiEnv;
      // Built here, not lazily by the workers: a bad BANK_CONNECTORS entry stops start, as it stops worker.
      const registry = await createConnectorRegistry({
        env: workerEnv,
        log: log.child({ component: 'pipeline' }),
        now: ctx.now,
      });
      connectors = registry;
      cleanup.unshift(() => registry.close());
      // Wallet providers likewise (a bad WALLET_<CODE>_* stops start); none configured: the simulator is one.
      const simulated = !rawEnv.WALLET_PROVIDERS;
      const walletEnv = simulated ? simulatedWalletEnv(workerEnv, url, processKey) : workerEnv;
      const walletRegistry = await createWalletRegistry({
        env: walletEnv,
        log: log.child({ component: 'pipeline' }),
      });
      wallets = walletRegistry;
      cleanup.unshift(() => walletRegistry.close());
      if (simulated) simulatedProvider = await openSimulatedAccount(wallet!);
      workers = startWorkers(ctx, {
        rawEnv: walletEnv,
        poll: options.poll,
        connectors,
        wallets,
        mapper: mapperClient,
      });
      app.readinessChecks.set('workers', () =>
        stopping
          ? { ok: false, detail: 'stopping' }
          : { ok: true, detail: `running as ${workers!.workerId}` },
      );
      if (options.poll !== false) bank!.start();
      if (options.poll !== false) wallet!.start();
    }

    const stack: Stack = {
      app,
      ctx,
      db,
      url,
      workers,
      bank,
      bankSftp,
      mapper,
      wallet,
      simulatedProvider,
      simulatorAccess: access,
      async stop() {
        stopping = true;
        await bank?.stop();
        await wallet?.stop();
        await workers?.stop();
        await connectors?.close();
        await wallets?.close();
        // After the connectors: their SFTP sessions end from our side first, so the face has none to wait for.
        await bankSftp?.close();
        await closeWithGrace(app);
        await mapper?.stop();
        await db.close();
      },
    };
    return stack;
  } catch (error) {
    for (const fn of cleanup) await fn().catch(() => {});
    throw error;
  }
}

/** The simulator's disbursement account the simulated provider pays from, opened when missing. */
async function openSimulatedAccount(wallet: WalletSimulator): Promise<SimulatedProvider> {
  const a = SIMULATED_WALLET_ACCOUNT;
  if (!(await wallet.getAccount('accountid', a.accountId))) {
    const opened = await wallet.openAccount(a);
    if (!opened.ok) throw new Error(`wallet simulator: ${a.accountId}: ${opened.message}`);
  }
  return {
    providerCode: SIMULATED_WALLET_PROVIDER,
    debitPartyAccount: `accountid@${a.accountId}`,
    currency: a.currency,
  };
}

/** The start-up banner: where everything is and how to get a token. */
export function banner(stack: Stack, config: Config, mode: 'all' | 'api'): string {
  const base = config.PUBLIC_URL?.replace(/\/+$/, '') ?? stack.url;
  const database =
    stack.db.kind === 'pglite' ? `embedded, in ${config.DATA_DIR}/db` : 'PostgreSQL (DATABASE_URL)';
  const lines = [
    '',
    `g2p-bridge ${mode === 'all' ? '(all in one)' : '(API only)'} is listening on ${base}   database: ${database}`,
    `  dashboard      ${base}/dashboard${config.DASHBOARD_ENABLED ? '' : '   (off: DASHBOARD_ENABLED=false)'}`,
    `  API docs       ${base}/docs${config.DOCS_ENABLED ? '' : '   (off: DOCS_ENABLED=false)'}`,
    `  metrics        ${base}/metrics${config.METRICS_PUBLIC ? '' : '   (admin token)'}   health ${base}/health   ready ${base}/ready`,
  ];
  if (mode === 'all' && stack.simulatorAccess) {
    const access = stack.simulatorAccess;
    const who = !access.open
      ? 'admin token required (beyond loopback, or TRUST_PROXY set)'
      : access.why === 'loopback'
        ? 'no token: reachable from this machine only (proxied requests: admin token)'
        : 'OPEN to anyone: AUTH_MODE=none';
    lines.push(
      `  example bank   ${base}/example-bank   (simulator; ${who})`,
      `  mapper         ${base}/mapper   (simulator; ${who})`,
      `  wallet         ${base}/wallet-provider   (GSMA Mobile Money API simulator; admin routes: ${who})`,
      ...(stack.simulatedProvider
        ? [
            `                 wallet provider ${stack.simulatedProvider.providerCode} (WALLET_PROVIDERS unset), disbursement account ${stack.simulatedProvider.debitPartyAccount} in ${stack.simulatedProvider.currency}`,
          ]
        : []),
      ...(stack.bankSftp
        ? [
            `  bank SFTP      sftp://${stack.bankSftp.server.host}:${stack.bankSftp.server.port}   (example bank's host-to-host face; customer ${BRIDGE_CUSTOMER} is this bridge, EXAMPLE_BANK_CHANNEL=sftp)`,
            `                 host key ${stack.bankSftp.server.hostPublicKey}`,
          ]
        : []),
      '  workers        running',
    );
  } else {
    lines.push('  simulators     none mounted (API only)');
  }
  const tokens =
    config.AUTH_MODE === 'none'
      ? 'AUTH_MODE=none: no token needed'
      : (config.JWKS_URL || config.JWT_PUBLIC_KEY) && !config.JWT_SECRET
        ? 'from your identity provider (JWKS_URL / JWT_PUBLIC_KEY)'
        : `${cliCommand('token admin')}   (roles pbms, bank, admin; same DATA_DIR or DATABASE_URL)`;
  lines.push(
    `  tokens         ${tokens}`,
    `  try it         ${cliCommand(`demo --url ${base} --size 1000`)}`,
    '',
  );
  return lines.join('\n');
}

/** Runs a stack until SIGINT/SIGTERM. Shared by start and serve. */
export async function runUntilSignal(argv: string[], mode: 'all' | 'api', help: string): Promise<number> {
  const parsed = parseCommandArgs(argv, { port: { type: 'string' } }, help);
  if (!parsed) return 0;
  const env = { ...process.env };
  if (parsed.values.port !== undefined) env.PORT = parsed.values.port;
  const config = configOrReport(env);
  if (!config) return 2;
  // A busy port is found in a moment, not after the database has been opened and migrated.
  const host = listenHost(config, mode);
  const busy = await portCheck(host, config.PORT);
  if (busy) {
    process.stderr.write(`${busy}\n`);
    return 2;
  }
  // The banner is for people on standard output; the JSON logs go to standard error, never in between.
  const log = createLogger(config.LOG_LEVEL, 'g2p-bridge', process.stderr);
  // A long-running process: collect before the heap doubles, not quadruples (decision 038).
  const heapFlag = boundHeapGrowth();
  log.debug({ v8Flag: heapFlag ?? 'left to the node flags' }, 'heap growth between full collections');
  let stack: Stack;
  try {
    stack = await startStack({ config, env, log, mode });
  } catch (error) {
    if (error instanceof BankConnectorConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    // Taken between the check and the listen.
    const taken = portProblem(error as NodeJS.ErrnoException, host, config.PORT);
    if (taken) {
      process.stderr.write(`${taken}\n`);
      return 2;
    }
    throw error;
  }
  process.stdout.write(banner(stack, config, mode));
  const signal = await untilSignal();
  log.info({ signal }, 'shutting down');
  // A second signal while draining exits at once.
  const force = () => process.exit(130);
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await stack.stop();
  process.off('SIGINT', force);
  process.off('SIGTERM', force);
  log.info('stopped');
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  return runUntilSignal(argv, 'all', HELP);
}
