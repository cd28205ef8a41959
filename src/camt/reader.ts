// The camt reader: saxes events → statements, entries and transactions, one element at a time. It keeps only
// the open path, the statement being read and the entry being read, so a file of any size reads in flat memory.
// Every limit of hostile XML is enforced here before saxes can buffer much: no DOCTYPE (so no entity can be
// declared, expanded or fetched), bounded depth, bounded text between two tags, bounded problem lists.
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import type {
  CamtAccount,
  CamtBalance,
  CamtBankTransactionCode,
  CamtBatch,
  CamtCreditDebit,
  CamtDate,
  CamtEntry,
  CamtGroupHeader,
  CamtMessageInfo,
  CamtParseOptions,
  CamtParty,
  CamtProblem,
  CamtProblemCode,
  CamtSeverity,
  CamtStatement,
  CamtTransaction,
  CamtTransactionsSummary,
  CamtVersion,
} from './types.js';
import {
  formatUnits,
  parseAmount,
  parseCount,
  parseIsoDate,
  parseIsoDateTime,
  quote,
  signed,
} from './values.js';

export const CAMT_NAMESPACE = /^urn:iso:std:iso:20022:tech:xsd:camt\.(\d{3})\.(\d{3}\.\d{2})$/;
/** The message/version pairs the reader knows, with what differs between them. */
export const SUPPORTED: Record<string, readonly CamtVersion[]> = {
  '053': ['001.02', '001.04', '001.08'],
  '054': ['001.02', '001.08'],
};
const ROOT_CHILD = { '053': 'BkToCstmrStmt', '054': 'BkToCstmrDbtCdtNtfctn' } as const;
const REPORT = { '053': 'Stmt', '054': 'Ntfctn' } as const;

const DEFAULTS = { maxDepth: 64, maxTextLength: 100_000, maxProblems: 1_000 };
/** Input is handed to saxes in slices of this size, so no gap between two '<' goes unmeasured for long. */
const SLICE = 65_536;
/** Interned element paths kept per reader (a camt file uses a few hundred). */
const MAX_PATHS = 2_000;

export interface CamtSink {
  header?(message: CamtMessageInfo, header: CamtGroupHeader): void;
  entry?(entry: CamtEntry, statementIndex: number): void;
  statement(statement: CamtStatement, statementIndex: number): void;
}

/** Thrown inside saxes handlers to stop at the first fatal problem. */
class Stop extends Error {}

enum Frame {
  Doc = 0,
  GrpHdr = 1,
  Stmt = 2,
  Bal = 3,
  Summary = 4,
  Entry = 5,
  Batch = 6,
  Tx = 7,
}

interface StatementTotals {
  bookedUnits: bigint;
  /** the currencies of the entries, all of them: a statement balances only when they are its own */
  currencies: Set<string>;
  /** all entries / booked entries: count and unsigned sum per direction */
  all: { cn: number; cs: bigint; dn: number; ds: bigint };
  booked: { cn: number; cs: bigint; dn: number; ds: bigint };
  digits: number;
}

interface SummaryRaw {
  total: { n?: string; sum?: string; net?: string; netInd?: string };
  credit: { n?: string; sum?: string };
  debit: { n?: string; sum?: string };
}

interface TxAmounts {
  amt?: string;
  amtCcy?: string;
  txAmt?: string;
  txAmtCcy?: string;
  instd?: string;
  instdCcy?: string;
}

export class CamtReader {
  readonly problems: CamtProblem[] = [];
  fatal: CamtProblem | undefined;
  message: CamtMessageInfo | undefined;
  statementCount = 0;

  private readonly opt: typeof DEFAULTS;
  private readonly sax: SaxesParser<{ xmlns: false; position: true }>;
  private readonly keepEntries: boolean;

  // open path
  private depth = 0;
  private readonly names: string[] = [];
  private readonly rel: string[] = [];
  private text = '';
  private leafDepth = -1;
  private leafLine = 0;
  private leafColumn = 0;
  private attrs: Record<string, string> = {};
  private rootClosed = false;
  private sawRoot = false;

  // frames
  private readonly frameKinds: Frame[] = [Frame.Doc];
  private readonly frameDepths: number[] = [0];
  private frame: Frame = Frame.Doc;
  private frameDepth = 0;

  // what is being read
  private header: CamtGroupHeader = { messageId: '' };
  private headerSent = false;
  private st: CamtStatement | undefined;
  private totals: StatementTotals | undefined;
  private summary: SummaryRaw | undefined;
  private bal: Partial<CamtBalance> & { rawAmount?: string; rawCcy?: string } = {};
  private entry: Partial<CamtEntry> & { rawAmount?: string; rawCcy?: string; rawInd?: string } = {};
  private batch: CamtBatch & { rawTotal?: string; txFrom: number } = { txFrom: 0 };
  private batchesOfEntry: Array<CamtBatch & { rawTotal?: string; txFrom: number; txTo: number }> = [];
  private tx: CamtTransaction | undefined;
  private txAmounts: TxAmounts = {};

  private readonly paths = new Map<string, Map<string, string>>();

  // hostile-input guards
  private gap = 0;
  private prolog = '';

