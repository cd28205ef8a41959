// The connector factory. BANK_CONNECTORS maps each sponsor bank code to a builtin connector or to a module
// of the operator's; every entry is loaded and built once, at start, so a wrong code, a missing module or a
// module that does not implement the interface stops the bridge at start with a clear message instead of
// failing in the middle of a batch.
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import type { BankConnector, ConnectorModuleFactory } from './connector.js';
import { BANK_ERROR, failure } from './errors.js';
import { createExampleConnector } from './example/connector.js';
import { createGsmaConnector } from './gsma/connector.js';
import { type BankLimitsSource, DEFAULT_CONNECTOR_LIMITS, resolveLimits } from './limits.js';
import { createSftpConnector } from './sftp/connector.js';
import type { WalletConnector, WalletConnectorFactory, WalletConnectorSource } from './wallet-connector.js';

export const DEFAULT_BANK_CONNECTORS = 'EXAMPLE=builtin:example';

/** Connectors shipped with the bridge, named `builtin:<name>` in BANK_CONNECTORS. */
export const BUILTIN_CONNECTORS: Record<string, ConnectorModuleFactory> = {
  example: createExampleConnector,
  'iso20022-sftp': createSftpConnector,
};

/** A configuration problem with the bank connectors (reported at start, or for a code nobody configured). */
export class BankConnectorConfigError extends Error {
  /**
   * Stable code for the driving row of a stage that meets the problem: UNKNOWN_SPONSOR_BANK_CODE (a program
   * whose bank no entry names) or BANK_CONNECTORS_INVALID (the configuration itself could not be loaded).
   */
  readonly code: 'UNKNOWN_SPONSOR_BANK_CODE' | 'BANK_CONNECTORS_INVALID';
  constructor(message: string, code: BankConnectorConfigError['code'] = 'BANK_CONNECTORS_INVALID') {
    super(message);
    this.name = 'BankConnectorConfigError';
    this.code = code;
  }
}

export interface ConnectorEntry {
  bankCode: string;
  /** `builtin:<name>`, a path (./x.js, ../x.js, /abs/x.js) or a package name. */
  target: string;
}

const BANK_CODE = /^[A-Za-z0-9_.-]{1,64}$/;

/** Parses `CODE=target,CODE=target`. Throws BankConnectorConfigError listing every problem. */
export function parseBankConnectors(spec: string): ConnectorEntry[] {
  return parseConnectorList(spec, 'BANK_CONNECTORS', BUILTIN_CONNECTORS).map((e) => ({
    bankCode: e.code,
    target: e.target,
  }));
}

/**
 * The grammar BANK_CONNECTORS and WALLET_PROVIDERS share: `CODE=target` items, comma separated, each code
 * once, a target `builtin:<name>` (one of `builtins`), a path or a package name. Throws
 * BankConnectorConfigError naming `variable` and listing every problem.
 */
export function parseConnectorList(
  spec: string,
  variable: string,
  builtins: Record<string, unknown>,
  allowEmpty = false,
): Array<{ code: string; target: string }> {
  const problems: string[] = [];
  const entries: Array<{ code: string; target: string }> = [];
  const seen = new Set<string>();
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const code = eq < 0 ? '' : item.slice(0, eq).trim();
    const target = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (eq < 0 || !code || !target) {
      problems.push(`'${item}' is not CODE=connector`);
      continue;
    }
    if (!BANK_CODE.test(code)) {
      problems.push(`code '${code}' may only hold letters, digits, '_', '.', '-'`);
      continue;
    }
    if (seen.has(code)) {
      problems.push(`code '${code}' is named twice`);
      continue;
    }
    if (target.startsWith('builtin:') && !(target.slice(8) in builtins)) {
      problems.push(
        `'${target}' for ${code} is not a builtin connector (builtins: ${Object.keys(builtins)
          .map((n) => `builtin:${n}`)
          .join(', ')})`,
      );
      continue;
    }
    seen.add(code);
    entries.push({ code, target });
  }
  if (entries.length === 0 && problems.length === 0 && !allowEmpty)
    problems.push('no connector is configured');
  if (problems.length) throw new BankConnectorConfigError(`${variable}: ${problems.join('; ')}`);
  return entries;
}

