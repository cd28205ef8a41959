// The example bank's pain.002 (CstmrPmtStsRpt .001.001.03 for a .03 file, .001.001.10 for a .09 file): the
// answer to one pain.001 — group status, one OrgnlPmtInfAndSts per PmtInf and one TxInfAndSts per transaction
// with ACCP or RJCT and its reason code. A refused file (FF01, DU01) carries only the group status.
import type { Pain001Version } from './pain001.js';

export interface TransactionStatus {
  instrId: string | null;
  endToEndId: string;
  status: 'ACCP' | 'RJCT';
  reason?: string;
}

export interface PaymentInfoStatus {
  pmtInfId: string;
  transactions: TransactionStatus[];
}

export interface StatusReport {
  msgId: string;
  createdAt: Date;
  originalMsgId: string;
  originalVersion: Pain001Version | null;
  /** Set for a refused file (FF01, DU01): the group is RJCT with this reason and nothing else is reported. */
  groupReason?: { code: string; text?: string };
  paymentInfos: PaymentInfoStatus[];
}

const xmlEscape = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const reason = (code: string, info?: string) =>
  `<StsRsnInf><Rsn><Cd>${xmlEscape(code)}</Cd></Rsn>${info ? `<AddtlInf>${xmlEscape(info.slice(0, 105))}</AddtlInf>` : ''}</StsRsnInf>`;

/** The status of a set of transactions: ACCP all accepted, RJCT all rejected, PART some of each. */
export function statusOf(transactions: TransactionStatus[]): 'ACCP' | 'RJCT' | 'PART' {
  const rejected = transactions.filter((t) => t.status === 'RJCT').length;
  if (rejected === 0) return 'ACCP';
  return rejected === transactions.length ? 'RJCT' : 'PART';
}

export function writePain002(report: StatusReport): string {
  const version = report.originalVersion === '001.001.09' ? '002.001.10' : '002.001.03';
  const all = report.paymentInfos.flatMap((p) => p.transactions);
  const group = report.groupReason ? 'RJCT' : statusOf(all);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.${version}">`,
    '<CstmrPmtStsRpt>',
    `<GrpHdr><MsgId>${xmlEscape(report.msgId)}</MsgId><CreDtTm>${report.createdAt.toISOString().slice(0, 19)}</CreDtTm></GrpHdr>`,
    '<OrgnlGrpInfAndSts>',
    `<OrgnlMsgId>${xmlEscape(report.originalMsgId)}</OrgnlMsgId>`,
    `<OrgnlMsgNmId>pain.${report.originalVersion ?? '001.001.03'}</OrgnlMsgNmId>`,
    `<OrgnlNbOfTxs>${all.length}</OrgnlNbOfTxs>`,
    `<GrpSts>${group}</GrpSts>`,
    report.groupReason ? reason(report.groupReason.code, report.groupReason.text) : '',
    '</OrgnlGrpInfAndSts>',
  ];
  if (!report.groupReason) {
    for (const info of report.paymentInfos) {
      lines.push(
        '<OrgnlPmtInfAndSts>',
        `<OrgnlPmtInfId>${xmlEscape(info.pmtInfId)}</OrgnlPmtInfId>`,
        `<PmtInfSts>${statusOf(info.transactions)}</PmtInfSts>`,
      );
      for (const tx of info.transactions) {
        lines.push(
          '<TxInfAndSts>',
          tx.instrId ? `<OrgnlInstrId>${xmlEscape(tx.instrId)}</OrgnlInstrId>` : '',
          `<OrgnlEndToEndId>${xmlEscape(tx.endToEndId)}</OrgnlEndToEndId>`,
          `<TxSts>${tx.status}</TxSts>`,
          tx.status === 'RJCT' && tx.reason ? reason(tx.reason) : '',
          '</TxInfAndSts>',
        );
      }
      lines.push('</OrgnlPmtInfAndSts>');
    }
  }
  lines.push('</CstmrPmtStsRpt>', '</Document>', '');
  return `${lines.filter((l) => l !== '').join('\n')}\n`;
}