  constructor(
    private readonly sink: CamtSink,
    options: CamtParseOptions & { keepEntries?: boolean } = {},
  ) {
    this.opt = {
      maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
      maxTextLength: options.maxTextLength ?? DEFAULTS.maxTextLength,
      maxProblems: options.maxProblems ?? DEFAULTS.maxProblems,
    };
    this.keepEntries = options.keepEntries ?? true;
    const sax = new SaxesParser({ xmlns: false, position: true });
    this.sax = sax;
    sax.on('error', (e) => this.onSaxError(e));
    sax.on('doctype', () =>
      this.stop('camt.doctype', 'a DOCTYPE is refused: camt needs no DTD and entities are not read'),
    );
    sax.on('opentag', (t) => this.open(t));
    sax.on('closetag', () => this.close());
    sax.on('text', (t) => this.addText(t));
    sax.on('cdata', (t) => this.addText(t));
  }

  /** Feeds text. Returns false once a fatal problem has stopped the reader. */
  write(chunk: string): boolean {
    if (this.fatal) return false;
    try {
      for (let i = 0; i < chunk.length; i += SLICE) {
        const slice = chunk.length <= SLICE ? chunk : chunk.slice(i, i + SLICE);
        this.guard(slice);
        this.sax.write(slice);
      }
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
      return false;
    }
    return true;
  }

  /** Ends the input: reports a file cut short. */
  end(): void {
    if (this.fatal) return;
    try {
      if (!this.sawRoot) this.stop('camt.not_xml', 'no XML root element: this is not a camt document', 1, 1);
      if (!this.rootClosed) {
        const open = this.names.slice(1, this.depth + 1).join('/');
        this.stop('camt.truncated', `the file ends inside ${open}: it was cut short`);
      }
      this.sax.close();
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    }
  }

  // ---- guards ---------------------------------------------------------------------------------------------

  private guard(slice: string): void {
    if (!this.sawRoot) {
      // the prolog is where a DOCTYPE would be: refuse it before saxes reads the internal subset
      this.prolog = (this.prolog + slice).slice(-SLICE);
      if (this.prolog.includes('<!DOCTYPE') || this.prolog.includes('<!ENTITY')) {
        this.stop('camt.doctype', 'a DOCTYPE is refused: camt needs no DTD and entities are not read', 1, 1);
      }
    }
    const last = slice.lastIndexOf('<');
    if (last < 0) this.gap += slice.length;
    else this.gap = slice.length - last - 1;
    if (this.gap > this.opt.maxTextLength + SLICE) {
      this.stop('camt.too_large', `a text or tag longer than ${this.opt.maxTextLength} characters`);
    }
  }

  private onSaxError(e: Error): never {
    const msg = e.message;
    if (/undefined entity|entity/i.test(msg) && !/unexpected end/i.test(msg)) {
      this.stop('camt.entity', `not well-formed XML: ${msg.replace(/^(?:.*?:)?\d+:\d+: /, '')}`);
    }
    this.stop('camt.not_xml', `not well-formed XML: ${msg.replace(/^(?:.*?:)?\d+:\d+: /, '')}`);
  }

  /** Records a fatal problem found outside saxes (e.g. bytes that are not UTF-8). */
  fail(code: CamtProblemCode, message: string): void {
    if (this.fatal) return;
    try {
      this.stop(code, message);
    } catch (e) {
      if (!(e instanceof Stop)) throw e;
    }
  }

  private stop(code: CamtProblemCode, message: string, line?: number, column?: number): never {
    const p: CamtProblem = {
      code,
      message,
      severity: 'fatal',
      line: line ?? this.sax.line,
      column: column ?? this.sax.column,
    };
    const path = this.names.slice(1, this.depth + 1).join('/');
    if (path) p.path = path;
    this.fatal = p;
    this.problems.push(p);
    throw new Stop(message);
  }

  private addText(t: string): void {
    this.text += t;
    if (this.text.length > this.opt.maxTextLength) {
      this.stop('camt.too_large', `a text longer than ${this.opt.maxTextLength} characters`);
    }
  }

  // ---- problems -------------------------------------------------------------------------------------------

  private report(code: CamtProblemCode, message: string, severity: CamtSeverity = 'error'): void {
    const list = this.st ? this.st.problems : this.problems;
    const max = this.opt.maxProblems;
    if (list.length > max) return;
    const p: CamtProblem =
      list.length === max
        ? {
            code: 'camt.too_many_problems',
            message: `more than ${max} problems: the rest are not listed`,
            severity: 'error',
            line: this.leafLine,
            column: this.leafColumn,
          }
        : { code, message, severity, line: this.leafLine, column: this.leafColumn };
    const path = this.names.slice(1, this.depth + 1).join('/');
    if (path) p.path = path;
    list.push(p);
  }

  // ---- elements -------------------------------------------------------------------------------------------

  private open(tag: SaxesTagPlain): void {
    const d = ++this.depth;
    if (d > this.opt.maxDepth) this.stop('camt.too_deep', `elements nested deeper than ${this.opt.maxDepth}`);
    const qname = tag.name;
    const colon = qname.indexOf(':');
    const name = colon < 0 ? qname : qname.slice(colon + 1);
    this.names[d] = name;
    this.text = '';
    this.leafDepth = d;
    this.leafLine = this.sax.line;
    this.leafColumn = this.sax.column;
    this.attrs = tag.attributes;
    if (d <= 3) {
      this.openTop(d, name, colon < 0 ? '' : qname.slice(0, colon));
      return;
    }
    const fd = this.frameDepth;
    this.rel[d] = d === fd + 1 ? name : this.childPath(this.rel[d - 1]!, name);
    switch (this.frame) {
      case Frame.Stmt:
        if (d === fd + 1) {
          if (name === 'Ntry') {
            this.push(Frame.Entry, d);
            this.entry = { batches: [], transactions: [], line: this.leafLine, column: this.leafColumn };
            this.batchesOfEntry = [];
          } else if (name === 'Bal') {
            this.push(Frame.Bal, d);
            this.bal = { line: this.leafLine, column: this.leafColumn };
          } else if (name === 'TxsSummry') {
            this.push(Frame.Summary, d);
            this.summary = { total: {}, credit: {}, debit: {} };
          }
        }
        break;
      case Frame.Entry:
        if (d === fd + 2 && this.names[d - 1] === 'NtryDtls') {
          if (name === 'TxDtls') {
            this.push(Frame.Tx, d);
            this.tx = {
              references: {},
              remittanceUnstructured: [],
              remittanceStructured: [],
              line: this.leafLine,
              column: this.leafColumn,
            };
            this.txAmounts = {};
          } else if (name === 'Btch') {
            this.push(Frame.Batch, d);
            this.batch = { txFrom: this.entry.transactions!.length };
          }
        }
        break;
    }
  }

