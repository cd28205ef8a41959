// MT940 into the format-neutral statement model (./model.ts). The entries stay in the parser's compact columns
// over the text; a transaction object is made only when the stage asks for it.
import { type Mt940ColumnsStatement, type Mt940Problem, parseMt940Columns } from '../mt940/index.js';
import type { StatementFile, StatementProblem, StatementSummary, StatementTransaction } from './model.js';

type Statement = Mt940ColumnsStatement;

const orNull = (s: string | undefined | null) => (s ? s : null);

/** The currency the statement's :60F: / :62F: balances are in; null without one, or when they disagree. */
function statementCurrency(s: Statement): string | null {
  const opening = s.openingBalance?.currency?.trim().toUpperCase();
  const closing = s.closingBalance?.currency?.trim().toUpperCase();
  if (opening && closing && opening !== closing) return null;
  return opening || closing || null;
}

function statementDate(s: Statement): string | null {
  const n = s.entries.count;
  return (
    s.closingBalance?.date || s.openingBalance?.date || (n > 0 ? s.entries.valueDate(n - 1) : '') || null
  );
}

const problem = (p: Mt940Problem): StatementProblem => ({
  message: p.message,
  where: `line ${p.line}, column ${p.column}`,
  severity: p.severity,
});

function summaryOf(s: Statement): StatementSummary {
  return {
    account: s.accountIdentification?.trim() ?? '',
    currency: statementCurrency(s),
    reference: orNull(s.transactionReference?.trim()),
    number: orNull(s.statementNumber),
    sequence: orNull(s.sequenceNumber),
    date: statementDate(s),
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
        const mark = e.mark(i);
        if (only && mark !== only) continue;
        const customerReference = e.customerReference(i).trim();
        yield {
          statement: si,
          position,
          mark,
          status: 'BOOK',
          amount: e.amount(i),
          currency: currencies[si] ?? null,
          bankReference: orNull(e.bankReference(i)?.trim()),
          reference: customerReference && customerReference !== 'NONREF' ? customerReference : null,
          name: null,
          returnCode: null,
          entryDate: orNull(e.entryDate(i)),
          valueDate: orNull(e.valueDate(i)),
          source: { format: 'MT940', customerReference, narratives: e.narratives(i) },
        };
      }
    }
  }

  return {
    format: 'MT940',
    statements: statements.map(summaryOf),
    errors,
    warnings: all.filter((p) => p.severity === 'warning').map(problem),
    counts,
    transactions,
  };
}
