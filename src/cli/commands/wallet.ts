// `g2p-bridge wallet`: the wallet-provider simulator (GSMA Mobile Money API 1.2) alone, on its own port and
// database.
import { randomBytes } from 'node:crypto';
import { createWalletSimulator, type WalletSimulator } from '../../simulators/wallet/index.js';
import { parseCommandArgs } from '../args.js';
import { accessLine, listenArgs, runStandaloneSimulator } from '../simulator.js';

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
  // Without any credential nobody could call the API: a key for this run, printed in the banner.
  let generated: string | null = null;
  return runStandaloneSimulator({
    name: 'wallet-simulator',
    dir: 'wallet',
    title: 'wallet-provider simulator (GSMA MMAPI 1.2)',
    host: parsed.values.host,
    listen,
    defaultPort: (config) => config.WALLET_SIMULATOR_PORT,
    async build({ config, db, log }) {
      let sim: WalletSimulator;
      try {
        sim = await createWalletSimulator({ db, log, config });
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        return 2;
      }
      generated = sim.auth.configured ? null : randomBytes(24).toString('base64url');
      if (generated) sim.auth.addApiKey(generated);
      return sim;
    },
    banner(sim, url, access) {
      const clients = [...sim.settings.clients.keys()];
      return [
        `  GSMA base URL:  ${url}`,
        generated
          ? `  API key:        ${generated}   (this run only; set WALLET_SIMULATOR_API_KEYS to keep one)`
          : `  credentials:    ${sim.settings.apiKeys.length} API key(s)${clients.length ? `, OAuth clients ${clients.join(', ')} at ${url}/oauth/token` : ''}`,
        accessLine(access).replace('callers:       ', 'admin callers: '),
        `  wallets:        ${url}/admin/wallets   accounts: ${url}/admin/accounts   faults: ${url}/admin/faults`,
        `  callbacks:      ${sim.settings.callbackApiKey ? 'signed with WALLET_SIMULATOR_CALLBACK_API_KEY in X-API-Key' : 'sent without X-API-Key (WALLET_SIMULATOR_CALLBACK_API_KEY unset)'}`,
      ];
    },
  });
}
