// camt.053.001.08 writer (BkToCstmrStmt): what the example bank and the tests write, checked against the
// official XSD in test/bank/camt-statements.test.ts. Streaming: `Camt053Writer` hands the document to a sink
// one entry at a time, so a statement of a million entries never sits in memory as objects.
//
// Strict on what identifies something (ids, references, codes, dates, amounts: a clear CamtWriteError rather
// than a file a reader would take differently), forgiving on free text (names, remittance lines), which is
// cleaned of characters XML cannot carry and cut to the schema's length. Amounts are exact decimal strings
// (at most 5 fraction digits and 18 digits in all, as the XSD says); sums are bigint at 5 decimals.
// Before a statement is closed the writer checks opening + booked entries = closing and, when a TxsSummry was
// declared up front, that the entries add up to it.

export const CAMT053_V08_NAMESPACE = 'urn:iso:std:iso:20022:tech:xsd:camt.053.001.08';

export type CamtWriteErrorCode =
  | 'camt_write.invalid_text' // an id, reference or code that is empty, too long or not printable
  | 'camt_write.invalid_amount'
  | 'camt_write.invalid_date'
  | 'camt_write.invalid_currency'
  | 'camt_write.balance_check' // opening + booked entries != closing
  | 'camt_write.summary_check' // the declared TxsSummry is not what the entries add up to
  | 'camt_write.batch_check' // a batch's total or count differs from its transactions
  | 'camt_write.sequence'; // methods called out of order (an entry outside a statement, ...)

export class CamtWriteError extends Error {
  constructor(
    readonly code: CamtWriteErrorCode,
    message: string,
  ) {
    super(`camt.053 writer: ${message}`);
    this.name = 'CamtWriteError';
  }
}

export type CamtWriteSink = (chunk: string) => void;
export type CreditDebit = 'CRDT' | 'DBIT';

export interface Camt053GroupHeader {
  /** GrpHdr/MsgId, Max35Text. */
  messageId: string;
  /** ISODateTime, e.g. 2026-01-31T18:00:00.000Z */
  createdAt: string;
  additionalInfo?: string;
}

export interface Camt053Account {
  /** IBAN when it is a valid one (checksum included), else Othr/Id (Max34Text). */
  id: string;
  currency: string;
  name?: string;
  ownerName?: string;
}

export interface Camt053Balance {
  /** OPBD, CLBD, CLAV, PRCD, ITBD ... (ExternalBalanceType1Code). */
  type: string;
  /** Signed exact decimal: negative is written as DBIT. */
  amount: string;
  /** YYYY-MM-DD */
  date: string;
}

/** What TxsSummry states: counts and sums over the statement's booked entries (a batch entry counts once). */
export interface Camt053Summary {
  count: number;
  /** Sum of the entries' amounts, whatever their direction. */
  sum: string;
  /** Credits less debits, signed. */
  net: string;
  credit: { count: number; sum: string };
  debit: { count: number; sum: string };
}

export interface Camt053StatementHead {
  /** Stmt/Id, Max35Text. */
  id: string;
  electronicSequenceNumber?: number | bigint;
  legalSequenceNumber?: number | bigint;
  /** ISODateTime */
  createdAt?: string;
  /** FrToDt, ISODateTimes. */
  from?: string;
  to?: string;
  account: Camt053Account;
  /** Written in this order. The checks need an opening (OPBD or PRCD) and a closing (CLBD) balance. */
  balances: Camt053Balance[];
  /** Written as TxsSummry and checked against the entries when the statement ends. */
  summary?: Camt053Summary;
  additionalInfo?: string;
}

export interface Camt053BankTransactionCode {
  domain?: { code: string; family: string; subFamily: string };
  proprietary?: { code: string; issuer?: string };
}

export interface Camt053Party {
  name?: string;
  /** A private id of the party (Pty/Id/PrvtId/Othr/Id), Max35Text. */
  id?: string;
  /** Its account: IBAN when valid, else Othr/Id; omitted when it cannot be written (over 34 characters). */
  account?: string;
}

