// `g2p-bridge bank`: the example bank alone, on its own port and database.
import { createExampleBank, uploadRouteOf } from '../../simulators/example-bank/index.js';
import { exampleBankSettings } from '../../simulators/example-bank/settings.js';
import { type ExampleBankSftp, startExampleBankSftp } from '../../simulators/example-bank/sftp/channel.js';
import { exampleBankSftpSettings } from '../../simulators/example-bank/sftp/setup.js';
import { httpUploader } from '../../simulators/example-bank/statements.js';
import { parseCommandArgs } from '../args.js';
import { accessLine, listenArgs, runStandaloneSimulator } from '../simulator.js';

const HELP = `Usage: g2p-bridge bank [--port N] [--host H] [--prefix /path] [--sftp-port N]

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
  --sftp-port N
               also run the bank's host-to-host SFTP face on port N (0 picks a free one; default off,
               EXAMPLE_BANK_SFTP_PORT when EXAMPLE_BANK_CHANNEL=sftp): pain.001 in <customer>/to-bank,
               pain.002 and statements out in <customer>/from-bank, under EXAMPLE_BANK_SFTP_DIR; customers
               and their public keys from EXAMPLE_BANK_SFTP_CUSTOMERS (user=/path/key.pub,...)

Endpoints, accounts and failure controls: docs/bank-connectors.md.`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
      port: { type: 'string' },
      host: { type: 'string' },
      prefix: { type: 'string' },
      'sftp-port': { type: 'string' },
    },
    HELP,
  );
  if (!parsed) return 0;
  const listen = listenArgs(parsed.values);
  if (!listen) return 2;
  const rawSftpPort = parsed.values['sftp-port'];
  const sftpPort = rawSftpPort === undefined ? undefined : Number(rawSftpPort);
  if (sftpPort !== undefined && (!Number.isInteger(sftpPort) || sftpPort < 0 || sftpPort > 65535)) {
    process.stderr.write('--sftp-port must be a whole number between 0 and 65535\n');
    return 2;
  }
  let sftp: ExampleBankSftp | undefined;
  let customers: string[] = [];
  return runStandaloneSimulator({
    name: 'example-bank',
    dir: 'bank',
    title: 'example bank',
    host: parsed.values.host,
    listen,
    defaultPort: (config) => config.EXAMPLE_BANK_PORT,
    async build({ config, db, log, host }) {
      if (sftpPort !== undefined || config.EXAMPLE_BANK_CHANNEL === 'sftp') {
        let settings: ReturnType<typeof exampleBankSftpSettings>;
        try {
          settings = exampleBankSftpSettings(config, { host, port: sftpPort });
        } catch (error) {
          process.stderr.write(`${(error as Error).message}\n`);
          return 2;
        }
        if (settings.customers.length === 0)
          log.warn('example bank SFTP: no customer may log in (EXAMPLE_BANK_SFTP_CUSTOMERS is empty)');
        customers = settings.customers.map((c) => c.username);
        sftp = await startExampleBankSftp({ db, log, settings });
      }
      const bankSettings = exampleBankSettings(config);
      const bank = await createExampleBank({
        db,
        log,
        config,
        // Statements of accounts paid by file go to that customer's from-bank/ folder; others over HTTP.
        uploadStatement: sftp?.statementUploader(
          httpUploader(bankSettings.bridgeUrl, bankSettings.bridgeToken),
        ),
      });
      return {
        settings: bank.settings,
        register: (app, prefix, access) => bank.register(app, prefix, access),
        start: () => bank.start(),
        async stop() {
          await bank.stop();
          await sftp?.close();
        },
      };
    },
    banner: (bank, url, access) => [
      `  for the bridge: EXAMPLE_BANK_URL=${url}`,
      accessLine(access),
      `  accounts:       ${url}/admin/accounts`,
      ...(sftp
        ? [
            `  SFTP face:      sftp://${sftp.server.host}:${sftp.server.port}   customers: ${customers.join(', ') || 'none'}`,
            `  host key:       ${sftp.server.hostPublicKey}   (pin it: SFTP_<CODE>_HOST_KEY)`,
          ]
        : []),
      `  statements go to ${bank.settings.deliverStatements ? `${bank.settings.bridgeUrl}${uploadRouteOf(bank.settings.statementDefaults.format)}` : 'nobody (EXAMPLE_BANK_DELIVER_STATEMENTS=false)'}`,
    ],
  });
}
