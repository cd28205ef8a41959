// The pain.001 writer: one bank batch → one CstmrCdtTrfInitn message (pain.001.001.03 or .001.09) with one
// PmtInf. Pure: the same batch, options and creation time give the same bytes, so a retried batch carries the
// same MsgId (the bank's duplicate check, DU01, then recognises it). Amounts are exact: each InstdAmt is the
// payment's decimal written with its currency's decimals, and NbOfTxs/CtrlSum at both levels are counted and
// summed in bigint minor units. A payment that the chosen version cannot carry is not written but returned in
// `refused` with a code, never dropped silently.
import { currencyExponent, decimalToMinor, formatMinorUnits } from '../../money/index.js';
import type { Payment, PaymentRefusal } from '../connector.js';

export type Pain001Version = '001.001.03' | '001.001.09';
export type AccountScheme = 'IBAN' | 'OTHR';
export type ChargeBearer = 'SLEV' | 'DEBT' | 'SHAR' | 'CRED';

export interface Pain001Options {
  version: Pain001Version;
  /** Initiating party and debtor name (Max140Text). */
  debtorName: string;
  /** The debtor agent's BIC; absent: FinInstnId/Othr/Id NOTPROVIDED. */
  debtorAgentBic?: string;
  /** How the remitting account is written: DbtrAcct/Id/IBAN or DbtrAcct/Id/Othr/Id. */
  accountScheme: AccountScheme;
  batchBooking: boolean;
  /** ExternalCategoryPurpose1Code, e.g. GOVT, BENE, SSBE; absent: no PmtTpInf. */
  categoryPurpose?: string;
  chargeBearer?: ChargeBearer;
}

export interface Pain001File {
  msgId: string;
  pmtInfId: string;
  xml: string;
  /** The payments written, in file order. */
  written: Payment[];
  /** Payments the version cannot carry (e.g. an e-mail longer than Othr/Id's 34 characters in .03). */
  refused: PaymentRefusal[];
  numberOfTransactions: number;
  controlSum: string;
}

export const PAIN001_NAMESPACE = (v: Pain001Version) => `urn:iso:std:iso:20022:tech:xsd:pain.${v}`;

const MAX35 = 35;
const BIC = /^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/;
const IBAN = /^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$/;
const UUID = /^([0-9a-f]{8})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{4})-?([0-9a-f]{12})$/i;

/**
 * The MsgId (and PmtInfId) of a bank batch: the batch id without its hyphens (a UUID becomes 32 characters,
 * within Max35Text). Deterministic, so a retried batch gets the same MsgId. Null for an id that cannot be
 * carried (then the batch is refused with MSGID_NOT_DERIVABLE rather than renamed).
 */
export function messageIdOf(batchId: string): string | null {
  const id = batchId.replace(/-/g, '');
  return /^[A-Za-z0-9]{1,35}$/.test(id) ? id : null;
}

