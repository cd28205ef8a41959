// What the funds stages need to know about an envelope: its total in the currency's minor units and the
// program's funding account.
import type { BankConnector } from '../../bank/connector.js';
import type { Queryable } from '../../db/index.js';
import { minorUnitsOf } from '../../money/index.js';
import { bankPart, walletChannelTotals } from '../../payouts/funds.js';
import { connectorFor, isFailure, type StageDeps } from '../deps.js';
import { failure, type StageFailure } from '../runner.js';

export interface EnvelopeFunding {
  envelopeId: string;
  amount: string;
  currency: string;
  account: string;
  bankCode: string;
  blockReference: string | null;
}

export async function loadEnvelopeFunding(
  db: Queryable,
  envelopeId: string,
): Promise<EnvelopeFunding | null> {
  const { rows } = await db.query<{ currency: string }>(
    `SELECT disbursement_currency_code AS currency FROM disbursement_envelope WHERE disbursement_envelope_id = $1`,
    [envelopeId],
  );
  if (!rows[0]) return null;
  const exponent = minorUnitsOf(rows[0].currency.trim());
  const { rows: found } = await db.query<EnvelopeFunding>(
    `SELECT e.disbursement_envelope_id AS "envelopeId",
            round(e.total_disbursement_amount, $2)::text AS amount,
            trim(e.disbursement_currency_code) AS currency,
            p.sponsor_bank_account_number AS account,
            p.sponsor_bank_code AS "bankCode",
            s.funds_blocked_reference_number AS "blockReference"
       FROM disbursement_envelope e
       JOIN benefit_program p USING (benefit_program_mnemonic)
       JOIN disbursement_envelope_batch_status s USING (disbursement_envelope_id)
      WHERE e.disbursement_envelope_id = $1`,
    [envelopeId, exponent],
  );
  // Payout channels: the bank checks and blocks only its part (src/payouts/funds.ts).
  if (found[0])
    found[0].amount = await bankPart(
      db,
      found[0].amount,
      await walletChannelTotals(db, envelopeId),
      exponent,
    );
  return found[0] ?? null;
}

/** What both funds stages start from: the envelope's funding and its sponsor bank's connector. */
export async function fundingWithConnector(
  deps: StageDeps,
  envelopeId: string,
): Promise<{ envelope: EnvelopeFunding; connector: BankConnector } | StageFailure> {
  const envelope = await loadEnvelopeFunding(deps.db, envelopeId);
  if (!envelope) return failure('ENVELOPE_NOT_FOUND', { permanent: true });
  const connector = await connectorFor(deps, envelope.bankCode);
  return isFailure(connector) ? connector : { envelope, connector };
}

/**
 * Cancelled envelopes are never picked up; the schedule date must be reached (`p.today`). Left open on
 * purpose: a stage adds its own conditions on `e` and closes the parenthesis.
 */
export const ENVELOPE_READY = `EXISTS (
  SELECT 1 FROM disbursement_envelope e
   WHERE e.disbursement_envelope_id = q.disbursement_envelope_id
     AND e.cancellation_status = 'Not_Cancelled'
     AND e.disbursement_schedule_date <= p.today`;
