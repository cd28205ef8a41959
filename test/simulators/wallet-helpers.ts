// Shared by the wallet-provider simulator tests: a simulator on a fresh database behind a Fastify instance
// (driven with inject), a settable clock, and validators built from the GSMA spec itself.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import pino from 'pino';
import { parse } from 'yaml';
import { simulatorServer } from '../../src/cli/simulator.js';
import { loadConfig } from '../../src/config/index.js';
import type { Db } from '../../src/db/index.js';
import type { SimulatorAccess } from '../../src/simulators/access.js';
import { createWalletSimulator, type WalletSimulator } from '../../src/simulators/wallet/index.js';
import { testDb } from '../support/db.js';
import { sharedFile } from '../support/shared.js';

export const KEY = 'wallet-test-key-0123456789';
export const BASE = '/wallet-provider';
export const ORG = 'ORG-1';

// biome-ignore lint/suspicious/noExplicitAny: the spec is walked as plain JSON
type Json = any;

export const SPEC_FILE = sharedFile('reference/gsma-mmapi-1.2.0-disbursements.yaml');

/** OpenAPI 3.0's boolean exclusiveMinimum, as JSON Schema draft 7 writes it. */
function modernise(node: Json): void {
  if (!node || typeof node !== 'object') return;
  if (node.exclusiveMinimum === true) node.exclusiveMinimum = node.minimum ?? 0;
  for (const value of Object.values(node)) modernise(value);
}

/** A validator for `#/components/schemas/<name>` of the GSMA spec (formats not checked). */
export function specValidator(): ((name: string, value: unknown) => string[]) | null {
  if (!SPEC_FILE) return null;
  const spec: Json = parse(readFileSync(SPEC_FILE, 'utf8'));
  modernise(spec);
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, unicodeRegExp: false });
  ajv.addSchema({ ...spec, $id: 'gsma' });
  return (name, value) => {
    const validate =
      ajv.getSchema(`gsma#/components/schemas/${name}`) ??
      ajv.compile({ $ref: `gsma#/components/schemas/${name}` });
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

export function loadSpec(): Json {
  return SPEC_FILE ? parse(readFileSync(SPEC_FILE, 'utf8')) : null;
}

export interface Harness {
  db: Db;
  sim: WalletSimulator;
  app: ReturnType<typeof simulatorServer>;
  clock: { now: Date };
  api(
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    body: Json;
    headers: Record<string, unknown>;
  }>;
  close(): Promise<void>;
}

export async function harness(
  env: Record<string, string> = {},
  options: {
    access?: SimulatorAccess;
    processKey?: string;
    callbackTimeoutMs?: number;
    countQueries?: { n: number };
  } = {},
): Promise<Harness> {
  const raw = await testDb();
  const counter = options.countQueries;
  // Counts every statement sent, in or out of transactions, for the set-based checks.
  const db: Db = counter
    ? {
        ...raw,
        query: (sql, params) => {
          counter.n++;
          return raw.query(sql, params);
        },
        transaction: (fn) =>
          raw.transaction((tx) =>
            fn({
              query: (sql, params) => {
                counter.n++;
                return tx.query(sql, params);
              },
            }),
          ),
      }
    : raw;
  const clock = { now: new Date('2026-11-30T09:00:00.000Z') };
  const log = pino({ level: 'silent' });
  const sim = await createWalletSimulator({
    db,
    log,
    config: loadConfig({
      WALLET_SIMULATOR_API_KEYS: KEY,
      WALLET_SIMULATOR_CLIENTS: 'bridge:s3cret-value',
      WALLET_SIMULATOR_PROCESS_INTERVAL_MS: '0',
      WALLET_SIMULATOR_CALLBACK_BACKOFF_MS: '1000',
      WALLET_SIMULATOR_CALLBACK_ATTEMPTS: '3',
      ...env,
    }),
    now: () => clock.now,
    processKey: options.processKey,
    callbackTimeoutMs: options.callbackTimeoutMs,
  });
  const app = simulatorServer(loadConfig({ LOG_LEVEL: 'silent' }), log);
  await sim.register(app, BASE, options.access);
  await app.ready();
  return {
    db,
    sim,
    app,
    clock,
    async api(method, path, body, headers = {}) {
      const res = await app.inject({
        method,
        url: `${BASE}${path}`,
        headers: { 'x-api-key': KEY, ...headers },
        ...(body === undefined ? {} : { payload: body as object }),
      });
      return {
        status: res.statusCode,
        body: res.body ? JSON.parse(res.body) : null,
        headers: res.headers as Record<string, unknown>,
      };
    },
    async close() {
      await sim.stop();
      await app.close();
      await raw.close();
    },
  };
}

/** One disbursement from ORG-1 to a wallet. */
export function txn(msisdn: string, amount: unknown, extra: Record<string, unknown> = {}) {
  return {
    type: 'disbursement',
    amount,
    currency: 'USD',
    creditParty: [{ key: 'msisdn', value: msisdn }],
    debitParty: [{ key: 'accountid', value: ORG }],
    ...extra,
  };
}

/** `n` wallets +2547000<i>, USD, active. */
export async function openWallets(sim: WalletSimulator, n: number, first = 1): Promise<string[]> {
  const msisdns = Array.from({ length: n }, (_, i) => `+2547${String(first + i).padStart(8, '0')}`);
  const r = await sim.openWallets(msisdns.map((msisdn) => ({ msisdn, currency: 'USD', name: 'Test' })));
  if (!r.ok) throw new Error(r.message);
  return msisdns;
}
