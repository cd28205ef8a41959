// The example bank's pain.001 reader (CstmrCdtTrfInitn .001.001.03 and .001.001.09): a small, hardened
// reader on saxes in the manner of src/camt/reader.ts — no DOCTYPE (so no entity is ever read), bounded depth,
// text and element count — that keeps the structure the bank needs and checks it as the XSD would for these
// elements: required fields present, identifiers within Max35Text, amounts xs:decimal with at most 5 fraction
// digits and 18 digits, and NbOfTxs/CtrlSum exact at the group and at every PmtInf level.
//
// A file that breaks the structure is refused as a whole (FF01); a transaction whose own content the bank
// cannot pay (an amount its currency cannot carry, no creditor account) is returned with a reason code so
// that only it is rejected.
import { SaxesParser } from 'saxes';

export const PAIN001_VERSIONS = ['001.001.03', '001.001.09'] as const;
export type Pain001Version = (typeof PAIN001_VERSIONS)[number];

export interface Pain001Transaction {
  instrId: string | null;
  endToEndId: string;
  /** InstdAmt as written (an xs:decimal), and its currency. */
  amount: string;
  currency: string;
  creditorName: string;
  /** IBAN, Othr/Id, or (v09) the proxy id. Null when the file carries none. */
  creditorAccount: string | null;
  creditorAccountKind: 'IBAN' | 'OTHR' | 'PROXY' | null;
  /** BIC(FI), clearing member id or Othr/Id of the creditor agent. */
  creditorAgent: string | null;
  remittance: string | null;
}

export interface Pain001PaymentInfo {
  pmtInfId: string;
  batchBooking: boolean | null;
  categoryPurpose: string | null;
  requestedExecutionDate: string;
  debtorName: string;
  /** The debtor account: IBAN or Othr/Id, as written. */
  debtorAccount: string;
  transactions: Pain001Transaction[];
}

export interface Pain001Message {
  version: Pain001Version;
  msgId: string;
  creationDateTime: string;
  numberOfTransactions: number;
  controlSum: string;
  initiatingParty: string | null;
  paymentInfos: Pain001PaymentInfo[];
}

export type Pain001Read =
  | { ok: true; message: Pain001Message }
  /** `msgId` when the header could be read, so the refusal can name the message. */
  | { ok: false; code: 'FF01'; problem: string; msgId: string | null; version: Pain001Version | null };

const LIMITS = { maxDepth: 32, maxText: 10_000, maxElements: 2_000_000 };
const DECIMAL = /^(\d{1,18})(?:\.(\d{1,5}))?$/;
const MAX35 = /^[^\s](?:.{0,33}[^\s])?$/s;

interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

class Problem extends Error {}

function parseTree(xml: string): Node {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml.slice(0, 4096)) || xml.includes('<!DOCTYPE'))
    throw new Problem('a DOCTYPE is refused');
  const parser = new SaxesParser({ xmlns: false });
  const stack: Node[] = [];
  let root: Node | null = null;
  let elements = 0;
  parser.on('doctype', () => {
    throw new Problem('a DOCTYPE is refused');
  });
  parser.on('opentag', (tag) => {
    if (++elements > LIMITS.maxElements) throw new Problem('too many elements');
    if (stack.length >= LIMITS.maxDepth) throw new Problem('elements nested too deep');
    const local = tag.name.includes(':') ? tag.name.slice(tag.name.indexOf(':') + 1) : tag.name;
    const node: Node = {
      name: local,
      attrs: tag.attributes as Record<string, string>,
      children: [],
      text: '',
    };
    if (stack.length) stack[stack.length - 1]!.children.push(node);
    else if (root) throw new Problem('more than one root element');
    else root = node;
    stack.push(node);
  });
  parser.on('text', (text) => {
    const top = stack[stack.length - 1];
    if (!top) {
      if (text.trim()) throw new Problem('text outside the root element');
      return;
    }
    if (top.text.length + text.length > LIMITS.maxText) throw new Problem('a text node is too long');
    top.text += text;
  });
  parser.on('closetag', () => {
    stack.pop();
  });
  parser.on('error', (error) => {
    throw new Problem(`not well-formed XML: ${error.message.split('\n')[0]}`);
  });
  parser.write(xml).close();
  if (!root) throw new Problem('no root element');
  return root;
}

