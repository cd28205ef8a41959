// MT940 into the format-neutral statement model (./model.ts). The entries stay in the parser's compact columns
// over the text; a transaction object is made only when the stage asks for it. A text read in pieces
// (`readMt940Streamed`) is checked in one pass and its entries read again, in runs, on each request: neither
// the whole text nor whole-file columns are held.
import {
  type Mt940ColumnsStatement,
  type Mt940EntryColumns,
  type Mt940EntryRun,
  type Mt940Problem,
  type Mt940StreamResult,
  type Mt940StreamStatement,
  parseMt940Columns,
} from '../mt940/index.js';
import type { StatementFile, StatementProblem, StatementSummary, StatementTransaction } from './model.js';

type Statement = Mt940ColumnsStatement | Mt940StreamStatement;

const orNull = (s: string | undefined | null) => (s ? s : null);

/** The currency the statement's :60F: / :62F: balances are in; null without one, or when they disagree. */
function statementCurrency(s: Statement): string | null {
  const opening = s.openingBalance?.currency?.trim().toUpperCase();
  const closing = s.closingBalance?.currency?.trim().toUpperCase();
  if (opening && closing && opening !== closing) return null;
  return opening || closing || null;
}

/** The closing balance's date, else the opening's, else the last entry's value date (`last`, when any). */
function statementDate(s: Statement, last: () => string): string | null {
  return s.closingBalance?.date || s.openingBalance?.date || last() || null;
}

/** The value date of a whole-text statement's last entry; '' without entries. */
const lastValueDate = (s: Mt940ColumnsStatement) => () => {
  const n = s.entries.count;
  return n > 0 ? s.entries.valueDate(n - 1) : '';
};

const problem = (p: Mt940Problem): StatementProblem => ({
  message: p.message,
  where: `line ${p.line}, column ${p.column}`,
  severity: p.severity,
});

function summaryOf(s: Statement, last: () => string): StatementSummary {
  return {
    account: s.accountIdentification?.trim() ?? '',
    currency: statementCurrency(s),
    reference: orNull(s.transactionReference?.trim()),
    number: orNull(s.statementNumber),
    sequence: orNull(s.sequenceNumber),
    date: statementDate(s, last),
    balanceOk: s.balanceCheck ? s.balanceCheck.ok : null,
    where: `line ${s.line}`,
  };
}

/** Reads an MT940 file. Never throws on bad input: its problems are in `errors`. */
export function readMt940(text: string): StatementFile {
  const parsed = parseMt940Columns(text);
  const statements = parsed.statements;
  const all = [...parsed.problems, ...statements.flatMap((s) => s.problems)];
  const errors = all.filter((p) => p.severity === 'error').map(problem);
  if (statements.length === 0 && errors.length === 0)
    errors.push(
      ...(parsed.problems.length > 0
        ? parsed.problems.map((p) => ({ ...problem(p), severity: 'error' as const }))
        : [{ message: 'no MT940 statement found', where: 'line 1', severity: 'error' as const }]),
    );
  const counts = { D: 0, RD: 0, notBooked: 0 };
  for (const s of statements)
    for (let i = 0; i < s.entries.count; i++) {
      const m = s.entries.mark(i);
      if (m === 'D') counts.D++;
      else if (m === 'RD') counts.RD++;
    }
  const currencies = statements.map(statementCurrency);

  async function* transactions(only?: 'D' | 'RD'): AsyncGenerator<StatementTransaction> {
    let position = 0;
    for (const [si, s] of statements.entries()) {
      const e = s.entries;
      for (let i = 0; i < e.count; i++) {
        position++;
        if (only && e.mark(i) !== only) continue;
        yield transactionOf(e, i, si, position, currencies[si] ?? null);
      }
    }
  }

  return {
    format: 'MT940',
    statements: statements.map((s) => summaryOf(s, lastValueDate(s))),
    errors,
    warnings: all.filter((p) => p.severity === 'warning').map(problem),
    counts,
    transactions,
  };
}

/** Entry `i` of `e`, of statement `si`, the `position`-th of the file, as a transaction. */
function transactionOf(
  e: Mt940EntryColumns,
  i: number,
  si: number,
  position: number,
  currency: string | null,
): StatementTransaction {
  const customerReference = e.customerReference(i).trim();
  return {
    statement: si,
    position,
    mark: e.mark(i),
    status: 'BOOK',
    amount: e.amount(i),
    currency,
    bankReference: orNull(e.bankReference(i)?.trim()),
    reference: customerReference && customerReference !== 'NONREF' ? customerReference : null,
    name: null,
    returnCode: null,
    entryDate: orNull(e.entryDate(i)),
    valueDate: orNull(e.valueDate(i)),
    source: { format: 'MT940', customerReference, narratives: e.narratives(i) },
  };
}

/**
 * An MT940 file read piece by piece: `result` is what a checking pass of `Mt940ColumnStream` found (the
 * same statements and problems `readMt940` finds in the whole text), and `runs` reads the file again and
 * hands out its entries in runs, in file order, each time it is called. Transactions are made from the
 * runs as they come, so only a run (a segment of about a stored piece) is held at a time.
 */
export function readMt940Streamed(
  result: Mt940StreamResult,
  runs: () => AsyncIterable<Mt940EntryRun>,
): StatementFile {
  const statements = result.statements;
  const all = statements.flatMap((s) => s.problems);
  const errors = all.filter((p) => p.severity === 'error').map(problem);
  const currencies = statements.map(statementCurrency);

  async function* transactions(only?: 'D' | 'RD'): AsyncGenerator<StatementTransaction> {
    let position = 0;
    for await (const run of runs()) {
      const e = run.entries;
      const si = run.statement;
      for (let i = 0; i < e.count; i++) {
        position++;
        if (only && e.mark(i) !== only) continue;
        yield transactionOf(e, i, si, position, currencies[si] ?? null);
      }
    }
  }

  return {
    format: 'MT940',
    // the fast reader reads only statements with both balances: the closing balance's date is the date
    statements: statements.map((s) => summaryOf(s, () => '')),
    errors,
    warnings: all.filter((p) => p.severity === 'warning').map(problem),
    counts: { D: result.marks.D, RD: result.marks.RD, notBooked: 0 },
    transactions,
  };
}
