// Accounts: opening, depositing (admin), and reading them back.

import { fitsStatementAmount } from '../../bank/example/layout.js';
import type { Db, Queryable } from '../../db/index.js';
import { currencyExponent, isCurrencyCode, minorUnitsOf, toMinorUnits } from '../../money/index.js';
import { businessDay, money, positiveMinor, type Refusal, refuse } from './common.js';
import type { StatementFormat } from './statements.js';

export const ACCOUNT_STATUSES = ['ACTIVE', 'DORMANT', 'CLOSED', 'DECEASED'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

export interface AccountView {
  account_number: string;
  currency: string;
  holder_name: string;
  kind: 'CUSTOMER' | 'SETTLEMENT';
  status: AccountStatus;
  book_balance: string;
  available_balance: string;
  blocked_amount: string;
  statements_enabled: boolean;
  last_statement_number: number;
  /** This account's statement format; null: the bank's (EXAMPLE_BANK_STATEMENT_FORMAT). */
  statement_format: StatementFormat | null;
  /** camt053 batch booking for this account; null: the bank's (EXAMPLE_BANK_BATCH_BOOKING). */
  batch_booking: boolean | null;
}

/** A row as read: the same fields, the amounts still in the database's own numeric text. */
type AccountRow = AccountView;

const COLUMNS = `account_number, currency, holder_name, kind, status, book_balance::text, available_balance::text,
  blocked_amount::text, statements_enabled, last_statement_number, statement_format, batch_booking`;

function view(row: AccountRow): AccountView {
  return {
    ...row,
    book_balance: money(row.book_balance, row.currency),
    available_balance: money(row.available_balance, row.currency),
    blocked_amount: money(row.blocked_amount, row.currency),
  };
}

export interface OpenAccountInput {
  accountNumber?: string;
  currency: string;
  holderName?: string;
  status?: AccountStatus;
  openingBalance?: string;
  /** Deliver statements of this account to the bridge (set automatically once funds are blocked on it). */
  statementsEnabled?: boolean;
  statementFormat?: StatementFormat | null;
  batchBooking?: boolean | null;
}

export async function openAccount(
  db: Db,
  input: OpenAccountInput,
  now: Date,
): Promise<{ ok: true; account: AccountView } | Refusal> {
  if (!isCurrencyCode(input.currency))
    return refuse(400, 'INVALID_CURRENCY', `Unknown currency ${input.currency}`);
  const opening = input.openingBalance ?? '0';
  const openingMinor = opening === '0' ? 0n : positiveMinor(opening, input.currency);
  if (openingMinor === null)
    return refuse(400, 'INVALID_AMOUNT', `The opening balance is not a valid ${input.currency} amount`);
  if (!fitsStatement(openingMinor, input.currency)) return tooLarge(input.currency);
  if (input.accountNumber !== undefined && !/^[A-Za-z0-9._-]{1,34}$/.test(input.accountNumber))
    return refuse(
      400,
      'INVALID_ACCOUNT_NUMBER',
      'An account number is 1..34 letters, digits, ".", "_" or "-"',
    );
  if (input.accountNumber?.startsWith('SETTLEMENT-'))
    return refuse(400, 'INVALID_ACCOUNT_NUMBER', 'SETTLEMENT- account numbers are reserved');
  return db.transaction(async (tx) => {
    const number =
      input.accountNumber ??
      (
        await tx.query<{ n: string }>(
          `SELECT 'EB' || lpad(nextval('example_bank.reference_seq')::text, 10, '0') AS n`,
        )
      ).rows[0]!.n;
    const inserted = await tx.query(
      `INSERT INTO example_bank.account (account_number, currency, holder_name, status, statements_enabled,
         statement_format, batch_booking)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (account_number) DO NOTHING RETURNING account_number`,
      [
        number,
        input.currency,
        input.holderName ?? '',
        input.status ?? 'ACTIVE',
        input.statementsEnabled ?? false,
        input.statementFormat ?? null,
        input.batchBooking ?? null,
      ],
    );
    if (inserted.rowCount === 0) return refuse(409, 'ACCOUNT_EXISTS', `Account ${number} already exists`);
    if (openingMinor > 0n) await credit(tx, number, opening, 'OPENING BALANCE', now);
    const account = await readAccount(tx, number);
    return { ok: true as const, account: account! };
  });
}

/** Credits money from outside the bank (a deposit): a C entry and a higher book balance. */
export async function deposit(
  db: Db,
  accountNumber: string,
  amount: string,
  now: Date,
): Promise<{ ok: true; account: AccountView } | Refusal> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ currency: string; kind: string }>(
      'SELECT currency, kind FROM example_bank.account WHERE account_number = $1 FOR UPDATE',
      [accountNumber],
    );
    const account = rows[0];
    if (account?.kind !== 'CUSTOMER') return refuse(404, 'ACCOUNT_NOT_FOUND', 'No such customer account');
    const minor = positiveMinor(amount, account.currency);
    if (minor === null) return refuse(400, 'INVALID_AMOUNT', `Not a positive ${account.currency} amount`);
    const before = await readAccount(tx, accountNumber);
    const book = toMinorUnits(before!.book_balance, currencyExponent(account.currency)!);
    if (!book.ok || !fitsStatement(book.minor + minor, account.currency)) return tooLarge(account.currency);
    await credit(tx, accountNumber, amount, 'DEPOSIT', now);
    return { ok: true as const, account: (await readAccount(tx, accountNumber))! };
  });
}