const kids = (node: Node | undefined, name: string) => node?.children.filter((c) => c.name === name) ?? [];
const kid = (node: Node | undefined, name: string) => node?.children.find((c) => c.name === name);
const at = (node: Node | undefined, ...path: string[]) => path.reduce((n, p) => kid(n, p), node);
const text = (node: Node | undefined, ...path: string[]) => {
  const found = at(node, ...path);
  return found ? found.text.trim() : null;
};
const need = (node: Node | undefined, where: string, ...path: string[]) => {
  const value = text(node, ...path);
  if (value === null || value === '') throw new Problem(`${where}/${path.join('/')} is missing`);
  return value;
};
const max35 = (value: string, where: string) => {
  if (!MAX35.test(value)) throw new Problem(`${where} is not a Max35Text`);
  return value;
};

/** An xs:decimal as a bigint scaled to 5 fraction digits (exact), or null when it is not one. */
export function scaledDecimal(value: string): bigint | null {
  const m = DECIMAL.exec(value);
  if (!m) return null;
  const digits = m[1]!.replace(/^0+(?=\d)/, '') + (m[2] ?? '');
  if (digits.replace(/^0+/, '').length > 18) return null;
  return BigInt(m[1]!) * 100_000n + BigInt((m[2] ?? '').padEnd(5, '0'));
}

function creditorAccount(
  tx: Node,
  version: Pain001Version,
): Pick<Pain001Transaction, 'creditorAccount' | 'creditorAccountKind'> {
  const acct = kid(tx, 'CdtrAcct');
  const iban = text(acct, 'Id', 'IBAN');
  if (iban) return { creditorAccount: iban, creditorAccountKind: 'IBAN' };
  const other = text(acct, 'Id', 'Othr', 'Id');
  if (other) return { creditorAccount: other, creditorAccountKind: 'OTHR' };
  const proxy = version === '001.001.09' ? text(acct, 'Prxy', 'Id') : null;
  if (proxy) return { creditorAccount: proxy, creditorAccountKind: 'PROXY' };
  return { creditorAccount: null, creditorAccountKind: null };
}

function agentOf(agent: Node | undefined): string | null {
  const fin = kid(agent, 'FinInstnId');
  return (
    text(fin, 'BICFI') ??
    text(fin, 'BIC') ??
    text(fin, 'ClrSysMmbId', 'MmbId') ??
    text(fin, 'Othr', 'Id') ??
    null
  );
}

