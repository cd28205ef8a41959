// Payout channels: which channel pays each disbursement, and the programs' wallet channels themselves.
//
// The rule, stated once: a disbursement whose resolved financial address is a MOBILE_WALLET of a provider the
// program has a channel for (program_payout_channel, provider codes compared without case) is paid through
// that wallet channel; every other disbursement goes to the program's sponsor bank. The SQL below is the only
// place the rule is written; shipping, funds and status all use it.
import { accountIdProblem } from '../bank/gsma/connector.js';
import type { Queryable } from '../db/index.js';

/** SQL: the wallet provider of disbursement `d` (resolution `m`, program `e`), or NULL for the sponsor bank. */
export const CHANNEL_OF = `(SELECT c.provider_code FROM program_payout_channel c
   WHERE c.benefit_program_mnemonic = e.benefit_program_mnemonic
     AND m.mapper_resolved_fa_type = 'MOBILE_WALLET'
     AND upper(c.provider_code) = upper(m.mobile_wallet_provider))`;

/**
 * SQL: the channel that pays (or paid) disbursement `d`: the provider code of the wallet channel it was shipped
 * on, else by the rule above once its address is known ('BANK' for the sponsor bank); NULL while resolution is
 * pending or failed. Needs the joins of PAYOUT_CHANNEL_JOINS after `disbursement d`.
 */
export const PAYOUT_CHANNEL = `CASE
     WHEN w.disbursement_id IS NOT NULL THEN w.provider_code
     WHEN m.resolved OR NOT p.id_mapper_resolution_required THEN coalesce(${CHANNEL_OF}, 'BANK')
   END`;
export const PAYOUT_CHANNEL_JOINS = `
  JOIN disbursement_envelope e ON e.disbursement_envelope_id = d.disbursement_envelope_id
  JOIN benefit_program p ON p.benefit_program_mnemonic = e.benefit_program_mnemonic
  LEFT JOIN mapper_resolution_details m ON m.disbursement_id = d.disbursement_id
  LEFT JOIN wallet_payment w ON w.disbursement_id = d.disbursement_id`;

export interface WalletAssignment {
  disbursementId: string;
  providerCode: string;
  debitPartyAccount: string;
  channelCurrency: string;
  msisdn: string | null;
}

/**
 * The payable disbursements `d` that go to a wallet channel `c` of their program (resolved `m` to a mobile
 * wallet of a provider the program has a channel at, not cancelled): the FROM and WHERE that the batch split and
 * the funds check share. The caller adds its own `AND ...` condition.
 */
export const WALLET_CHANNEL_DISBURSEMENTS = `
       FROM disbursement d
       JOIN mapper_resolution_details m ON m.disbursement_id = d.disbursement_id AND m.resolved
       JOIN disbursement_envelope e ON e.disbursement_envelope_id = d.disbursement_envelope_id
       JOIN program_payout_channel c ON c.benefit_program_mnemonic = e.benefit_program_mnemonic
                                    AND upper(c.provider_code) = upper(m.mobile_wallet_provider)
      WHERE d.cancellation_status = 'Not_Cancelled' AND m.mapper_resolved_fa_type = 'MOBILE_WALLET'`;

/** The disbursements of one bank batch that go to a wallet channel, with the channel (one query). */
export async function walletAssignments(db: Queryable, bankBatchId: string): Promise<WalletAssignment[]> {
  const { rows } = await db.query<WalletAssignment>(
    `SELECT d.disbursement_id AS "disbursementId", c.provider_code AS "providerCode",
            c.debit_party_account AS "debitPartyAccount", trim(c.currency) AS "channelCurrency",
            m.mobile_number AS msisdn
       ${WALLET_CHANNEL_DISBURSEMENTS}
        AND d.bank_disbursement_batch_id = $1
      ORDER BY d.disbursement_id`,
    [bankBatchId],
  );
  return rows;
}

export interface PayoutChannel {
  program: string;
  providerCode: string;
  debitPartyAccount: string;
  currency: string;
}

export class ChannelError extends Error {
  constructor(
    readonly code:
      | 'channel.program.unknown'
      | 'channel.account.invalid'
      | 'channel.currency.invalid'
      | 'channel.provider.invalid',
    message: string,
  ) {
    super(message);
    this.name = 'ChannelError';
  }
}

/** Adds (or replaces) a program's channel at one provider. Throws ChannelError with a code for bad input. */
export async function setPayoutChannel(db: Queryable, c: PayoutChannel): Promise<PayoutChannel> {
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(c.providerCode))
    throw new ChannelError(
      'channel.provider.invalid',
      `provider code ${JSON.stringify(c.providerCode)} may only hold letters, digits, '_', '.', '-'`,
    );
  const problem = accountIdProblem(c.debitPartyAccount);
  if (problem) throw new ChannelError('channel.account.invalid', `debit party account ${problem}`);
  if (!/^[A-Z]{3}$/.test(c.currency))
    throw new ChannelError('channel.currency.invalid', 'currency must be an ISO 4217 code such as KES');
  const { rows } = await db.query<{ currency: string }>(
    `SELECT trim(sponsor_bank_account_currency) AS currency FROM benefit_program WHERE benefit_program_mnemonic = $1`,
    [c.program],
  );
  if (!rows[0]) throw new ChannelError('channel.program.unknown', `no program ${c.program}`);
  await db.query(
    `INSERT INTO program_payout_channel (benefit_program_mnemonic, provider_code, debit_party_account, currency)
     VALUES ($1, $2, $3, $4)
     ON CONFLICT (benefit_program_mnemonic, provider_code) DO UPDATE
       SET debit_party_account = EXCLUDED.debit_party_account, currency = EXCLUDED.currency, updated_at = now()`,
    [c.program, c.providerCode, c.debitPartyAccount, c.currency],
  );
  return c;
}

export async function removePayoutChannel(
  db: Queryable,
  program: string,
  providerCode: string,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `DELETE FROM program_payout_channel WHERE benefit_program_mnemonic = $1 AND upper(provider_code) = upper($2)`,
    [program, providerCode],
  );
  return (rowCount ?? 0) > 0;
}

export async function listPayoutChannels(db: Queryable, program: string): Promise<PayoutChannel[]> {
  const { rows } = await db.query<PayoutChannel>(
    `SELECT benefit_program_mnemonic AS program, provider_code AS "providerCode",
            debit_party_account AS "debitPartyAccount", trim(currency) AS currency
       FROM program_payout_channel WHERE benefit_program_mnemonic = $1 ORDER BY provider_code`,
    [program],
  );
  return rows;
}