/** The sponsor bank codes BANK_CONNECTORS names (without loading any module). */
export function configuredBankCodes(spec: string): Set<string> {
  return new Set(parseBankConnectors(spec).map((entry) => entry.bankCode));
}

export interface ConnectorRegistry {
  /** The connector for a program's sponsor_bank_code. Throws BankConnectorConfigError for an unknown code. */
  getBankConnector(sponsorBankCode: string): BankConnector;
  has(sponsorBankCode: string): boolean;
  /** The configured bank codes. */
  codes(): string[];
  close(): Promise<void>;
}

export interface RegistryOptions {
  env: Record<string, string | undefined>;
  log: Logger;
  /** Directory against which relative module paths are resolved; default process.cwd(). */
  cwd?: string;
  /** The bridge's clock, handed to every connector (ConnectorOptions.now). */
  now?: () => Date;
}

/** Loads and builds every connector named in BANK_CONNECTORS (default EXAMPLE=builtin:example). */
export async function createConnectorRegistry(options: RegistryOptions): Promise<ConnectorRegistry> {
  const entries = parseBankConnectors(options.env.BANK_CONNECTORS || DEFAULT_BANK_CONNECTORS);
  const cwd = options.cwd ?? process.cwd();
  const connectors = new Map<string, BankConnector>();
  const problems: string[] = [];
  for (const entry of entries) {
    try {
      const factory = await loadFactory(entry.target, cwd);
      const log = options.log.child({ bankCode: entry.bankCode });
      const connector = await factory({
        bankCode: entry.bankCode,
        env: options.env,
        log,
        ...(options.now ? { now: options.now } : {}),
      });
      assertConnector(connector);
      resolveLimits(connector.limits); // a declaration that makes no sense stops the start, as a missing method does
      connectors.set(entry.bankCode, guardConnector(connector, log));
    } catch (error) {
      problems.push(`${entry.bankCode}=${entry.target}: ${(error as Error).message}`);
    }
  }
  if (problems.length) {
    await Promise.allSettled([...connectors.values()].map((c) => c.close?.()));
    throw new BankConnectorConfigError(`BANK_CONNECTORS: ${problems.join('; ')}`);
  }
  options.log.info({ bankCodes: [...connectors.keys()] }, 'bank connectors loaded');
  return {
    getBankConnector(code) {
      const connector = connectors.get(code);
      if (!connector)
        throw new BankConnectorConfigError(
          `No bank connector for sponsor bank code '${code}' (BANK_CONNECTORS names ${[...connectors.keys()].join(', ')})`,
          'UNKNOWN_SPONSOR_BANK_CODE',
        );
      return connector;
    },
    has: (code) => connectors.has(code),
    codes: () => [...connectors.keys()],
    async close() {
      await Promise.allSettled([...connectors.values()].map((c) => c.close?.()));
    },
  };
}

/** A connector module's factory: a builtin by name, else the module's default export or `createConnector`. */
export async function loadFactory<F = ConnectorModuleFactory>(
  target: string,
  cwd: string,
  builtins: Record<string, F> = BUILTIN_CONNECTORS as Record<string, F>,
): Promise<F> {
  if (target.startsWith('builtin:')) return builtins[target.slice(8)]!;
  const isPath = target.startsWith('.') || isAbsolute(target);
  const specifier = isPath ? pathToFileURL(resolve(cwd, target)).href : target;
  let mod: Record<string, unknown>;
  try {
    mod = await import(specifier);
  } catch (error) {
    throw new Error(`cannot load the module (${(error as Error).message})`);
  }
  const factory = typeof mod.default === 'function' ? mod.default : mod.createConnector;
  if (typeof factory !== 'function')
    throw new Error('the module exports neither a default function nor createConnector');
  return factory as F;
}

const OPERATIONS = [
  'checkFunds',
  'blockFunds',
  'initiatePayment',
  'retrieveDisbursementId',
  'retrieveBeneficiaryName',
  'retrieveReversalReason',
] as const;

