// A camt.053 statement (.001.02 or .001.08) of N entries, as a bank would write it for a G2P account: each entry a booked
// debit with one TxDtls (EndToEndId, amount, creditor name and IBAN, remittance text), every 50th a credit
// return with RtrInf, every 100th pending. Opening + booked entries = closing, so the balance check passes.
// Written in chunks, so a 1,000,000-entry file never sits in memory.

/** Amount of entry i in cents: deterministic, 1.00 to 999.99. */
const cents = (i: number) => 100 + ((i * 7919) % 99_900);
const money = (c: number) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`;

export function* camt053Chunks(entries: number, version: '02' | '08' = '08'): Generator<string> {
  const v08 = version === '08';
  const opening = 100_000_000_00; // cents
  let closing = opening;
  for (let i = 0; i < entries; i++) {
    if (i % 100 === 99) continue; // pending
    closing += i % 50 === 49 ? cents(i) : -cents(i);
  }
  const sign = closing < 0 ? 'DBIT' : 'CRDT';
  yield `<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.${version}">
<BkToCstmrStmt>
<GrpHdr><MsgId>BENCH-${entries}</MsgId><CreDtTm>2025-03-01T18:00:00Z</CreDtTm></GrpHdr>
<Stmt>
<Id>BENCH-STMT</Id><CreDtTm>2025-03-01T18:00:00Z</CreDtTm>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy><Svcr><FinInstnId>${v08 ? '<BICFI>COBADEFFXXX</BICFI>' : '<BIC>COBADEFFXXX</BIC>'}</FinInstnId></Svcr></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${money(opening)}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2025-02-28</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">${money(Math.abs(closing))}</Amt><CdtDbtInd>${sign}</CdtDbtInd><Dt><Dt>2025-03-01</Dt></Dt></Bal>
`;
  let buf = '';
  for (let i = 0; i < entries; i++) {
    const ret = i % 50 === 49;
    const ind = ret ? 'CRDT' : 'DBIT';
    const sts = i % 100 === 99 ? 'PDNG' : 'BOOK';
    const amt = money(cents(i));
    const id = `disb-${String(i).padStart(10, '0')}`;
    buf += `<Ntry>
  <NtryRef>${i + 1}</NtryRef>
  <Amt Ccy="EUR">${amt}</Amt>
  <CdtDbtInd>${ind}</CdtDbtInd>
  ${v08 ? `<Sts><Cd>${sts}</Cd></Sts>` : `<Sts>${sts}</Sts>`}
  <BookgDt><Dt>2025-03-01</Dt></BookgDt>
  <ValDt><Dt>2025-03-01</Dt></ValDt>
  <AcctSvcrRef>BANK-${i}</AcctSvcrRef>
  <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>${ret ? 'RRTN' : 'ESCT'}</SubFmlyCd></Fmly></Domn></BkTxCd>
  <NtryDtls><TxDtls>
    <Refs><EndToEndId>${id}</EndToEndId></Refs>
    ${v08 ? `<Amt Ccy="EUR">${amt}</Amt><CdtDbtInd>${ind}</CdtDbtInd>` : `<AmtDtls><TxAmt><Amt Ccy="EUR">${amt}</Amt></TxAmt></AmtDtls>`}
    <RltdPties><Cdtr>${v08 ? `<Pty><Nm>Beneficiary ${i}</Nm></Pty>` : `<Nm>Beneficiary ${i}</Nm>`}</Cdtr><CdtrAcct><Id><IBAN>DE02120300000000${String(i % 1_000_000).padStart(6, '0')}</IBAN></Id></CdtrAcct></RltdPties>
    <RmtInf><Ustrd>Benefit March 2025</Ustrd></RmtInf>${ret ? '\n    <RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>' : ''}
  </TxDtls></NtryDtls>
</Ntry>
`;
    if (buf.length > 1 << 20) {
      yield buf;
      buf = '';
    }
  }
  yield `${buf}</Stmt>
</BkToCstmrStmt>
</Document>
`;
}
