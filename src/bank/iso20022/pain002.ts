// The pain.002 parser: a bank's CstmrPmtStsRpt → group, payment-information and transaction statuses with
// their reason codes. Pure and hardened like the camt reader (src/camt/reader.ts): saxes without namespaces
// or entities, a DOCTYPE refused before saxes reads it, bounded depth, text, size and transaction count, and
// any problem answered with a code instead of a throw.
import { SaxesParser } from 'saxes';

export type Pain002Status =
  | 'RCVD'
  | 'ACTC'
  | 'ACCP'
  | 'ACSP'
  | 'ACSC'
  | 'ACCC'
  | 'ACWC'
  | 'PART'
  | 'RJCT'
  | 'PDNG';
const STATUSES = new Set(['RCVD', 'ACTC', 'ACCP', 'ACSP', 'ACSC', 'ACCC', 'ACWC', 'PART', 'RJCT', 'PDNG']);

export interface Pain002Transaction {
  originalEndToEndId: string;
  originalInstructionId: string | null;
  status: Pain002Status | null;
  reasons: string[];
}

export interface Pain002Payment {
  originalPaymentInformationId: string;
  status: Pain002Status | null;
  reasons: string[];
  transactions: Pain002Transaction[];
}

export interface Pain002Report {
  messageId: string;
  originalMessageId: string;
  originalMessageName: string | null;
  groupStatus: Pain002Status | null;
  groupReasons: string[];
  payments: Pain002Payment[];
}

export type Pain002Result =
  | { ok: true; report: Pain002Report }
  | { ok: false; code: Pain002ProblemCode; message: string };

export type Pain002ProblemCode =
  | 'PAIN002_NOT_XML'
  | 'PAIN002_DOCTYPE'
  | 'PAIN002_TOO_LARGE'
  | 'PAIN002_TOO_DEEP'
  | 'PAIN002_NOT_PAIN002'
  | 'PAIN002_INVALID';

export const PAIN002_NAMESPACE = /^urn:iso:std:iso:20022:tech:xsd:pain\.002\.001\.(\d{2})$/;
const LIMITS = { maxBytes: 50_000_000, maxDepth: 32, maxText: 10_000, maxTransactions: 1_000_000 };

class Stop extends Error {
  constructor(
    readonly code: Pain002ProblemCode,
    message: string,
  ) {
    super(message);
  }
}

/** Parses one pain.002 document. Never throws. */
export function parsePain002(xml: string, limits: Partial<typeof LIMITS> = {}): Pain002Result {
  const lim = { ...LIMITS, ...limits };
  try {
    if (xml.length > lim.maxBytes)
      throw new Stop('PAIN002_TOO_LARGE', `larger than ${lim.maxBytes} characters`);
    const head = xml.slice(0, 4096);
    if (/<!DOCTYPE|<!ENTITY/i.test(head) || /<!DOCTYPE|<!ENTITY/.test(xml))
      throw new Stop(
        'PAIN002_DOCTYPE',
        'a DOCTYPE is refused: pain.002 needs no DTD and entities are not read',
      );
    return { ok: true, report: read(xml, lim) };
  } catch (e) {
    if (e instanceof Stop) return { ok: false, code: e.code, message: e.message };
    return { ok: false, code: 'PAIN002_NOT_XML', message: `not well-formed XML: ${(e as Error).message}` };
  }
}

