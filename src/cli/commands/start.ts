import { createApp, createContext, openDatabase } from '../../app.js';
import { ConfigError, loadConfig } from '../../config/index.js';
import { createLogger } from '../../logger.js';
import { parseCommandArgs, untilSignal } from '../args.js';

const HELP = `Usage: g2p-bridge start

Runs the bridge in one process: the PBMS API on PORT (default 8000) with its OpenAPI docs at /docs, on the
embedded database in DATA_DIR (default ./data) unless DATABASE_URL is set. Settings: docs/configuration.md.`;

export async function run(argv: string[]): Promise<number> {
  if (!parseCommandArgs(argv, {}, HELP)) return 0;
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const log = createLogger(config.LOG_LEVEL);
  const db = await openDatabase(config);
  const ctx = await createContext(config, db, log);
  if (config.AUTH_MODE === 'none') log.warn('AUTH_MODE=none: every API call is accepted without a token');
  const app = await createApp(ctx);
  await app.listen({ port: config.PORT, host: config.HOST });
  const base = config.PUBLIC_URL ?? `http://127.0.0.1:${config.PORT}`;
  process.stdout.write(
    [
      '',
      `g2p-bridge is listening on ${base} (database: ${db.kind === 'pglite' ? `embedded, ${config.DATA_DIR}` : 'PostgreSQL'})`,
      `  API docs:   ${base}/docs`,
      `  get a token: npm run cli -- token pbms    (roles: pbms, bank, admin)`,
      '',
    ].join('\n'),
  );
  const signal = await untilSignal();
  log.info({ signal }, 'shutting down');
  await app.close();
  await db.close();
  return 0;
}
