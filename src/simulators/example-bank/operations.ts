// The three calls a sponsor bank answers for the bridge: check_funds, block_funds, initiate_payment.
// initiate_payment only validates and stores; the processor pays later.
import { fitsStatementAmount, isValidPaymentReference } from '../../bank/example/layout.js';
import type { Db } from '../../db/index.js';
import { isCurrencyCode } from '../../money/index.js';
import {
  exponentOf,
  fromMinor,
  minor,
  type PaymentProblem,
  positiveMinor,
  type Refusal,
  RefusalError,
  refuse,
} from './common.js';

interface AccountState {
  currency: string;
  kind: string;
  available_balance: string;
}

export async function checkFunds(
  db: Db,
  accountNumber: string,
  currency: string,
  amount: string,
): Promise<{ ok: true; status: 'FUNDS_AVAILABLE' | 'FUNDS_NOT_AVAILABLE' } | Refusal> {
  const { rows } = await db.query<AccountState>(
    `SELECT currency, kind, available_balance::text FROM example_bank.account WHERE account_number = $1`,
    [accountNumber],
  );
  const account = rows[0];
  const problem = accountProblem(account, currency, amount);
  if (problem) return problem;
  const enough = minor(account!.available_balance, currency) >= positiveMinor(amount, currency)!;
  return { ok: true, status: enough ? 'FUNDS_AVAILABLE' : 'FUNDS_NOT_AVAILABLE' };
}

function accountProblem(account: AccountState | undefined, currency: string, amount: string): Refusal | null {
  if (account?.kind !== 'CUSTOMER') return refuse(404, 'ACCOUNT_NOT_FOUND', 'No such account');
  if (account.currency !== currency)
    return refuse(422, 'CURRENCY_MISMATCH', `The account is held in ${account.currency}, not ${currency}`);
  if (positiveMinor(amount, currency) === null)
    return refuse(400, 'INVALID_AMOUNT', `Not a positive ${currency} amount with at most its minor units`);
  return null;
}

export interface BlockAnswer {
  ok: true;
  blockReference: string;
  /** True when the idempotency key had already placed this block. */
  duplicate: boolean;
}

/** Blocks `amount` on the account once per idempotency key; a repeat answers with the block already placed. */
export async function blockFunds(
  db: Db,
  input: { accountNumber: string; currency: string; amount: string; idempotencyKey: string },
): Promise<BlockAnswer | Refusal> {
  const { accountNumber, currency, amount, idempotencyKey } = input;
  return db.transaction(async (tx) => {
    const { rows } = await tx.query<AccountState>(
      `SELECT currency, kind, available_balance::text FROM example_bank.account WHERE account_number = $1 FOR UPDATE`,
      [accountNumber],
    );
    const account = rows[0];
    const problem = accountProblem(account, currency, amount);
    if (problem) return problem;
    const existing = await tx.query<{
      block_reference: string;
      account_number: string;
      currency: string;
      amount: string;
    }>(
      `SELECT block_reference, account_number, currency, amount::text FROM example_bank.fund_block
       WHERE idempotency_key = $1`,
      [idempotencyKey],
    );
    const prior = existing.rows[0];
    if (prior) {
      if (
        prior.account_number !== accountNumber ||
        prior.currency !== currency ||
        minor(prior.amount, currency) !== positiveMinor(amount, currency)
      )
        return refuse(
          409,
          'IDEMPOTENCY_CONFLICT',
          'This idempotency key already blocked a different amount or account',
        );
      return { ok: true as const, blockReference: prior.block_reference, duplicate: true };
    }
    if (minor(account!.available_balance, currency) < positiveMinor(amount, currency)!)
      return refuse(422, 'INSUFFICIENT_FUNDS', 'The available balance is lower than the amount to block');
    const inserted = await tx.query<{ block_reference: string }>(
      `INSERT INTO example_bank.fund_block (block_reference, account_number, currency, amount, idempotency_key)
       VALUES ('BLK' || lpad(nextval('example_bank.reference_seq')::text, 10, '0'), $1, $2, $3::numeric, $4)
       RETURNING block_reference`,
      [accountNumber, currency, amount, idempotencyKey],
    );
    await tx.query(
      `UPDATE example_bank.account SET blocked_amount = blocked_amount + $2::numeric, statements_enabled = true
       WHERE account_number = $1`,
      [accountNumber, amount],
    );
    return { ok: true as const, blockReference: inserted.rows[0]!.block_reference, duplicate: false };
  });
}