function read(xml: string, lim: typeof LIMITS): Pain002Report {
  const sax = new SaxesParser({ xmlns: false });
  const names: string[] = [];
  let text = '';
  let seenRoot = false;
  let closedRoot = false;
  const report: Pain002Report = {
    messageId: '',
    originalMessageId: '',
    originalMessageName: null,
    groupStatus: null,
    groupReasons: [],
    payments: [],
  };
  let payment: Pain002Payment | null = null;
  let tx: Pain002Transaction | null = null;
  let count = 0;
  const local = (n: string) => n.slice(n.indexOf(':') + 1);
  const status = (s: string): Pain002Status => {
    if (!STATUSES.has(s))
      throw new Stop('PAIN002_INVALID', `unknown status ${JSON.stringify(s.slice(0, 8))}`);
    return s as Pain002Status;
  };
  sax.on('error', (e) => {
    throw new Stop('PAIN002_NOT_XML', `not well-formed XML: ${e.message.replace(/^.*?\d+:\d+: /, '')}`);
  });
  sax.on('doctype', () => {
    throw new Stop('PAIN002_DOCTYPE', 'a DOCTYPE is refused');
  });
  sax.on('opentag', (t) => {
    const name = local(t.name);
    if (!seenRoot) {
      seenRoot = true;
      const colon = t.name.indexOf(':');
      const ns = String(t.attributes[colon < 0 ? 'xmlns' : `xmlns:${t.name.slice(0, colon)}`] ?? '');
      if (name !== 'Document' || !PAIN002_NAMESPACE.test(ns))
        throw new Stop(
          'PAIN002_NOT_PAIN002',
          `root ${name} in ${JSON.stringify(ns.slice(0, 80))} is not pain.002`,
        );
    }
    names.push(name);
    if (names.length > lim.maxDepth) throw new Stop('PAIN002_TOO_DEEP', `deeper than ${lim.maxDepth}`);
    text = '';
    if (names.length === 2 && name !== 'CstmrPmtStsRpt')
      throw new Stop('PAIN002_NOT_PAIN002', `Document holds ${name}, expected CstmrPmtStsRpt`);
    const path = names.join('/');
    if (path === 'Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts') {
      payment = { originalPaymentInformationId: '', status: null, reasons: [], transactions: [] };
      report.payments.push(payment);
    } else if (path === 'Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts' && payment) {
      if (++count > lim.maxTransactions) throw new Stop('PAIN002_TOO_LARGE', 'too many transactions');
      tx = { originalEndToEndId: '', originalInstructionId: null, status: null, reasons: [] };
      payment.transactions.push(tx);
    }
  });
  const addText = (t: string) => {
    text += t;
    if (text.length > lim.maxText) throw new Stop('PAIN002_TOO_LARGE', `a text longer than ${lim.maxText}`);
  };
  sax.on('text', addText);
  sax.on('cdata', addText);
  sax.on('closetag', () => {
    const path = names.join('/').replace(/^Document\/CstmrPmtStsRpt\//, '');
    const value = text.trim();
    text = '';
    names.pop();
    if (names.length === 0) closedRoot = true;
    switch (path) {
      case 'GrpHdr/MsgId':
        report.messageId = value;
        break;
      case 'OrgnlGrpInfAndSts/OrgnlMsgId':
        report.originalMessageId = value;
        break;
      case 'OrgnlGrpInfAndSts/OrgnlMsgNmId':
        report.originalMessageName = value;
        break;
      case 'OrgnlGrpInfAndSts/GrpSts':
        report.groupStatus = status(value);
        break;
      case 'OrgnlGrpInfAndSts/StsRsnInf/Rsn/Cd':
      case 'OrgnlGrpInfAndSts/StsRsnInf/Rsn/Prtry':
        report.groupReasons.push(value.slice(0, 35));
        break;
      case 'OrgnlPmtInfAndSts/OrgnlPmtInfId':
        if (payment) payment.originalPaymentInformationId = value;
        break;
      case 'OrgnlPmtInfAndSts/PmtInfSts':
        if (payment) payment.status = status(value);
        break;
      case 'OrgnlPmtInfAndSts/StsRsnInf/Rsn/Cd':
      case 'OrgnlPmtInfAndSts/StsRsnInf/Rsn/Prtry':
        payment?.reasons.push(value.slice(0, 35));
        break;
      case 'OrgnlPmtInfAndSts/TxInfAndSts/OrgnlEndToEndId':
        if (tx) tx.originalEndToEndId = value;
        break;
      case 'OrgnlPmtInfAndSts/TxInfAndSts/OrgnlInstrId':
        if (tx) tx.originalInstructionId = value;
        break;
      case 'OrgnlPmtInfAndSts/TxInfAndSts/TxSts':
        if (tx) tx.status = status(value);
        break;
      case 'OrgnlPmtInfAndSts/TxInfAndSts/StsRsnInf/Rsn/Cd':
      case 'OrgnlPmtInfAndSts/TxInfAndSts/StsRsnInf/Rsn/Prtry':
        tx?.reasons.push(value.slice(0, 35));
        break;
      case 'OrgnlPmtInfAndSts/TxInfAndSts':
        if (tx && !tx.originalEndToEndId)
          throw new Stop('PAIN002_INVALID', 'a TxInfAndSts without OrgnlEndToEndId');
        tx = null;
        break;
      case 'OrgnlPmtInfAndSts':
        payment = null;
        break;
    }
  });
  for (let i = 0; i < xml.length; i += 65_536) sax.write(xml.slice(i, i + 65_536));
  sax.close();
  if (!seenRoot) throw new Stop('PAIN002_NOT_XML', 'no root element');
  if (!closedRoot) throw new Stop('PAIN002_NOT_XML', 'the file is cut short');
  if (!report.originalMessageId) throw new Stop('PAIN002_INVALID', 'no OrgnlGrpInfAndSts/OrgnlMsgId');
  return report;
}

/**
 * The status a transaction ends with: a rejected group or payment rejects it whatever it says itself;
 * otherwise its own status, else its payment's, else the group's.
 */
export function effectiveStatus(
  report: Pain002Report,
  payment: Pain002Payment | null,
  tx: Pain002Transaction | null,
): { status: Pain002Status | null; reason: string | null } {
  if (report.groupStatus === 'RJCT') return { status: 'RJCT', reason: report.groupReasons[0] ?? null };
  if (payment?.status === 'RJCT') return { status: 'RJCT', reason: payment.reasons[0] ?? null };
  for (const level of [tx, payment] as const)
    if (level?.status) return { status: level.status, reason: level.reasons[0] ?? null };
  return { status: report.groupStatus, reason: report.groupReasons[0] ?? null };
}
