// Stage: files from the banks' host-to-host inbound folders (issue 12). Each poll first collects: every
// sponsor bank whose connector has an inbound folder (collectInbound) is listed, each file is stored once in
// bank_inbound_file (same bank, name and content: the same row) and only then acknowledged to the bank, so a
// crash between the two collects it again and changes nothing. The rows are then worked like any stage's:
//
// - a statement (MT940, camt.053/054) goes to account_statement, where the statement stage reconciles it,
//   once it passes the upload's bank-scope check (checkStatementScope): every account it names must be the
//   funding account of a program of this bank code, else ERROR forbidden.account and nothing is stored;
// - a pain.002 is applied set-based, a fixed number of statements whatever its size:
//   * its OrgnlMsgId names the bank batch (MsgId = the batch id without hyphens); no batch of this bank:
//     recorded, ERROR PAIN002_UNKNOWN_MESSAGE, nothing changes;
//   * a group rejected with DU01 answers a re-sent file: the first file stands, nothing changes (DUPLICATE);
//   * a rejected group rejects every shipped payment of the batch; a rejected payment information every
//     payment; otherwise each transaction with TxSts RJCT. Each rejected disbursement moves to `refused` with
//     the bank's reason code (disbursement_bank_refusal, refused_by BANK_STATUS) and the envelope's shipped
//     count goes down by exactly the number of rows inserted, in the same transaction. A payment already
//     reconciled, cancelled or refused is left as it is. The rest of the batch goes on.
import { createHash, randomUUID } from 'node:crypto';
import type { InboundFile } from '../../bank/connector.js';
import { batchIdCandidates } from '../../bank/iso20022/pain001.js';
import { effectiveStatus, PAIN002_NAMESPACE, parsePain002 } from '../../bank/iso20022/pain002.js';
import { xmlRootOf } from '../../camt/index.js';
import { checkStatementScope, StatementForbidden, statementFormatOf } from '../../statements/upload.js';
import { connectorFor, isFailure, type StageDeps } from '../deps.js';
import type { QueueSpec } from '../queue.js';
import { expectLease, failure, type Job, type Outcome, type Stage } from '../runner.js';

export const bankFilesQueue: QueueSpec = {
  stage: 'bank_files',
  table: 'bank_inbound_file',
  key: 'file_id',
  statusColumn: 'file_process_status',
  pendingStatuses: ['PENDING'],
  attemptsColumn: 'file_process_attempts',
  errorCodeColumn: 'file_process_error_code',
  timestampColumn: 'file_process_timestamp',
  errorMessageColumn: 'file_process_error_message',
  eligible: 'true',
  orderBy: 'q.received_at',
};

const COLLECT_LIMIT = 100;

export function fileKindOf(content: string): 'PAIN002' | 'STATEMENT' | 'UNKNOWN' {
  const root = xmlRootOf(content);
  if (root.xml && root.local === 'Document' && PAIN002_NAMESPACE.test(root.namespace)) return 'PAIN002';
  return statementFormatOf(content) ? 'STATEMENT' : 'UNKNOWN';
}

export interface BankFilesStage extends Stage {
  /** Collects every file-channel bank's inbound folder into bank_inbound_file; returns the new rows. */
  collect(): Promise<number>;
}