/** One payment as it arrives on the wire (snake_case, amounts as decimal strings). */
export interface WirePayment {
  disbursement_id: string;
  remitting_account: string;
  remitting_account_currency: string;
  payment_amount: string;
  funds_blocked_reference_number: string;
  beneficiary_id: string;
  beneficiary_name: string;
  beneficiary_account?: string | null;
  beneficiary_account_currency?: string | null;
  beneficiary_account_type: string;
  beneficiary_bank_code?: string | null;
  beneficiary_branch_code?: string | null;
  beneficiary_mobile_wallet_provider?: string | null;
  beneficiary_phone_no?: string | null;
  beneficiary_email?: string | null;
  beneficiary_email_wallet_provider?: string | null;
  disbursement_narrative: string;
  benefit_program_mnemonic: string;
  cycle_code_mnemonic: string;
  payment_date?: string | null;
}

export interface PaymentAnswer {
  ok: true;
  batchId: string;
  /** Payments stored by this call (or, for a repeated batch, by the first one). */
  accepted: number;
  /** Payments whose reference the account had already received, not stored again. */
  duplicates: number;
  duplicateBatch: boolean;
  /** Payments of the batch the bank will not pay, each with its code (the same list when the batch repeats). */
  refused: PaymentProblem[];
}

interface BlockState {
  block_reference: string;
  account_number: string;
  currency: string;
  amount: string;
  amount_committed: string;
}

/**
 * Accepts a batch, payment by payment: a payment must have a valid reference and amount (one the statement
 * can write), draw on an existing block of its remitting account in the block's currency, and fit what is
 * left of the block (taken in batch order); one that does not is refused on its own, with its code, and the
 * others are stored. A batch id seen before is acknowledged with its first answer (the same refusals) without
 * storing anything; a payment reference the account already has is skipped.
 */