  private openTop(d: number, name: string, prefix: string): void {
    if (d === 1) {
      this.sawRoot = true;
      this.prolog = '';
      const ns = this.attrs[prefix ? `xmlns:${prefix}` : 'xmlns'] ?? '';
      const m = CAMT_NAMESPACE.exec(ns);
      if (name !== 'Document' || !m) {
        this.stop(
          'camt.unknown_message',
          `not a camt.053 or camt.054 document: root element ${quote(name)} in namespace ${quote(ns)}`,
        );
      }
      const kind = m[1]!;
      const version = m[2]!;
      const versions = SUPPORTED[kind];
      if (!versions) {
        this.stop(
          'camt.unknown_message',
          `camt.${kind} is not a message the bridge reads (camt.053, camt.054)`,
        );
      }
      if (!versions.includes(version as CamtVersion)) {
        this.stop(
          'camt.unknown_version',
          `camt.${kind}.${version} is not a version the bridge reads (${versions.map((v) => `camt.${kind}.${v}`).join(', ')})`,
        );
      }
      this.message = { kind: kind as '053' | '054', version: version as CamtVersion, namespace: ns };
    } else if (d === 2) {
      const expected = ROOT_CHILD[this.message!.kind];
      if (name !== expected) {
        this.stop('camt.unknown_message', `Document holds ${quote(name)}, expected ${expected}`);
      }
    } else if (name === 'GrpHdr') {
      this.push(Frame.GrpHdr, d);
    } else if (name === REPORT[this.message!.kind]) {
      this.sendHeader();
      this.push(Frame.Stmt, d);
      this.st = {
        kind: this.message!.kind === '053' ? 'statement' : 'notification',
        id: '',
        account: {},
        balances: [],
        entries: [],
        entryCount: 0,
        problems: [],
        line: this.leafLine,
        column: this.leafColumn,
      };
      this.totals = {
        bookedUnits: 0n,
        currencies: new Set(),
        all: { cn: 0, cs: 0n, dn: 0, ds: 0n },
        booked: { cn: 0, cs: 0n, dn: 0, ds: 0n },
        digits: 2,
      };
      this.summary = undefined;
    }
  }

  /**
   * Paths below a frame ("NtryDtls/TxDtls/Refs/EndToEndId") are interned: the same few hundred strings come
   * back for every entry, so the hot loop allocates none. The cache is bounded against made-up element names.
   */
  private childPath(parent: string, name: string): string {
    let children = this.paths.get(parent);
    if (!children) {
      if (this.paths.size >= MAX_PATHS) return `${parent}/${name}`;
      children = new Map();
      this.paths.set(parent, children);
    }
    let path = children.get(name);
    if (path === undefined) {
      path = `${parent}/${name}`;
      if (children.size < MAX_PATHS) children.set(name, path);
    }
    return path;
  }

  private push(frame: Frame, depth: number): void {
    this.frameKinds.push(frame);
    this.frameDepths.push(depth);
    this.frame = frame;
    this.frameDepth = depth;
  }

  private close(): void {
    const d = this.depth;
    if (d === this.leafDepth) this.leaf(d, this.text);
    this.leafDepth = -1;
    if (d === this.frameDepth) {
      switch (this.frame) {
        case Frame.GrpHdr:
          if (!this.header.messageId) this.report('camt.missing', 'GrpHdr/MsgId is missing');
          break;
        case Frame.Stmt:
          this.endStatement();
          break;
        case Frame.Bal:
          this.endBalance();
          break;
        case Frame.Entry:
          this.endEntry();
          break;
        case Frame.Batch:
          this.batchesOfEntry.push({ ...this.batch, txTo: -1 });
          break;
        case Frame.Tx:
          this.endTransaction();
          break;
      }
      this.frameKinds.pop();
      this.frameDepths.pop();
      this.frame = this.frameKinds[this.frameKinds.length - 1]!;
      this.frameDepth = this.frameDepths[this.frameDepths.length - 1]!;
    }
    if (d === 1) {
      this.rootClosed = true;
      this.sendHeader();
    }
    this.depth = d - 1;
  }

  private sendHeader(): void {
    if (this.headerSent) return;
    this.headerSent = true;
    if (!this.header.messageId) this.report('camt.missing', 'GrpHdr/MsgId is missing');
    this.sink.header?.(this.message!, this.header);
  }

  // ---- leaves ---------------------------------------------------------------------------------------------

