// The provider's accounts: beneficiaries' wallets (found by msisdn or wallet id) and the organisation's
// disbursement accounts, funded by deposits. Every change is set-based and, with more than one row, one
// transaction; money is numeric in the database and a string everywhere else.
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../../db/index.js';
import { currencyExponent, isCurrencyCode } from '../../money/index.js';
import type { AccountKey } from './gsma.js';

export type WalletState = 'active' | 'suspended';
export const WALLET_STATES: readonly WalletState[] = ['active', 'suspended'];

export interface AccountView {
  accountId: string;
  kind: 'wallet' | 'disbursement';
  msisdn: string | null;
  name: string | null;
  currency: string;
  state: WalletState;
  balance: string;
}

export interface WalletInput {
  msisdn: string;
  name?: string | null;
  currency: string;
  state?: WalletState;
}

/** A refusal of an admin call: a code and a message naming the problem. */
export interface AdminRefusal {
  ok: false;
  code: string;
  message: string;
  status: 400 | 404 | 409;
}

export const MSISDN_PATTERN = /^\+?[0-9]{5,15}$/;
const ACCOUNT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The provider that stands behind deposits, as the debit party of a funding movement. */
export const PROVIDER_PARTY = [{ key: 'serviceprovider', value: 'g2p-bridge-wallet-simulator' }];

const COLUMNS = `account_id AS "accountId", kind, msisdn, name, currency, state,
  trim_scale(balance)::text AS balance`;

/** The account a GSMA identifier names (msisdn, or the account id that is also the wallet id). */
export async function findAccount(q: Queryable, key: AccountKey, value: string): Promise<AccountView | null> {
  const { rows } = await q.query<AccountView>(
    `SELECT ${COLUMNS} FROM example_wallet.account
      WHERE ($1 = 'msisdn' AND msisdn = $2) OR ($1 <> 'msisdn' AND account_id = $2)`,
    [key, value],
  );
  return rows[0] ?? null;
}

/** A positive amount of at most the currency's decimals (admin input: `1000.00` is fine here). */
export function adminAmountProblem(amount: unknown, currency: string): string | null {
  if (typeof amount !== 'string' || !/^[0-9]{1,18}(\.[0-9]+)?$/.test(amount))
    return 'amount must be a decimal string such as "1000.00"';
  const decimals = amount.includes('.') ? amount.length - amount.indexOf('.') - 1 : 0;
  if (decimals > (currencyExponent(currency) ?? 4)) return `amount has more decimals than ${currency} allows`;
  if (/^0*(\.0*)?$/.test(amount)) return 'amount must be more than zero';
  return null;
}

const refuse = (code: string, message: string, status: AdminRefusal['status'] = 400): AdminRefusal => ({
  ok: false,
  code,
  message,
  status,
});

/** The wallet id of an msisdn: the provider's account id for it. */
export const walletIdOf = (msisdn: string) => `W${msisdn.replace(/^\+/, '')}`;

export async function openWallets(
  db: Db,
  wallets: readonly WalletInput[],
): Promise<{ ok: true; opened: number; existing: string[] } | AdminRefusal> {
  const seen = new Set<string>();
  for (const [i, w] of wallets.entries()) {
    const where = wallets.length > 1 ? `wallet ${i}: ` : '';
    if (typeof w.msisdn !== 'string' || !MSISDN_PATTERN.test(w.msisdn))
      return refuse('INVALID_MSISDN', `${where}msisdn must be 5 to 15 digits, optionally after +`);
    if (!isCurrencyCode(w.currency))
      return refuse('INVALID_CURRENCY', `${where}currency must be an ISO 4217 code`);
    if (w.state !== undefined && !WALLET_STATES.includes(w.state))
      return refuse('INVALID_STATE', `${where}state must be active or suspended`);
    if (seen.has(w.msisdn)) return refuse('DUPLICATE_MSISDN', `${where}msisdn appears twice`);
    seen.add(w.msisdn);
  }
  if (wallets.length === 0) return { ok: true, opened: 0, existing: [] };
  const { rows } = await db.query<{ msisdn: string }>(
    `INSERT INTO example_wallet.account (account_id, kind, msisdn, name, currency, state)
     SELECT id, 'wallet', msisdn, name, currency, state
       FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS w(id, msisdn, name, currency, state)
     ON CONFLICT DO NOTHING
     RETURNING msisdn`,
    [
      wallets.map((w) => walletIdOf(w.msisdn)),
      wallets.map((w) => w.msisdn),
      wallets.map((w) => w.name ?? null),
      wallets.map((w) => w.currency),
      wallets.map((w) => w.state ?? 'active'),
    ],
  );
  const opened = new Set(rows.map((r) => r.msisdn));
  return {
    ok: true,
    opened: opened.size,
    existing: wallets.map((w) => w.msisdn).filter((m) => !opened.has(m)),
  };
}

