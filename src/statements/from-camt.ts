// ISO 20022 camt.053 / camt.054 into the format-neutral statement model (./model.ts). The XML is streamed
// (src/camt, parseCamtStream): once here to check it and describe its statements, then again each time the
// stage asks for its transactions, so no more than one entry is held as objects at a time.
//
// How an entry becomes transactions: one per TxDtls of its NtryDtls (a batch booked as one entry), one when it
// has none. Its mark: DBIT is a debit (D); CRDT with RvslInd=true reverses a debit (RD), as does a CRDT
// transaction carrying RtrInf (a returned payment); other credits are top-ups (C), a DBIT with RvslInd=true
// reverses a credit (RC). Each transaction's amount is its own (TxDtls/Amt, AmtDtls/TxAmt, AmtDtls/InstdAmt);
// the entry's amount stands in only for an entry of exactly one transaction. A batch none of whose transactions
// carries an amount marks each item with `batch` (first position, size, total): reconciliation accepts them
// only when the total is exactly their payments' sum (./reconcile.ts). Its currency is that amount's Ccy.
import {
  type CamtEntry,
  type CamtProblem,
  type CamtStatement,
  type CamtTransaction,
  parseCamtStream,
} from '../camt/index.js';
import type {
  StatementFile,
  StatementFormatName,
  StatementProblem,
  StatementSummary,
  StatementTransaction,
  TransactionMark,
} from './model.js';

/** Characters handed to the parser at a time. */
const SLICE = 64 * 1024;

async function* slices(text: string): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += SLICE) yield text.slice(i, i + SLICE);
}

const orNull = (s: string | undefined | null) => (s?.trim() ? s.trim() : null);

/**
 * Checks of sums (balances, TxsSummry, a batch's count and total) warn, as MT940's balance check does: every
 * transaction is still matched to its disbursement to the last minor unit, so a sum the bank got wrong
 * cannot make a payment count as paid. So does an entry in another currency than its statement: it is that
 * entry's CURRENCY_MISMATCH, not the whole file's. Every other error (a bad amount, date or code) stops the
 * file.
 */
const WARNING_CODES: ReadonlySet<CamtProblem['code']> = new Set([
  'camt.currency_mismatch',
  'camt.balance_check',
  'camt.summary_check',
  'camt.batch_check',
]);

const problem = (p: CamtProblem): StatementProblem => ({
  message: p.path ? `${p.message} (${p.path})` : p.message,
  where: `line ${p.line}, column ${p.column}`,
  severity: p.severity === 'warning' || WARNING_CODES.has(p.code) ? 'warning' : 'error',
});

/** The statement's account as written: its IBAN, else its other id. */
export function camtAccount(s: Pick<CamtStatement, 'account'>): string {
  return (s.account.iban ?? s.account.otherId ?? '').trim();
}

function summaryOf(s: CamtStatement): StatementSummary {
  const date =
    s.closingBalance?.date.date ??
    s.toDateTime?.slice(0, 10) ??
    s.createdAt?.slice(0, 10) ??
    s.openingBalance?.date.date ??
    null;
  return {
    account: camtAccount(s),
    currency: orNull(s.currency)?.toUpperCase() ?? null,
    reference: orNull(s.id),
    number: orNull(s.electronicSequenceNumber) ?? orNull(s.legalSequenceNumber),
    sequence: null,
    date,
    balanceOk: s.balanceCheck ? s.balanceCheck.ok : null,
    where: `line ${s.line}`,
  };
}