export interface Camt053ReturnInfo {
  /** Rsn/Cd: ExternalReturnReason1Code such as AC01, AC04, AC06, MD07. */
  reasonCode?: string;
  /** Rsn/Prtry, when there is no code. */
  proprietaryReason?: string;
  additionalInfo?: string[];
}

export interface Camt053Transaction {
  references?: {
    messageId?: string;
    accountServicerReference?: string;
    paymentInformationId?: string;
    instructionId?: string;
    /** The disbursement id travels here. */
    endToEndId?: string;
    transactionId?: string;
  };
  /** In the account's currency; required within a batch (the batch total is checked against it). */
  amount?: string;
  /** Default: the entry's. */
  creditDebit?: CreditDebit;
  bankTransactionCode?: Camt053BankTransactionCode;
  debtor?: Camt053Party;
  creditor?: Camt053Party;
  /** RmtInf/Ustrd lines (Max140Text each). */
  remittance?: string[];
  returnInfo?: Camt053ReturnInfo;
  additionalInfo?: string;
}

export interface Camt053Entry {
  reference?: string;
  amount: string;
  creditDebit: CreditDebit;
  /** RvslInd=true: the entry reverses an earlier one of the opposite direction. */
  reversal?: boolean;
  /** Default BOOK. Only booked entries move the balance and count in TxsSummry. */
  status?: 'BOOK' | 'PDNG' | 'INFO';
  bookingDate?: string;
  valueDate?: string;
  accountServicerReference?: string;
  bankTransactionCode: Camt053BankTransactionCode;
  /** NtryDtls/Btch: count and total default to those of `transactions`, and are checked against them. */
  batch?: { messageId?: string; paymentInformationId?: string };
  transactions?: Camt053Transaction[];
  additionalInfo?: string;
}

export interface Camt053Document {
  header: Camt053GroupHeader;
  statements: Array<Camt053StatementHead & { entries: readonly Camt053Entry[] }>;
}

/** The whole document as one string; TxsSummry is computed from the entries unless given. */
export function writeCamt053(doc: Camt053Document): string {
  const parts: string[] = [];
  const writer = new Camt053Writer((chunk) => parts.push(chunk), doc.header);
  for (const s of doc.statements) {
    const { entries, ...head } = s;
    writer.beginStatement({ ...head, summary: head.summary ?? summariseEntries(entries) });
    for (const e of entries) writer.writeEntry(e);
    writer.endStatement();
  }
  writer.end();
  return parts.join('');
}

/** Streaming writer: beginStatement, writeEntry per entry, endStatement, ... then end. */
export class Camt053Writer {
  private state: 'document' | 'statement' | 'ended' = 'document';
  private statements = 0;
  private head: Camt053StatementHead | null = null;
  private tally = new Tally();

  constructor(
    private readonly sink: CamtWriteSink,
    header: Camt053GroupHeader,
  ) {
    const x = new Xml();
    x.raw(`<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="${CAMT053_V08_NAMESPACE}">`);
    x.open('BkToCstmrStmt').open('GrpHdr');
    x.leaf('MsgId', id('GrpHdr/MsgId', header.messageId, 35));
    x.leaf('CreDtTm', dateTime('GrpHdr/CreDtTm', header.createdAt));
    x.optional('AddtlInf', fitText(header.additionalInfo, 500));
    x.close('GrpHdr').raw('\n');
    this.sink(x.text());
  }