export function bankFilesStage(deps: StageDeps): BankFilesStage {
  const q = bankFilesQueue;

  // A file over the connector's limit was not read: it is recorded once (ERROR FILE_TOO_LARGE, no content) and
  // left at the bank for the operator, never acknowledged. Its row is keyed by name and size, so each poll
  // that lists it again changes nothing.
  async function storeTooLarge(
    bankCode: string,
    f: InboundFile & { tooLarge: NonNullable<InboundFile['tooLarge']> },
  ): Promise<number> {
    const { sizeBytes, limitBytes } = f.tooLarge;
    const sha = createHash('sha256').update(`FILE_TOO_LARGE\0${sizeBytes}`).digest('hex');
    const { rowCount } = await deps.db.query(
      `INSERT INTO bank_inbound_file (file_id, bank_code, file_name, content_sha256, size_bytes, content, file_kind,
                                      file_process_status, file_process_error_code, file_process_error_message,
                                      file_process_timestamp)
       VALUES ($1, $2, $3, $4, $5, '', 'UNKNOWN', 'ERROR', 'FILE_TOO_LARGE', $6, now())
       ON CONFLICT (bank_code, file_name, content_sha256) DO NOTHING`,
      [
        randomUUID(),
        bankCode,
        f.name,
        sha,
        Math.min(sizeBytes, 2_147_483_647),
        `${sizeBytes} bytes, over the limit of ${limitBytes}: not read, kept at the bank`,
      ],
    );
    return rowCount;
  }

  async function store(bankCode: string, f: InboundFile): Promise<number> {
    const sha = createHash('sha256').update(f.content).digest('hex');
    const { rowCount } = await deps.db.query(
      `INSERT INTO bank_inbound_file (file_id, bank_code, file_name, content_sha256, size_bytes, content, file_kind)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (bank_code, file_name, content_sha256) DO NOTHING`,
      [randomUUID(), bankCode, f.name, sha, Buffer.byteLength(f.content), f.content, fileKindOf(f.content)],
    );
    return rowCount;
  }

  async function collect(): Promise<number> {
    const { rows } = await deps.db.query<{ code: string }>(
      'SELECT DISTINCT sponsor_bank_code AS code FROM benefit_program ORDER BY 1',
    );
    let added = 0;
    for (const { code } of rows) {
      const connector = await connectorFor(deps, code);
      if (isFailure(connector) || !connector.collectInbound || !connector.acknowledgeInbound) continue;
      const files = await connector.collectInbound(COLLECT_LIMIT);
      if (!Array.isArray(files)) {
        deps.log.warn(
          { stage: q.stage, bankCode: code, errorCode: files.errorCode },
          'inbound folder not read',
        );
        continue;
      }
      for (const f of files) {
        if (f.tooLarge) {
          const n = await storeTooLarge(code, { ...f, tooLarge: f.tooLarge });
          if (n)
            deps.log.warn(
              { stage: q.stage, bankCode: code, errorCode: 'FILE_TOO_LARGE' },
              'inbound file too large',
            );
          added += n;
          continue;
        }
        added += await store(code, f);
        const ack = await connector.acknowledgeInbound(f.name);
        if (ack.status !== 'SUCCESS')
          deps.log.warn(
            { stage: q.stage, bankCode: code, errorCode: ack.errorCode },
            'inbound file not acknowledged',
          );
      }
    }
    return added;
  }

  async function finish(
    tx: Pick<StageDeps['db'], 'query'>,
    job: Job,
    fields: { outcome: string; msgId?: string; batch?: string | null; summary?: object },
  ): Promise<void> {
    expectLease(
      await tx.query(
        `UPDATE bank_inbound_file
            SET file_process_status = 'PROCESSED', file_process_timestamp = now(), file_process_error_code = NULL,
                outcome = $3, original_msg_id = $4, bank_disbursement_batch_id = $5, summary = $6,
                lease_owner = NULL, lease_expires_at = NULL
          WHERE file_id = $1 AND lease_owner = $2`,
        [
          job.key,
          job.owner,
          fields.outcome,
          fields.msgId ?? null,
          fields.batch ?? null,
          fields.summary ?? null,
        ],
      ),
      q.stage,
    );
  }

  async function toStatement(job: Job, bankCode: string, content: string): Promise<Outcome> {
    // Checked like an upload by the bank's own identity: only accounts of programs of this bank code.
    const caller = {
      subject: `bank-files:${bankCode}`,
      roles: ['bank'],
      bankCodes: [bankCode],
      senderId: null,
      requestId: null,
      messageId: null,
    };
    try {
      await checkStatementScope(deps.db, content, caller);
    } catch (error) {
      if (!(error instanceof StatementForbidden)) throw error;
      return failure(error.code, { message: error.message.slice(0, 300), permanent: true });
    }
    await deps.db.transaction(async (tx) => {
      const sha = createHash('sha256').update(content).digest('hex');
      await tx.query(
        `INSERT INTO account_statement (statement_id, content_sha256, size_bytes, uploaded_by, statement_format,
                                        uploader_bank_codes)
         VALUES ($1, $2, $3, 'bank-files', $4, $5) ON CONFLICT (statement_id) DO NOTHING`,
        [job.key, sha, Buffer.byteLength(content), statementFormatOf(content), caller.bankCodes],
      );
      await tx.query(
        // account_statement_lob is a view (migration 017): a conflict target names no constraint of it.
        `INSERT INTO account_statement_lob (statement_id, statement_lob) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
        [job.key, content],
      );
      await finish(tx, job, { outcome: 'STATEMENT', summary: { statement_id: job.key } });
    });
    return { ok: true };
  }

  async function applyPain002(job: Job, bankCode: string, content: string): Promise<Outcome> {
    const parsed = parsePain002(content);
    if (!parsed.ok) return failure(parsed.code, { message: parsed.message, permanent: true });
    const r = parsed.report;
    const { rows: batches } = await deps.db.query<{ id: string; status: string }>(
      `SELECT b.bank_disbursement_batch_id AS id, b.disbursement_status AS status
         FROM bank_disbursement_batch_status b
         JOIN disbursement_envelope e USING (disbursement_envelope_id)
         JOIN benefit_program p USING (benefit_program_mnemonic)
        WHERE p.sponsor_bank_code = $2
          AND (b.bank_disbursement_batch_id = ANY($1::text[])
               -- ids that are not UUIDs: MsgId is the id without hyphens (a scan; one pain.002 per batch)
               OR (cardinality($1::text[]) = 1 AND replace(b.bank_disbursement_batch_id, '-', '') = $3))
        LIMIT 1`,
      [batchIdCandidates(r.originalMessageId), bankCode, r.originalMessageId],
    );
    const batch = batches[0];
    if (!batch)
      return failure('PAIN002_UNKNOWN_MESSAGE', {
        message: `no bank batch of ${bankCode} has MsgId ${r.originalMessageId.slice(0, 35)}`,
        permanent: true,
      });
    if (r.groupStatus === 'RJCT' && r.groupReasons.includes('DU01')) {
      await finish(deps.db, job, { outcome: 'DUPLICATE', msgId: r.originalMessageId, batch: batch.id });
      return { ok: true };
    }
    // The bank answered before our commit of the shipment (a crash in between): wait for the takeover.
    if (batch.status !== 'PROCESSED') return failure('BATCH_NOT_YET_SHIPPED', { retryStatus: 'PENDING' });

    // Rejections: whole batch (group or payment information without details) or per transaction.
    const counts: Record<string, number> = {};
    let wholeBatchReason: string | null = null;
    const ids: string[] = [];
    const reasons: string[] = [];
    if (r.groupStatus === 'RJCT' && r.payments.every((p) => p.transactions.length === 0))
      wholeBatchReason = r.groupReasons[0] ?? 'RJCT';
    for (const p of r.payments) {
      if (p.status === 'RJCT' && p.transactions.length === 0) wholeBatchReason ??= p.reasons[0] ?? 'RJCT';
      for (const t of p.transactions) {
        const s = effectiveStatus(r, p, t);
        counts[s.status ?? 'NONE'] = (counts[s.status ?? 'NONE'] ?? 0) + 1;
        if (s.status === 'RJCT') {
          ids.push(t.originalEndToEndId);
          reasons.push((s.reason ?? 'RJCT').slice(0, 64));
        }
      }
    }
    let rejected = 0;
    await deps.db.transaction(async (tx) => {
      const picked =
        wholeBatchReason !== null
          ? `SELECT d.disbursement_id AS id, $2::text AS code FROM disbursement d WHERE d.bank_disbursement_batch_id = $1`
          : `SELECT r.id, r.code FROM unnest($2::text[], $3::text[]) AS r(id, code)`;
      const { rows } = await tx.query<{ envelope: string; n: string }>(
        `WITH picked AS (${picked}),
         inserted AS (
           INSERT INTO disbursement_bank_refusal (disbursement_id, bank_disbursement_batch_id, error_code, refused_by)
           SELECT DISTINCT ON (d.disbursement_id) d.disbursement_id, $1, x.code, 'BANK_STATUS'
             FROM picked x
             JOIN disbursement d ON d.disbursement_id = x.id AND d.bank_disbursement_batch_id = $1
            WHERE d.cancellation_status = 'Not_Cancelled'
              AND NOT EXISTS (SELECT 1 FROM disbursement_recon c WHERE c.disbursement_id = d.disbursement_id)
              AND EXISTS (SELECT 1 FROM mapper_resolution_details m
                           WHERE m.disbursement_id = d.disbursement_id AND m.resolved)
           ON CONFLICT (disbursement_id) DO NOTHING
           RETURNING disbursement_id)
         SELECT b.disbursement_envelope_id AS envelope, (SELECT count(*) FROM inserted)::text AS n
           FROM bank_disbursement_batch_status b WHERE b.bank_disbursement_batch_id = $1`,
        wholeBatchReason !== null ? [batch.id, wholeBatchReason.slice(0, 64)] : [batch.id, ids, reasons],
      );
      rejected = Number(rows[0]?.n ?? 0);
      if (rejected > 0)
        await tx.query(
          `UPDATE disbursement_envelope_batch_status
              SET number_of_disbursements_shipped = number_of_disbursements_shipped - $2
            WHERE disbursement_envelope_id = $1`,
          [rows[0]!.envelope, rejected],
        );
      await finish(tx, job, {
        outcome: 'APPLIED',
        msgId: r.originalMessageId,
        batch: batch.id,
        summary: {
          group_status: r.groupStatus,
          transactions: counts,
          rejected,
          whole_batch: wholeBatchReason,
        },
      });
    });
    deps.log.info({ stage: q.stage, batch: batch.id, rejected, statuses: counts }, 'pain.002 applied');
    return { ok: true };
  }

  async function run(job: Job): Promise<Outcome> {
    const { rows } = await deps.db.query<{ bank_code: string; file_kind: string; content: string }>(
      'SELECT bank_code, file_kind, content FROM bank_inbound_file WHERE file_id = $1',
      [job.key],
    );
    const row = rows[0];
    if (!row) return failure('FILE_NOT_FOUND', { permanent: true });
    if (row.file_kind === 'STATEMENT') return toStatement(job, row.bank_code, row.content);
    if (row.file_kind === 'PAIN002') return applyPain002(job, row.bank_code, row.content);
    return failure('BANK_FILE_UNKNOWN_KIND', {
      message: 'neither pain.002 nor a statement',
      permanent: true,
    });
  }

  return { queue: q, concurrency: 1, batchSize: deps.settings.batchSize, run, collect };
}