  private leaf(d: number, raw: string): void {
    switch (this.frame) {
      case Frame.GrpHdr: {
        const r = d === this.frameDepth + 1 ? this.names[d] : '';
        if (r === 'MsgId') this.header.messageId = raw;
        else if (r === 'CreDtTm') this.header.createdAt = raw.trim();
        else if (r === 'AddtlInf') this.header.additionalInfo = raw;
        return;
      }
      case Frame.Stmt:
        this.statementLeaf(this.rel[d]!, raw);
        return;
      case Frame.Bal:
        this.balanceLeaf(this.rel[d]!, raw.trim());
        return;
      case Frame.Summary:
        this.summaryLeaf(this.rel[d]!, raw.trim());
        return;
      case Frame.Entry:
        this.entryLeaf(this.rel[d]!, raw);
        return;
      case Frame.Batch:
        this.batchLeaf(this.rel[d]!, raw.trim());
        return;
      case Frame.Tx:
        this.txLeaf(this.rel[d]!, raw);
        return;
    }
  }

  private statementLeaf(path: string, raw: string): void {
    const st = this.st!;
    switch (path) {
      case 'Id':
        st.id = raw;
        return;
      case 'ElctrncSeqNb':
        st.electronicSequenceNumber = raw.trim();
        return;
      case 'LglSeqNb':
        st.legalSequenceNumber = raw.trim();
        return;
      case 'CreDtTm':
        st.createdAt = raw.trim();
        return;
      case 'FrToDt/FrDtTm':
        st.fromDateTime = raw.trim();
        return;
      case 'FrToDt/ToDtTm':
        st.toDateTime = raw.trim();
        return;
      case 'AddtlStmtInf':
      case 'AddtlNtfctnInf':
        st.additionalInfo = raw;
        return;
    }
    if (path.startsWith('Acct/')) accountLeaf(st.account, path.slice(5), raw);
  }

  private balanceLeaf(path: string, v: string): void {
    const b = this.bal;
    switch (path) {
      case 'Tp/CdOrPrtry/Cd':
        b.type = v;
        return;
      case 'Tp/CdOrPrtry/Prtry':
        b.type = v;
        b.proprietary = true;
        return;
      case 'Tp/SubTp/Cd':
        b.subType = v;
        return;
      case 'Amt':
        b.rawAmount = v;
        b.rawCcy = this.attrs.Ccy;
        return;
      case 'CdtDbtInd':
        b.creditDebit = this.creditDebit(v);
        return;
      case 'Dt/Dt':
        b.date = this.date(v, false);
        return;
      case 'Dt/DtTm':
        b.date = this.date(v, true);
        return;
    }
  }

  private summaryLeaf(path: string, v: string): void {
    const s = this.summary!;
    switch (path) {
      case 'TtlNtries/NbOfNtries':
        s.total.n = v;
        return;
      case 'TtlNtries/Sum':
        s.total.sum = v;
        return;
      case 'TtlNtries/TtlNetNtryAmt': // v02
      case 'TtlNtries/TtlNetNtry/Amt': // v04+
        s.total.net = v;
        return;
      case 'TtlNtries/CdtDbtInd':
      case 'TtlNtries/TtlNetNtry/CdtDbtInd':
        s.total.netInd = v;
        return;
      case 'TtlCdtNtries/NbOfNtries':
        s.credit.n = v;
        return;
      case 'TtlCdtNtries/Sum':
        s.credit.sum = v;
        return;
      case 'TtlDbtNtries/NbOfNtries':
        s.debit.n = v;
        return;
      case 'TtlDbtNtries/Sum':
        s.debit.sum = v;
        return;
    }
  }

  private entryLeaf(path: string, raw: string): void {
    const e = this.entry;
    switch (path) {
      case 'NtryRef':
        e.reference = raw;
        return;
      case 'Amt':
        e.rawAmount = raw.trim();
        e.rawCcy = this.attrs.Ccy;
        return;
      case 'CdtDbtInd':
        e.rawInd = raw.trim();
        return;
      case 'RvslInd': {
        const v = raw.trim();
        if (v === 'true' || v === '1') e.reversal = true;
        else if (v === 'false' || v === '0') e.reversal = false;
        else this.report('camt.bad_code', `RvslInd must be true or false, not ${quote(v)}`);
        return;
      }
      case 'Sts': // v02, v04: a code
      case 'Sts/Cd': // v08
      case 'Sts/Prtry':
        e.status = raw.trim();
        return;
      case 'BookgDt/Dt':
        e.bookingDate = this.date(raw.trim(), false);
        return;
      case 'BookgDt/DtTm':
        e.bookingDate = this.date(raw.trim(), true);
        return;
      case 'ValDt/Dt':
        e.valueDate = this.date(raw.trim(), false);
        return;
      case 'ValDt/DtTm':
        e.valueDate = this.date(raw.trim(), true);
        return;
      case 'AcctSvcrRef':
        e.accountServicerReference = raw;
        return;
      case 'AddtlNtryInf':
        e.additionalInfo = raw;
        return;
    }
    if (path.startsWith('BkTxCd/')) {
      e.bankTransactionCode ??= {};
      bankCodeLeaf(e.bankTransactionCode, path.slice(7), raw.trim());
    }
  }

  private batchLeaf(path: string, v: string): void {
    const b = this.batch;
    switch (path) {
      case 'MsgId':
        b.messageId = v;
        return;
      case 'PmtInfId':
        b.paymentInformationId = v;
        return;
      case 'NbOfTxs': {
        const n = parseCount(v);
        if (n < 0) this.report('camt.bad_code', `Btch/NbOfTxs is not a count: ${quote(v)}`);
        else b.numberOfTransactions = n;
        return;
      }
      case 'TtlAmt': {
        const a = this.amount(v, 'Btch/TtlAmt');
        if (a) {
          b.totalAmount = a;
          b.currency = this.attrs.Ccy;
        }
        return;
      }
      case 'CdtDbtInd':
        b.creditDebit = this.creditDebit(v);
        return;
    }
  }

