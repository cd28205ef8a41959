// Statement processing, the last stage: parse an uploaded MT940 file, find each statement's program by its
// :25: account, recognise a statement uploaded twice, then reconcile set-based (./reconcile.ts) in bounded
// chunks: each chunk of entries is read through the program's connector and applied in its own transaction,
// and the statement row remembers how far it got (reconcile_cursor), so a large file neither holds the
// database for long nor is counted twice when a worker dies half-way. Text that does not parse and accounts no
// program owns are permanent errors: the row becomes ERROR with the reason, and the uploaded text stays as it
// was.
import type { BankConnector } from '../bank/connector.js';
import type { Queryable } from '../db/index.js';
import { type Mt940ColumnsStatement, parseMt940Columns } from '../mt940/index.js';
import { connectorFor, isFailure, type StageDeps } from '../pipeline/deps.js';
import type { QueueSpec } from '../pipeline/queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../pipeline/runner.js';
import { emptySummary, type ReconEntry, type ReconSummary, reconcileEntries } from './reconcile.js';

export const statementQueue: QueueSpec = {
  stage: 'statement',
  table: 'account_statement',
  key: 'statement_id',
  statusColumn: 'statement_process_status',
  pendingStatuses: ['PENDING'],
  attemptsColumn: 'statement_process_attempts',
  errorCodeColumn: 'statement_process_error_code',
  timestampColumn: 'statement_process_timestamp',
  errorMessageColumn: 'statement_process_error_message',
  eligible: 'true',
  // Statements in upload order: a reversal normally arrives after its debit.
  orderBy: 'q.statement_upload_timestamp',
};

/** Serialises reconciliation across workers (one statement at a time sees and writes recons). */
const RECONCILE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('g2p-bridge-reconcile'))";

export interface ProgramAccount {
  program: string;
  account: string;
  currency: string;
  bankCode: string;
}

const compact = (s: string) => s.replace(/[\s\-./]/g, '').toUpperCase();

/**
 * The program whose funding account a :25: names. Banks write the account in several ways: as stored, with a
 * currency suffix (`12345678/EUR`, `12345678 EUR`, `12345678EUR`), prefixed with a bank code (`BANKCODE/123`),
 * or as an IBAN whose tail is the account number. Exact forms are tried first; an IBAN tail only counts when
 * exactly one program matches it.
 */
export function findProgramByAccount(
  raw: string,
  programs: readonly ProgramAccount[],
): ProgramAccount | null {
  const value = raw.trim();
  if (!value) return null;
  const candidates = new Set<string>([compact(value)]);
  const parts = value.split(/[/\s]+/).filter(Boolean);
  const last = parts[parts.length - 1] ?? '';
  const withoutCurrency = /^[A-Z]{3}$/.test(last) && parts.length > 1 ? parts.slice(0, -1) : parts;
  candidates.add(compact(withoutCurrency.join('')));
  if (withoutCurrency.length > 1) candidates.add(compact(withoutCurrency[withoutCurrency.length - 1] ?? ''));
  for (const p of programs) {
    const acct = compact(p.account);
    if (candidates.has(acct)) return p;
    // 12345678EUR: the suffix is the program's own currency.
    if (candidates.has(acct + p.currency.trim().toUpperCase())) return p;
  }
  const iban = compact(withoutCurrency.join(''));
  if (/^[A-Z]{2}\d{2}[A-Z0-9]{8,30}$/.test(iban)) {
    const tail = programs.filter((p) => {
      const acct = compact(p.account);
      return acct.length >= 6 && iban.slice(4).endsWith(acct);
    });
    if (tail.length === 1) return tail[0]!;
  }
  return null;
}

type Statement = Mt940ColumnsStatement;

function statementDate(s: Statement): string | null {
  const n = s.entries.count;
  return (
    s.closingBalance?.date || s.openingBalance?.date || (n > 0 ? s.entries.valueDate(n - 1) : '') || null
  );
}

/** The currency the statement's :60F: / :62F: balances are in; null without one, or when they disagree. */
function statementCurrency(s: Statement): string | null {
  const opening = s.openingBalance?.currency?.trim().toUpperCase();
  const closing = s.closingBalance?.currency?.trim().toUpperCase();
  if (opening && closing && opening !== closing) return null;
  return opening || closing || null;
}

const orNull = (s: string | undefined | null) => (s ? s : null);

/**
 * The D and RD entries of the file in the order they are applied: every debit first, then every reversal,
 * each in file order (within one call reconcileEntries applies a file's debits before its reversals, so
 * chunks cut anywhere in this order give the same result as one call). Credits are top-ups, not payments.
 */
interface EntryPlan {
  length: number;
  statement: Int32Array;
  index: Int32Array;
  /** 1-based position of the :61: in the file, all statements counted together. */
  seq: Int32Array;
}

