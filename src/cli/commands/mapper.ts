// `g2p-bridge mapper`: the example ID-account mapper alone, on its own port and database.
import { createReadStream, existsSync } from 'node:fs';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { ConfigError, loadConfig } from '../../config/index.js';
import { type Db, openDb } from '../../db/index.js';
import { createLogger } from '../../logger.js';
import { CsvLoadError, createMapperSimulator } from '../../simulators/mapper/index.js';
import { parseCommandArgs, untilSignal } from '../args.js';

const HELP = `Usage: g2p-bridge mapper [serve] [--port N] [--host H] [--prefix /path] [--load file.csv]
       g2p-bridge mapper load <file.csv>

Runs the example ID-account mapper (G2P Connect resolve, link, unlink) on its own port, default
MAPPER_SIMULATOR_PORT (8002), with its own database: DATABASE_URL (schema example_mapper) or the embedded
database in DATA_DIR/mapper. Point the bridge at it with MAPPER_URL=http://127.0.0.1:<port><prefix>.

  serve            (default) answer requests until interrupted
  load <file.csv>  load a CSV (header id,fa[,name][,active]; the last row for an id wins) and exit

Options:
  --port N         port to listen on (0 picks a free one)
  --host H         interface to listen on (default HOST)
  --prefix P       mount the routes under P (default: the root)
  --load FILE      load a CSV before serving (MAPPER_SIMULATOR_CSV does the same)

Endpoints and the CSV format: docs/mapper.md.`;

async function openMapperDb(config: ReturnType<typeof loadConfig>): Promise<Db> {
  return openDb({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATABASE_URL ? undefined : `${config.DATA_DIR}/mapper`,
    poolSize: config.DATABASE_POOL_SIZE,
  });
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      prefix: { type: 'string' },
      load: { type: 'string' },
    },
    HELP,
    true,
  );
  if (!parsed) return 0;
  const [sub = 'serve', ...rest] = parsed.positionals;
  if (!['serve', 'load'].includes(sub) || (sub === 'load' ? rest.length !== 1 : rest.length !== 0)) {
    process.stderr.write(`${HELP}\n`);
    return 2;
  }
  const port = parsed.values.port === undefined ? undefined : Number(parsed.values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write('--port must be a whole number between 0 and 65535\n');
    return 2;
  }
  const prefix = (parsed.values.prefix ?? '').replace(/\/+$/, '');
  if (prefix && !prefix.startsWith('/')) {
    process.stderr.write('--prefix must start with /\n');
    return 2;
  }

  const file = sub === 'load' ? rest[0] : parsed.values.load;
  if (file && !existsSync(file)) {
    process.stderr.write(`no such file: ${file}\n`);
    return 1;
  }

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
  const log = createLogger(config.LOG_LEVEL, 'mapper-simulator');
  const db = await openMapperDb(config);
  try {
    const sim = await createMapperSimulator({ db, log, env: process.env });
    if (file) {
      try {
        const rows = await sim.loadCsv(createReadStream(file));
        const counts = await sim.store.counts();
        process.stdout.write(
          `loaded ${rows} rows from ${file} (${counts.total} ids, ${counts.active} linked)\n`,
        );
      } catch (error) {
        if (error instanceof CsvLoadError || (error as NodeJS.ErrnoException).code) {
          process.stderr.write(`${(error as Error).message}\n`);
          return 1;
        }
        throw error;
      }
    }
    if (sub === 'load') return 0;

    const app = Fastify({ loggerInstance: log as FastifyBaseLogger, requestIdHeader: 'x-request-id' });
    await sim.register(app, prefix);
    await app.listen({ port: port ?? config.MAPPER_SIMULATOR_PORT, host: parsed.values.host ?? config.HOST });
    const address = app.server.address();
    const actual = address && typeof address === 'object' ? address.port : port;
    process.stdout.write(
      [
        '',
        `example mapper is listening (database: ${db.kind === 'pglite' ? `embedded, ${config.DATA_DIR}/mapper` : 'PostgreSQL'})`,
        `  for the bridge: MAPPER_URL=http://127.0.0.1:${actual}${prefix}`,
        `  entries:        http://127.0.0.1:${actual}${prefix}/admin/entries`,
        '',
      ].join('\n'),
    );
    const signal = await untilSignal();
    log.info({ signal }, 'shutting down');
    await sim.stop();
    await app.close();
    return 0;
  } finally {
    await db.close();
  }
}