  private txLeaf(path: string, raw: string): void {
    const t = this.tx!;
    const slash = path.indexOf('/');
    const head = slash < 0 ? path : path.slice(0, slash);
    const rest = slash < 0 ? '' : path.slice(slash + 1);
    switch (head) {
      case 'Refs':
        refLeaf(t, rest, raw);
        return;
      case 'Amt':
        if (!rest) {
          this.txAmounts.amt = raw.trim();
          this.txAmounts.amtCcy = this.attrs.Ccy;
        }
        return;
      case 'CdtDbtInd':
        if (!rest) t.creditDebit = this.creditDebit(raw.trim());
        return;
      case 'AmtDtls':
        if (rest === 'InstdAmt/Amt') {
          this.txAmounts.instd = raw.trim();
          this.txAmounts.instdCcy = this.attrs.Ccy;
        } else if (rest === 'TxAmt/Amt') {
          this.txAmounts.txAmt = raw.trim();
          this.txAmounts.txAmtCcy = this.attrs.Ccy;
        }
        return;
      case 'BkTxCd':
        t.bankTransactionCode ??= {};
        bankCodeLeaf(t.bankTransactionCode, rest, raw.trim());
        return;
      case 'RltdPties':
        partyLeaf(t, rest, raw);
        return;
      case 'RltdAgts':
        if (rest.endsWith('/FinInstnId/BIC') || rest.endsWith('/FinInstnId/BICFI')) {
          const who = rest.slice(0, rest.indexOf('/'));
          const side = who === 'DbtrAgt' ? 'debtor' : who === 'CdtrAgt' ? 'creditor' : undefined;
          if (side) t[side] = { ...t[side], agentBic: raw.trim() };
        }
        return;
      case 'RmtInf':
        if (rest === 'Ustrd') t.remittanceUnstructured.push(raw);
        else if (rest === 'Strd/CdtrRefInf/Ref' || rest === 'Strd/AddtlRmtInf')
          t.remittanceStructured.push(raw);
        return;
      case 'RtrInf': {
        t.returnInfo ??= { additionalInfo: [] };
        const r = t.returnInfo;
        if (rest === 'Rsn/Cd') r.reasonCode = raw.trim();
        else if (rest === 'Rsn/Prtry') r.reasonProprietary = raw.trim();
        else if (rest === 'AddtlInf') r.additionalInfo.push(raw);
        else if (rest.startsWith('OrgnlBkTxCd/')) {
          r.originalBankTransactionCode ??= {};
          bankCodeLeaf(r.originalBankTransactionCode, rest.slice(12), raw.trim());
        }
        return;
      }
      case 'AddtlTxInf':
        t.additionalInfo = raw;
        return;
    }
  }

  // ---- values ---------------------------------------------------------------------------------------------

  private amount(raw: string, what: string): string | undefined {
    const a = parseAmount(raw);
    if (typeof a === 'string') {
      this.report('camt.bad_amount', `${what}: ${a}`);
      return undefined;
    }
    return a.text;
  }

  private creditDebit(v: string): CamtCreditDebit | undefined {
    if (v === 'CRDT' || v === 'DBIT') return v;
    this.report('camt.bad_code', `CdtDbtInd must be CRDT or DBIT, not ${quote(v)}`);
    return undefined;
  }

  private date(v: string, withTime: boolean): CamtDate | undefined {
    const r = withTime ? parseIsoDateTime(v) : parseIsoDate(v);
    if (typeof r !== 'string') {
      this.report('camt.bad_date', r.error);
      return undefined;
    }
    return withTime ? { date: r, dateTime: v } : { date: r };
  }

  private currency(ccy: string | undefined, what: string): string | undefined {
    if (ccy !== undefined && /^[A-Z]{3}$/.test(ccy)) return ccy;
    this.report('camt.bad_currency', `${what}: Ccy must be three capital letters, not ${quote(ccy ?? '')}`);
    return undefined;
  }

  // ---- ends of frames: checks -----------------------------------------------------------------------------

  private endBalance(): void {
    const b = this.bal;
    const st = this.st!;
    if (!b.type) {
      this.report('camt.missing', 'Bal/Tp is missing');
      return;
    }
    if (b.rawAmount === undefined || !b.creditDebit || !b.date) {
      this.report('camt.missing', `balance ${b.type}: Amt, CdtDbtInd or Dt is missing or unreadable`);
      return;
    }
    const p = parseAmount(b.rawAmount);
    if (typeof p === 'string') {
      this.report('camt.bad_amount', `balance ${b.type}: ${p}`);
      return;
    }
    const ccy = this.currency(b.rawCcy, `balance ${b.type}`);
    if (!ccy) return;
    const balance: CamtBalance = {
      type: b.type,
      amount: p.text,
      currency: ccy,
      creditDebit: b.creditDebit,
      signedAmount: signed(p.text, b.creditDebit === 'DBIT'),
      date: b.date,
      line: b.line!,
      column: b.column!,
    };
    if (b.proprietary) balance.proprietary = true;
    if (b.subType) balance.subType = b.subType;
    st.balances.push(balance);
    this.totals!.digits = Math.max(this.totals!.digits, p.fractionDigits);
    if (!b.proprietary) {
      if (
        (b.type === 'OPBD' || (b.type === 'PRCD' && st.openingBalance?.type !== 'OPBD')) &&
        !st.openingBalance
      ) {
        st.openingBalance = balance;
      } else if (b.type === 'OPBD' && st.openingBalance?.type === 'PRCD') st.openingBalance = balance;
      if (b.type === 'CLBD' && !st.closingBalance) st.closingBalance = balance;
    }
  }

