// Statement processing, the last stage: read an uploaded statement file (MT940, camt.053 or camt.054, into
// the format-neutral model of src/statements/model.ts), find each statement's program by its account,
// recognise a statement uploaded twice, then reconcile set-based (src/statements/reconcile.ts) in bounded
// chunks: each chunk of transactions is read through the program's connector and applied in its own
// transaction, and the statement row remembers how far it got (reconcile_cursor), so a large file neither
// holds the database (nor its entries, memory) for long nor is counted twice when a worker dies half-way.
// An upload is read from its stored pieces as they come, once to check it and again chunk by chunk, so the
// worker holds about one piece of the text, never all of it (src/statements/read.ts).
// Text that does not parse and accounts no program owns are permanent errors: the row becomes ERROR with the
// reason, and the uploaded text stays as it was. So is a statement of an account outside the uploader's bank
// scope (uploader_bank_codes): ERROR forbidden.account.
import { allows } from '../../auth/index.js';
import type { BankConnector } from '../../bank/connector.js';
import type { Queryable } from '../../db/index.js';
import { FORBIDDEN_ACCOUNT } from '../../feature/context.js';
import { findProgramByAccount, type ProgramAccount } from '../../statements/accounts.js';
import {
  applies,
  describeProblems,
  type StatementFile,
  type StatementFormatName,
  type StatementSummary,
  type StatementTransaction,
} from '../../statements/model.js';
import { readStatement, readStatementPieces, StatementTextChanged } from '../../statements/read.js';
import {
  BatchOutcomePending,
  emptySummary,
  type ReconEntry,
  type ReconSummary,
  reconcileEntries,
} from '../../statements/reconcile.js';
import { connectorFor, isFailure, type StageDeps } from '../deps.js';
import type { QueueSpec } from '../queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../runner.js';
import { completeSuccess } from '../sql/complete.js';

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
  // A statement waiting for a batch's outcome (BATCH_OUTCOME_PENDING) holds back those uploaded after it,
  // so they are still applied in upload order.
  eligible: `NOT EXISTS (SELECT 1 FROM account_statement w
                          WHERE w.statement_process_status = 'PENDING'
                            AND w.statement_process_error_code = 'BATCH_OUTCOME_PENDING'
                            AND w.statement_upload_timestamp < q.statement_upload_timestamp)`,
  // Statements in upload order: a reversal normally arrives after its debit.
  orderBy: 'q.statement_upload_timestamp',
};

/** Serialises reconciliation across workers (one statement at a time sees and writes recons). */
const RECONCILE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('g2p-bridge-reconcile'))";

const orNull = (s: string | undefined | null) => (s ? s : null);

/** What the connector makes of one transaction: our reference, the name, the reversal reason. */
function reconEntryOf(
  t: StatementTransaction,
  s: StatementSummary,
  program: ProgramAccount,
  connector: BankConnector,
  returnReasons: ReadonlyMap<string, string>,
): ReconEntry {
  const mark = t.mark as 'D' | 'RD';
  let disbursementId: string | null;
  let name: string | null = null;
  let reason: string | null = null;
  if (t.source.format === 'MT940') {
    const { customerReference, narratives } = t.source;
    disbursementId = connector.retrieveDisbursementId(t.bankReference, customerReference, narratives);
    if (mark === 'D') name = connector.retrieveBeneficiaryName(narratives);
    else reason = connector.retrieveReversalReason(narratives);
  } else {
    const view = { entry: t.source.entry, transaction: t.source.transaction };
    disbursementId = connector.retrieveDisbursementIdFromTransaction
      ? connector.retrieveDisbursementIdFromTransaction(view)
      : t.reference;
    if (mark === 'D')
      name = connector.retrieveBeneficiaryNameFromTransaction
        ? connector.retrieveBeneficiaryNameFromTransaction(view)
        : t.name;
    else {
      const code = connector.retrieveReturnCodeFromTransaction
        ? connector.retrieveReturnCodeFromTransaction(view)
        : t.returnCode;
      if (code)
        reason =
          returnReasons.get(code.trim().toUpperCase()) ??
          connector.reversalReasonFromReturnCode?.(code) ??
          code;
    }
  }
  // Our reference where the format puts it is kept on the error recon for the operator.
  if (!disbursementId) disbursementId = t.reference;
  return {
    seq: t.position,
    mark,
    program: program.program,
    statementNumber: s.number,
    statementSequence: s.sequence,
    disbursementId: orNull(disbursementId),
    bankReference: t.bankReference,
    beneficiaryName: orNull(name),
    reversalReason: orNull(reason),
    entryDate: t.entryDate,
    valueDate: t.valueDate,
    amount: t.amount,
    currency: t.currency,
    batch: t.batch ?? null,
  };
}

