// Shared by `g2p-bridge bank`, `mapper` and `wallet`, which each run one simulator alone on its own port and
// database: runStandaloneSimulator is the whole run, the rest its parts.
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { closeAfterEarlyAnswers, closeWithGrace, serverOptions } from '../api/server.js';
import { createVerifier } from '../auth/index.js';
import type { Config } from '../config/index.js';
import { type Db, dbSettings, openDb } from '../db/index.js';
import { createLogger } from '../logger.js';
import { isLoopbackHost, type SimulatorAccess, simulatorAccess } from '../simulators/access.js';
import { configOrReport, untilSignal } from './args.js';

/** The interface a simulator run alone listens on: --host, else HOST, else this machine only. */
export function simulatorHost(option: string | undefined, config: Config): string {
  return option ?? config.HOST ?? '127.0.0.1';
}

/**
 * Who may call a simulator run alone on `host` (src/simulators/access.ts): anyone on loopback (but a request
 * a proxy forwarded, and any with TRUST_PROXY set), else a token with the admin role, verified like the bridge verifies it (JWT_SECRET or DATA_DIR/jwt-secret, public keys).
 * null after writing the problem to stderr.
 */
export async function standaloneAccess(
  config: Config,
  host: string,
  db: Db,
): Promise<SimulatorAccess | null> {
  if (config.AUTH_MODE === 'none') return simulatorAccess({ host, verifier: null });
  try {
    // On loopback too: a request a proxy forwarded (or any, with TRUST_PROXY) needs the admin role.
    const verifier = await createVerifier(db, config);
    return simulatorAccess({ host, verifier, trustProxy: config.TRUST_PROXY as boolean | number | string });
  } catch (error) {
    const where = isLoopbackHost(host) ? 'behind a proxy' : 'beyond loopback';
    process.stderr.write(
      `Listening on ${host} (${where}) needs tokens with the admin role, but none can be verified: ` +
        `${(error as Error).message}. Set JWT_SECRET, JWT_PUBLIC_KEY or JWKS_URL as the bridge has them.\n`,
    );
    return null;
  }
}

/** One line for the banner: who may call. */
export function accessLine(access: SimulatorAccess): string {
  if (!access.open)
    return '  callers:        a bearer token with the admin role (beyond loopback, or TRUST_PROXY set)';
  return access.why === 'loopback'
    ? '  callers:        anyone on this machine, no token (loopback); proxied requests need the admin role'
    : '  callers:        ANYONE, no token (AUTH_MODE=none)';
}

/** The HTTP server of a simulator run alone: the bridge's limits and deadlines. */
export function simulatorServer(config: Config, log: Logger): FastifyInstance {
  const app = Fastify(serverOptions(config, log));
  closeAfterEarlyAnswers(app);
  return app;
}

/** --port and --prefix checked; null after writing the problem to stderr. */
export function listenArgs(values: {
  port?: string;
  prefix?: string;
}): { port: number | undefined; prefix: string } | null {
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write('--port must be a whole number between 0 and 65535\n');
    return null;
  }
  const prefix = (values.prefix ?? '').replace(/\/+$/, '');
  if (prefix && !prefix.startsWith('/')) {
    process.stderr.write('--prefix must start with /\n');
    return null;
  }
  return { port, prefix };
}

/** The simulator's database: DATABASE_URL (its tables sit in their own schema) or the embedded one in DATA_DIR/<dir>. */
export function openSimulatorDb(config: Config, dir: string): Promise<Db> {
  return openDb(dbSettings(config, dir));
}

/** How the banner names the database opened by openSimulatorDb. */
export function simulatorDbLabel(db: Db, config: Config, dir: string): string {
  return db.kind === 'pglite' ? `embedded, ${config.DATA_DIR}/${dir}` : 'PostgreSQL';
}

/** Listens (port 0 picks a free one) and gives the base URL the simulator answers on, prefix included. */
export async function listenLocally(
  app: FastifyInstance,
  port: number,
  host: string,
  prefix: string,
): Promise<string> {
  await app.listen({ port, host });
  const address = app.server.address();
  const actual = address && typeof address === 'object' ? address.port : port;
  return `http://127.0.0.1:${actual}${prefix}`;
}

/** Prints the banner lines, waits for SIGINT or SIGTERM, then stops the simulator and closes the server. */
export async function serveUntilSignal(
  app: FastifyInstance,
  log: Logger,
  banner: string[],
  stopSimulator: () => Promise<void>,
): Promise<void> {
  process.stdout.write(['', ...banner, ''].join('\n'));
  const signal = await untilSignal();
  log.info({ signal }, 'shutting down');
  await stopSimulator();
  await closeWithGrace(app);
}

/** A simulator as its command runs it alone: mounted under --prefix, started once listening, stopped at the end. */
export interface StandaloneSimulator {
  register(app: FastifyInstance, prefix: string, access: SimulatorAccess): Promise<void>;
  start?(): void;
  stop(): Promise<void>;
}

export interface StandaloneRun<S extends StandaloneSimulator> {
  /** The logger's name, e.g. 'wallet-simulator'. */
  name: string;
  /** The simulator's folder under DATA_DIR, and its database's label: 'bank', 'mapper', 'wallet'. */
  dir: string;
  /** What the banner says is listening, e.g. 'example bank'. */
  title: string;
  /** --host as given, and --port and --prefix as listenArgs checked them. */
  host: string | undefined;
  listen: { port: number | undefined; prefix: string };
  defaultPort: (config: Config) => number;
  /**
   * Work before the host and its callers are checked (the mapper loads a CSV): a number ends the command
   * with that exit code.
   */
  prepare?(run: { config: Config; db: Db; log: Logger }): Promise<number | null>;
  /** Builds the simulator once its callers are known; a number ends the command (after writing why). */
  build(run: { config: Config; db: Db; log: Logger; host: string }): Promise<S | number>;
  /** The banner's lines after the first, given the base URL the simulator answers on. */
  banner(sim: S, url: string, access: SimulatorAccess, config: Config): string[];
}

/**
 * Runs one simulator alone until SIGINT or SIGTERM: the configuration parsed, its database opened (and closed
 * whatever happens), its callers checked, the simulator built, mounted, listening and announced. Returns the
 * command's exit code: 0 after serving, 2 for a setting refused.
 */
export async function runStandaloneSimulator<S extends StandaloneSimulator>(
  run: StandaloneRun<S>,
): Promise<number> {
  const config = configOrReport();
  if (!config) return 2;
  const log = createLogger(config.LOG_LEVEL, run.name);
  const db = await openSimulatorDb(config, run.dir);
  try {
    const prepared = await run.prepare?.({ config, db, log });
    if (typeof prepared === 'number') return prepared;
    const host = simulatorHost(run.host, config);
    const access = await standaloneAccess(config, host, db);
    if (!access) return 2;
    const sim = await run.build({ config, db, log, host });
    if (typeof sim === 'number') return sim;
    const app = simulatorServer(config, log);
    await sim.register(app, run.listen.prefix, access);
    const url = await listenLocally(app, run.listen.port ?? run.defaultPort(config), host, run.listen.prefix);
    sim.start?.();
    await serveUntilSignal(
      app,
      log,
      [
        `${run.title} is listening (database: ${simulatorDbLabel(db, config, run.dir)})`,
        ...run.banner(sim, url, access, config),
      ],
      () => sim.stop(),
    );
    return 0;
  } finally {
    await db.close();
  }
}