  private endTransaction(): void {
    const t = this.tx!;
    const a = this.txAmounts;
    if (a.instd !== undefined) {
      const v = this.amount(a.instd, 'AmtDtls/InstdAmt');
      const c = this.currency(a.instdCcy, 'AmtDtls/InstdAmt');
      if (v && c) t.instructedAmount = { amount: v, currency: c };
    }
    if (a.txAmt !== undefined) {
      const v = this.amount(a.txAmt, 'AmtDtls/TxAmt');
      const c = this.currency(a.txAmtCcy, 'AmtDtls/TxAmt');
      if (v && c) t.transactionAmount = { amount: v, currency: c };
    }
    if (a.amt !== undefined) {
      const v = this.amount(a.amt, 'TxDtls/Amt');
      const c = this.currency(a.amtCcy, 'TxDtls/Amt');
      if (v && c) {
        t.amount = v;
        t.currency = c;
      }
    } else {
      // v02 has no TxDtls/Amt: the transaction amount, else the instructed one, stands for it
      const from = t.transactionAmount ?? t.instructedAmount;
      if (from) {
        t.amount = from.amount;
        t.currency = from.currency;
      }
    }
    this.entry.transactions!.push(t);
    this.tx = undefined;
  }

  private endEntry(): void {
    const e = this.entry;
    const st = this.st!;
    const totals = this.totals!;
    const where = e.reference ? `entry ${quote(e.reference)}` : `entry at line ${e.line}`;
    const missing: string[] = [];
    if (e.rawAmount === undefined) missing.push('Amt');
    if (e.rawInd === undefined) missing.push('CdtDbtInd');
    if (e.status === undefined) missing.push('Sts');
    if (missing.length) {
      this.report('camt.missing', `${where}: ${missing.join(', ')} missing; the entry is left out`);
      return;
    }
    const p = parseAmount(e.rawAmount!);
    const cd = this.creditDebit(e.rawInd!);
    const ccy = this.currency(e.rawCcy, where);
    if (typeof p === 'string') this.report('camt.bad_amount', `${where}: ${p}; the entry is left out`);
    if (typeof p === 'string' || !cd || !ccy) return;
    const status = e.status!;
    if (status !== 'BOOK' && status !== 'PDNG' && status !== 'INFO') {
      this.report(
        'camt.bad_code',
        `${where}: status ${quote(status)} is none of BOOK, PDNG, INFO`,
        'warning',
      );
    }
    const entry: CamtEntry = {
      amount: p.text,
      currency: ccy,
      creditDebit: cd,
      signedAmount: signed(p.text, cd === 'DBIT'),
      reversal: e.reversal ?? false,
      status,
      batches: [],
      transactions: e.transactions!,
      line: e.line!,
      column: e.column!,
    };
    if (e.reference !== undefined) entry.reference = e.reference;
    if (e.bookingDate) entry.bookingDate = e.bookingDate;
    if (e.valueDate) entry.valueDate = e.valueDate;
    if (e.accountServicerReference !== undefined) entry.accountServicerReference = e.accountServicerReference;
    if (e.bankTransactionCode) entry.bankTransactionCode = e.bankTransactionCode;
    if (e.additionalInfo !== undefined) entry.additionalInfo = e.additionalInfo;
    this.checkBatches(entry, p.units, where);

    const stCcy = st.account.currency ?? st.openingBalance?.currency ?? st.closingBalance?.currency;
    if (stCcy && stCcy !== ccy) {
      this.report('camt.currency_mismatch', `${where}: amount in ${ccy}, the account is in ${stCcy}`);
    }
    totals.currencies.add(ccy);
    totals.digits = Math.max(totals.digits, p.fractionDigits);
    const debit = cd === 'DBIT';
    const count = (t: StatementTotals['all']) => {
      if (debit) {
        t.dn++;
        t.ds += p.units;
      } else {
        t.cn++;
        t.cs += p.units;
      }
    };
    count(totals.all);
    if (status === 'BOOK') {
      count(totals.booked);
      totals.bookedUnits += debit ? -p.units : p.units;
    }
    st.entryCount++;
    if (this.keepEntries) st.entries.push(entry);
    this.sink.entry?.(entry, this.statementCount);
  }

  /** Btch NbOfTxs / TtlAmt against the TxDtls that follow it, and the entry amount against its transactions. */
  private checkBatches(entry: CamtEntry, entryUnits: bigint, where: string): void {
    const txs = entry.transactions;
    const bs = this.batchesOfEntry;
    for (let i = 0; i < bs.length; i++) {
      const b = bs[i]!;
      const to = i + 1 < bs.length ? bs[i + 1]!.txFrom : txs.length;
      const { txFrom, txTo: _t, rawTotal: _r, ...batch } = b;
      entry.batches.push(batch);
      const own = txs.slice(txFrom, to);
      if (own.length === 0) continue; // a batch without details: nothing to compare
      if (b.numberOfTransactions !== undefined && b.numberOfTransactions !== own.length) {
        this.report(
          'camt.batch_check',
          `${where}: Btch/NbOfTxs says ${b.numberOfTransactions}, ${own.length} TxDtls follow`,
        );
      }
      if (b.totalAmount !== undefined && own.every((t) => t.amount !== undefined)) {
        const sum = sumUnits(own.map((t) => t.amount!));
        const total = parseAmount(b.totalAmount) as { units: bigint };
        if (sum !== total.units) {
          this.report(
            'camt.batch_check',
            `${where}: Btch/TtlAmt is ${b.totalAmount}, its TxDtls add up to ${formatUnits(sum, 2)}`,
          );
        }
      }
    }
    if (txs.length > 1 && txs.every((t) => t.amount !== undefined && t.currency === entry.currency)) {
      const sum = sumUnits(txs.map((t) => t.amount!));
      if (sum !== entryUnits) {
        this.report(
          'camt.batch_check',
          `${where}: the entry is ${entry.amount}, its ${txs.length} TxDtls add up to ${formatUnits(sum, 2)}`,
          'warning',
        );
      }
    }
  }