export async function listAccounts(
  db: Db,
  options: { kind: 'wallet' | 'disbursement'; state?: WalletState; offset?: number; limit?: number },
): Promise<{ accounts: AccountView[]; total: number }> {
  const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
  const params = [options.kind, options.state ?? null];
  const where = `kind = $1 AND ($2::text IS NULL OR state = $2)`;
  const [page, total] = await Promise.all([
    db.query<AccountView>(
      `SELECT ${COLUMNS} FROM example_wallet.account WHERE ${where}
        ORDER BY account_id OFFSET $3 LIMIT $4`,
      [...params, options.offset ?? 0, limit],
    ),
    db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM example_wallet.account WHERE ${where}`, params),
  ]);
  return { accounts: page.rows, total: total.rows[0]!.n };
}

export async function setWalletState(
  db: Db,
  msisdn: string,
  state: WalletState,
): Promise<{ ok: true; account: AccountView } | AdminRefusal> {
  if (!WALLET_STATES.includes(state)) return refuse('INVALID_STATE', 'state must be active or suspended');
  const { rows } = await db.query<AccountView>(
    `UPDATE example_wallet.account SET state = $2, updated_at = now()
      WHERE msisdn = $1 AND kind = 'wallet' RETURNING ${COLUMNS}`,
    [msisdn, state],
  );
  return rows[0]
    ? { ok: true, account: rows[0] }
    : refuse('WALLET_NOT_FOUND', 'No wallet with this msisdn', 404);
}

export async function openDisbursementAccount(
  db: Db,
  input: { accountId: string; currency: string; name?: string | null; openingBalance?: string },
  now: Date,
): Promise<{ ok: true; account: AccountView } | AdminRefusal> {
  if (typeof input.accountId !== 'string' || !ACCOUNT_ID_PATTERN.test(input.accountId))
    return refuse(
      'INVALID_ACCOUNT_ID',
      'accountId must be 1 to 64 letters, digits, dots, dashes or underscores',
    );
  if (!isCurrencyCode(input.currency)) return refuse('INVALID_CURRENCY', 'currency must be an ISO 4217 code');
  const opening = input.openingBalance;
  if (opening !== undefined && !/^0*(\.0*)?$/.test(opening)) {
    const problem = adminAmountProblem(opening, input.currency);
    if (problem) return refuse('INVALID_AMOUNT', `openingBalance: ${problem}`);
  }
  return db.transaction(async (tx) => {
    const inserted = await tx.query(
      `INSERT INTO example_wallet.account (account_id, kind, name, currency)
       VALUES ($1, 'disbursement', $2, $3) ON CONFLICT DO NOTHING`,
      [input.accountId, input.name ?? null, input.currency],
    );
    if (inserted.rowCount === 0)
      return refuse('ACCOUNT_EXISTS', `Account ${input.accountId} exists already`, 409);
    if (opening !== undefined && !/^0*(\.0*)?$/.test(opening))
      await deposit(tx, input.accountId, opening, input.currency, now);
    const account = await findAccount(tx, 'accountid', input.accountId);
    return { ok: true as const, account: account! };
  });
}

/** Funds a disbursement account: a deposit movement, so the account's transactions explain its balance. */
export async function fund(
  db: Db,
  accountId: string,
  amount: string,
  now: Date,
): Promise<{ ok: true; account: AccountView; transactionReference: string } | AdminRefusal> {
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<{ currency: string; kind: string }>(
      'SELECT currency, kind FROM example_wallet.account WHERE account_id = $1 FOR UPDATE',
      [accountId],
    );
    const account = rows[0];
    if (account?.kind !== 'disbursement')
      return refuse('ACCOUNT_NOT_FOUND', `No disbursement account ${accountId}`, 404);
    const problem = adminAmountProblem(amount, account.currency);
    if (problem) return refuse('INVALID_AMOUNT', problem);
    const reference = await deposit(tx, accountId, amount, account.currency, now);
    return {
      ok: true as const,
      account: (await findAccount(tx, 'accountid', accountId))!,
      transactionReference: reference,
    };
  });
}

async function deposit(tx: Queryable, accountId: string, amount: string, currency: string, now: Date) {
  const reference = `DEP-${randomUUID()}`;
  await tx.query(
    `INSERT INTO example_wallet.movement (transaction_reference, type, amount, currency, credit_account,
       debit_party, credit_party, created_at)
     VALUES ($1, 'deposit', $2::numeric, $3, $4, $5::jsonb, $6::jsonb, $7)`,
    [
      reference,
      amount,
      currency,
      accountId,
      JSON.stringify(PROVIDER_PARTY),
      JSON.stringify([{ key: 'accountid', value: accountId }]),
      now,
    ],
  );
  await tx.query(
    `UPDATE example_wallet.account SET balance = balance + $2::numeric, updated_at = now() WHERE account_id = $1`,
    [accountId, amount],
  );
  return reference;
}
