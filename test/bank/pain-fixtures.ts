// A payment as initiate_payment receives it, for the pain.001 and SFTP connector tests.
import type { Payment } from '../../src/bank/connector.js';

export function payment(id: string, amount: string, over: Partial<Payment> = {}): Payment {
  return {
    disbursementId: id,
    remittingAccount: '1234567890',
    remittingAccountCurrency: 'EUR',
    paymentAmount: amount,
    fundsBlockedReferenceNumber: 'BLK-1',
    beneficiaryId: 'B1',
    beneficiaryName: 'Amina <& "Okafor">',
    beneficiaryAccount: 'DE89370400440532013000',
    beneficiaryAccountCurrency: 'EUR',
    beneficiaryAccountType: 'BANK_ACCOUNT',
    beneficiaryBankCode: 'COBADEFFXXX',
    beneficiaryBranchCode: null,
    beneficiaryMobileWalletProvider: null,
    beneficiaryPhoneNo: null,
    beneficiaryEmail: null,
    beneficiaryEmailWalletProvider: null,
    disbursementNarrative: 'Child benefit\nMarch',
    benefitProgramMnemonic: 'CB',
    cycleCodeMnemonic: 'C1',
    paymentDate: '2025-03-10',
    ...over,
  };
}
