// Hand-written camt.053.001.08 for the camt reconciliation and upload tests: one function per element the
// tests vary, with every other element as a bank writes it (XSD element order).

export interface CamtTx {
  /** EndToEndId; undefined leaves Refs without one. */
  e2e?: string;
  /** TxDtls/Amt; null leaves it out. */
  amount?: string | null;
  currency?: string;
  name?: string;
  /** RtrInf/Rsn/Cd: a returned payment. */
  returnCode?: string;
  ref?: string;
}

export interface CamtNtry {
  mark: 'DBIT' | 'CRDT';
  amount: string;
  currency?: string;
  reversal?: boolean;
  status?: 'BOOK' | 'PDNG' | 'INFO';
  /** AcctSvcrRef; default `<Stmt/Id>-<n>`. */
  ref?: string;
  /** The entry's TxDtls; a batch (Btch/NbOfTxs) when more than one. */
  txs?: CamtTx[];
}

export interface CamtStmt {
  id?: string;
  seq?: string;
  account?: string;
  iban?: boolean;
  currency?: string;
  entries: CamtNtry[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

const cents = (a: string) => BigInt(a.replace('.', ''));
const fmt = (c: bigint) => {
  const neg = c < 0n;
  const s = (neg ? -c : c).toString().padStart(3, '0');
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
};

function tx(t: CamtTx, ccy: string, mark: string): string {
  const refs = `<Refs>${t.ref ? `<AcctSvcrRef>${esc(t.ref)}</AcctSvcrRef>` : ''}${t.e2e !== undefined ? `<EndToEndId>${esc(t.e2e)}</EndToEndId>` : ''}</Refs>`;
  const amt =
    t.amount === null
      ? ''
      : `<Amt Ccy="${t.currency ?? ccy}">${t.amount ?? '10.00'}</Amt><CdtDbtInd>${mark}</CdtDbtInd>`;
  const party = t.name ? `<RltdPties><Cdtr><Pty><Nm>${esc(t.name)}</Nm></Pty></Cdtr></RltdPties>` : '';
  const rtr = t.returnCode ? `<RtrInf><Rsn><Cd>${t.returnCode}</Cd></Rsn></RtrInf>` : '';
  return `<TxDtls>${refs}${amt}${party}${rtr}</TxDtls>`;
}

function ntry(n: CamtNtry, ccy: string, i: number, stmtId: string): string {
  const c = n.currency ?? ccy;
  const txs = n.txs ?? [];
  const btch = txs.length > 1 ? `<Btch><NbOfTxs>${txs.length}</NbOfTxs></Btch>` : '';
  const dtls =
    txs.length > 0 ? `<NtryDtls>${btch}${txs.map((t) => tx(t, c, n.mark)).join('')}</NtryDtls>` : '';
  return [
    '<Ntry>',
    `<NtryRef>${i}</NtryRef>`,
    `<Amt Ccy="${c}">${n.amount}</Amt>`,
    `<CdtDbtInd>${n.mark}</CdtDbtInd>`,
    n.reversal ? '<RvslInd>true</RvslInd>' : '',
    `<Sts><Cd>${n.status ?? 'BOOK'}</Cd></Sts>`,
    '<BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><Dt>2026-03-02</Dt></ValDt>',
    `<AcctSvcrRef>${esc(n.ref ?? `${stmtId}-${i}`)}</AcctSvcrRef>`,
    '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>',
    dtls,
    '</Ntry>',
  ].join('');
}

function bal(type: string, amount: bigint, ccy: string): string {
  return `<Bal><Tp><CdOrPrtry><Cd>${type}</Cd></CdOrPrtry></Tp><Amt Ccy="${ccy}">${fmt(amount < 0n ? -amount : amount)}</Amt><CdtDbtInd>${amount < 0n ? 'DBIT' : 'CRDT'}</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>`;
}

function stmt(s: CamtStmt, n: number): string {
  const ccy = s.currency ?? 'USD';
  const account = s.account ?? '1000200030';
  const opening = 100000000n;
  let closing = opening;
  for (const e of s.entries)
    if ((e.status ?? 'BOOK') === 'BOOK') closing += e.mark === 'CRDT' ? cents(e.amount) : -cents(e.amount);
  const id = s.iban ? `<IBAN>${account}</IBAN>` : `<Othr><Id>${esc(account)}</Id></Othr>`;
  const stmtId = s.id ?? `STMT-${n}`;
  return [
    '<Stmt>',
    `<Id>${esc(stmtId)}</Id>`,
    `<ElctrncSeqNb>${s.seq ?? n}</ElctrncSeqNb>`,
    '<CreDtTm>2026-03-02T18:00:00</CreDtTm>',
    `<Acct><Id>${id}</Id><Ccy>${ccy}</Ccy></Acct>`,
    bal('OPBD', opening, ccy),
    bal('CLBD', closing, ccy),
    ...s.entries.map((e, i) => ntry(e, ccy, i + 1, stmtId)),
    '</Stmt>',
  ].join('\n');
}

/** A camt.053.001.08 document with the given statements. */
export function camt053(statements: CamtStmt[], msgId = 'MSG-1'): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">',
    '<BkToCstmrStmt>',
    `<GrpHdr><MsgId>${esc(msgId)}</MsgId><CreDtTm>2026-03-02T18:00:00</CreDtTm></GrpHdr>`,
    ...statements.map((s, i) => stmt(s, i + 1)),
    '</BkToCstmrStmt>',
    '</Document>',
    '',
  ].join('\n');
}

/** A single booked debit paying one disbursement, as most banks book it. */
export const debit = (
  id: string,
  amount = '10.00',
  o: Partial<CamtNtry> & Partial<CamtTx> = {},
): CamtNtry => ({
  mark: 'DBIT',
  amount,
  ...o,
  txs: [{ e2e: id, amount, name: `Name ${id}`, ...(o.currency ? { currency: o.currency } : {}) }],
});