  beginStatement(head: Camt053StatementHead): void {
    if (this.state !== 'document') throw sequence('beginStatement', this.state);
    const where = `Stmt ${head.id}`;
    const currency = currencyCode(`${where}: Acct/Ccy`, head.account.currency);
    const x = new Xml();
    x.open('Stmt');
    x.leaf('Id', id(`${where}: Id`, head.id, 35));
    if (head.electronicSequenceNumber !== undefined)
      x.leaf('ElctrncSeqNb', sequenceNumber(`${where}: ElctrncSeqNb`, head.electronicSequenceNumber));
    if (head.legalSequenceNumber !== undefined)
      x.leaf('LglSeqNb', sequenceNumber(`${where}: LglSeqNb`, head.legalSequenceNumber));
    if (head.createdAt !== undefined) x.leaf('CreDtTm', dateTime(`${where}: CreDtTm`, head.createdAt));
    if (head.from !== undefined || head.to !== undefined) {
      if (head.from === undefined || head.to === undefined)
        throw new CamtWriteError('camt_write.invalid_date', `${where}: FrToDt needs both from and to`);
      x.open('FrToDt');
      x.leaf('FrDtTm', dateTime(`${where}: FrDtTm`, head.from));
      x.leaf('ToDtTm', dateTime(`${where}: ToDtTm`, head.to));
      x.close('FrToDt');
    }
    x.open('Acct');
    accountId(x, `${where}: Acct/Id`, head.account.id);
    x.leaf('Ccy', currency);
    x.optional('Nm', fitText(head.account.name, 70));
    const owner = fitText(head.account.ownerName, 140);
    if (owner) x.open('Ownr').leaf('Nm', owner).close('Ownr');
    x.close('Acct');
    if (head.balances.length === 0)
      throw new CamtWriteError(
        'camt_write.balance_check',
        `${where}: a statement needs at least one balance`,
      );
    for (const b of head.balances) {
      const amount = amountOf(`${where}: Bal ${b.type}`, b.amount, true);
      x.open('Bal');
      x.open('Tp')
        .open('CdOrPrtry')
        .leaf('Cd', id(`${where}: Bal/Tp`, b.type, 4))
        .close('CdOrPrtry')
        .close('Tp');
      x.amount('Amt', amount.text, currency);
      x.leaf('CdtDbtInd', amount.negative ? 'DBIT' : 'CRDT');
      x.open('Dt')
        .leaf('Dt', isoDate(`${where}: Bal ${b.type}`, b.date))
        .close('Dt');
      x.close('Bal');
    }
    if (head.summary) {
      const s = head.summary;
      const net = amountOf(`${where}: TxsSummry net`, s.net, true);
      x.open('TxsSummry');
      x.open('TtlNtries').leaf('NbOfNtries', count(`${where}: TxsSummry`, s.count));
      x.leaf('Sum', amountOf(`${where}: TxsSummry sum`, s.sum, false).text);
      x.open('TtlNetNtry')
        .leaf('Amt', net.text)
        .leaf('CdtDbtInd', net.negative ? 'DBIT' : 'CRDT');
      x.close('TtlNetNtry').close('TtlNtries');
      for (const [tag, part] of [
        ['TtlCdtNtries', s.credit],
        ['TtlDbtNtries', s.debit],
      ] as const) {
        x.open(tag).leaf('NbOfNtries', count(`${where}: ${tag}`, part.count));
        x.leaf('Sum', amountOf(`${where}: ${tag}`, part.sum, false).text).close(tag);
      }
      x.close('TxsSummry');
    }
    this.sink(x.raw('\n').text());
    this.head = { ...head, account: { ...head.account, currency } };
    this.tally = new Tally();
    this.state = 'statement';
  }

