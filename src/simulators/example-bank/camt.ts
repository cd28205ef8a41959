// How the example bank lays out its ledger on a camt.053.001.08 statement (docs/bank-connectors.md):
//   a payment's debit            DBIT, PMNT/ICDT/DMCT, one TxDtls: Refs/EndToEndId = the disbursement id,
//                                Refs/AcctSvcrRef = the bank's entry reference, Cdtr name, id and account,
//                                RmtInf/Ustrd = the narrative, AddtlTxInf = program and cycle
//   a batch booked as one        (batch booking) one DBIT entry for the consecutive debits of one bank batch,
//                                NtryDtls/Btch with NbOfTxs and TtlAmt, and the TxDtls above per payment
//   a payment returned           CRDT, PMNT/ICDT/RRTN, TxDtls with RtrInf/Rsn/Cd (RETURN_REASON_CODES) and
//                                the bank's own reason in RtrInf/AddtlInf
//   a credit to a customer       CRDT, PMNT/RCDT/BOOK, TxDtls with the paying account as DbtrAcct
//   deposits and the rest        PMNT/MCOP/OTHR or PMNT/MDOP/OTHR with the description in AddtlNtryInf
// Every entry also carries its MT940 transaction type as the proprietary bank transaction code.
import type { ReversalReason } from '../../bank/example/layout.js';
import {
  type Camt053BankTransactionCode,
  type Camt053Entry,
  type Camt053Transaction,
  isWritableAccount,
  isWritableId,
} from '../../camt/writer.js';

/**
 * ExternalReturnReason1Code of each reason the bank returns a payment for. The bridge's default
 * return-reason table (migrations/bridge/008) maps them back to the same reasons the MT940 statement names.
 */
export const RETURN_REASON_CODES: Record<ReversalReason, string> = {
  ACCOUNT_CLOSED: 'AC04',
  ACCOUNT_NOT_FOUND: 'AC01',
  ACCOUNT_DORMANT: 'AC06',
  ACCOUNT_DECEASED: 'MD07',
};

/** One ledger entry with what the statement needs of its payment (null columns when it has none). */
export interface LedgerRow {
  entry_id: number;
  mark: 'D' | 'C' | 'RD' | 'RC';
  /** Exact decimal in the account's currency. */
  amount: string;
  value_date: string;
  transaction_type: string;
  description: string | null;
  /** The account that sent the payment (the funding account). */
  payer_account: string | null;
  batch_id: string | null;
  payment_reference: string | null;
  narrative: string | null;
  program_mnemonic: string | null;
  cycle_code: string | null;
  beneficiary_id: string | null;
  beneficiary_name: string | null;
  beneficiary_account: string | null;
  reversal_reason: string | null;
}

const code = (
  c: string,
  family: string,
  subFamily: string,
  proprietary: string,
): Camt053BankTransactionCode => ({
  domain: { code: c, family, subFamily },
  proprietary: { code: proprietary },
});

/**
 * The statement entries of `rows` (in ledger order). With `batchBooking`, consecutive payment debits of the
 * same bank batch and value date become one batch entry (two or more of them; a single one stays plain).
 * `bankReference` names an entry; a batch entry is named after its first entry with `batchReference`.
 */
export function camtEntries(
  rows: readonly LedgerRow[],
  options: {
    batchBooking: boolean;
    bankReference: (entryId: number) => string;
    batchReference: (entryId: number) => string;
    add: (a: string, b: string) => string;
  },
): Camt053Entry[] {
  const out: Camt053Entry[] = [];
  for (let i = 0; i < rows.length; ) {
    const first = rows[i]!;
    let end = i + 1;
    if (options.batchBooking && isPaymentDebit(first)) {
      while (
        end < rows.length &&
        isPaymentDebit(rows[end]!) &&
        rows[end]!.batch_id === first.batch_id &&
        rows[end]!.value_date === first.value_date
      )
        end++;
    }
    if (end - i >= 2) {
      const group = rows.slice(i, end);
      let total = first.amount;
      for (const r of group.slice(1)) total = options.add(total, r.amount);
      const batchId = writableId(first.batch_id);
      out.push({
        amount: total,
        creditDebit: 'DBIT',
        bookingDate: first.value_date,
        valueDate: first.value_date,
        accountServicerReference: options.batchReference(first.entry_id),
        bankTransactionCode: code('PMNT', 'ICDT', 'DMCT', first.transaction_type),
        batch: { messageId: batchId, paymentInformationId: batchId },
        transactions: group.map((r) => paymentTransaction(r, options.bankReference(r.entry_id))),
        additionalInfo: 'PAYMENT BATCH',
      });
    } else {
      out.push(singleEntry(first, options.bankReference(first.entry_id)));
    }
    i = end;
  }
  return out;
}