/**
 * The booked D and RD transactions of the file in the order they are applied, from the `from`-th on: every
 * debit first, then every reversal, each in file order (within one call reconcileEntries applies a file's
 * debits before its reversals, so chunks cut anywhere in this order give the same result as one call).
 * Credits are top-ups, not payments; pending and information-only entries are not booked.
 */
async function* plannedTransactions(file: StatementFile, from: number): AsyncGenerator<StatementTransaction> {
  let k = 0;
  for (const mark of ['D', 'RD'] as const) {
    const n = file.counts[mark];
    if (k + n <= from) {
      k += n; // nothing of this pass is left to apply: not even read
      continue;
    }
    for await (const t of file.transactions(mark)) {
      if (!applies(t, mark)) continue;
      if (k++ >= from) yield t;
    }
  }
}

interface Header {
  format: StatementFormatName;
  account: string | null;
  reference: string | null;
  number: string | null;
  sequence: string | null;
  date: string | null;
}

const headerOf = (format: StatementFormatName, s: StatementSummary | undefined): Header => ({
  format,
  account: orNull(s?.account),
  reference: s?.reference ?? null,
  number: s?.number ?? null,
  sequence: s?.sequence ?? null,
  date: s?.date ?? null,
});

async function writeHeader(db: Queryable, job: Job, h: Header): Promise<void> {
  await db.query(
    `UPDATE account_statement
        SET account_number = $3, reference_number = $4, statement_number = $5, sequence_number = $6,
            statement_date = $7::date, statement_format = $8
      WHERE statement_id = $1 AND lease_owner = $2`,
    [job.key, job.owner, h.account, h.reference, h.number, h.sequence, h.date, h.format],
  );
}

/**
 * An earlier, counted statement with the same bytes, or the same format, account, statement reference and
 * number (MT940 :20: and :28C:; camt Stmt/Id and ElctrncSeqNb). A statement whose first chunks are applied
 * (reconcile_cursor > 0) counts already: its copy must not be reconciled beside it.
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
                 AND sequence_number IS NOT DISTINCT FROM $7 AND coalesce(statement_format, 'MT940') = $8))
      ORDER BY statement_upload_timestamp, statement_id
      LIMIT 1`,
    [statementId, sha, byHeader, h.account, h.reference, h.number, h.sequence, h.format],
  );
  return rows[0]?.statement_id ?? null;
}

/**
 * An upload's stored pieces (account_statement_chunk, about 1 MiB each) in order, one per query, read afresh
 * on each call: the statement is read from them piece by piece (src/statements/read.ts), twice, so the
 * worker never holds the whole text, nor the driver a whole 50 MB value.
 */
async function* storedPieces(db: Queryable, statementId: string): AsyncGenerator<string> {
  let after = -1;
  for (;;) {
    const { rows } = await db.query<{ seq: number; content: string }>(
      `SELECT seq, content FROM account_statement_chunk
        WHERE statement_id = $1 AND seq > $2 ORDER BY seq LIMIT 1`,
      [statementId, after],
    );
    const row = rows[0];
    if (!row) return;
    after = row.seq;
    yield row.content;
  }
}

/**
 * The statement file: an upload's read from its stored pieces, whose text must be the uploaded file's
 * (content_sha256: a piece missing or changed is a permanent error); else (a file from the bank's folder)
 * read whole from its lob.
 */
