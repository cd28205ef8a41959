#!/usr/bin/env node
// g2p-bridge command line: each command lives in src/cli/commands/<name>.ts and exports `run(argv)`.

import { closeSync, fstatSync, openSync, read } from 'node:fs';

/** A file the command line names, read ahead while the command's modules load (see `readAhead`). */
export interface ReadAhead {
  file: string;
  /** The whole file; null when it is not a regular file (the command reads it itself). */
  bytes: Promise<Uint8Array | null>;
}

type Command = {
  summary: string;
  load: () => Promise<{ run(argv: string[], ahead?: ReadAhead): Promise<number> }>;
};

export const COMMANDS: Record<string, Command> = {
  start: {
    summary: 'Run everything in one process: API, workers, dashboard, example bank and mapper',
    load: () => import('./commands/start.js'),
  },
  serve: {
    summary: 'Serve the API, dashboard and metrics only (workers run elsewhere)',
    load: () => import('./commands/serve.js'),
  },
  statement: {
    summary: 'Parse a statement file (MT940, camt.053/.054) or upload one to a running bridge',
    load: () => import('./commands/statement.js'),
  },
  demo: {
    summary: 'Run a full disbursement cycle end to end and print its reconciliation summary',
    load: () => import('./commands/demo.js'),
  },
  migrate: { summary: 'Apply database migrations and exit', load: () => import('./commands/migrate.js') },
  token: {
    summary: 'Mint a bearer token for a role from the local secret',
    load: () => import('./commands/token.js'),
  },
  keys: {
    summary: "Create the bridge's signing and encryption keys and print them as a JWKS",
    load: () => import('./commands/keys.js'),
  },
  program: {
    summary: 'Add, update or list benefit programs in the database',
    load: () => import('./commands/program.js'),
  },
  'return-reason': {
    summary: 'List, set or delete the mapping of camt return codes to reversal reasons',
    load: () => import('./commands/return-reason.js'),
  },
  mt940: {
    summary: 'Parse an MT940 file and print its statements as JSON',
    load: () => import('./commands/mt940.js'),
  },
  bank: {
    summary: 'Run the example bank (simulated sponsor bank) alone on its own port',
    load: () => import('./commands/bank.js'),
  },
  mapper: {
    summary: 'Run the example ID-account mapper alone, or load a CSV into it',
    load: () => import('./commands/mapper.js'),
  },
  wallet: {
    summary: 'Run the wallet-provider simulator (GSMA Mobile Money API) alone on its own port',
    load: () => import('./commands/wallet.js'),
  },
  worker: {
    summary: 'Run the background stages only (many processes may share one PostgreSQL)',
    load: () => import('./commands/worker.js'),
  },
};

/**
 * `mt940 <file>`: starts reading the file on the thread pool (one read of the whole size) before the
 * command's modules load, so the two overlap (about 20 ms each for a 22 MB statement). Only for a plain
 * whole-file read; the command checks that the file is the one it was asked for.
 */
function readAhead(argv: string[]): ReadAhead | undefined {
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--encoding') i++;
    else if (a === '--ndjson' || a === '--help' || a === '-h' || a === '-') return undefined;
    else if (!a.startsWith('-')) {
      if (file !== undefined) return undefined;
      file = a;
    }
  }
  if (file === undefined) return undefined;
  const name = file;
  const bytes = new Promise<Uint8Array | null>((resolve, reject) => {
    const fd = openSync(name, 'r');
    const stat = fstatSync(fd);
    const size = stat.size;
    if (!stat.isFile() || size === 0 || size > 2 ** 31 - 1) {
      closeSync(fd);
      resolve(null);
      return;
    }
    const buf = Buffer.allocUnsafe(size);
    const next = (at: number) =>
      read(fd, buf, at, size - at, at, (err, n) => {
        if (err || n === 0 || at + n === size) {
          closeSync(fd);
          if (err) reject(err);
          else resolve(at + n === size ? buf : buf.subarray(0, at + n));
        } else next(at + n);
      });
    next(0);
  });
  // a command that stops before reading (a usage error) leaves the promise alone: no unhandled rejection
  bytes.catch(() => {});
  return { file, bytes };
}

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: g2p-bridge <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun 'g2p-bridge <command> --help' for a command's options.\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`Unknown command '${name}'.\n\n${usage()}`);
    return 2;
  }
  try {
    let ahead: ReadAhead | undefined;
    try {
      ahead = name === 'mt940' ? readAhead(rest) : undefined;
    } catch {
      ahead = undefined; // cannot open it: the command reads it itself and says why
    }
    return await (await command.load()).run(rest, ahead);
  } catch (error) {
    // Loaded only here: a command that needs no settings (mt940) starts without the config module (~30 ms).
    const [{ UsageError }, { ConfigError }] = await Promise.all([
      import('./args.js'),
      import('../config/index.js'),
    ]);
    // A mistake on the command line or in the settings is the user's to fix: say what, exit 2, no stack.
    if (error instanceof UsageError) {
      process.stderr.write(
        `g2p-bridge ${name}: ${error.message}\nRun 'g2p-bridge ${name} --help' for its options.\n`,
      );
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

// Output piped into a reader that stops early (`| head`): end quietly, as Unix tools do, not with a stack.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== -1) process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
