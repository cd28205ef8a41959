// In-test stand-ins for a bank connector and the mapper, with a ledger the tests can inspect and faults
// they can inject.
import type {
  BankConnector,
  BlockFundsResult,
  CheckFundsResult,
  InitiatePaymentResult,
  Payment,
} from '../../src/bank/connector.js';
import {
  type MapperClient,
  MapperTransportError,
  type ResolveItem,
  type ResolveOutcome,
} from '../../src/mapper/types.js';
import type { ConnectorSource } from '../../src/pipeline/index.js';

type Op = 'checkFunds' | 'blockFunds' | 'initiatePayment';

export class FakeBank implements BankConnector {
  readonly bankCode = 'FAKE';
  balance = 1_000_000_000n; // minor units
  blocks = new Map<string, { reference: string; amount: string }>();
  /** Accepted batches: batch id → payments, each batch once however often it is sent. */
  batches = new Map<string, Payment[]>();
  calls: Record<Op, number> = { checkFunds: 0, blockFunds: 0, initiatePayment: 0 };
  private faults: Partial<Record<Op, number>> = {};
  /** Called inside initiatePayment after the batch is accepted (e.g. to simulate a crash before our commit). */
  afterAccept?: (batchId: string) => void | Promise<void>;
  fundsAvailable = true;

  failNext(op: Op, times = 1): void {
    this.faults[op] = (this.faults[op] ?? 0) + times;
  }

  private fault(op: Op): { status: 'FAILURE'; errorCode: string } | null {
    this.calls[op]++;
    if ((this.faults[op] ?? 0) > 0) {
      this.faults[op]!--;
      return { status: 'FAILURE', errorCode: 'BANK_HTTP_500' };
    }
    return null;
  }

  async checkFunds(): Promise<CheckFundsResult> {
    return (
      this.fault('checkFunds') ?? { status: this.fundsAvailable ? 'FUNDS_AVAILABLE' : 'FUNDS_NOT_AVAILABLE' }
    );
  }

  async blockFunds(_a: string, _c: string, amount: string, key: string): Promise<BlockFundsResult> {
    const f = this.fault('blockFunds');
    if (f) return f;
    let block = this.blocks.get(key);
    if (!block) {
      block = { reference: `BLK-${this.blocks.size + 1}`, amount };
      this.blocks.set(key, block);
    }
    return { status: 'SUCCESS', blockReference: block.reference };
  }

  async initiatePayment(batchId: string, payments: Payment[]): Promise<InitiatePaymentResult> {
    const f = this.fault('initiatePayment');
    if (f) return f;
    if (!this.batches.has(batchId)) this.batches.set(batchId, payments);
    await this.afterAccept?.(batchId);
    return { status: 'SUCCESS' };
  }

  retrieveDisbursementId(_bankRef: string | null, customerReference: string): string | null {
    return customerReference || null;
  }
  retrieveBeneficiaryName(narratives: string[]): string | null {
    return narratives[1] ?? null;
  }
  retrieveReversalReason(narratives: string[]): string | null {
    return narratives.at(-1) ?? null;
  }

  /** Every payment the bank accepted, once per batch. */
  payments(): Payment[] {
    return [...this.batches.values()].flat();
  }
}

export const connectorsOf = (bank: BankConnector): ConnectorSource => ({
  getBankConnector(code) {
    if (code !== bank.bankCode && code !== 'FAKE')
      throw Object.assign(new Error(`no connector for ${code}`), { code: 'UNKNOWN_SPONSOR_BANK_CODE' });
    return bank;
  },
});

export class FakeMapper implements MapperClient {
  known = new Map<string, string>(); // beneficiary id → account number
  downFor = 0;
  calls = 0;

  async resolve(items: ResolveItem[]): Promise<ResolveOutcome[]> {
    this.calls++;
    if (this.downFor > 0) {
      this.downFor--;
      throw new MapperTransportError('MAPPER_UNAVAILABLE', 'connection refused');
    }
    return items.map((i): ResolveOutcome => {
      const account = this.known.get(i.beneficiaryId);
      if (!account)
        return {
          referenceId: i.referenceId,
          beneficiaryId: i.beneficiaryId,
          resolved: false,
          reason: 'succ.id.not_found',
        };
      return {
        referenceId: i.referenceId,
        beneficiaryId: i.beneficiaryId,
        resolved: true,
        fa: `account_number:${account}.bank_code:OTHERBANK.fa_type:BANK_ACCOUNT`,
        address: { faType: 'BANK_ACCOUNT', accountNumber: account, bankCode: 'OTHERBANK' },
        name: 'Resolved Name',
      };
    });
  }
}