function planEntries(statements: readonly Statement[]): EntryPlan {
  let n = 0;
  for (const s of statements)
    for (let i = 0; i < s.entries.count; i++) {
      const m = s.entries.mark(i);
      if (m === 'D' || m === 'RD') n++;
    }
  const plan: EntryPlan = {
    length: n,
    statement: new Int32Array(n),
    index: new Int32Array(n),
    seq: new Int32Array(n),
  };
  let k = 0;
  for (const mark of ['D', 'RD'] as const) {
    let seq = 0;
    statements.forEach((s, si) => {
      for (let i = 0; i < s.entries.count; i++) {
        seq++;
        if (s.entries.mark(i) !== mark) continue;
        plan.statement[k] = si;
        plan.index[k] = i;
        plan.seq[k] = seq;
        k++;
      }
    });
  }
  return plan;
}

/** The connector reads where its bank put our reference, the name and the reversal reason (plan[from, to)). */
function readEntries(
  statements: readonly Statement[],
  programs: readonly ProgramAccount[],
  connectors: readonly BankConnector[],
  plan: EntryPlan,
  from: number,
  to: number,
): ReconEntry[] {
  const out: ReconEntry[] = [];
  for (let k = from; k < to; k++) {
    const si = plan.statement[k]!;
    const i = plan.index[k]!;
    const s = statements[si]!;
    const connector = connectors[si]!;
    const e = s.entries;
    const mark = e.mark(i) as 'D' | 'RD';
    const narratives = e.narratives(i);
    const bankReference = orNull(e.bankReference(i)?.trim());
    const customerReference = e.customerReference(i).trim();
    let disbursementId = connector.retrieveDisbursementId(bankReference, customerReference, narratives);
    if (!disbursementId && customerReference && customerReference !== 'NONREF')
      disbursementId = customerReference; // kept on the error recon for the operator
    out.push({
      seq: plan.seq[k]!,
      mark,
      program: programs[si]!.program,
      statementNumber: orNull(s.statementNumber),
      statementSequence: orNull(s.sequenceNumber),
      disbursementId: orNull(disbursementId),
      bankReference,
      beneficiaryName: mark === 'D' ? orNull(connector.retrieveBeneficiaryName(narratives)) : null,
      reversalReason: mark === 'RD' ? orNull(connector.retrieveReversalReason(narratives)) : null,
      entryDate: orNull(e.entryDate(i)),
      valueDate: orNull(e.valueDate(i)),
      amount: e.amount(i),
      currency: statementCurrency(s),
    });
  }
  return out;
}

interface Header {
  account: string | null;
  reference: string | null;
  number: string | null;
  sequence: string | null;
  date: string | null;
}

const headerOf = (s: Statement | undefined): Header => ({
  account: orNull(s?.accountIdentification?.trim()),
  reference: orNull(s?.transactionReference?.trim()),
  number: orNull(s?.statementNumber),
  sequence: orNull(s?.sequenceNumber),
  date: s ? statementDate(s) : null,
});

async function writeHeader(db: Queryable, job: Job, h: Header): Promise<void> {
  await db.query(
    `UPDATE account_statement
        SET account_number = $3, reference_number = $4, statement_number = $5, sequence_number = $6,
            statement_date = $7::date
      WHERE statement_id = $1 AND lease_owner = $2`,
    [job.key, job.owner, h.account, h.reference, h.number, h.sequence, h.date],
  );
}

/**
 * An earlier, counted statement with the same bytes, or the same account, :20: and :28C:. A statement whose
 * first chunks are applied (reconcile_cursor > 0) counts already: its copy must not be reconciled beside it.
 */
async function findOriginal(
  tx: Queryable,
  statementId: string,
  sha: string,
  h: Header,
): Promise<string | null> {
  const byHeader =
    h.account !== null && h.reference !== null && h.number !== null && h.reference !== 'NONREF';
  const { rows } = await tx.query<{ statement_id: string }>(
    `SELECT statement_id FROM account_statement
      WHERE statement_id <> $1 AND duplicate_of_statement_id IS NULL
        AND (statement_process_status = 'PROCESSED'
             OR (statement_process_status = 'PENDING' AND reconcile_cursor > 0))
        AND (content_sha256 = $2
             OR ($3::boolean AND account_number = $4 AND reference_number = $5 AND statement_number = $6
                 AND sequence_number IS NOT DISTINCT FROM $7))
      ORDER BY statement_upload_timestamp, statement_id
      LIMIT 1`,
    [statementId, sha, byHeader, h.account, h.reference, h.number, h.sequence],
  );
  return rows[0]?.statement_id ?? null;
}

function describeProblems(problems: { message: string; line: number; column: number }[]): string {
  const shown = problems.slice(0, 5).map((p) => `line ${p.line}, column ${p.column}: ${p.message}`);
  const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
  return `${shown.join('; ')}${more}`.slice(0, 2000);
}

