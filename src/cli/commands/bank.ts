// `g2p-bridge bank`: the example bank alone, on its own port and database.
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { ConfigError, loadConfig } from '../../config/index.js';
import { openDb } from '../../db/index.js';
import { createLogger } from '../../logger.js';
import { createExampleBank } from '../../simulators/example-bank/index.js';
import { parseCommandArgs, untilSignal } from '../args.js';

const HELP = `Usage: g2p-bridge bank [--port N] [--host H] [--prefix /path]

Runs the example bank (a simulated sponsor bank: check_funds, block_funds, initiate_payment, an
asynchronous processor, MT940 statements delivered to the bridge) on its own port, default
EXAMPLE_BANK_PORT (8001), with its own database: DATABASE_URL (schema example_bank) or the embedded
database in DATA_DIR/bank. Point the bridge at it with EXAMPLE_BANK_URL=http://127.0.0.1:<port><prefix>.
Statements go to EXAMPLE_BANK_BRIDGE_URL/upload_mt940 with EXAMPLE_BANK_BRIDGE_TOKEN (role bank).

Options:
  --port N     port to listen on (0 picks a free one)
  --host H     interface to listen on (default HOST)
  --prefix P   mount the routes under P (default: the root)

Endpoints, accounts and failure controls: docs/bank-connectors.md.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    { port: { type: 'string' }, host: { type: 'string' }, prefix: { type: 'string' } },
    HELP,
  );
  if (!parsed) return 0;
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
  const log = createLogger(config.LOG_LEVEL, 'example-bank');
  const db = await openDb({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATABASE_URL ? undefined : `${config.DATA_DIR}/bank`,
    poolSize: config.DATABASE_POOL_SIZE,
  });
  try {
    const bank = await createExampleBank({ db, log, env: process.env });
    const app = Fastify({
      loggerInstance: log as FastifyBaseLogger,
      requestIdHeader: 'x-request-id',
      bodyLimit: config.MAX_BODY_BYTES,
      ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
    });
    await bank.register(app, prefix);
    await app.listen({ port: port ?? config.EXAMPLE_BANK_PORT, host: parsed.values.host ?? config.HOST });
    bank.start();
    const address = app.server.address();
    const actual = address && typeof address === 'object' ? address.port : port;
    process.stdout.write(
      [
        '',
        `example bank is listening (database: ${db.kind === 'pglite' ? `embedded, ${config.DATA_DIR}/bank` : 'PostgreSQL'})`,
        `  for the bridge: EXAMPLE_BANK_URL=http://127.0.0.1:${actual}${prefix}`,
        `  accounts:       http://127.0.0.1:${actual}${prefix}/admin/accounts`,
        `  statements go to ${bank.settings.deliverStatements ? `${bank.settings.bridgeUrl}/upload_mt940` : 'nobody (EXAMPLE_BANK_DELIVER_STATEMENTS=false)'}`,
        '',
      ].join('\n'),
    );
    const signal = await untilSignal();
    log.info({ signal }, 'shutting down');
    await bank.stop();
    await app.close();
    return 0;
  } finally {
    await db.close();
  }
}
