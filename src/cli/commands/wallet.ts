// `g2p-bridge wallet`: the wallet-provider simulator (GSMA Mobile Money API 1.2) alone, on its own port and
// database.
import { randomBytes } from 'node:crypto';
import { createLogger } from '../../logger.js';
import { createWalletSimulator } from '../../simulators/wallet/index.js';
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

const HELP = `Usage: g2p-bridge wallet [--port N] [--host H] [--prefix /path]

Runs the wallet-provider simulator (a mobile money provider speaking the GSMA Mobile Money API 1.2 for
disbursements: POST /batchtransactions, request states, callbacks, completions and rejections, balances)
on its own port, default WALLET_SIMULATOR_PORT (8003), with its own database: DATABASE_URL (schema
example_wallet) or the embedded database in DATA_DIR/wallet. Clients authenticate with X-API-Key
(WALLET_SIMULATOR_API_KEYS) or OAuth 2 client credentials at /oauth/token (WALLET_SIMULATOR_CLIENTS);
with neither configured a key is generated and printed.

Options:
  --port N     port to listen on (0 picks a free one)
  --host H     interface to listen on (default HOST, else 127.0.0.1); beyond loopback the admin routes
               need a bearer token with the admin role
  --prefix P   mount the routes under P (default: the root)

Wallets, accounts, failure controls: docs/wallet-simulator.md.`;

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
  const log = createLogger(config.LOG_LEVEL, 'wallet-simulator');
  const db = await openSimulatorDb(config, 'wallet');
  try {
    const host = simulatorHost(parsed.values.host, config);
    const access = await standaloneAccess(config, host, db);
    if (!access) return 2;
    let sim: Awaited<ReturnType<typeof createWalletSimulator>>;
    try {
      sim = await createWalletSimulator({ db, log, config });
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      return 2;
    }
    // Without any credential nobody could call the API: a key for this run, printed below.
    const generated = sim.auth.configured ? null : randomBytes(24).toString('base64url');
    if (generated) sim.auth.addApiKey(generated);
    const app = simulatorServer(config, log);
    await sim.register(app, listen.prefix, access);
    const url = await listenLocally(app, listen.port ?? config.WALLET_SIMULATOR_PORT, host, listen.prefix);
    sim.start();
    const clients = [...sim.settings.clients.keys()];
    await serveUntilSignal(
      app,
      log,
      [
        `wallet-provider simulator (GSMA MMAPI 1.2) is listening (database: ${simulatorDbLabel(db, config, 'wallet')})`,
        `  GSMA base URL:  ${url}`,
        generated
          ? `  API key:        ${generated}   (this run only; set WALLET_SIMULATOR_API_KEYS to keep one)`
          : `  credentials:    ${sim.settings.apiKeys.length} API key(s)${clients.length ? `, OAuth clients ${clients.join(', ')} at ${url}/oauth/token` : ''}`,
        accessLine(access).replace('callers:       ', 'admin callers: '),
        `  wallets:        ${url}/admin/wallets   accounts: ${url}/admin/accounts   faults: ${url}/admin/faults`,
        `  callbacks:      ${sim.settings.callbackApiKey ? 'signed with WALLET_SIMULATOR_CALLBACK_API_KEY in X-API-Key' : 'sent without X-API-Key (WALLET_SIMULATOR_CALLBACK_API_KEY unset)'}`,
      ],
      () => sim.stop(),
    );
    return 0;
  } finally {
    await db.close();
  }
}
