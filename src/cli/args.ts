import { type ParseArgsConfig, parseArgs } from 'node:util';
import { type Config, ConfigError, loadConfig } from '../config/index.js';

/** A mistake on the command line: main prints the message alone and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Edit distance, for "did you mean" (option names are short). */
function distance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/** The closest of `names` to `typed`, when it is close enough to be a typo. */
export function closest(typed: string, names: readonly string[]): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = distance(typed, name);
    if (!best || d < best.d) best = { name, d };
  }
  return best && best.d <= Math.max(1, Math.floor(typed.length / 3)) ? best.name : undefined;
}

/** Node's parseArgs messages are written for programmers; say what was wrong in the user's terms. */
function usageError(error: Error & { code?: string }, options: Record<string, { type: string }>): UsageError {
  const names = Object.keys(options);
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const typed = /option '([^']+)'/i.exec(error.message)?.[1] ?? '';
    const guess = closest(typed.replace(/^-+/, '').split('=')[0]!, names);
    return new UsageError(`unknown option ${typed}${guess ? ` (did you mean --${guess}?)` : ''}`);
  }
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = /'(--?[\w-]+)/.exec(error.message)?.[1] ?? 'an option';
    const flag = name.replace(/^-+/, '');
    return new UsageError(
      options[flag]?.type === 'boolean'
        ? `option ${name} takes no value`
        : `option ${name} needs a value: ${name} VALUE`,
    );
  }
  if (error.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /argument '([^']*)'/.exec(error.message)?.[1] ?? '';
    return new UsageError(`unexpected argument '${arg}': this command takes options only`);
  }
  return new UsageError(error.message);
}

/**
 * node's parseArgs plus a uniform --help: prints `help` and returns null. A mistake throws UsageError with a
 * message in the user's terms ("unknown option --acount (did you mean --account?)").
 */
export function parseCommandArgs<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: string[],
  options: T,
  help: string,
  allowPositionals = false,
) {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: T; allowPositionals: boolean; strict: true }>
  >;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals,
      strict: true,
    });
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))
      throw usageError(error as Error & { code?: string }, { ...options, help: { type: 'boolean' } });
    throw error;
  }
  if ((parsed.values as Record<string, unknown>).help) {
    process.stdout.write(help.endsWith('\n') ? help : `${help}\n`);
    return null;
  }
  return parsed;
}

/** Resolves when SIGINT or SIGTERM arrives (graceful shutdown). */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
      resolve(signal);
    };
    process.on('SIGINT', handler);
    process.on('SIGTERM', handler);
  });
}

/** Settings from the environment, or a message on stderr and null. */
export function configOrReport(env: Record<string, string | undefined> = process.env): Config | null {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return null;
    }
    throw error;
  }
}
