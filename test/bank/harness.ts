// The example bank served on a real ephemeral port, with a connector pointed at it, for contract tests.
import Fastify, { type FastifyInstance } from 'fastify';
import type { BankConnector, Payment } from '../../src/bank/connector.js';
import { createExampleConnector } from '../../src/bank/example/connector.js';
import { loadConfig } from '../../src/config/index.js';
import type { Db } from '../../src/db/index.js';
import { createLogger } from '../../src/logger.js';
import { createExampleBank, type ExampleBank } from '../../src/simulators/example-bank/index.js';
import { testDb } from '../support/db.js';

export interface Uploaded {
  text: string;
  fileName: string;
}

export interface BankHarness {
  db: Db;
  bank: ExampleBank;
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:41234/example-bank */
  url: string;
  connector: BankConnector;
  /** Statements the bank delivered (through the in-process uploader). */
  uploads: Uploaded[];
  connectorWith(env: Record<string, string>): Promise<BankConnector>;
  close(): Promise<void>;
}

export async function bankHarness(env: Record<string, string> = {}): Promise<BankHarness> {
  const db = await testDb();
  const log = createLogger('silent');
  const uploads: Uploaded[] = [];
  const bank = await createExampleBank({
    db,
    log,
    config: loadConfig({ EXAMPLE_BANK_PROCESS_INTERVAL_MS: '0', ...env }),
    uploadStatement: async (text, fileName) => {
      uploads.push({ text, fileName });
    },
  });
  const app = Fastify({
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: true } },
  });
  await bank.register(app, '/example-bank');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  const url = `http://127.0.0.1:${port}/example-bank`;
  const connectorWith = async (extra: Record<string, string>) =>
    createExampleConnector({ bankCode: 'EXAMPLE', env: { EXAMPLE_BANK_URL: url, ...extra }, log });
  return {
    db,
    bank,
    app,
    url,
    uploads,
    connector: await connectorWith({ EXAMPLE_BANK_TIMEOUT_MS: '5000' }),
    connectorWith,
    async close() {
      await bank.stop();
      // Sockets of requests a client abandoned (deliberate timeouts) would hold close() for keepAliveTimeout.
      app.server.closeAllConnections();
      await app.close();
      await db.close();
    },
  };
}

let counter = 0;

/** A payment to another bank, drawing on `block` of `account`. */
export function payment(
  overrides: Partial<Payment> & Pick<Payment, 'remittingAccount' | 'fundsBlockedReferenceNumber'>,
): Payment {
  counter++;
  return {
    disbursementId: `D${String(counter).padStart(8, '0')}`,
    remittingAccountCurrency: 'USD',
    paymentAmount: '10.00',
    beneficiaryId: `BEN-${counter}`,
    beneficiaryName: `Beneficiary ${counter}`,
    beneficiaryAccount: `OTHER-${counter}`,
    beneficiaryAccountCurrency: 'USD',
    beneficiaryAccountType: 'BANK_ACCOUNT',
    beneficiaryBankCode: 'OTHERBANK',
    beneficiaryBranchCode: '001',
    beneficiaryMobileWalletProvider: null,
    beneficiaryPhoneNo: null,
    beneficiaryEmail: null,
    beneficiaryEmailWalletProvider: null,
    disbursementNarrative: 'Cash transfer',
    benefitProgramMnemonic: 'PROG1',
    cycleCodeMnemonic: 'MAR-2026',
    paymentDate: '2026-03-01',
    ...overrides,
  };
}

/** A port nobody listens on: opened, then closed. */
export async function unusedPort(): Promise<number> {
  const app = Fastify();
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  await app.close();
  return address && typeof address === 'object' ? address.port : 1;
}
