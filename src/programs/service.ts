// Benefit program configuration: one row per program. The reference has no API for it (rows were inserted
// by hand); operators use the admin API or the `program` command, both of which come through here.
import { type Actor, recordAudit } from '../audit/index.js';
import type { Db, Queryable } from '../db/index.js';
import { isCurrencyCode } from '../money/index.js';

export interface Program {
  benefit_program_mnemonic: string;
  benefit_program_name: string;
  funding_org_code: string;
  funding_org_name: string;
  sponsor_bank_code: string;
  sponsor_bank_branch_code: string | null;
  sponsor_bank_account_number: string;
  sponsor_bank_account_currency: string;
  id_mapper_resolution_required: boolean;
  created_at: string;
  updated_at: string;
}

export type ProgramInput = Omit<
  Program,
  'created_at' | 'updated_at' | 'sponsor_bank_branch_code' | 'id_mapper_resolution_required'
> & {
  sponsor_bank_branch_code?: string | null;
  id_mapper_resolution_required?: boolean;
};

export type ProgramPatch = Partial<Omit<ProgramInput, 'benefit_program_mnemonic'>>;

export const ProgramErrorCode = {
  INVALID_REQUEST: 'INVALID_REQUEST',
  INVALID_CURRENCY_CODE: 'INVALID_CURRENCY_CODE',
  DUPLICATE_PROGRAM_MNEMONIC: 'DUPLICATE_PROGRAM_MNEMONIC',
  DUPLICATE_FUNDING_ACCOUNT: 'DUPLICATE_FUNDING_ACCOUNT',
  PROGRAM_NOT_FOUND: 'PROGRAM_NOT_FOUND',
  PROGRAM_HAS_ENVELOPES: 'PROGRAM_HAS_ENVELOPES',
  UNKNOWN_SPONSOR_BANK_CODE: 'UNKNOWN_SPONSOR_BANK_CODE',
} as const;

/** What a program is checked against besides its own fields. */
export interface ProgramRules {
  /** Sponsor bank codes that have a connector (BANK_CONNECTORS); unset: not checked. */
  bankCodes?: ReadonlySet<string>;
}

/** A program whose bank has no connector could never be paid: refuse it when it is configured, not mid-batch. */
function checkBankCode(code: string | undefined, rules: ProgramRules) {
  if (code === undefined || !rules.bankCodes || rules.bankCodes.has(code)) return;
  throw new ProgramError(
    ProgramErrorCode.UNKNOWN_SPONSOR_BANK_CODE,
    400,
    `No bank connector is configured for sponsor bank code ${code} (BANK_CONNECTORS has ${[...rules.bankCodes].join(', ')})`,
  );
}

/** A refused program change, with the HTTP status the admin API answers. */
export class ProgramError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: 400 | 404 | 409,
    message: string,
  ) {
    super(message);
    this.name = 'ProgramError';
  }
}

export const MNEMONIC_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';
/** MT940 :25: account identification is at most 35 characters. */
export const ACCOUNT_PATTERN = '^\\S{1,35}$';

const COLUMNS = `benefit_program_mnemonic, benefit_program_name, funding_org_code, funding_org_name,
  sponsor_bank_code, sponsor_bank_branch_code, sponsor_bank_account_number,
  trim(sponsor_bank_account_currency) AS sponsor_bank_account_currency, id_mapper_resolution_required,
  created_at, updated_at`;

interface Row extends Omit<Program, 'created_at' | 'updated_at'> {
  created_at: Date;
  updated_at: Date;
}

