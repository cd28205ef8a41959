// What the demo sends, decided from the run id and the item number alone, so that a run can be checked
// against its plan exactly: which beneficiaries the mapper does not know, which disbursements the PBMS
// cancels, where each one is paid, and how much.
import { createHash } from 'node:crypto';
import { currencyExponent, formatMinorUnits } from '../money/index.js';

export const MIN_SIZE = 100;
export const MAX_SIZE = 1_000_000;
export const MAX_BATCH = 10_000;
/** Customers of the example bank itself (opened one by one through its admin API, so kept few). */
export const OWN_CUSTOMERS = 40;

export type Destination = 'own_bank' | 'other_bank' | 'mobile_wallet' | 'email_wallet' | 'unknown';

export interface PlannedItem {
  index: number;
  beneficiaryId: string;
  beneficiaryName: string;
  amountMinor: bigint;
  /** null: not linked in the mapper, so it stays unresolved. */
  fa: string | null;
  destination: Destination;
  /** The PBMS cancels it after sending. */
  cancel: boolean;
  /** For own-bank beneficiaries: their account at the example bank and its status. */
  ownAccount?: { number: string; status: 'ACTIVE' | 'DORMANT' | 'CLOSED' | 'DECEASED' };
  /**
   * With a wallet channel (plan.walletProvider): the beneficiary's wallet at the simulated provider and its
   * state there; `unknown`: never opened, so the provider rejects the payment (identifierError).
   */
  wallet?: { msisdn: string; state: WalletState };
}

export type WalletState = 'active' | 'suspended' | 'unknown';

/** What the provider answers a payment to a wallet in each state (GSMA error code; null: paid). */
export const WALLET_OUTCOME: Record<WalletState, string | null> = {
  active: null,
  suspended: 'incorrectState',
  unknown: 'identifierError',
};

export interface DemoPlan {
  run: string;
  size: number;
  currency: string;
  exponent: number;
  bankCode: string;
  program: string;
  fundingAccount: string;
  envelopeId: string;
  cycle: string;
  /**
   * Payout channels `bank,wallet`: the mobile-wallet beneficiaries hold wallets at this provider (the
   * simulator), which the program pays through its wallet channel; unset: the bank pays everyone.
   */
  walletProvider?: string;
  /** The program's disbursement account at the provider (an account id of the simulator). */
  walletAccount?: string;
}

export function makePlan(options: {
  run: string;
  size: number;
  currency: string;
  bankCode: string;
  walletProvider?: string;
}): DemoPlan {
  const exponent = currencyExponent(options.currency);
  if (exponent === undefined || exponent === null) throw new Error(`unknown currency ${options.currency}`);
  const tag = options.run.toUpperCase();
  return {
    run: options.run,
    size: options.size,
    currency: options.currency,
    exponent,
    bankCode: options.bankCode,
    program: `DEMO-${tag}`,
    fundingAccount: `DEMOFUND${tag}`,
    envelopeId: `ENV-DEMO-${tag}`,
    cycle: `DEMO-${new Date().toISOString().slice(0, 7)}`,
    ...(options.walletProvider
      ? { walletProvider: options.walletProvider, walletAccount: `DEMOWAL${tag}` }
      : {}),
  };
}

function hash(run: string, index: number): number {
  return createHash('sha256').update(`${run}/${index}`).digest().readUInt32BE(0);
}

const isUnresolved = (i: number) => i % 47 === 11;
const isCancelled = (i: number) => !isUnresolved(i) && i % 211 === 5;
const OWN_STATUSES = [
  'ACTIVE',
  'ACTIVE',
  'ACTIVE',
  'ACTIVE',
  'ACTIVE',
  'DORMANT',
  'CLOSED',
  'DECEASED',
] as const;