  writeEntry(entry: Camt053Entry): void {
    if (this.state !== 'statement' || !this.head) throw sequence('writeEntry', this.state);
    const currency = this.head.account.currency;
    const where = `Stmt ${this.head.id}: Ntry ${this.tally.entries + 1}`;
    const amount = amountOf(`${where}: Amt`, entry.amount, false);
    const direction = creditDebit(where, entry.creditDebit);
    const status = entry.status ?? 'BOOK';
    if (!['BOOK', 'PDNG', 'INFO'].includes(status))
      throw new CamtWriteError('camt_write.invalid_text', `${where}: Sts ${JSON.stringify(status)}`);
    const transactions = entry.transactions ?? [];
    if (entry.batch) checkBatch(where, amount.units, direction, transactions);

    const x = new Xml();
    x.open('Ntry');
    x.optional(
      'NtryRef',
      entry.reference === undefined ? undefined : id(`${where}: NtryRef`, entry.reference, 35),
    );
    x.amount('Amt', amount.text, currency);
    x.leaf('CdtDbtInd', direction);
    if (entry.reversal) x.leaf('RvslInd', 'true');
    x.open('Sts').leaf('Cd', status).close('Sts');
    if (entry.bookingDate !== undefined)
      x.open('BookgDt')
        .leaf('Dt', isoDate(`${where}: BookgDt`, entry.bookingDate))
        .close('BookgDt');
    if (entry.valueDate !== undefined)
      x.open('ValDt')
        .leaf('Dt', isoDate(`${where}: ValDt`, entry.valueDate))
        .close('ValDt');
    if (entry.accountServicerReference !== undefined)
      x.leaf('AcctSvcrRef', id(`${where}: AcctSvcrRef`, entry.accountServicerReference, 35));
    bankTransactionCode(x, where, entry.bankTransactionCode);
    if (entry.batch || transactions.length > 0) {
      x.open('NtryDtls');
      if (entry.batch) {
        x.open('Btch');
        optionalId(x, 'MsgId', `${where}: Btch/MsgId`, entry.batch.messageId);
        optionalId(x, 'PmtInfId', `${where}: Btch/PmtInfId`, entry.batch.paymentInformationId);
        x.leaf('NbOfTxs', String(transactions.length));
        x.amount('TtlAmt', amount.text, currency);
        x.leaf('CdtDbtInd', direction);
        x.close('Btch');
      }
      for (let i = 0; i < transactions.length; i++)
        transaction(x, `${where}: TxDtls ${i + 1}`, transactions[i]!, direction, currency);
      x.close('NtryDtls');
    }
    x.optional('AddtlNtryInf', fitText(entry.additionalInfo, 500));
    x.close('Ntry').raw('\n');
    this.sink(x.text());
    this.tally.add(amount.units, direction, status === 'BOOK', amount.scale);
  }

  endStatement(): void {
    if (this.state !== 'statement' || !this.head) throw sequence('endStatement', this.state);
    const head = this.head;
    const where = `Stmt ${head.id}`;
    const opening =
      head.balances.find((b) => b.type === 'OPBD') ?? head.balances.find((b) => b.type === 'PRCD');
    const closing = head.balances.find((b) => b.type === 'CLBD');
    if (opening && closing) {
      const computed = amountOf(where, opening.amount, true).signed + this.tally.net;
      const expected = amountOf(where, closing.amount, true).signed;
      if (computed !== expected)
        throw new CamtWriteError(
          'camt_write.balance_check',
          `${where}: opening ${opening.amount} + booked entries = ${formatUnits(computed, 5)}, not the closing ${closing.amount}`,
        );
    }
    if (head.summary) {
      const problems = this.tally.compare(head.summary);
      if (problems.length)
        throw new CamtWriteError(
          'camt_write.summary_check',
          `${where}: TxsSummry differs from the entries: ${problems.join('; ')}`,
        );
    }
    const x = new Xml();
    x.optional('AddtlStmtInf', fitText(head.additionalInfo, 500));
    x.close('Stmt').raw('\n');
    this.sink(x.text());
    this.statements++;
    this.head = null;
    this.state = 'document';
  }

  end(): void {
    if (this.state !== 'document') throw sequence('end', this.state);
    if (this.statements === 0)
      throw new CamtWriteError('camt_write.sequence', 'a camt.053 document needs at least one statement');
    this.sink('</BkToCstmrStmt></Document>\n');
    this.state = 'ended';
  }
}

/** TxsSummry of `entries` (booked ones only, as the balance check). */
export function summariseEntries(entries: Iterable<Camt053Entry>): Camt053Summary {
  const tally = new Tally();
  for (const e of entries) {
    const amount = amountOf('summary', e.amount, false);
    tally.add(amount.units, e.creditDebit, (e.status ?? 'BOOK') === 'BOOK', amount.scale);
  }
  return tally.summary();
}

