// Shipping a bank batch's wallet parts (the disburse stage calls this). The payments of one bank batch are split
// by channel (./channels.ts): the bank part goes on to the sponsor bank as before; each wallet provider's part
// is one sendBatch (one POST /batchtransactions) under a correlation id derived from the bank batch id and the
// provider, so a retried bank batch re-sends nothing the provider already holds. Every part must be accepted
// (or refused for good) before the batch is recorded shipped; a FAILURE of any part retries the whole bank
// batch, whose other parts are idempotent too.
import type { Payment, PaymentRefusal } from '../bank/connector.js';
import { walletCorrelationId } from '../bank/gsma/connector.js';
import { isConnectorFailure } from '../bank/wallet-connector.js';
import type { Queryable } from '../db/index.js';
import { walletCallbackKey, walletCallbackUrl } from './callbacks.js';
import { walletAssignments } from './channels.js';
import { type PayoutDeps, type PayoutFailure, payoutFailure } from './deps.js';

export type RefusedBy = 'BANK' | 'BRIDGE' | 'WALLET_PROVIDER';

export interface WalletShipment {
  walletBatchId: string;
  providerCode: string;
  debitPartyAccount: string;
  currency: string;
  serverCorrelationId: string | null;
  providerBatchId: string | null;
  payments: Array<{ disbursementId: string; msisdn: string; amount: string }>;
  /** The provider refused the whole batch: its payments end rejected with this code. */
  refused: { errorCategory: string; errorCode: string } | null;
}

export interface SplitShipment {
  bank: Payment[];
  wallets: WalletShipment[];
  /** Payments the bridge or the provider will not pay (never counted shipped). */
  refusals: Array<PaymentRefusal & { by: RefusedBy }>;
}

/** Splits the batch by channel and sends every wallet part; the bank part is left to the caller. */
export async function shipWalletParts(
  deps: PayoutDeps,
  bankBatchId: string,
  payments: Payment[],
  currency: string,
): Promise<SplitShipment | PayoutFailure> {
  const assigned = payments.length ? await walletAssignments(deps.db, bankBatchId) : [];
  if (assigned.length === 0) return { bank: payments, wallets: [], refusals: [] };
  const byId = new Map(payments.map((p) => [p.disbursementId, p]));
  const refusals: SplitShipment['refusals'] = [];
  const parts = new Map<string, WalletShipment>();
  const toWallet = new Set<string>();
  for (const a of assigned) {
    const p = byId.get(a.disbursementId);
    if (!p) continue;
    toWallet.add(a.disbursementId);
    if (a.channelCurrency !== currency) {
      refusals.push({ disbursementId: p.disbursementId, errorCode: 'WALLET_CHANNEL_CURRENCY', by: 'BRIDGE' });
      continue;
    }
    if (!a.msisdn) {
      refusals.push({ disbursementId: p.disbursementId, errorCode: 'WALLET_NO_MSISDN', by: 'BRIDGE' });
      continue;
    }
    const key = a.providerCode.toUpperCase();
    let part = parts.get(key);
    if (!part) {
      part = {
        walletBatchId: walletCorrelationId(bankBatchId, key),
        providerCode: a.providerCode,
        debitPartyAccount: a.debitPartyAccount,
        currency,
        serverCorrelationId: null,
        providerBatchId: null,
        payments: [],
        refused: null,
      };
      parts.set(key, part);
    }
    part.payments.push({ disbursementId: p.disbursementId, msisdn: a.msisdn, amount: p.paymentAmount });
  }
  for (const part of parts.values()) {
    const connector = deps.wallets?.get(part.providerCode);
    if (!connector)
      return payoutFailure(
        'WALLET_PROVIDER_NOT_CONFIGURED',
        `a program channel names wallet provider ${part.providerCode}, which WALLET_PROVIDERS does not`,
      );
    const callback = connector.callbackBaseUrl
      ? walletCallbackUrl(connector.callbackBaseUrl, part.providerCode, await walletCallbackKey(deps.db))
      : null;
    const narrative = new Map(payments.map((p) => [p.disbursementId, p.disbursementNarrative]));
    const result = await connector.sendBatch(
      {
        correlationId: part.walletBatchId,
        debitPartyAccount: part.debitPartyAccount,
        title: `g2p-bridge ${bankBatchId}`,
        payments: part.payments.map((p) => ({
          disbursementId: p.disbursementId,
          msisdn: p.msisdn,
          amount: p.amount,
          currency,
          narrative: narrative.get(p.disbursementId) ?? '',
        })),
      },
      callback,
    );
    if (isConnectorFailure(result))
      return payoutFailure(result.errorCode, `wallet provider ${part.providerCode}: ${result.message ?? ''}`);
    if (result.status === 'REFUSED') {
      part.refused = { errorCategory: result.errorCategory, errorCode: result.errorCode };
      for (const p of part.payments)
        refusals.push({
          disbursementId: p.disbursementId,
          errorCode: result.errorCode,
          by: 'WALLET_PROVIDER',
        });
    } else {
      part.serverCorrelationId = result.serverCorrelationId;
      part.providerBatchId = result.providerBatchId;
    }
    deps.log.info(
      {
        stage: 'disburse',
        batch: bankBatchId,
        walletProvider: part.providerCode,
        payments: part.payments.length,
        outcome: result.status,
        adopted: result.status === 'ACCEPTED' ? result.adopted : undefined,
      },
      'wallet batch sent',
    );
  }
  return {
    bank: payments.filter((p) => !toWallet.has(p.disbursementId)),
    wallets: [...parts.values()],
    refusals,
  };
}

/** Records the wallet batches and their payments, in the transaction that marks the bank batch shipped. */
export async function recordWalletShipments(
  tx: Queryable,
  bankBatchId: string,
  envelopeId: string,
  shipments: WalletShipment[],
): Promise<void> {
  for (const s of shipments) {
    await tx.query(
      `INSERT INTO wallet_batch (wallet_batch_id, bank_disbursement_batch_id, disbursement_envelope_id, provider_code,
         debit_party_account, currency, server_correlation_id, provider_batch_id, number_of_payments, outcome_status,
         outcome_time_stamp)
       VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $10 = 'COMPLETED' THEN now() END)
       ON CONFLICT (bank_disbursement_batch_id, provider_code) DO NOTHING`,
      [
        s.walletBatchId,
        bankBatchId,
        envelopeId,
        s.providerCode,
        s.debitPartyAccount,
        s.currency,
        s.serverCorrelationId,
        s.providerBatchId,
        s.payments.length,
        s.refused ? 'COMPLETED' : 'PENDING',
      ],
    );
    await tx.query(
      `INSERT INTO wallet_payment (disbursement_id, wallet_batch_id, provider_code, credit_party_msisdn, amount, currency,
         outcome, error_category, error_code, outcome_at)
       SELECT u.id, $1::uuid, $2, u.msisdn, u.amount, $3, $4, $5, $6, CASE WHEN $4::text IS NOT NULL THEN now() END
         FROM unnest($7::text[], $8::text[], $9::numeric[]) AS u(id, msisdn, amount)
       ON CONFLICT (disbursement_id) DO NOTHING`,
      [
        s.walletBatchId,
        s.providerCode,
        s.currency,
        s.refused ? 'REJECTED' : null,
        s.refused?.errorCategory ?? null,
        s.refused?.errorCode ?? null,
        s.payments.map((p) => p.disbursementId),
        s.payments.map((p) => p.msisdn),
        s.payments.map((p) => p.amount),
      ],
    );
  }
}
