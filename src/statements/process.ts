// Statement processing, the last stage: parse an uploaded MT940 file, find each statement's program by its
// :25: account, let that program's connector read every entry in memory, recognise a statement uploaded
// twice, then reconcile set-based (./reconcile.ts). Text that does not parse and accounts no program owns are
// permanent errors: the row becomes ERROR with the reason, and the uploaded text stays as it was.
import type { BankConnector } from '../bank/connector.js';
import type { Queryable } from '../db/index.js';
import { type Mt940Statement, parseMt940 } from '../mt940/index.js';
import { connectorFor, isFailure, type StageDeps } from '../pipeline/deps.js';
import type { QueueSpec } from '../pipeline/queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../pipeline/runner.js';
import { type ReconEntry, reconcileEntries } from './reconcile.js';

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

function statementDate(s: Mt940Statement): string | null {
  return s.closingBalance?.date || s.openingBalance?.date || s.entries.at(-1)?.valueDate || null;
}

const orNull = (s: string | undefined | null) => (s ? s : null);

/** The connector reads where its bank put our reference, the name and the reversal reason. */
function readEntries(
  statements: readonly Mt940Statement[],
  programs: readonly ProgramAccount[],
  connectors: readonly BankConnector[],
): ReconEntry[] {
  const out: ReconEntry[] = [];
  let seq = 0;
  statements.forEach((s, i) => {
    const program = programs[i]!;
    const connector = connectors[i]!;
    for (const e of s.entries) {
      seq++;
      if (e.mark !== 'D' && e.mark !== 'RD') continue; // credits to the funding account are not payments
      const bankReference = orNull(e.bankReference?.trim());
      const customerReference = e.customerReference.trim();
      let disbursementId = connector.retrieveDisbursementId(bankReference, customerReference, e.narratives);
      if (!disbursementId && customerReference && customerReference !== 'NONREF')
        disbursementId = customerReference; // kept on the error recon for the operator
      out.push({
        seq,
        mark: e.mark,
        program: program.program,
        statementNumber: orNull(s.statementNumber),
        statementSequence: orNull(s.sequenceNumber),
        disbursementId: orNull(disbursementId),
        bankReference,
        beneficiaryName: e.mark === 'D' ? orNull(connector.retrieveBeneficiaryName(e.narratives)) : null,
        reversalReason: e.mark === 'RD' ? orNull(connector.retrieveReversalReason(e.narratives)) : null,
        entryDate: orNull(e.entryDate),
        valueDate: orNull(e.valueDate),
      });
    }
  });
  return out;
}

interface Header {
  account: string | null;
  reference: string | null;
  number: string | null;
  sequence: string | null;
  date: string | null;
}

const headerOf = (s: Mt940Statement | undefined): Header => ({
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

/** An earlier, counted statement with the same bytes, or the same account, :20: and :28C:. */
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
      WHERE statement_id <> $1 AND statement_process_status = 'PROCESSED' AND duplicate_of_statement_id IS NULL
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

export function statementStage(deps: StageDeps): Stage {
  const q = statementQueue;

  async function run(job: Job): Promise<Outcome> {
    const { rows } = await deps.db.query<{ sha: string; text: string | null }>(
      `SELECT s.content_sha256 AS sha, l.statement_lob AS text
         FROM account_statement s LEFT JOIN account_statement_lob l USING (statement_id)
        WHERE s.statement_id = $1`,
      [job.key],
    );
    const row = rows[0];
    if (!row || row.text === null) return failure('STATEMENT_TEXT_MISSING', { permanent: true });
    const parsed = parseMt940(row.text);
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
    let entries: ReconEntry[];
    try {
      entries = readEntries(statements, programs, connectors);
    } catch (error) {
      return failure('BANK_CONNECTOR_ERROR', { message: (error as Error).message?.slice(0, 500) });
    }
    for (const s of statements)
      if (s.balanceCheck && !s.balanceCheck.ok)
        deps.log.warn(
          { stage: q.stage, statement: job.key, line: s.line },
          'opening balance plus entries does not equal the closing balance',
        );

    const result = await deps.db.transaction(async (tx) => {
      await tx.query(RECONCILE_LOCK);
      const original = await findOriginal(tx, job.key, row.sha, header);
      const summary = original ? null : await reconcileEntries(tx, job.key, entries);
      expectLease(
        await tx.query(
          `UPDATE account_statement
              SET statement_process_status = 'PROCESSED', statement_process_timestamp = now(),
                  statement_process_error_code = NULL, statement_process_error_message = NULL,
                  duplicate_of_statement_id = $3, lease_owner = NULL, lease_expires_at = NULL
            WHERE statement_id = $1 AND lease_owner = $2`,
          [job.key, job.owner, original],
        ),
        q.stage,
      );
      return { original, summary };
    });
    if (result.original)
      deps.log.info(
        { stage: q.stage, statement: job.key, duplicateOf: result.original },
        'statement already processed; counted once',
      );
    else
      deps.log.info(
        { stage: q.stage, statement: job.key, entries: entries.length, ...result.summary },
        'statement reconciled',
      );
    return { ok: true };
  }

  return { queue: q, concurrency: 1, batchSize: deps.settings.statementBatchSize, run };
}