/** The transactions one entry stands for, numbered from `position` + 1. */
export function entryTransactions(
  entry: CamtEntry,
  statement: number,
  position: number,
): StatementTransaction[] {
  const txs = entry.transactions.length > 0 ? entry.transactions : [null];
  const single = txs.length === 1;
  const entryRef = orNull(entry.accountServicerReference) ?? orNull(entry.reference);
  const noAmounts = (t: CamtTransaction | null) =>
    t !== null && t.amount === undefined && !t.transactionAmount && !t.instructedAmount;
  // A batch none of whose items carries an amount: its total is checked against its payments' sum.
  const batch =
    !single && txs.every(noAmounts) ? { first: position + 1, size: txs.length, total: entry.amount } : null;
  return txs.map((t, i) => {
    const returned = t?.returnInfo !== undefined;
    let mark: TransactionMark;
    if (entry.creditDebit === 'DBIT') mark = entry.reversal ? 'RC' : 'D';
    else mark = entry.reversal || returned ? 'RD' : 'C';
    const own =
      t === null
        ? null
        : t.amount !== undefined
          ? { amount: t.amount, currency: t.currency ?? entry.currency }
          : (t.transactionAmount ?? t.instructedAmount ?? null);
    const amount = own ?? (single ? { amount: entry.amount, currency: entry.currency } : null);
    // A batch's transactions share the entry's reference: each gets its own, so none looks like a repeat.
    const bankReference =
      orNull(t?.references.accountServicerReference) ??
      (entryRef === null ? null : single ? entryRef : `${entryRef}/${i + 1}`);
    const endToEnd = orNull(t?.references.endToEndId);
    const code = orNull(t?.returnInfo?.reasonCode) ?? orNull(t?.returnInfo?.reasonProprietary);
    return {
      statement,
      position: position + i + 1,
      mark,
      status: entry.status,
      amount: amount?.amount ?? null,
      currency: orNull(amount?.currency ?? entry.currency)?.toUpperCase() ?? null,
      batch,
      bankReference,
      reference: endToEnd === 'NOTPROVIDED' ? null : endToEnd,
      name: orNull(t?.creditor?.name) ?? orNull(t?.ultimateCreditor?.name),
      returnCode: code,
      entryDate: entry.bookingDate?.date ?? null,
      valueDate: entry.valueDate?.date ?? null,
      source: { format: 'CAMT', entry, transaction: t },
    };
  });
}

/**
 * Reads a camt.053 or camt.054 document (`kind` as detected). Never throws on bad input: a document that
 * cannot be read, or any error-level problem (a failed balance or TxsSummry check, a bad amount, an entry in
 * another currency than its statement's), is in `errors`, and the file is then not reconciled.
 */
export async function readCamt(text: string, kind: '053' | '054'): Promise<StatementFile> {
  const format: StatementFormatName = kind === '053' ? 'CAMT053' : 'CAMT054';
  const statements: CamtStatement[] = [];
  const counts = { D: 0, RD: 0, notBooked: 0 };
  const all: StatementProblem[] = [];
  let position = 0;
  try {
    const onProblem = (p: CamtProblem) => all.push(problem(p));
    for await (const ev of parseCamtStream(slices(text), { onProblem })) {
      if (ev.type === 'entry') {
        const txs = entryTransactions(ev.entry, ev.statementIndex, position);
        position += txs.length;
        for (const t of txs) {
          if (t.status !== 'BOOK') counts.notBooked++;
          else if (t.mark === 'D') counts.D++;
          else if (t.mark === 'RD') counts.RD++;
        }
      } else if (ev.type === 'statement') {
        statements[ev.statementIndex] = ev.statement;
        all.push(...ev.statement.problems.map(problem));
      }
    }
  } catch (error) {
    const fatal = (error as { problem?: CamtProblem }).problem;
    all.push(
      fatal
        ? { ...problem(fatal), severity: 'error' }
        : { message: (error as Error).message, where: 'line 1, column 1', severity: 'error' },
    );
  }
  const errors = all.filter((p) => p.severity === 'error');
  if (statements.length === 0 && errors.length === 0)
    errors.push({ message: 'no camt statement (Stmt or Ntfctn) found', where: 'line 1', severity: 'error' });

  async function* transactions(only?: 'D' | 'RD'): AsyncGenerator<StatementTransaction> {
    let at = 0;
    for await (const ev of parseCamtStream(slices(text))) {
      if (ev.type !== 'entry') continue;
      const txs = entryTransactions(ev.entry, ev.statementIndex, at);
      at += txs.length;
      for (const t of txs) if (!only || t.mark === only) yield t;
    }
  }

  return {
    format,
    statements: statements.map(summaryOf),
    errors,
    warnings: all.filter((p) => p.severity === 'warning'),
    counts,
    transactions,
  };
}