function assertConnector(value: unknown): asserts value is BankConnector {
  if (value === null || typeof value !== 'object') throw new Error('the factory did not return an object');
  const missing = OPERATIONS.filter((op) => typeof (value as Record<string, unknown>)[op] !== 'function');
  if (missing.length) throw new Error(`the connector lacks ${missing.join(', ')}`);
}

/**
 * Wraps a connector so that an exception from it (a bug in a third-party module, a network library that
 * throws) becomes a FAILURE with BANK_CONNECTOR_ERROR for the calls that talk to the bank, and null for the
 * statement readers: a stage's state is never lost to a throw.
 */
export function guardConnector(connector: BankConnector, log: Logger): BankConnector {
  const guardAsync =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R | ReturnType<typeof failure>> => {
      try {
        return await fn.apply(connector, args);
      } catch (error) {
        log.error({ err: error, operation: name }, 'bank connector threw; reported as a failure');
        return failure(BANK_ERROR.CONNECTOR, `${name}: ${(error as Error)?.message ?? String(error)}`);
      }
    };
  const guardSync =
    <A extends unknown[]>(name: string, fn: (...args: A) => string | null) =>
    (...args: A): string | null => {
      try {
        const value = fn.apply(connector, args);
        return typeof value === 'string' ? value : null;
      } catch (error) {
        log.error({ err: error, operation: name }, 'bank connector threw while reading a statement entry');
        return null;
      }
    };
  const limits = resolveLimits(connector.limits);
  return {
    get bankCode() {
      return connector.bankCode;
    },
    limits,
    checkFunds: guardAsync('checkFunds', connector.checkFunds),
    blockFunds: guardAsync('blockFunds', connector.blockFunds),
    initiatePayment: guardAsync('initiatePayment', connector.initiatePayment),
    retrieveDisbursementId: guardSync('retrieveDisbursementId', connector.retrieveDisbursementId),
    retrieveBeneficiaryName: guardSync('retrieveBeneficiaryName', connector.retrieveBeneficiaryName),
    retrieveReversalReason: guardSync('retrieveReversalReason', connector.retrieveReversalReason),
    close: async () => {
      await connector.close?.();
    },
    ...(connector.collectInbound && {
      collectInbound: guardAsync('collectInbound', connector.collectInbound),
    }),
    ...(connector.acknowledgeInbound && {
      acknowledgeInbound: guardAsync('acknowledgeInbound', connector.acknowledgeInbound),
    }),
  } as BankConnector;
}

/**
 * Each configured connector's limits, for the API process (create_disbursements refuses items its bank could
 * not carry). The connectors are built once, on first use, only to read their declared limits, then closed.
 * When BANK_CONNECTORS cannot be loaded here (a module needing settings only the workers have), every bank gets
 * the defaults and the disburse stage still applies the real limits before it sends a batch.
 */
export function bankLimitsSource(options: RegistryOptions & { spec: string }): BankLimitsSource {
  let loaded: Promise<Map<string, ConnectorLimitsOf>> | undefined;
  const load = async () => {
    try {
      const registry = await createConnectorRegistry({
        ...options,
        env: { ...options.env, BANK_CONNECTORS: options.spec },
        log: options.log.child({ component: 'bank-limits' }),
      });
      const out = new Map<string, ConnectorLimitsOf>();
      for (const code of registry.codes())
        out.set(code, resolveLimits(registry.getBankConnector(code).limits));
      await registry.close();
      return out;
    } catch (err) {
      options.log.warn({ err }, 'bank connector limits could not be read; the default limits apply');
      return new Map<string, ConnectorLimitsOf>();
    }
  };
  return async (bankCode) => {
    loaded ??= load();
    return (await loaded).get(bankCode) ?? DEFAULT_CONNECTOR_LIMITS;
  };
}

type ConnectorLimitsOf = ReturnType<typeof resolveLimits>;

// --- Wallet providers (issue 15) ---

export const DEFAULT_WALLET_PROVIDERS = '';

/** Wallet connectors shipped with the bridge, named `builtin:<name>` in WALLET_PROVIDERS. */
export const BUILTIN_WALLET_CONNECTORS: Record<string, WalletConnectorFactory> = {
  'gsma-mmapi': createGsmaConnector,
};

