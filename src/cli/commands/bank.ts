// `g2p-bridge bank`: the example bank alone, on its own port and database.
import { createLogger } from '../../logger.js';
import { createExampleBank, uploadRouteOf } from '../../simulators/example-bank/index.js';
import { configOrReport, parseCommandArgs } from '../args.js';
import {
  accessLine,
  listenArgs,
  listenLocally,
  openSimulatorDb,
  serveUntilSignal,
  simulatorDbLabel,
  simulatorHost,
  simulatorServer,
  standaloneAccess,
} from '../simulator.js';

const HELP = `Usage: g2p-bridge bank [--port N] [--host H] [--prefix /path]

Runs the example bank (a simulated sponsor bank: check_funds, block_funds, initiate_payment, an
asynchronous processor, MT940 or camt.053 statements delivered to the bridge) on its own port, default
EXAMPLE_BANK_PORT (8001), with its own database: DATABASE_URL (schema example_bank) or the embedded
database in DATA_DIR/bank. Point the bridge at it with EXAMPLE_BANK_URL=http://127.0.0.1:<port><prefix>.
Statements go to EXAMPLE_BANK_BRIDGE_URL/upload_mt940 (camt.053: /upload_statement, as
EXAMPLE_BANK_STATEMENT_FORMAT or the account says) with EXAMPLE_BANK_BRIDGE_TOKEN (role bank).

Options:
  --port N     port to listen on (0 picks a free one)
  --host H     interface to listen on (default HOST, else 127.0.0.1); beyond loopback every call
               needs a bearer token with the admin role (the bridge's EXAMPLE_BANK_TOKEN)
  --prefix P   mount the routes under P (default: the root)

Endpoints, accounts and failure controls: docs/bank-connectors.md.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    { port: { type: 'string' }, host: { type: 'string' }, prefix: { type: 'string' } },
    HELP,
  );
  if (!parsed) return 0;
  const listen = listenArgs(parsed.values);
  if (!listen) return 2;
  const config = configOrReport();
  if (!config) return 2;
  const log = createLogger(config.LOG_LEVEL, 'example-bank');
  const db = await openSimulatorDb(config, 'bank');
  try {
    const host = simulatorHost(parsed.values.host, config);
    const access = await standaloneAccess(config, host, db);
    if (!access) return 2;
    const bank = await createExampleBank({ db, log, env: process.env });
    const app = simulatorServer(config, log);
    await bank.register(app, listen.prefix, access);
    const url = await listenLocally(app, listen.port ?? config.EXAMPLE_BANK_PORT, host, listen.prefix);
    bank.start();
    await serveUntilSignal(
      app,
      log,
      [
        `example bank is listening (database: ${simulatorDbLabel(db, config, 'bank')})`,
        `  for the bridge: EXAMPLE_BANK_URL=${url}`,
        accessLine(access),
        `  accounts:       ${url}/admin/accounts`,
        `  statements go to ${bank.settings.deliverStatements ? `${bank.settings.bridgeUrl}${uploadRouteOf(bank.settings.statementDefaults.format)}` : 'nobody (EXAMPLE_BANK_DELIVER_STATEMENTS=false)'}`,
      ],
      () => bank.stop(),
    );
    return 0;
  } finally {
    await db.close();
  }
}
