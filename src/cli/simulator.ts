// Shared by `g2p-bridge bank` and `g2p-bridge mapper`, which each run one simulator alone on its own port and
// database.
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { type Db, dbSettings, openDb } from '../db/index.js';
import { untilSignal } from './args.js';

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
  await app.close();
}