/** Gives API requests waiting for the (embedded, single-connection) database their turn between chunks. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function statementStage(deps: StageDeps): Stage {
  const q = statementQueue;
  const chunkSize = Math.max(1, deps.settings.statementChunkEntries);

  /** One chunk applied, the cursor moved and the lease renewed, in one transaction (guarded by the lease). */
  const ADVANCE_SQL = `
    UPDATE account_statement
       SET reconcile_cursor = $4, lease_expires_at = now() + make_interval(secs => $5::double precision)
     WHERE statement_id = $1 AND lease_owner = $2 AND reconcile_cursor = $3`;
  /** The last chunk applied (or the statement found to be a duplicate): the row is done. */
  const FINISH_SQL = `
    UPDATE account_statement
       SET reconcile_cursor = $4, statement_process_status = 'PROCESSED', statement_process_timestamp = now(),
           statement_process_error_code = NULL, statement_process_error_message = NULL,
           duplicate_of_statement_id = $5, lease_owner = NULL, lease_expires_at = NULL
     WHERE statement_id = $1 AND lease_owner = $2 AND reconcile_cursor = $3`;

  async function run(job: Job): Promise<Outcome> {
    const { rows } = await deps.db.query<{ sha: string; text: string | null; cursor: number }>(
      `SELECT s.content_sha256 AS sha, l.statement_lob AS text, s.reconcile_cursor AS cursor
         FROM account_statement s LEFT JOIN account_statement_lob l USING (statement_id)
        WHERE s.statement_id = $1`,
      [job.key],
    );
    const row = rows[0];
    if (!row || row.text === null) return failure('STATEMENT_TEXT_MISSING', { permanent: true });
    // Entries stay in compact columns over the text; objects are made one chunk at a time.
    const parsed = parseMt940Columns(row.text);
    const statements = parsed.statements;
    const errors = [...parsed.problems, ...statements.flatMap((s) => s.problems)].filter(
      (p) => p.severity === 'error',
    );
    if (statements.length === 0 || errors.length > 0) {
      const problems = errors.length > 0 ? errors : parsed.problems;
      return failure('STATEMENT_PARSE_ERROR', {
        permanent: true,
        message: problems.length > 0 ? describeProblems(problems) : 'no MT940 statement found',
      });
    }
    const header = headerOf(statements[0]);
    await writeHeader(deps.db, job, header);

    const { rows: known } = await deps.db.query<ProgramAccount>(
      `SELECT benefit_program_mnemonic AS program, sponsor_bank_account_number AS account,
              sponsor_bank_account_currency AS currency, sponsor_bank_code AS "bankCode"
         FROM benefit_program`,
    );
    const programs: ProgramAccount[] = [];
    for (const s of statements) {
      const p = findProgramByAccount(s.accountIdentification ?? '', known);
      if (!p)
        return failure('UNKNOWN_ACCOUNT', {
          permanent: true,
          message: `no benefit program has the funding account ${JSON.stringify(s.accountIdentification ?? '')} (statement at line ${s.line})`,
        });
      programs.push(p);
    }
    const connectors: BankConnector[] = [];
    for (const p of programs) {
      const c = await connectorFor(deps, p.bankCode);
      if (isFailure(c)) return c;
      connectors.push(c);
    }
    for (const s of statements)
      if (s.balanceCheck && !s.balanceCheck.ok)
        deps.log.warn(
          { stage: q.stage, statement: job.key, line: s.line },
          'opening balance plus entries does not equal the closing balance',
        );

    const plan = planEntries(statements);
    const summary: ReconSummary = emptySummary();
    let cursor = Math.min(row.cursor, plan.length);
    const resumedAt = cursor;
    let original: string | null = null;
    for (;;) {
      const end = Math.min(cursor + chunkSize, plan.length);
      let entries: ReconEntry[];
      try {
        entries = readEntries(statements, programs, connectors, plan, cursor, end);
      } catch (error) {
        return failure('BANK_CONNECTOR_ERROR', { message: (error as Error).message?.slice(0, 500) });
      }
      const from = cursor;
      const step = await deps.db.transaction(async (tx) => {
        await tx.query(RECONCILE_LOCK);
        // Before anything of this file is counted: is it a copy of a statement counted already?
        const copyOf = from === 0 ? await findOriginal(tx, job.key, row.sha, header) : null;
        if (copyOf) {
          expectLease(await tx.query(FINISH_SQL, [job.key, job.owner, from, from, copyOf]), q.stage);
          return { done: true, copyOf };
        }
        const chunk = await reconcileEntries(tx, job.key, entries);
        const last = end === plan.length;
        expectLease(
          last
            ? await tx.query(FINISH_SQL, [job.key, job.owner, from, end, null])
            : await tx.query(ADVANCE_SQL, [job.key, job.owner, from, end, deps.settings.leaseSeconds]),
          q.stage,
        );
        for (const [k, n] of Object.entries(chunk)) summary[k as keyof ReconSummary] += n;
        return { done: last, copyOf: null };
      });
      original = step.copyOf;
      if (step.done) break;
      cursor = end;
      await yieldToEventLoop();
    }
    if (original)
      deps.log.info(
        { stage: q.stage, statement: job.key, duplicateOf: original },
        'statement already processed; counted once',
      );
    else
      deps.log.info(
        {
          stage: q.stage,
          statement: job.key,
          entries: plan.length,
          ...(resumedAt > 0 ? { resumedAt } : {}),
          ...summary,
        },
        'statement reconciled',
      );
    return { ok: true };
  }

  return { queue: q, concurrency: 1, batchSize: deps.settings.statementBatchSize, run };
}