/** Whether `text` is an IBAN: country, check digits, up to 30 letters or digits, and the mod-97 check. */
export function isIban(text: string): boolean {
  if (!/^[A-Z]{2}[0-9]{2}[A-Za-z0-9]{1,30}$/.test(text)) return false;
  const rearranged = (text.slice(4) + text.slice(0, 4)).toUpperCase();
  let rest = 0;
  for (const c of rearranged) {
    const code = c.charCodeAt(0);
    const digits = code >= 65 ? String(code - 55) : c;
    for (const d of digits) rest = (rest * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rest === 1;
}

// ---- Amounts: bigint units of 10^-5 (the XSD's fraction digits), so sums are exact.

const SCALE = 5;

interface Amount {
  /** As written: no sign, no leading zeros. */
  text: string;
  negative: boolean;
  /** Absolute value in units of 10^-5. */
  units: bigint;
  signed: bigint;
  /** Fraction digits as given. */
  scale: number;
}

function amountOf(where: string, value: string, signed: boolean): Amount {
  const m = typeof value === 'string' ? /^(-)?(\d+)(?:\.(\d+))?$/.exec(value) : null;
  if (!m || (m[1] && !signed))
    throw new CamtWriteError(
      'camt_write.invalid_amount',
      `${where}: ${JSON.stringify(value)} is not a ${signed ? '' : 'non-negative '}decimal such as "1234.50"`,
    );
  const whole = m[2]!.replace(/^0+(?=\d)/, '');
  const fraction = m[3] ?? '';
  if (fraction.length > SCALE)
    throw new CamtWriteError('camt_write.invalid_amount', `${where}: ${value} has more than 5 decimals`);
  const significant = (whole === '0' ? '' : whole) + fraction.replace(/0+$/, '');
  if (significant.replace(/^0+/, '').length > 18)
    throw new CamtWriteError('camt_write.invalid_amount', `${where}: ${value} has more than 18 digits`);
  const units = BigInt(whole + fraction.padEnd(SCALE, '0'));
  const negative = Boolean(m[1]) && units !== 0n;
  return {
    text: fraction ? `${whole}.${fraction}` : whole,
    negative,
    units,
    signed: negative ? -units : units,
    scale: fraction.length,
  };
}

/** Units of 10^-5 as a decimal with `decimals` fraction digits (which must not lose any digit). */
function formatUnits(units: bigint, decimals: number): string {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(SCALE + 1, '0');
  const whole = digits.slice(0, digits.length - SCALE);
  const fraction = digits.slice(digits.length - SCALE, digits.length - SCALE + decimals);
  return `${negative ? '-' : ''}${whole}${decimals > 0 ? `.${fraction}` : ''}`;
}

class Tally {
  entries = 0;
  credit = { count: 0, units: 0n };
  debit = { count: 0, units: 0n };
  net = 0n;
  private scale = 0;

  add(units: bigint, direction: CreditDebit, booked: boolean, scale: number) {
    this.entries++;
    if (!booked) return;
    this.scale = Math.max(this.scale, scale);
    const side = direction === 'CRDT' ? this.credit : this.debit;
    side.count++;
    side.units += units;
    this.net += direction === 'CRDT' ? units : -units;
  }

  summary(): Camt053Summary {
    const f = (u: bigint) => formatUnits(u, this.scale);
    return {
      count: this.credit.count + this.debit.count,
      sum: f(this.credit.units + this.debit.units),
      net: f(this.net),
      credit: { count: this.credit.count, sum: f(this.credit.units) },
      debit: { count: this.debit.count, sum: f(this.debit.units) },
    };
  }

  compare(declared: Camt053Summary): string[] {
    const units = (v: string) => amountOf('TxsSummry', v, true).signed;
    const problems: string[] = [];
    const check = (what: string, ok: boolean, declaredText: string, actual: string) => {
      if (!ok) problems.push(`${what} declared ${declaredText}, entries ${actual}`);
    };
    const actual = this.summary();
    check('count', declared.count === actual.count, String(declared.count), String(actual.count));
    check('sum', units(declared.sum) === this.credit.units + this.debit.units, declared.sum, actual.sum);
    check('net', units(declared.net) === this.net, declared.net, actual.net);
    check(
      'credit count',
      declared.credit.count === actual.credit.count,
      String(declared.credit.count),
      String(actual.credit.count),
    );
    check(
      'credit sum',
      units(declared.credit.sum) === this.credit.units,
      declared.credit.sum,
      actual.credit.sum,
    );
    check(
      'debit count',
      declared.debit.count === actual.debit.count,
      String(declared.debit.count),
      String(actual.debit.count),
    );
    check('debit sum', units(declared.debit.sum) === this.debit.units, declared.debit.sum, actual.debit.sum);
    return problems;
  }
}

function checkBatch(
  where: string,
  entryUnits: bigint,
  direction: CreditDebit,
  transactions: readonly Camt053Transaction[],
): void {
  if (transactions.length === 0)
    throw new CamtWriteError('camt_write.batch_check', `${where}: a batch entry needs its transactions`);
  let total = 0n;
  for (let i = 0; i < transactions.length; i++) {
    const t = transactions[i]!;
    if (t.amount === undefined)
      throw new CamtWriteError(
        'camt_write.batch_check',
        `${where}: TxDtls ${i + 1} of a batch has no amount`,
      );
    if ((t.creditDebit ?? direction) !== direction)
      throw new CamtWriteError(
        'camt_write.batch_check',
        `${where}: TxDtls ${i + 1} goes the other way than its batch entry`,
      );
    total += amountOf(`${where}: TxDtls ${i + 1}`, t.amount, false).units;
  }
  if (total !== entryUnits)
    throw new CamtWriteError(
      'camt_write.batch_check',
      `${where}: the transactions add up to ${formatUnits(total, SCALE)}, not the entry's amount`,
    );
}

// ---- Elements.

function transaction(
  x: Xml,
  where: string,
  t: Camt053Transaction,
  entryDirection: CreditDebit,
  currency: string,
): void {
  x.open('TxDtls');
  const r = t.references;
  if (r && Object.values(r).some((v) => v !== undefined)) {
    x.open('Refs');
    optionalId(x, 'MsgId', `${where}: MsgId`, r.messageId);
    optionalId(x, 'AcctSvcrRef', `${where}: AcctSvcrRef`, r.accountServicerReference);
    optionalId(x, 'PmtInfId', `${where}: PmtInfId`, r.paymentInformationId);
    optionalId(x, 'InstrId', `${where}: InstrId`, r.instructionId);
    optionalId(x, 'EndToEndId', `${where}: EndToEndId`, r.endToEndId);
    optionalId(x, 'TxId', `${where}: TxId`, r.transactionId);
    x.close('Refs');
  }
  if (t.amount !== undefined) {
    x.amount('Amt', amountOf(`${where}: Amt`, t.amount, false).text, currency);
    x.leaf('CdtDbtInd', creditDebit(where, t.creditDebit ?? entryDirection));
  }
  if (t.bankTransactionCode) bankTransactionCode(x, where, t.bankTransactionCode);
  const debtor = party(t.debtor);
  const creditor = party(t.creditor);
  if (debtor.any || creditor.any) {
    x.open('RltdPties');
    if (debtor.party) partyElement(x, 'Dbtr', where, t.debtor!);
    if (debtor.account) cashAccount(x, 'DbtrAcct', where, t.debtor!.account!);
    if (creditor.party) partyElement(x, 'Cdtr', where, t.creditor!);
    if (creditor.account) cashAccount(x, 'CdtrAcct', where, t.creditor!.account!);
    x.close('RltdPties');
  }
  const lines = (t.remittance ?? []).map((l) => fitText(l, 140)).filter((l): l is string => l !== undefined);
  if (lines.length) {
    x.open('RmtInf');
    for (const l of lines) x.leaf('Ustrd', l);
    x.close('RmtInf');
  }
  if (t.returnInfo) {
    const ri = t.returnInfo;
    x.open('RtrInf');
    if (ri.reasonCode !== undefined) {
      x.open('Rsn')
        .leaf('Cd', id(`${where}: RtrInf/Rsn/Cd`, ri.reasonCode, 4))
        .close('Rsn');
    } else if (ri.proprietaryReason !== undefined) {
      x.open('Rsn')
        .leaf('Prtry', id(`${where}: RtrInf/Rsn/Prtry`, ri.proprietaryReason, 35))
        .close('Rsn');
    }
    for (const info of ri.additionalInfo ?? []) x.optional('AddtlInf', fitText(info, 105));
    x.close('RtrInf');
  }
  x.optional('AddtlTxInf', fitText(t.additionalInfo, 500));
  x.close('TxDtls');
}

function party(p: Camt053Party | undefined): { any: boolean; party: boolean; account: boolean } {
  const hasParty = Boolean(p && (fitText(p.name, 140) !== undefined || p.id !== undefined));
  const hasAccount = p?.account !== undefined;
  return { any: hasParty || hasAccount, party: hasParty, account: hasAccount };
}

function partyElement(x: Xml, tag: string, where: string, p: Camt053Party): void {
  x.open(tag).open('Pty');
  x.optional('Nm', fitText(p.name, 140));
  if (p.id !== undefined) {
    x.open('Id').open('PrvtId').open('Othr');
    x.leaf('Id', id(`${where}: ${tag}/Pty/Id`, p.id, 35));
    x.close('Othr').close('PrvtId').close('Id');
  }
  x.close('Pty').close(tag);
}

/** A party's account as it can be written: an IBAN, or another id of 1..34 printable characters. */
export function isWritableAccount(account: string): boolean {
  return isIban(account) || isPrintableId(account, 34);
}

/** An id that fits Max35Text (or `max`) as the writer requires: printable, no blanks at either end. */
export function isWritableId(value: string, max = 35): boolean {
  return isPrintableId(value, max);
}

function cashAccount(x: Xml, tag: string, where: string, account: string): void {
  x.open(tag);
  accountId(x, `${where}: ${tag}`, account);
  x.close(tag);
}

function accountId(x: Xml, where: string, account: string): void {
  x.open('Id');
  if (isIban(account)) x.leaf('IBAN', account);
  else
    x.open('Othr')
      .leaf('Id', id(where, account, 34))
      .close('Othr');
  x.close('Id');
}

function bankTransactionCode(x: Xml, where: string, code: Camt053BankTransactionCode): void {
  x.open('BkTxCd');
  if (code.domain) {
    const d = code.domain;
    x.open('Domn').leaf('Cd', id(`${where}: BkTxCd/Domn/Cd`, d.code, 4));
    x.open('Fmly').leaf('Cd', id(`${where}: BkTxCd/Fmly/Cd`, d.family, 4));
    x.leaf('SubFmlyCd', id(`${where}: BkTxCd/SubFmlyCd`, d.subFamily, 4));
    x.close('Fmly').close('Domn');
  }
  if (code.proprietary) {
    x.open('Prtry').leaf('Cd', id(`${where}: BkTxCd/Prtry/Cd`, code.proprietary.code, 35));
    optionalId(x, 'Issr', `${where}: BkTxCd/Prtry/Issr`, code.proprietary.issuer);
    x.close('Prtry');
  }
  x.close('BkTxCd');
}

// ---- Values.

function sequence(method: string, state: string): CamtWriteError {
  return new CamtWriteError(
    'camt_write.sequence',
    `${method}() called ${state === 'ended' ? 'after end()' : `in state ${state}`}`,
  );
}

function creditDebit(where: string, value: string): CreditDebit {
  if (value !== 'CRDT' && value !== 'DBIT')
    throw new CamtWriteError('camt_write.invalid_text', `${where}: CdtDbtInd ${JSON.stringify(value)}`);
  return value;
}

function currencyCode(where: string, value: string): string {
  if (typeof value !== 'string' || !/^[A-Z]{3}$/.test(value))
    throw new CamtWriteError(
      'camt_write.invalid_currency',
      `${where}: ${JSON.stringify(value)} is not a currency code`,
    );
  return value;
}

function count(where: string, n: number): string {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CamtWriteError('camt_write.summary_check', `${where}: count ${n} is not a whole number`);
  return String(n);
}

function sequenceNumber(where: string, n: number | bigint): string {
  const big = typeof n === 'bigint' ? n : Number.isSafeInteger(n) ? BigInt(n) : -1n;
  if (big < 0n || big.toString().length > 18)
    throw new CamtWriteError('camt_write.invalid_text', `${where}: ${String(n)} is not a sequence number`);
  return big.toString();
}

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function isoDate(where: string, value: string): string {
  const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  const y = Number(m?.[1]);
  const mo = Number(m?.[2]);
  const d = Number(m?.[3]);
  if (!m || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo))
    throw new CamtWriteError(
      'camt_write.invalid_date',
      `${where}: ${JSON.stringify(value)} is not a YYYY-MM-DD date`,
    );
  return value;
}

function dateTime(where: string, value: string): string {
  const m =
    typeof value === 'string'
      ? /^(\d{4}-\d{2}-\d{2})T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?(Z|[+-](0\d|1[0-4]):[0-5]\d)?$/.exec(
          value,
        )
      : null;
  if (!m)
    throw new CamtWriteError(
      'camt_write.invalid_date',
      `${where}: ${JSON.stringify(value)} is not an ISO date-time`,
    );
  isoDate(where, m[1]!);
  return value;
}

/** Characters XML 1.0 cannot carry at all, and the C0/C1 controls a reader would choke on. */
const UNWRITABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters it looks for
  /[\u0000-\u001f\u007f-\u009f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function isPrintableId(value: string, max: number): boolean {
  if (typeof value !== 'string' || value.length === 0) return false;
  if ([...value].length > max) return false;
  UNWRITABLE.lastIndex = 0;
  return !UNWRITABLE.test(value) && value.trim() === value;
}

/** An identifier: 1..max characters, printable, no blanks at either end; else a CamtWriteError. */
function id(where: string, value: string, max: number): string {
  if (!isPrintableId(value, max))
    throw new CamtWriteError(
      'camt_write.invalid_text',
      `${where}: ${JSON.stringify(value)} is not 1..${max} printable characters without blanks at either end`,
    );
  return value;
}

function optionalId(x: Xml, tag: string, where: string, value: string | undefined): void {
  if (value !== undefined) x.leaf(tag, id(where, value, 35));
}

/** Free text made writable: unwritable characters become blanks, runs of blanks one, cut to `max` characters. */
export function fitText(text: string | null | undefined, max: number): string | undefined {
  if (text === null || text === undefined) return undefined;
  const clean = String(text).replace(UNWRITABLE, ' ').replace(/\s+/g, ' ').trim();
  const chars = [...clean];
  const out = (chars.length > max ? chars.slice(0, max).join('') : clean).trimEnd();
  return out === '' ? undefined : out;
}

// ---- Markup.

function escapeText(text: string): string {
  return text.replace(/[&<>]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : '&gt;'));
}

/** A small builder of element text: every value is escaped on the way in. */
class Xml {
  private parts: string[] = [];
  raw(text: string): this {
    this.parts.push(text);
    return this;
  }
  open(tag: string): this {
    this.parts.push(`<${tag}>`);
    return this;
  }
  close(tag: string): this {
    this.parts.push(`</${tag}>`);
    return this;
  }
  leaf(tag: string, value: string): this {
    this.parts.push(`<${tag}>${escapeText(value)}</${tag}>`);
    return this;
  }
  optional(tag: string, value: string | undefined): this {
    return value === undefined ? this : this.leaf(tag, value);
  }
  amount(tag: string, value: string, currency: string): this {
    this.parts.push(`<${tag} Ccy="${currency}">${value}</${tag}>`);
    return this;
  }
  text(): string {
    return this.parts.join('');
  }
}