/** The batch ids a MsgId may come from (the inverse of messageIdOf for UUIDs and plain ids). */
export function batchIdCandidates(msgId: string): string[] {
  const out = [msgId];
  const m = UUID.exec(msgId);
  if (m) out.push(m.slice(1).join('-').toLowerCase());
  return out;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Text for a MaxNText element: control characters out, whitespace collapsed, cut at `max` code points. */
function text(s: string, max: number): string {
  const clean = [...s]
    .map((c) => (c < ' ' || c === '\u007f' || c === '\ufffe' || c === '\uffff' ? ' ' : c))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
  return escapeXml([...clean].slice(0, max).join('') || 'NOTPROVIDED');
}

const compact = (s: string) => s.replace(/[\s-]/g, '').toUpperCase();

function agent(v: Pain001Version, code: string | null, fallback?: string | null): string {
  const bicTag = v === '001.001.03' ? 'BIC' : 'BICFI';
  const c = code ? compact(code) : '';
  if (c && BIC.test(c)) return `<FinInstnId><${bicTag}>${c}</${bicTag}></FinInstnId>`;
  if (code?.trim())
    return `<FinInstnId><ClrSysMmbId><MmbId>${text(code, MAX35)}</MmbId></ClrSysMmbId></FinInstnId>`;
  if (fallback?.trim()) return `<FinInstnId><Othr><Id>${text(fallback, MAX35)}</Id></Othr></FinInstnId>`;
  return '';
}

function account(value: string, scheme: AccountScheme | 'AUTO'): string {
  const c = compact(value);
  if (scheme === 'IBAN' || (scheme === 'AUTO' && IBAN.test(c) && c.length <= 34))
    return `<Id><IBAN>${escapeXml(c)}</IBAN></Id>`;
  return `<Id><Othr><Id>${text(value, 34)}</Id></Othr></Id>`;
}

/** The creditor account of one payment, or the refusal code when the version cannot carry it. */
function creditorAccount(v: Pain001Version, p: Payment): { xml: string } | { code: string } {
  const value = p.beneficiaryAccount?.trim();
  if (!value) return { code: 'CREDITOR_ACCOUNT_MISSING' };
  if (p.beneficiaryAccountType === 'BANK_ACCOUNT') {
    if (compact(value).length > 34) return { code: 'CREDITOR_ACCOUNT_TOO_LONG' };
    return { xml: `<CdtrAcct>${account(value, 'AUTO')}</CdtrAcct>` };
  }
  const proxyType = p.beneficiaryAccountType === 'MOBILE_WALLET' ? 'TELE' : 'EMAL';
  if (v === '001.001.09') {
    // CashAccount38 needs an Id; the wallet's own id goes in Prxy (ExternalProxyAccountType1Code TELE/EMAL).
    const id = [...value].length <= 34 ? text(value, 34) : 'NOTPROVIDED';
    return {
      xml: `<CdtrAcct><Id><Othr><Id>${id}</Id></Othr></Id><Prxy><Tp><Cd>${proxyType}</Cd></Tp><Id>${text(value, 2048)}</Id></Prxy></CdtrAcct>`,
    };
  }
  // .03 has no proxy: the wallet id is the account's Othr/Id with the scheme named.
  if ([...value].length > 34) return { code: 'WALLET_ID_NEEDS_PAIN001_09' };
  return {
    xml: `<CdtrAcct><Id><Othr><Id>${text(value, 34)}</Id><SchmeNm><Prtry>${proxyType}</Prtry></SchmeNm></Othr></Id></CdtrAcct>`,
  };
}

/**
 * Writes one bank batch. All payments must share the remitting account and currency (one program, one
 * envelope); `createdAt` is CreDtTm, passed in so the output is a pure function of its input.
 */
export function writePain001(
  batchId: string,
  payments: readonly Payment[],
  options: Pain001Options,
  createdAt: Date,
): Pain001File | { error: string } {
  const msgId = messageIdOf(batchId);
  if (!msgId) return { error: 'MSGID_NOT_DERIVABLE' };
  if (payments.length === 0) return { error: 'EMPTY_BATCH' };
  const first = payments[0]!;
  const currency = first.remittingAccountCurrency.trim();
  const exponent = currencyExponent(currency);
  if (exponent === undefined) return { error: 'UNKNOWN_CURRENCY' };
  const v = options.version;
  const refused: PaymentRefusal[] = [];
  const written: Payment[] = [];
  const txs: string[] = [];
  let total = 0n;
  for (const p of payments) {
    if (p.remittingAccount !== first.remittingAccount || p.remittingAccountCurrency.trim() !== currency)
      return { error: 'MIXED_REMITTING_ACCOUNTS' };
    if (p.disbursementId.length > MAX35 || ![...p.disbursementId].every((c) => c > ' ' && c <= '~')) {
      refused.push({ disbursementId: p.disbursementId, errorCode: 'REFERENCE_NOT_MAX35TEXT' });
      continue;
    }
    let minor: bigint;
    try {
      minor = decimalToMinor(p.paymentAmount, exponent);
    } catch {
      refused.push({ disbursementId: p.disbursementId, errorCode: 'AMOUNT_NOT_EXACT' });
      continue;
    }
    if (minor <= 0n || formatMinorUnits(minor, exponent).replace('.', '').length > 18) {
      refused.push({ disbursementId: p.disbursementId, errorCode: 'AMOUNT_OUT_OF_RANGE' });
      continue;
    }
    const acct = creditorAccount(v, p);
    if ('code' in acct) {
      refused.push({ disbursementId: p.disbursementId, errorCode: acct.code });
      continue;
    }
    const wallet =
      p.beneficiaryAccountType === 'MOBILE_WALLET'
        ? p.beneficiaryMobileWalletProvider
        : p.beneficiaryAccountType === 'EMAIL_WALLET'
          ? p.beneficiaryEmailWalletProvider
          : null;
    const agt = agent(v, p.beneficiaryBankCode, wallet);
    total += minor;
    written.push(p);
    txs.push(
      '<CdtTrfTxInf>' +
        `<PmtId><InstrId>${escapeXml(p.disbursementId)}</InstrId><EndToEndId>${escapeXml(p.disbursementId)}</EndToEndId></PmtId>` +
        `<Amt><InstdAmt Ccy="${escapeXml(currency)}">${formatMinorUnits(minor, exponent)}</InstdAmt></Amt>` +
        (agt ? `<CdtrAgt>${agt}</CdtrAgt>` : '') +
        `<Cdtr><Nm>${text(p.beneficiaryName, 140)}</Nm></Cdtr>` +
        acct.xml +
        `<RmtInf><Ustrd>${text(p.disbursementNarrative, 140)}</Ustrd></RmtInf>` +
        '</CdtTrfTxInf>',
    );
  }
  if (written.length === 0) return { error: 'NOTHING_WRITABLE' };
  const nb = String(written.length);
  const sum = formatMinorUnits(total, exponent);
  const creDtTm = createdAt.toISOString().replace(/\.\d{3}Z$/, '');
  const date = first.paymentDate;
  const debtorAgent = agent(v, options.debtorAgentBic ?? null, 'NOTPROVIDED');
  const xml =
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Document xmlns="${PAIN001_NAMESPACE(v)}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    '<CstmrCdtTrfInitn>' +
    `<GrpHdr><MsgId>${msgId}</MsgId><CreDtTm>${creDtTm}</CreDtTm><NbOfTxs>${nb}</NbOfTxs><CtrlSum>${sum}</CtrlSum>` +
    `<InitgPty><Nm>${text(options.debtorName, 140)}</Nm></InitgPty></GrpHdr>` +
    `<PmtInf><PmtInfId>${msgId}</PmtInfId><PmtMtd>TRF</PmtMtd><BtchBookg>${options.batchBooking}</BtchBookg>` +
    `<NbOfTxs>${nb}</NbOfTxs><CtrlSum>${sum}</CtrlSum>` +
    (options.categoryPurpose
      ? `<PmtTpInf><CtgyPurp><Cd>${text(options.categoryPurpose, 4)}</Cd></CtgyPurp></PmtTpInf>`
      : '') +
    (v === '001.001.03'
      ? `<ReqdExctnDt>${date}</ReqdExctnDt>`
      : `<ReqdExctnDt><Dt>${date}</Dt></ReqdExctnDt>`) +
    `<Dbtr><Nm>${text(options.debtorName, 140)}</Nm></Dbtr>` +
    `<DbtrAcct>${account(first.remittingAccount, options.accountScheme)}<Ccy>${escapeXml(currency)}</Ccy></DbtrAcct>` +
    `<DbtrAgt>${debtorAgent}</DbtrAgt>` +
    (options.chargeBearer ? `<ChrgBr>${options.chargeBearer}</ChrgBr>` : '') +
    txs.join('') +
    '</PmtInf></CstmrCdtTrfInitn></Document>\n';
  return {
    msgId,
    pmtInfId: msgId,
    xml,
    written,
    refused,
    numberOfTransactions: written.length,
    controlSum: sum,
  };
}