function toProgram(row: Row): Program {
  return { ...row, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

function checkCurrency(code: string | undefined) {
  if (code !== undefined && !isCurrencyCode(code)) {
    throw new ProgramError(
      ProgramErrorCode.INVALID_CURRENCY_CODE,
      400,
      `${JSON.stringify(code)} is not an active ISO 4217 currency code`,
    );
  }
}

async function checkAccountFree(db: Queryable, account: string, except?: string) {
  const { rows } = await db.query<{ benefit_program_mnemonic: string }>(
    `SELECT benefit_program_mnemonic FROM benefit_program
     WHERE sponsor_bank_account_number = $1 AND benefit_program_mnemonic IS DISTINCT FROM $2`,
    [account, except ?? null],
  );
  if (rows[0]) {
    throw new ProgramError(
      ProgramErrorCode.DUPLICATE_FUNDING_ACCOUNT,
      409,
      `The funding account is already used by program ${rows[0].benefit_program_mnemonic}`,
    );
  }
}

/** Maps a unique violation that slipped past the checks (a concurrent insert) to its clear error. */
function uniqueViolation(error: unknown): never {
  const e = error as { code?: string; constraint?: string; detail?: string; message?: string };
  if (e?.code === '23505') {
    const where = `${e.constraint ?? ''} ${e.detail ?? ''} ${e.message ?? ''}`;
    if (where.includes('sponsor_bank_account_number')) {
      throw new ProgramError(
        ProgramErrorCode.DUPLICATE_FUNDING_ACCOUNT,
        409,
        'The funding account is already used by another program',
      );
    }
    throw new ProgramError(
      ProgramErrorCode.DUPLICATE_PROGRAM_MNEMONIC,
      409,
      'A program with this mnemonic exists already',
    );
  }
  throw error;
}

// The patterns are strings for the routes' JSON schemas; compiled once here for the service's own checks.
const MNEMONIC = new RegExp(MNEMONIC_PATTERN);
const ACCOUNT = new RegExp(ACCOUNT_PATTERN);

function checkFormats(mnemonic: string | undefined, account: string | undefined) {
  if (mnemonic !== undefined && !MNEMONIC.test(mnemonic)) {
    throw new ProgramError(
      ProgramErrorCode.INVALID_REQUEST,
      400,
      'benefit_program_mnemonic must be 1-64 letters, digits or _ . - starting with a letter or digit',
    );
  }
  if (account !== undefined && !ACCOUNT.test(account)) {
    throw new ProgramError(
      ProgramErrorCode.INVALID_REQUEST,
      400,
      'sponsor_bank_account_number must be 1-35 characters without spaces (as in MT940 :25:)',
    );
  }
}

export async function createProgram(
  db: Queryable,
  input: ProgramInput,
  rules: ProgramRules = {},
): Promise<Program> {
  checkFormats(input.benefit_program_mnemonic, input.sponsor_bank_account_number);
  checkCurrency(input.sponsor_bank_account_currency);
  checkBankCode(input.sponsor_bank_code, rules);
  const existing = await getProgram(db, input.benefit_program_mnemonic);
  if (existing) {
    throw new ProgramError(
      ProgramErrorCode.DUPLICATE_PROGRAM_MNEMONIC,
      409,
      `Program ${input.benefit_program_mnemonic} exists already`,
    );
  }
  await checkAccountFree(db, input.sponsor_bank_account_number);
  try {
    const { rows } = await db.query<Row>(
      `INSERT INTO benefit_program (benefit_program_mnemonic, benefit_program_name, funding_org_code,
         funding_org_name, sponsor_bank_code, sponsor_bank_branch_code, sponsor_bank_account_number,
         sponsor_bank_account_currency, id_mapper_resolution_required)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
      [
        input.benefit_program_mnemonic,
        input.benefit_program_name,
        input.funding_org_code,
        input.funding_org_name,
        input.sponsor_bank_code,
        input.sponsor_bank_branch_code ?? null,
        input.sponsor_bank_account_number,
        input.sponsor_bank_account_currency,
        input.id_mapper_resolution_required ?? true,
      ],
    );
    return toProgram(rows[0]!);
  } catch (error) {
    uniqueViolation(error);
  }
}

const PATCHABLE = [
  'benefit_program_name',
  'funding_org_code',
  'funding_org_name',
  'sponsor_bank_code',
  'sponsor_bank_branch_code',
  'sponsor_bank_account_number',
  'sponsor_bank_account_currency',
  'id_mapper_resolution_required',
] as const;

/**
 * Changes the given fields. The currency of a program that already has envelopes cannot change: their
 * amounts were checked against it.
 */
export async function updateProgram(
  db: Queryable,
  mnemonic: string,
  patch: ProgramPatch,
  rules: ProgramRules = {},
): Promise<Program> {
  const current = await getProgram(db, mnemonic);
  if (!current) throw notFound(mnemonic);
  checkFormats(undefined, patch.sponsor_bank_account_number);
  checkCurrency(patch.sponsor_bank_account_currency);
  checkBankCode(patch.sponsor_bank_code, rules);
  if (patch.sponsor_bank_account_number !== undefined) {
    await checkAccountFree(db, patch.sponsor_bank_account_number, mnemonic);
  }
  if (
    patch.sponsor_bank_account_currency !== undefined &&
    patch.sponsor_bank_account_currency !== current.sponsor_bank_account_currency
  ) {
    const { rows } = await db.query(
      'SELECT 1 FROM disbursement_envelope WHERE benefit_program_mnemonic = $1 LIMIT 1',
      [mnemonic],
    );
    if (rows.length > 0) {
      throw new ProgramError(
        ProgramErrorCode.PROGRAM_HAS_ENVELOPES,
        409,
        'The currency of a program with envelopes cannot change',
      );
    }
  }
  const fields = PATCHABLE.filter((f) => patch[f] !== undefined);
  if (fields.length === 0) return current;
  const sets = fields.map((f, i) => `${f} = $${i + 2}`).join(', ');
  try {
    const { rows } = await db.query<Row>(
      `UPDATE benefit_program SET ${sets}, updated_at = now() WHERE benefit_program_mnemonic = $1
       RETURNING ${COLUMNS}`,
      [mnemonic, ...fields.map((f) => patch[f])],
    );
    if (!rows[0]) throw notFound(mnemonic);
    return toProgram(rows[0]);
  } catch (error) {
    if (error instanceof ProgramError) throw error;
    uniqueViolation(error);
  }
}

export async function getProgram(db: Queryable, mnemonic: string): Promise<Program | null> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM benefit_program WHERE benefit_program_mnemonic = $1`,
    [mnemonic],
  );
  return rows[0] ? toProgram(rows[0]) : null;
}

export async function listPrograms(db: Queryable): Promise<Program[]> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM benefit_program ORDER BY benefit_program_mnemonic`,
  );
  return rows.map(toProgram);
}

function notFound(mnemonic: string) {
  return new ProgramError(ProgramErrorCode.PROGRAM_NOT_FOUND, 404, `No program ${mnemonic}`);
}

/** A program's configuration as the audit trail keeps it (no timestamps; nothing about beneficiaries). */
function auditFields(p: Program): Record<string, unknown> {
  const { created_at: _created, updated_at: _updated, ...fields } = p;
  return fields;
}

/** Creates a program and its audit row in one transaction (the admin API and the `program` command). */
export async function addProgram(db: Db, input: ProgramInput, rules: ProgramRules, actor: Actor) {
  return db.transaction(async (tx) => {
    const program = await createProgram(tx, input, rules);
    await recordAudit(tx, actor, {
      action: 'create_program',
      program: program.benefit_program_mnemonic,
      targetIds: [program.benefit_program_mnemonic],
      summary: { program: auditFields(program) },
    });
    return program;
  });
}

/** Updates a program and records the fields it changed (before and after) in one transaction. */
export async function changeProgram(
  db: Db,
  mnemonic: string,
  patch: ProgramPatch,
  rules: ProgramRules,
  actor: Actor,
) {
  return db.transaction(async (tx) => {
    const before = await getProgram(tx, mnemonic);
    const after = await updateProgram(tx, mnemonic, patch, rules);
    const old = before ? auditFields(before) : {};
    const changed: Record<string, { from: unknown; to: unknown }> = {};
    for (const [key, value] of Object.entries(auditFields(after))) {
      if (old[key] !== value) changed[key] = { from: old[key] ?? null, to: value };
    }
    if (Object.keys(changed).length > 0) {
      await recordAudit(tx, actor, {
        action: 'update_program',
        program: mnemonic,
        targetIds: [mnemonic],
        summary: { changed },
      });
    }
    return after;
  });
}
