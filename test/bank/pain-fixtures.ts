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

/** A pain.002 as a bank writes it: the group status and, per transaction, [EndToEndId, status, reason?]. */
export function pain002(
  originalMsgId: string,
  group: { status?: string; reason?: string },
  txs: Array<[string, string, string?]> = [],
  pmtInfId = originalMsgId,
): string {
  const rsn = (c?: string) => (c ? `<StsRsnInf><Rsn><Cd>${c}</Cd></Rsn></StsRsnInf>` : '');
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">' +
    `<CstmrPmtStsRpt><GrpHdr><MsgId>STS-${originalMsgId.slice(0, 20)}-${group.status ?? 'X'}</MsgId>` +
    '<CreDtTm>2025-03-10T10:00:00</CreDtTm></GrpHdr>' +
    `<OrgnlGrpInfAndSts><OrgnlMsgId>${originalMsgId}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>` +
    (group.status ? `<GrpSts>${group.status}</GrpSts>` : '') +
    rsn(group.reason) +
    '</OrgnlGrpInfAndSts>' +
    (txs.length
      ? `<OrgnlPmtInfAndSts><OrgnlPmtInfId>${pmtInfId}</OrgnlPmtInfId>` +
        txs
          .map(
            ([id, st, r]) =>
              `<TxInfAndSts><OrgnlInstrId>${id}</OrgnlInstrId><OrgnlEndToEndId>${id}</OrgnlEndToEndId><TxSts>${st}</TxSts>${rsn(r)}</TxInfAndSts>`,
          )
          .join('') +
        '</OrgnlPmtInfAndSts>'
      : '') +
    '</CstmrPmtStsRpt></Document>\n'
  );
}