  private endStatement(): void {
    const st = this.st!;
    const totals = this.totals!;
    const what = st.kind === 'statement' ? 'Stmt' : 'Ntfctn';
    if (!st.id) this.report('camt.missing', `${what}/Id is missing`);
    if (!st.account.iban && !st.account.otherId) this.report('camt.missing', `${what}/Acct/Id is missing`);
    st.currency =
      st.account.currency ??
      st.openingBalance?.currency ??
      st.closingBalance?.currency ??
      (this.keepEntries ? st.entries[0]?.currency : undefined);
    if (st.kind === 'statement') this.balanceCheck(st, totals);
    if (this.summary) this.summaryCheck(st, totals, this.summary);
    this.sink.statement(st, this.statementCount++);
    this.st = undefined;
    this.totals = undefined;
  }

  private balanceCheck(st: CamtStatement, totals: StatementTotals): void {
    const open = st.openingBalance;
    const close = st.closingBalance;
    this.leafLine = st.line;
    this.leafColumn = st.column;
    if (!open || !close) {
      this.report(
        'camt.missing',
        `statement ${quote(st.id)} has no ${!open ? 'opening (OPBD or PRCD)' : 'closing (CLBD)'} balance: the balance check cannot be made`,
      );
      return;
    }
    if (open.currency !== close.currency) {
      this.report(
        'camt.currency_mismatch',
        `opening balance in ${open.currency}, closing in ${close.currency}`,
      );
      return;
    }
    const o = parseAmount(open.amount) as { units: bigint };
    const c = parseAmount(close.amount) as { units: bigint };
    const opening = open.creditDebit === 'DBIT' ? -o.units : o.units;
    const expected = close.creditDebit === 'DBIT' ? -c.units : c.units;
    const computed = opening + totals.bookedUnits;
    const digits = totals.digits;
    // amounts in another currency cannot be added to the balance: such a statement never balances
    const foreign = [...totals.currencies].filter((c) => c !== open.currency || c !== st.currency).sort();
    st.balanceCheck = {
      ok: computed === expected && foreign.length === 0,
      opening: formatUnits(opening, digits),
      computedClosing: formatUnits(computed, digits),
      expectedClosing: formatUnits(expected, digits),
    };
    if (foreign.length) {
      this.report(
        'camt.balance_check',
        `statement ${quote(st.id)} in ${st.currency}: entries in ${foreign.join(', ')} cannot be added to its balances`,
      );
    } else if (computed !== expected) {
      this.leafLine = close.line;
      this.leafColumn = close.column;
      this.report(
        'camt.balance_check',
        `statement ${quote(st.id)}: opening ${st.balanceCheck.opening} + booked entries = ${st.balanceCheck.computedClosing}, but the closing balance is ${st.balanceCheck.expectedClosing}`,
      );
    }
  }

  /**
   * TxsSummry against the entries. Banks differ on whether pending entries count, so the figures pass when
   * they match either all entries or the booked ones.
   */
  private summaryCheck(st: CamtStatement, totals: StatementTotals, s: SummaryRaw): void {
    this.leafLine = st.line;
    this.leafColumn = st.column;
    const summary: CamtTransactionsSummary = {};
    const readCount = (v: string | undefined, what: string): number | undefined => {
      if (v === undefined) return undefined;
      const n = parseCount(v);
      if (n < 0) this.report('camt.bad_code', `TxsSummry/${what}/NbOfNtries is not a count: ${quote(v)}`);
      return n < 0 ? undefined : n;
    };
    const readSum = (v: string | undefined, what: string): ReturnType<typeof parseAmount> | undefined => {
      if (v === undefined) return undefined;
      const a = parseAmount(v);
      if (typeof a === 'string') this.report('camt.bad_amount', `TxsSummry/${what}: ${a}`);
      return a;
    };
    const fig = (n?: number, sum?: ReturnType<typeof parseAmount>) => {
      const f: { count?: number; sum?: string } = {};
      if (n !== undefined) f.count = n;
      if (sum !== undefined && typeof sum !== 'string') f.sum = sum.text;
      return f;
    };
    const tn = readCount(s.total.n, 'TtlNtries');
    const ts = readSum(s.total.sum, 'TtlNtries/Sum');
    const tnet = readSum(s.total.net, 'TtlNtries/TtlNetNtry');
    const cn = readCount(s.credit.n, 'TtlCdtNtries');
    const cs = readSum(s.credit.sum, 'TtlCdtNtries/Sum');
    const dn = readCount(s.debit.n, 'TtlDbtNtries');
    const ds = readSum(s.debit.sum, 'TtlDbtNtries/Sum');
    if (s.total.n || s.total.sum || s.total.net) {
      summary.total = fig(tn, ts);
      if (tnet !== undefined && typeof tnet !== 'string') summary.total.netAmount = tnet.text;
      if (s.total.netInd === 'CRDT' || s.total.netInd === 'DBIT')
        summary.total.netCreditDebit = s.total.netInd;
    }
    if (s.credit.n || s.credit.sum) summary.credit = fig(cn, cs);
    if (s.debit.n || s.debit.sum) summary.debit = fig(dn, ds);
    st.transactionsSummary = summary;

    const units = (v: ReturnType<typeof parseAmount> | undefined) =>
      v === undefined || typeof v === 'string' ? undefined : v.units;
    const mismatches = (t: StatementTotals['all']): string[] => {
      const out: string[] = [];
      const d = totals.digits;
      const cmp = (
        label: string,
        given: number | bigint | undefined,
        actual: number | bigint,
        money: boolean,
      ) => {
        if (given === undefined || given === actual) return;
        const show = (x: number | bigint) => (money ? formatUnits(BigInt(x), d) : String(x));
        out.push(`${label} is ${show(given)}, the entries give ${show(actual)}`);
      };
      cmp('TtlNtries/NbOfNtries', tn, t.cn + t.dn, false);
      cmp('TtlNtries/Sum', units(ts), t.cs + t.ds, true);
      if (units(tnet) !== undefined) {
        const net = t.cs - t.ds;
        const givenNet = s.total.netInd === 'DBIT' ? -units(tnet)! : units(tnet)!;
        cmp('TtlNtries/TtlNetNtry', givenNet, net, true);
      }
      cmp('TtlCdtNtries/NbOfNtries', cn, t.cn, false);
      cmp('TtlCdtNtries/Sum', units(cs), t.cs, true);
      cmp('TtlDbtNtries/NbOfNtries', dn, t.dn, false);
      cmp('TtlDbtNtries/Sum', units(ds), t.ds, true);
      return out;
    };
    const all = mismatches(totals.all);
    const booked = all.length ? mismatches(totals.booked) : all;
    const chosen = booked.length < all.length ? booked : all;
    const ok = all.length === 0 || booked.length === 0;
    st.summaryCheck = { ok, mismatches: ok ? [] : chosen };
    if (!ok) {
      this.report('camt.summary_check', `statement ${quote(st.id)}: TxsSummry ${chosen.join('; ')}`);
    }
  }
}