/** The bank's statements must be able to write every amount and balance (MT940: 15 characters). */
const fitsStatement = (minor: bigint, currency: string) => fitsStatementAmount(minor, minorUnitsOf(currency));

const tooLarge = (currency: string) =>
  refuse(400, 'AMOUNT_TOO_LARGE', `The resulting ${currency} balance is too large for the bank's statements`);

async function credit(tx: Queryable, accountNumber: string, amount: string, description: string, now: Date) {
  await tx.query(
    `INSERT INTO example_bank.ledger_entry (account_number, mark, amount, value_date, transaction_type, description)
     VALUES ($1, 'C', $2::numeric, $3::date, 'NMSC', $4)`,
    [accountNumber, amount, businessDay(now), description],
  );
  await tx.query(
    'UPDATE example_bank.account SET book_balance = book_balance + $2::numeric WHERE account_number = $1',
    [accountNumber, amount],
  );
}

/**
 * Changes how an account's statements are written from its next statement on; a field left out keeps its
 * value, null returns it to the bank's setting.
 */
export async function setStatementSettings(
  db: Db,
  accountNumber: string,
  change: { statementFormat?: StatementFormat | null; batchBooking?: boolean | null },
): Promise<{ ok: true; account: AccountView } | Refusal> {
  const updated = await db.query(
    `UPDATE example_bank.account
     SET statement_format = CASE WHEN $2::boolean THEN $3::text ELSE statement_format END,
         batch_booking = CASE WHEN $4::boolean THEN $5::boolean ELSE batch_booking END
     WHERE account_number = $1 AND kind = 'CUSTOMER'`,
    [
      accountNumber,
      change.statementFormat !== undefined,
      change.statementFormat ?? null,
      change.batchBooking !== undefined,
      change.batchBooking ?? null,
    ],
  );
  if (updated.rowCount === 0) return refuse(404, 'ACCOUNT_NOT_FOUND', 'No such customer account');
  return { ok: true, account: (await readAccount(db, accountNumber))! };
}

export async function readAccount(db: Queryable, accountNumber: string): Promise<AccountView | null> {
  const { rows } = await db.query<AccountRow>(
    `SELECT ${COLUMNS} FROM example_bank.account WHERE account_number = $1`,
    [accountNumber],
  );
  return rows[0] ? view(rows[0]) : null;
}

export async function listAccounts(db: Queryable): Promise<AccountView[]> {
  const { rows } = await db.query<AccountRow>(
    `SELECT ${COLUMNS} FROM example_bank.account ORDER BY kind, account_number`,
  );
  return rows.map(view);
}

export interface BlockView {
  block_reference: string;
  currency: string;
  amount: string;
  amount_committed: string;
  amount_released: string;
  idempotency_key: string;
}

export async function listBlocks(db: Queryable, accountNumber: string): Promise<BlockView[]> {
  const { rows } = await db.query<BlockView>(
    `SELECT block_reference, currency, amount::text, amount_committed::text, amount_released::text, idempotency_key
     FROM example_bank.fund_block WHERE account_number = $1 ORDER BY created_at, block_reference`,
    [accountNumber],
  );
  return rows.map((b) => ({
    ...b,
    amount: money(b.amount, b.currency),
    amount_committed: money(b.amount_committed, b.currency),
    amount_released: money(b.amount_released, b.currency),
  }));
}