/** Reads one pain.001 file. Never throws on content: a refusal says why. */
export function readPain001(xml: string): Pain001Read {
  let msgId: string | null = null;
  let version: Pain001Version | null = null;
  try {
    const root = parseTree(xml);
    if (root.name !== 'Document') throw new Problem('the root element is not Document');
    const ns = Object.entries(root.attrs).find(([k]) => k === 'xmlns' || k.startsWith('xmlns:'))?.[1] ?? '';
    version = PAIN001_VERSIONS.find((v) => ns === `urn:iso:std:iso:20022:tech:xsd:pain.${v}`) ?? null;
    if (!version) throw new Problem('not a pain.001.001.03 or .001.001.09 Document');
    const init = kid(root, 'CstmrCdtTrfInitn');
    if (!init) throw new Problem('Document/CstmrCdtTrfInitn is missing');
    const header = kid(init, 'GrpHdr');
    msgId = max35(need(header, 'GrpHdr', 'MsgId'), 'GrpHdr/MsgId');
    const creationDateTime = need(header, 'GrpHdr', 'CreDtTm');
    const declaredCount = need(header, 'GrpHdr', 'NbOfTxs');
    if (!/^\d{1,15}$/.test(declaredCount))
      throw new Problem('GrpHdr/NbOfTxs is not a number of transactions');
    const declaredSum = text(header, 'CtrlSum');
    const infos = kids(init, 'PmtInf');
    if (infos.length === 0) throw new Problem('no PmtInf');

    let count = 0;
    let sum = 0n;
    const pmtInfIds = new Set<string>();
    const paymentInfos: Pain001PaymentInfo[] = infos.map((info, i) => {
      const where = `PmtInf[${i + 1}]`;
      const pmtInfId = max35(need(info, where, 'PmtInfId'), `${where}/PmtInfId`);
      if (pmtInfIds.has(pmtInfId)) throw new Problem(`${where}/PmtInfId repeats`);
      pmtInfIds.add(pmtInfId);
      if (need(info, where, 'PmtMtd') !== 'TRF') throw new Problem(`${where}/PmtMtd is not TRF`);
      const booking = text(info, 'BtchBookg');
      if (booking !== null && booking !== 'true' && booking !== 'false')
        throw new Problem(`${where}/BtchBookg is not a boolean`);
      const requestedExecutionDate =
        version === '001.001.09'
          ? (text(info, 'ReqdExctnDt', 'Dt') ?? need(info, where, 'ReqdExctnDt', 'DtTm').slice(0, 10))
          : need(info, where, 'ReqdExctnDt');
      if (!/^\d{4}-\d{2}-\d{2}$/.test(requestedExecutionDate))
        throw new Problem(`${where}/ReqdExctnDt is not a date`);
      const debtorAccount =
        text(info, 'DbtrAcct', 'Id', 'IBAN') ?? text(info, 'DbtrAcct', 'Id', 'Othr', 'Id');
      if (!debtorAccount) throw new Problem(`${where}/DbtrAcct/Id is missing`);
      if (!kid(info, 'DbtrAgt')) throw new Problem(`${where}/DbtrAgt is missing`);
      const txs = kids(info, 'CdtTrfTxInf');
      if (txs.length === 0) throw new Problem(`${where} has no CdtTrfTxInf`);
      let infoSum = 0n;
      const transactions = txs.map((tx, j) => {
        const w = `${where}/CdtTrfTxInf[${j + 1}]`;
        const endToEndId = max35(need(tx, w, 'PmtId', 'EndToEndId'), `${w}/PmtId/EndToEndId`);
        const instrId = text(tx, 'PmtId', 'InstrId');
        if (instrId !== null) max35(instrId, `${w}/PmtId/InstrId`);
        const instd = at(tx, 'Amt', 'InstdAmt');
        if (!instd) throw new Problem(`${w}/Amt/InstdAmt is missing`);
        const amount = instd.text.trim();
        const scaled = scaledDecimal(amount);
        if (scaled === null) throw new Problem(`${w}/Amt/InstdAmt is not an amount`);
        const currency = instd.attrs.Ccy ?? '';
        if (!/^[A-Z]{3}$/.test(currency)) throw new Problem(`${w}/Amt/InstdAmt@Ccy is not a currency code`);
        infoSum += scaled;
        return {
          instrId,
          endToEndId,
          amount,
          currency,
          creditorName: text(tx, 'Cdtr', 'Nm') ?? '',
          ...creditorAccount(tx, version!),
          creditorAgent: agentOf(kid(tx, 'CdtrAgt')),
          remittance: text(tx, 'RmtInf', 'Ustrd'),
        };
      });
      const infoCount = text(info, 'NbOfTxs');
      if (infoCount !== null && infoCount !== String(txs.length))
        throw new Problem(`${where}/NbOfTxs says ${infoCount}, the PmtInf holds ${txs.length}`);
      const infoCtrl = text(info, 'CtrlSum');
      if (infoCtrl !== null && scaledDecimal(infoCtrl) !== infoSum)
        throw new Problem(`${where}/CtrlSum is not the exact sum of its transactions`);
      count += txs.length;
      sum += infoSum;
      return {
        pmtInfId,
        batchBooking: booking === null ? null : booking === 'true',
        categoryPurpose: text(info, 'PmtTpInf', 'CtgyPurp', 'Cd'),
        requestedExecutionDate,
        debtorName: text(info, 'Dbtr', 'Nm') ?? '',
        debtorAccount,
        transactions,
      };
    });
    if (declaredCount !== String(count))
      throw new Problem(`GrpHdr/NbOfTxs says ${declaredCount}, the message holds ${count}`);
    if (declaredSum !== null && scaledDecimal(declaredSum) !== sum)
      throw new Problem('GrpHdr/CtrlSum is not the exact sum of the transactions');
    return {
      ok: true,
      message: {
        version,
        msgId,
        creationDateTime,
        numberOfTransactions: count,
        controlSum: declaredSum ?? '',
        initiatingParty: text(header, 'InitgPty', 'Nm'),
        paymentInfos,
      },
    };
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    return { ok: false, code: 'FF01', problem: error.message, msgId, version };
  }
}