function sumUnits(amounts: string[]): bigint {
  let s = 0n;
  for (const a of amounts) s += (parseAmount(a) as { units: bigint }).units;
  return s;
}

function accountLeaf(acc: CamtAccount, path: string, raw: string): void {
  switch (path) {
    case 'Id/IBAN':
      acc.iban = raw.trim();
      return;
    case 'Id/Othr/Id':
      acc.otherId = raw;
      return;
    case 'Id/Othr/SchmeNm/Cd':
    case 'Id/Othr/SchmeNm/Prtry':
      acc.otherScheme = raw.trim();
      return;
    case 'Ccy':
      acc.currency = raw.trim();
      return;
    case 'Nm':
      acc.name = raw;
      return;
    case 'Ownr/Nm':
      acc.ownerName = raw;
      return;
    case 'Svcr/FinInstnId/BIC':
    case 'Svcr/FinInstnId/BICFI':
      acc.servicerBic = raw.trim();
      return;
  }
}

function bankCodeLeaf(code: CamtBankTransactionCode, path: string, v: string): void {
  switch (path) {
    case 'Domn/Cd':
      code.domain = v;
      return;
    case 'Domn/Fmly/Cd':
      code.family = v;
      return;
    case 'Domn/Fmly/SubFmlyCd':
      code.subFamily = v;
      return;
    case 'Prtry/Cd':
      code.proprietary = v;
      return;
    case 'Prtry/Issr':
      code.proprietaryIssuer = v;
      return;
  }
}

const REFS: Record<string, keyof CamtTransaction['references']> = {
  MsgId: 'messageId',
  AcctSvcrRef: 'accountServicerReference',
  PmtInfId: 'paymentInformationId',
  InstrId: 'instructionId',
  EndToEndId: 'endToEndId',
  UETR: 'uetr',
  TxId: 'transactionId',
  MndtId: 'mandateId',
  ChqNb: 'chequeNumber',
  ClrSysRef: 'clearingSystemReference',
};

function refLeaf(t: CamtTransaction, path: string, raw: string): void {
  const key = REFS[path];
  if (key) t.references[key] = raw;
}

const PARTIES = {
  Dbtr: 'debtor',
  Cdtr: 'creditor',
  UltmtDbtr: 'ultimateDebtor',
  UltmtCdtr: 'ultimateCreditor',
};
type PartyKey = 'debtor' | 'creditor' | 'ultimateDebtor' | 'ultimateCreditor';
const PARTY_ACCOUNTS = { DbtrAcct: 'debtor', CdtrAcct: 'creditor' } as const;

/** RltdPties/<party>/Nm (v02, v04) or RltdPties/<party>/Pty/Nm (v08); DbtrAcct / CdtrAcct accounts. */
function partyLeaf(t: CamtTransaction, path: string, raw: string): void {
  const slash = path.indexOf('/');
  if (slash < 0) return;
  const who = path.slice(0, slash);
  const rest = path.slice(slash + 1);
  const party = PARTIES[who as keyof typeof PARTIES] as PartyKey | undefined;
  if (party) {
    if (rest === 'Nm' || rest === 'Pty/Nm') t[party] = { ...t[party], name: raw };
    return;
  }
  const owner = PARTY_ACCOUNTS[who as keyof typeof PARTY_ACCOUNTS];
  if (owner) {
    const p: CamtParty = t[owner] ?? {};
    p.account ??= {};
    accountLeaf(p.account, rest, raw);
    t[owner] = p;
  }
}
