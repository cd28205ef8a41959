import { userInfo } from 'node:os';
import { openDatabase } from '../../app.js';
import type { Actor } from '../../audit/index.js';
import { configuredBankCodes } from '../../bank/registry.js';
import { type Config, loadConfig } from '../../config/index.js';
import type { Db } from '../../db/index.js';
import { channelCommand } from '../../payouts/cli.js';
import {
  addProgram,
  changeProgram,
  listPrograms,
  type Program,
  ProgramError,
  type ProgramInput,
  type ProgramPatch,
  type ProgramRules,
} from '../../programs/service.js';
import { parseCommandArgs, UsageError } from '../args.js';

/** The audit trail names an operator at the console by the system user (no token is involved). */
function cliActor(): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return { subject: `cli:${user}`, roles: ['admin'], senderId: null, requestId: null, messageId: null };
}

const HELP = `Usage: g2p-bridge program <add|update|list|show|channel> [options]

Configures benefit programs directly in the bridge's database (DATABASE_URL, or the embedded database in
DATA_DIR). The admin API (/admin/programs, role admin) does the same over HTTP.

  program add --mnemonic CODE --name NAME --org-code CODE --org-name NAME --bank-code CODE
              --account NUMBER --currency ISO4217 [--branch CODE] [--no-mapper]
  program update CODE [--name NAME] [--org-code CODE] [--org-name NAME] [--bank-code CODE]
              [--branch CODE] [--account NUMBER] [--currency ISO4217] [--mapper | --no-mapper]
  program list [--json]
  program show CODE                     the program and its payout channels
  program channel add CODE --provider WALLET_CODE --account GSMA_ACCOUNT_ID --currency ISO4217
  program channel remove CODE --provider WALLET_CODE
                 a wallet channel: MOBILE_WALLET addresses of that provider are paid through it,
                 debited from GSMA_ACCOUNT_ID (e.g. accountid@2999); see docs/bank-connectors.md

  --no-mapper   beneficiary ids go to the bank as they are (no ID-account mapper resolution)
  --json        print JSON instead of a table`;

const OPTIONS = {
  mnemonic: { type: 'string' },
  name: { type: 'string' },
  'org-code': { type: 'string' },
  'org-name': { type: 'string' },
  'bank-code': { type: 'string' },
  branch: { type: 'string' },
  account: { type: 'string' },
  currency: { type: 'string' },
  mapper: { type: 'boolean' },
  'no-mapper': { type: 'boolean' },
  json: { type: 'boolean' },
  provider: { type: 'string' },
} as const;

type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean;
};

function fields(v: Values): ProgramPatch {
  const patch: ProgramPatch = {
    benefit_program_name: v.name,
    funding_org_code: v['org-code'],
    funding_org_name: v['org-name'],
    sponsor_bank_code: v['bank-code'],
    sponsor_bank_branch_code: v.branch,
    sponsor_bank_account_number: v.account,
    sponsor_bank_account_currency: v.currency,
    id_mapper_resolution_required: v['no-mapper'] ? false : v.mapper ? true : undefined,
  };
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as ProgramPatch;
}

function table(programs: Program[]): string {
  const head = ['MNEMONIC', 'NAME', 'BANK', 'ACCOUNT', 'CURRENCY', 'MAPPER'];
  const rows = programs.map((p) => [
    p.benefit_program_mnemonic,
    p.benefit_program_name,
    p.sponsor_bank_code,
    p.sponsor_bank_account_number,
    p.sponsor_bank_account_currency,
    p.id_mapper_resolution_required ? 'yes' : 'no',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [head, ...rows]
    .map((r) =>
      r
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function rules(config: Config): ProgramRules {
  return { bankCodes: configuredBankCodes(config.BANK_CONNECTORS) };
}

async function withDb<T>(config: Config, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDatabase(config);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, OPTIONS, HELP, true);
  if (!parsed) return 0;
  const [sub, target] = parsed.positionals;
  const v = parsed.values as Values;
  // The database refuses a lower-case code as unknown; say the one thing to change.
  if (v.currency && /^[A-Za-z]{3}$/.test(v.currency) && v.currency !== v.currency.toUpperCase()) {
    throw new UsageError(
      `--currency takes an ISO 4217 code in capitals: ${v.currency.toUpperCase()}, not ${v.currency}`,
    );
  }
  try {
    // Payout channels (src/payouts/cli.ts).
    if (sub === 'show' || sub === 'channel') {
      const config = loadConfig();
      return await withDb(config, (db) => channelCommand(db, parsed.positionals, v));
    }
    if (sub === 'list') {
      const programs = await withDb(loadConfig(), listPrograms);
      process.stdout.write(
        v.json
          ? `${JSON.stringify(programs, null, 2)}\n`
          : `${programs.length ? table(programs) : 'no programs'}\n`,
      );
      return 0;
    }
    if (sub === 'add') {
      const required = [
        'mnemonic',
        'name',
        'org-code',
        'org-name',
        'bank-code',
        'account',
        'currency',
      ] as const;
      const missing = required.filter((k) => !v[k]);
      if (missing.length) {
        process.stderr.write(`program add needs ${missing.map((k) => `--${k}`).join(', ')}\n`);
        return 2;
      }
      const input = { benefit_program_mnemonic: v.mnemonic!, ...fields(v) } as ProgramInput;
      const config = loadConfig();
      const program = await withDb(config, (db) => addProgram(db, input, rules(config), cliActor()));
      process.stdout.write(`${JSON.stringify(program, null, 2)}\n`);
      return 0;
    }
    if (sub === 'update' && target) {
      const config = loadConfig();
      const program = await withDb(config, (db) =>
        changeProgram(db, target, fields(v), rules(config), cliActor()),
      );
      process.stdout.write(`${JSON.stringify(program, null, 2)}\n`);
      return 0;
    }
    process.stderr.write(`${HELP}\n`);
    return 2;
  } catch (error) {
    if (error instanceof ProgramError) {
      process.stderr.write(`${error.code}: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