function isPaymentDebit(r: LedgerRow): boolean {
  return r.mark === 'D' && r.payment_reference !== null;
}

function singleEntry(r: LedgerRow, reference: string): Camt053Entry {
  const base = {
    amount: r.amount,
    bookingDate: r.value_date,
    valueDate: r.value_date,
    accountServicerReference: reference,
  };
  const debit = r.mark === 'D' || r.mark === 'RC';
  if (r.payment_reference === null) {
    return {
      ...base,
      creditDebit: debit ? 'DBIT' : 'CRDT',
      reversal: r.mark === 'RD' || r.mark === 'RC',
      bankTransactionCode: code('PMNT', debit ? 'MDOP' : 'MCOP', 'OTHR', r.transaction_type),
      additionalInfo: r.description ?? undefined,
    };
  }
  const tx = paymentTransaction(r, reference);
  switch (r.mark) {
    case 'D':
      return {
        ...base,
        creditDebit: 'DBIT',
        bankTransactionCode: code('PMNT', 'ICDT', 'DMCT', r.transaction_type),
        transactions: [tx],
      };
    case 'RD': {
      const reason = r.reversal_reason;
      const returnCode = reason ? RETURN_REASON_CODES[reason as ReversalReason] : undefined;
      return {
        ...base,
        creditDebit: 'CRDT',
        bankTransactionCode: code('PMNT', 'ICDT', 'RRTN', r.transaction_type),
        transactions: [
          {
            ...tx,
            returnInfo: {
              ...(returnCode
                ? { reasonCode: returnCode }
                : reason && isWritableId(reason)
                  ? { proprietaryReason: reason }
                  : {}),
              additionalInfo: reason ? [reason] : [],
            },
          },
        ],
        additionalInfo: 'RETURNED PAYMENT',
      };
    }
    case 'C':
      return {
        ...base,
        creditDebit: 'CRDT',
        bankTransactionCode: code('PMNT', 'RCDT', 'BOOK', r.transaction_type),
        transactions: [
          {
            ...tx,
            debtor:
              r.payer_account && isWritableAccount(r.payer_account)
                ? { account: r.payer_account }
                : undefined,
          },
        ],
      };
    case 'RC':
      return {
        ...base,
        creditDebit: 'DBIT',
        reversal: true,
        bankTransactionCode: code('PMNT', 'RCDT', 'RRTN', r.transaction_type),
        transactions: [tx],
      };
  }
}

function paymentTransaction(r: LedgerRow, reference: string): Camt053Transaction {
  const account = r.beneficiary_account?.trim();
  const batchId = writableId(r.batch_id);
  return {
    references: {
      messageId: batchId,
      accountServicerReference: reference,
      paymentInformationId: batchId,
      endToEndId: r.payment_reference ?? undefined,
    },
    amount: r.amount,
    creditor: {
      name: r.beneficiary_name ?? undefined,
      id: writableId(r.beneficiary_id),
      account: account && isWritableAccount(account) ? account : undefined,
    },
    remittance: r.narrative ? [r.narrative] : [],
    additionalInfo: [r.program_mnemonic, r.cycle_code].filter(Boolean).join(' ') || undefined,
  };
}

function writableId(value: string | null): string | undefined {
  return value !== null && isWritableId(value) ? value : undefined;
}
