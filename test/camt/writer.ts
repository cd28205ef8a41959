// Test-only camt.053 writer: just enough of the schema to round-trip the values the parser reads, in every
// version it reads (v02: Sts code, names without Pty, no TxDtls/Amt; v04: TxDtls/Amt; v08: Sts/Cd, Pty/Nm).
export interface TestTx {
  endToEndId: string;
  amount: string;
  name?: string;
  returnCode?: string;
  remittance?: string;
}
export interface TestEntry {
  amount: string;
  credit: boolean;
  status: 'BOOK' | 'PDNG' | 'INFO';
  reversal: boolean;
  bookingDate: string;
  txs: TestTx[];
}
export interface TestStatement {
  id: string;
  iban?: string;
  otherId?: string;
  currency: string;
  opening?: string;
  closing?: string;
  entries: TestEntry[];
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function writeTestCamt053(
  version: '001.02' | '001.04' | '001.08',
  statements: TestStatement[],
): string {
  const v08 = version === '001.08';
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.${version.slice(4)}"><BkToCstmrStmt>`,
    '<GrpHdr><MsgId>TEST</MsgId><CreDtTm>2025-01-01T00:00:00</CreDtTm></GrpHdr>',
  ];
  const bal = (tp: string, signedAmount: string, ccy: string) => {
    const neg = signedAmount.startsWith('-');
    return `<Bal><Tp><CdOrPrtry><Cd>${tp}</Cd></CdOrPrtry></Tp><Amt Ccy="${ccy}">${neg ? signedAmount.slice(1) : signedAmount}</Amt><CdtDbtInd>${neg ? 'DBIT' : 'CRDT'}</CdtDbtInd><Dt><Dt>2025-01-01</Dt></Dt></Bal>`;
  };
  for (const s of statements) {
    out.push(`<Stmt><Id>${esc(s.id)}</Id><CreDtTm>2025-01-01T00:00:00</CreDtTm><Acct><Id>`);
    out.push(s.iban ? `<IBAN>${s.iban}</IBAN>` : `<Othr><Id>${esc(s.otherId ?? 'X')}</Id></Othr>`);
    out.push(`</Id><Ccy>${s.currency}</Ccy></Acct>`);
    if (s.opening !== undefined) out.push(bal('OPBD', s.opening, s.currency));
    if (s.closing !== undefined) out.push(bal('CLBD', s.closing, s.currency));
    for (const e of s.entries) {
      const ind = e.credit ? 'CRDT' : 'DBIT';
      out.push(`<Ntry><Amt Ccy="${s.currency}">${e.amount}</Amt><CdtDbtInd>${ind}</CdtDbtInd>`);
      if (e.reversal) out.push('<RvslInd>true</RvslInd>');
      out.push(v08 ? `<Sts><Cd>${e.status}</Cd></Sts>` : `<Sts>${e.status}</Sts>`);
      out.push(`<BookgDt><Dt>${e.bookingDate}</Dt></BookgDt>`);
      out.push(
        '<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>',
      );
      if (e.txs.length) {
        out.push('<NtryDtls>');
        if (e.txs.length > 1) out.push(`<Btch><NbOfTxs>${e.txs.length}</NbOfTxs></Btch>`);
        for (const t of e.txs) {
          out.push(`<TxDtls><Refs><EndToEndId>${esc(t.endToEndId)}</EndToEndId></Refs>`);
          if (version === '001.02') {
            out.push(`<AmtDtls><TxAmt><Amt Ccy="${s.currency}">${t.amount}</Amt></TxAmt></AmtDtls>`);
          } else out.push(`<Amt Ccy="${s.currency}">${t.amount}</Amt><CdtDbtInd>${ind}</CdtDbtInd>`);
          if (t.name !== undefined) {
            const nm = `<Nm>${esc(t.name)}</Nm>`;
            out.push(`<RltdPties><Cdtr>${v08 ? `<Pty>${nm}</Pty>` : nm}</Cdtr></RltdPties>`);
          }
          if (t.remittance !== undefined) out.push(`<RmtInf><Ustrd>${esc(t.remittance)}</Ustrd></RmtInf>`);
          if (t.returnCode) out.push(`<RtrInf><Rsn><Cd>${t.returnCode}</Cd></Rsn></RtrInf>`);
          out.push('</TxDtls>');
        }
        out.push('</NtryDtls>');
      }
      out.push('</Ntry>');
    }
    out.push('</Stmt>');
  }
  out.push('</BkToCstmrStmt></Document>');
  return out.join('\n');
}
