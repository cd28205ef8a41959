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
import { type BankLimitsSource, DEFAULT_CONNECTOR_LIMITS, resolveLimits } from './limits.js';
import { createSftpConnector } from './sftp/connector.js';

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
  const problems: string[] = [];
  const entries: ConnectorEntry[] = [];
  const seen = new Set<string>();
  for (const raw of spec.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    const bankCode = eq < 0 ? '' : item.slice(0, eq).trim();
    const target = eq < 0 ? '' : item.slice(eq + 1).trim();
    if (eq < 0 || !bankCode || !target) {
      problems.push(`'${item}' is not CODE=connector`);
      continue;
    }
    if (!BANK_CODE.test(bankCode)) {
      problems.push(`bank code '${bankCode}' may only hold letters, digits, '_', '.', '-'`);
      continue;
    }
    if (seen.has(bankCode)) {
      problems.push(`bank code '${bankCode}' is named twice`);
      continue;
    }
    if (target.startsWith('builtin:') && !(target.slice(8) in BUILTIN_CONNECTORS)) {
      problems.push(
        `'${target}' for ${bankCode} is not a builtin connector (builtins: ${Object.keys(BUILTIN_CONNECTORS)
          .map((n) => `builtin:${n}`)
          .join(', ')})`,
      );
      continue;
    }
    seen.add(bankCode);
    entries.push({ bankCode, target });
  }
  if (entries.length === 0 && problems.length === 0) problems.push('no connector is configured');
  if (problems.length) throw new BankConnectorConfigError(`BANK_CONNECTORS: ${problems.join('; ')}`);
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
      const connector = await factory({ bankCode: entry.bankCode, env: options.env, log });
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

async function loadFactory(target: string, cwd: string): Promise<ConnectorModuleFactory> {
  if (target.startsWith('builtin:')) return BUILTIN_CONNECTORS[target.slice(8)]!;
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
  return factory as ConnectorModuleFactory;
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