/** Parses WALLET_PROVIDERS (the BANK_CONNECTORS grammar; empty: no wallet provider). */
export function parseWalletProviders(spec: string): Array<{ providerCode: string; target: string }> {
  return parseConnectorList(spec, 'WALLET_PROVIDERS', BUILTIN_WALLET_CONNECTORS, true).map((e) => ({
    providerCode: e.code,
    target: e.target,
  }));
}

const WALLET_OPERATIONS = ['balance', 'sendBatch', 'batchState', 'completions', 'rejections'] as const;

export interface WalletRegistry extends WalletConnectorSource {
  close(): Promise<void>;
}

/**
 * Loads and builds every wallet connector named in WALLET_PROVIDERS, at start: a wrong target, a module that
 * lacks an operation or a provider whose settings (WALLET_<CODE>_URL ...) are wrong stops the start with every
 * problem listed. Lookups by provider code ignore case (financial addresses write codes as they like).
 */
export async function createWalletRegistry(options: RegistryOptions): Promise<WalletRegistry> {
  const entries = parseWalletProviders(options.env.WALLET_PROVIDERS || DEFAULT_WALLET_PROVIDERS);
  const cwd = options.cwd ?? process.cwd();
  const connectors = new Map<string, WalletConnector>();
  const problems: string[] = [];
  for (const entry of entries) {
    try {
      const factory = await loadFactory(entry.target, cwd, BUILTIN_WALLET_CONNECTORS);
      const log = options.log.child({ walletProvider: entry.providerCode });
      const connector = await factory({ providerCode: entry.providerCode, env: options.env, log });
      const missing = WALLET_OPERATIONS.filter(
        (op) => typeof (connector as unknown as Record<string, unknown>)?.[op] !== 'function',
      );
      if (missing.length) throw new Error(`the connector lacks ${missing.join(', ')}`);
      connectors.set(entry.providerCode.toUpperCase(), guardWalletConnector(connector, log));
    } catch (error) {
      problems.push(`${entry.providerCode}=${entry.target}: ${(error as Error).message}`);
    }
  }
  if (problems.length) {
    await Promise.allSettled([...connectors.values()].map((c) => c.close?.()));
    throw new BankConnectorConfigError(`WALLET_PROVIDERS: ${problems.join('; ')}`);
  }
  if (connectors.size)
    options.log.info({ walletProviders: entries.map((e) => e.providerCode) }, 'wallet connectors loaded');
  return {
    get: (code) => connectors.get(code.toUpperCase()),
    codes: () => entries.map((e) => e.providerCode),
    async close() {
      await Promise.allSettled([...connectors.values()].map((c) => c.close?.()));
    },
  };
}

/** A wallet connector whose throws become FAILURE (WALLET_CONNECTOR_ERROR): a stage never loses its state. */
export function guardWalletConnector(connector: WalletConnector, log: Logger): WalletConnector {
  const guard =
    <A extends unknown[], R>(name: string, fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R | ReturnType<typeof failure>> => {
      try {
        return await fn.apply(connector, args);
      } catch (error) {
        log.error({ err: error, operation: name }, 'wallet connector threw; reported as a failure');
        return failure('WALLET_CONNECTOR_ERROR', `${name}: ${(error as Error)?.message ?? String(error)}`);
      }
    };
  return {
    providerCode: connector.providerCode,
    pollSeconds: connector.pollSeconds > 0 ? connector.pollSeconds : 30,
    callbackBaseUrl: connector.callbackBaseUrl ?? null,
    balance: guard('balance', connector.balance),
    sendBatch: guard('sendBatch', connector.sendBatch),
    batchState: guard('batchState', connector.batchState),
    completions: guard('completions', connector.completions),
    rejections: guard('rejections', connector.rejections),
    // Optional (the daily ledger reconciliation): present on the guard only when the connector has it.
    ...(typeof connector.accountTransactions === 'function'
      ? { accountTransactions: guard('accountTransactions', connector.accountTransactions) }
      : {}),
    close: async () => {
      await connector.close?.();
    },
  } as WalletConnector;
}