/** Item `index` (0-based) of the plan. */
export function plannedItem(plan: DemoPlan, index: number): PlannedItem {
  const h = hash(plan.run, index);
  const number = String(index + 1).padStart(7, '0');
  const beneficiaryId = `B${plan.run.toUpperCase()}${number}`;
  // Amounts from 20 to 180 in steps of 5, plus 0, 25, 50 or 75 hundredths where the currency has them.
  const major = BigInt(20 + (h % 33) * 5);
  const hundredths = plan.exponent >= 2 ? BigInt([0, 25, 50, 75][(h >>> 8) % 4]!) : 0n;
  const amountMinor =
    major * 10n ** BigInt(plan.exponent) +
    (plan.exponent >= 2 ? hundredths * 10n ** BigInt(plan.exponent - 2) : 0n);
  const base = {
    index,
    beneficiaryId,
    beneficiaryName: `Beneficiary ${number}`,
    amountMinor,
    cancel: isCancelled(index),
  };
  if (isUnresolved(index)) return { ...base, fa: null, destination: 'unknown' };

  const ownSlot = index % 97 === 3 ? Math.floor(index / 97) : -1;
  if (ownSlot >= 0 && ownSlot < OWN_CUSTOMERS) {
    const account = `DEMOCUST${plan.run.toUpperCase()}${String(ownSlot).padStart(3, '0')}`;
    const status = OWN_STATUSES[ownSlot % OWN_STATUSES.length]!;
    return {
      ...base,
      fa: `account:${account}@${plan.bankCode}`,
      destination: 'own_bank',
      ownAccount: { number: account, status },
    };
  }
  const kind = (h >>> 16) % 20;
  const digits = String(100000000 + (h % 900000000));
  if (kind < 13) {
    const bank = ['BANKA', 'BANKB', 'BANKC'][kind % 3]!;
    return {
      ...base,
      fa: `account_number:${digits}.branch_code:BR${kind % 5}.bank_code:${bank}.mobile_number:.email_address:.fa_type:BANK_ACCOUNT`,
      destination: 'other_bank',
    };
  }
  if (kind < 18 && plan.walletProvider) {
    // A number of this run's own (run hash and item index), so repeated runs never share a wallet.
    const msisdn = `+2547${String(hash(plan.run, -1) % 10000).padStart(4, '0')}${String(index).padStart(6, '0')}`;
    const w = (h >>> 4) % 40;
    const state: WalletState = w === 0 ? 'suspended' : w === 1 ? 'unknown' : 'active';
    return {
      ...base,
      fa: `mobile_number:${msisdn}.wallet_provider_name:Mobile Money.wallet_provider_code:${plan.walletProvider}.fa_type:MOBILE_WALLET`,
      destination: 'mobile_wallet',
      wallet: { msisdn, state },
    };
  }
  if (kind < 18) {
    return {
      ...base,
      fa: `mobile_number:+2547${digits.slice(0, 8)}.wallet_provider_name:M-Wallet.wallet_provider_code:MWAL.fa_type:MOBILE_WALLET`,
      destination: 'mobile_wallet',
    };
  }
  return {
    ...base,
    fa: `email:b${number}@example.org@EWALLET`,
    destination: 'email_wallet',
  };
}

export function* plannedItems(plan: DemoPlan, from = 0, to = plan.size): Generator<PlannedItem> {
  for (let i = from; i < to; i++) yield plannedItem(plan, i);
}

/** The figures the bridge should end with, from the plan alone. */
export function expectedTotals(plan: DemoPlan) {
  let total = 0n;
  let cancelled = 0;
  let cancelledMinor = 0n;
  let unresolved = 0;
  let unresolvedMinor = 0n;
  const own: NonNullable<PlannedItem['ownAccount']>[] = [];
  // Through the wallet channel: payable (neither cancelled nor unresolved) wallet disbursements.
  let walletCount = 0;
  let walletMinor = 0n;
  const walletRefused = new Map<string, { count: number; minor: bigint }>();
  for (const item of plannedItems(plan)) {
    if (item.wallet && !item.cancel) {
      walletCount++;
      walletMinor += item.amountMinor;
      const code = WALLET_OUTCOME[item.wallet.state];
      if (code) {
        const r = walletRefused.get(code) ?? { count: 0, minor: 0n };
        r.count++;
        r.minor += item.amountMinor;
        walletRefused.set(code, r);
      }
    }
    total += item.amountMinor;
    if (item.cancel) {
      cancelled++;
      cancelledMinor += item.amountMinor;
    } else if (item.fa === null) {
      unresolved++;
      unresolvedMinor += item.amountMinor;
    }
    if (item.ownAccount) own.push(item.ownAccount);
  }
  const fmt = (minor: bigint) => formatMinorUnits(minor, plan.exponent);
  return {
    count: plan.size,
    total: fmt(total),
    totalMinor: total,
    cancelled,
    cancelledAmount: fmt(cancelledMinor),
    cancelledMinor,
    unresolved,
    unresolvedAmount: fmt(unresolvedMinor),
    ownAccounts: own,
    wallet: { count: walletCount, amount: fmt(walletMinor), minor: walletMinor, refused: walletRefused },
  };
}