async function readStored(db: Queryable, statementId: string, sha: string): Promise<StatementFile | Outcome> {
  const { rows } = await db.query<{ pieces: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM account_statement_chunk WHERE statement_id = $1) AS pieces',
    [statementId],
  );
  if (rows[0]?.pieces) {
    const stored = await readStatementPieces(() => storedPieces(db, statementId));
    if (stored.sha256 !== sha)
      return failure('STATEMENT_TEXT_MISSING', {
        permanent: true,
        message: `the stored pieces of the upload do not make the uploaded file (SHA-256 ${stored.sha256}, uploaded ${sha}): a piece is missing or changed`,
      });
    return stored.file;
  }
  const { rows: lob } = await db.query<{ text: string }>(
    'SELECT statement_lob AS text FROM account_statement_lob WHERE statement_id = $1',
    [statementId],
  );
  const text = lob[0]?.text;
  if (text === undefined || text === null) return failure('STATEMENT_TEXT_MISSING', { permanent: true });
  return readStatement(text);
}

/** The failure of a statement whose stored text reads differently the second time. */
const changed = (error: StatementTextChanged) =>
  failure('STATEMENT_PARSE_ERROR', { permanent: true, message: error.message });

export function statementStage(deps: StageDeps): Stage {
  const q = statementQueue;
  const chunkSize = Math.max(1, deps.settings.statementChunkEntries);

  /** One chunk applied, the cursor moved and the lease renewed, in one transaction (guarded by the lease). */
  const ADVANCE_SQL = `
    UPDATE account_statement
       SET reconcile_cursor = $4, lease_expires_at = now() + make_interval(secs => $5::double precision)
     WHERE statement_id = $1 AND lease_owner = $2 AND reconcile_cursor = $3`;
  /**
   * The last chunk applied (or the statement found to be a duplicate): the row is done, and its upload pieces
   * go (the whole text stays in account_statement_lob), so a statement is stored once after it is read.
   */
  const finish = async (tx: Queryable, job: Job, from: number, to: number, copyOf: string | null) => {
    const done = await completeSuccess(tx, q, job.key, {
      owner: job.owner,
      status: 'PROCESSED',
      set: 'reconcile_cursor = $4, duplicate_of_statement_id = $5',
      where: 'reconcile_cursor = $3',
      params: [from, to, copyOf],
    });
    await tx.query('DELETE FROM account_statement_chunk WHERE statement_id = $1', [job.key]);
    return done;
  };

  async function run(job: Job): Promise<Outcome> {
    const { rows } = await deps.db.query<{ sha: string; cursor: number; bankCodes: string[] | null }>(
      `SELECT content_sha256 AS sha, reconcile_cursor AS cursor, uploader_bank_codes AS "bankCodes"
         FROM account_statement WHERE statement_id = $1`,
      [job.key],
    );
    const row = rows[0];
    if (!row) return failure('STATEMENT_TEXT_MISSING', { permanent: true });
    let read: StatementFile | Outcome;
    try {
      read = await readStored(deps.db, job.key, row.sha);
    } catch (error) {
      if (error instanceof StatementTextChanged) return changed(error);
      throw error;
    }
    if (!('format' in read)) return read;
    const file = read;
    if (file.errors.length > 0 || file.statements.length === 0)
      return failure('STATEMENT_PARSE_ERROR', { permanent: true, message: describeProblems(file.errors) });
    const statements = file.statements;
    const header = headerOf(file.format, statements[0]);
    await writeHeader(deps.db, job, header);

    const { rows: known } = await deps.db.query<ProgramAccount>(
      `SELECT benefit_program_mnemonic AS program, sponsor_bank_account_number AS account,
              sponsor_bank_account_currency AS currency, sponsor_bank_code AS "bankCode"
         FROM benefit_program`,
    );
    const programs: ProgramAccount[] = [];
    for (const s of statements) {
      const p = findProgramByAccount(s.account, known);
      if (!p)
        return failure('UNKNOWN_ACCOUNT', {
          permanent: true,
          message: `no benefit program has the funding account ${JSON.stringify(s.account)} (statement at ${s.where})`,
        });
      // The uploader's bank scope, checked again on what the parser read (the upload only scanned the text).
      if (row.bankCodes && !allows(row.bankCodes, p.bankCode))
        return failure(FORBIDDEN_ACCOUNT, {
          permanent: true,
          message: `the uploader may reconcile statements of sponsor bank ${row.bankCodes.join(', ') || '(none)'} only; the account ${JSON.stringify(s.account)} (statement at ${s.where}) is of another bank`,
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
      if (s.balanceOk === false)
        deps.log.warn(
          { stage: q.stage, statement: job.key, at: s.where },
          'opening balance plus entries does not equal the closing balance',
        );
    if (file.warnings.length > 0)
      deps.log.warn(
        { stage: q.stage, statement: job.key, warnings: file.warnings.length },
        'statement read with warnings (sums the bank wrote do not add up); every entry is still checked',
      );
    const returnReasons = new Map<string, string>();
    if (file.format !== 'MT940') {
      const { rows: reasons } = await deps.db.query<{ code: string; reason: string }>(
        'SELECT return_code AS code, reversal_reason AS reason FROM statement_return_reason',
      );
      for (const r of reasons) returnReasons.set(r.code.toUpperCase(), r.reason);
    }

    const total = file.counts.D + file.counts.RD;
    const summary: ReconSummary = emptySummary();
    let cursor = Math.min(row.cursor, total);
    const resumedAt = cursor;
    let original: string | null = null;
    // Only the chunk at hand is held as objects; the file is read on as chunks are applied.
    const planned = plannedTransactions(file, cursor);
    try {
      for (;;) {
        const end = Math.min(cursor + chunkSize, total);
        const entries: ReconEntry[] = [];
        while (entries.length < end - cursor) {
          let next: IteratorResult<StatementTransaction>;
          try {
            next = await planned.next();
          } catch (error) {
            if (error instanceof StatementTextChanged) return changed(error);
            throw error;
          }
          if (next.done) break;
          const t = next.value;
          try {
            entries.push(
              reconEntryOf(
                t,
                statements[t.statement]!,
                programs[t.statement]!,
                connectors[t.statement]!,
                returnReasons,
              ),
            );
          } catch (error) {
            return failure('BANK_CONNECTOR_ERROR', { message: (error as Error).message?.slice(0, 500) });
          }
        }
        if (entries.length < end - cursor)
          return failure('STATEMENT_PARSE_ERROR', {
            permanent: true,
            message: `the statement gave ${cursor + entries.length} transactions to apply on a second reading, ${total} on the first`,
          });
        const from = cursor;
        let step: { done: boolean; copyOf: string | null };
        try {
          step = await deps.db.transaction(async (tx) => {
            await tx.query(RECONCILE_LOCK);
            // Before anything of this file is counted: is it a copy of a statement counted already?
            const copyOf = from === 0 ? await findOriginal(tx, job.key, row.sha, header) : null;
            if (copyOf) {
              expectLease(await finish(tx, job, from, from, copyOf), q.stage);
              return { done: true, copyOf };
            }
            const chunk = await reconcileEntries(tx, job.key, entries);
            const last = end === total;
            expectLease(
              last
                ? await finish(tx, job, from, end, null)
                : await tx.query(ADVANCE_SQL, [job.key, job.owner, from, end, deps.settings.leaseSeconds]),
              q.stage,
            );
            for (const [k, n] of Object.entries(chunk)) summary[k as keyof ReconSummary] += n;
            return { done: last, copyOf: null };
          });
        } catch (error) {
          // Debits of a batch sent but not known to be shipped: wait for it, spending no attempt, so the
          // bank's statement is neither believed before the batch nor refused because of a lost answer.
          if (error instanceof BatchOutcomePending)
            return failure(error.code, {
              message: error.message,
              postponeSeconds: Math.max(1, deps.settings.backoffBaseSeconds),
            });
          throw error;
        }
        original = step.copyOf;
        if (step.done) break;
        cursor = end;
        // No pause here for the API: the embedded database gives the event loop its turns (decision 040).
      }
    } finally {
      await planned.return(undefined);
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
          format: file.format,
          entries: total,
          ...(file.counts.notBooked > 0 ? { notBooked: file.counts.notBooked } : {}),
          ...(resumedAt > 0 ? { resumedAt } : {}),
          ...summary,
        },
        'statement reconciled',
      );
    return { ok: true };
  }

  return { queue: q, concurrency: 1, batchSize: deps.settings.statementBatchSize, run };
}