export async function initiatePayment(
  db: Db,
  batchId: string,
  payments: WirePayment[],
): Promise<PaymentAnswer | Refusal> {
  try {
    return await db.transaction(async (tx) => {
      const fresh = await tx.query(
        `INSERT INTO example_bank.payment_batch (batch_id, payment_count, total_amount) VALUES ($1, 0, 0)
         ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id`,
        [batchId],
      );
      if (fresh.rowCount === 0) {
        const { rows } = await tx.query<{
          payment_count: number;
          duplicate_count: number;
          refusals: PaymentProblem[];
        }>(
          'SELECT payment_count, duplicate_count, refusals FROM example_bank.payment_batch WHERE batch_id = $1',
          [batchId],
        );
        return {
          ok: true as const,
          batchId,
          accepted: rows[0]!.payment_count,
          duplicates: rows[0]!.duplicate_count,
          duplicateBatch: true,
          refused: rows[0]!.refusals ?? [],
        };
      }

      const problems: PaymentProblem[] = [];
      const flag = (index: number, code: string) =>
        problems.push({ index, disbursement_id: payments[index]?.disbursement_id ?? null, error_code: code });
      const amounts: bigint[] = [];
      const seen = new Set<string>();
      payments.forEach((p, i) => {
        const currency = p.remitting_account_currency;
        const amount = isCurrencyCode(currency) ? positiveMinor(p.payment_amount, currency) : null;
        amounts.push(amount ?? 0n);
        const key = `${p.remitting_account}\u0000${p.disbursement_id}`;
        if (!isValidPaymentReference(p.disbursement_id)) flag(i, 'INVALID_PAYMENT_REFERENCE');
        else if (seen.has(key)) flag(i, 'DUPLICATE_IN_BATCH');
        else if (!isCurrencyCode(currency)) flag(i, 'INVALID_CURRENCY');
        else if (amount === null) flag(i, 'INVALID_AMOUNT');
        else if (!fitsStatementAmount(amount, exponentOf(currency))) flag(i, 'AMOUNT_TOO_LARGE');
        else if ((p.beneficiary_account_currency ?? currency) !== currency) flag(i, 'CURRENCY_MISMATCH');
        seen.add(key);
      });

      // Lock the blocks in a fixed order so that concurrent batches on the same blocks queue up.
      const blockRefs = [...new Set(payments.map((p) => p.funds_blocked_reference_number))].sort();
      const blocks = new Map(
        (
          await tx.query<BlockState>(
            `SELECT block_reference, account_number, currency, amount::text, amount_committed::text
             FROM example_bank.fund_block WHERE block_reference = ANY($1::text[])
             ORDER BY block_reference FOR UPDATE`,
            [blockRefs],
          )
        ).rows.map((b) => [b.block_reference, b]),
      );
      const known = new Set(
        (
          await tx.query<{ account_number: string; payment_reference: string }>(
            `SELECT p.account_number, p.payment_reference
             FROM unnest($1::text[], $2::text[]) AS w(account_number, payment_reference)
             JOIN example_bank.payment p USING (account_number, payment_reference)`,
            [payments.map((p) => p.remitting_account), payments.map((p) => p.disbursement_id)],
          )
        ).rows.map((r) => `${r.account_number}\u0000${r.payment_reference}`),
      );

      const flagged = new Set(problems.map((p) => p.index));
      const take = new Map<string, bigint>();
      const storeIdx: number[] = [];
      const blockProblem = (p: WirePayment, block: BlockState | undefined): string | null => {
        if (!block) return 'BLOCK_NOT_FOUND';
        if (block.account_number !== p.remitting_account) return 'BLOCK_ACCOUNT_MISMATCH';
        if (block.currency !== p.remitting_account_currency) return 'CURRENCY_MISMATCH';
        return null;
      };
      for (let i = 0; i < payments.length; i++) {
        const p = payments[i]!;
        if (flagged.has(i)) continue;
        const block = blocks.get(p.funds_blocked_reference_number);
        const problem = blockProblem(p, block);
        if (problem) {
          flag(i, problem);
          continue;
        }
        if (known.has(`${p.remitting_account}\u0000${p.disbursement_id}`)) continue;
        // Taken in batch order: the payment that no longer fits what is left of its block is refused.
        const ref = block!.block_reference;
        const remaining =
          minor(block!.amount, block!.currency) - minor(block!.amount_committed, block!.currency);
        const taken = take.get(ref) ?? 0n;
        if (taken + amounts[i]! > remaining) {
          flag(i, 'BLOCK_EXCEEDED');
          continue;
        }
        take.set(ref, taken + amounts[i]!);
        storeIdx.push(i);
      }
      problems.sort((a, b) => a.index - b.index);

      const rows = storeIdx.map((i) => payments[i]!);
      const col = (f: (p: WirePayment) => string | null | undefined) => rows.map((p) => f(p) ?? null);
      await tx.query(
        `INSERT INTO example_bank.payment (batch_id, account_number, payment_reference, block_reference, currency,
           amount, beneficiary_id, beneficiary_name, beneficiary_account_type, beneficiary_account,
           beneficiary_bank_code, beneficiary_branch_code, beneficiary_phone_no, beneficiary_email,
           beneficiary_wallet_provider, narrative, program_mnemonic, cycle_code, payment_date)
         SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::text[],
           $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[],
           $16::text[], $17::text[], $18::text[], $19::date[])`,
        [
          batchId,
          col((p) => p.remitting_account),
          col((p) => p.disbursement_id),
          col((p) => p.funds_blocked_reference_number),
          col((p) => p.remitting_account_currency),
          storeIdx.map((i) => fromMinor(amounts[i]!, payments[i]!.remitting_account_currency)),
          col((p) => p.beneficiary_id),
          col((p) => p.beneficiary_name),
          col((p) => p.beneficiary_account_type),
          col((p) => p.beneficiary_account),
          col((p) => p.beneficiary_bank_code),
          col((p) => p.beneficiary_branch_code),
          col((p) => p.beneficiary_phone_no),
          col((p) => p.beneficiary_email),
          col((p) => p.beneficiary_mobile_wallet_provider ?? p.beneficiary_email_wallet_provider),
          col((p) => p.disbursement_narrative),
          col((p) => p.benefit_program_mnemonic),
          col((p) => p.cycle_code_mnemonic),
          col((p) => p.payment_date),
        ],
      );
      const refs = [...take.keys()];
      await tx.query(
        `UPDATE example_bank.fund_block b SET amount_committed = b.amount_committed + t.amount
         FROM unnest($1::text[], $2::numeric[]) AS t(block_reference, amount)
         WHERE b.block_reference = t.block_reference`,
        [refs, refs.map((r) => fromMinor(take.get(r)!, blocks.get(r)!.currency))],
      );
      const totals = await tx.query<{ total: string }>(
        `SELECT coalesce(sum(amount), 0)::text AS total FROM example_bank.payment WHERE batch_id = $1`,
        [batchId],
      );
      await tx.query(
        `UPDATE example_bank.payment_batch SET payment_count = $2, duplicate_count = $3, total_amount = $4::numeric,
           status = CASE WHEN $2 = 0 THEN 'PROCESSED' ELSE 'ACCEPTED' END,
           processed_at = CASE WHEN $2 = 0 THEN now() END, refusals = $5::jsonb
         WHERE batch_id = $1`,
        [
          batchId,
          rows.length,
          payments.length - rows.length - problems.length,
          totals.rows[0]!.total,
          JSON.stringify(problems),
        ],
      );
      return {
        ok: true as const,
        batchId,
        accepted: rows.length,
        duplicates: payments.length - rows.length - problems.length,
        duplicateBatch: false,
        refused: problems,
      };
    });
  } catch (error) {
    if (error instanceof RefusalError) return error.refusal;
    throw error;
  }
}
