// upload_mt940 and upload_statement: the bank (role `bank`) posts a statement as multipart field
// `statement_file` (upload_statement: MT940, camt.053 or camt.054; upload_mt940 keeps its MT940 contract and
// reads the same formats). The text is stored exactly as received, with its sha256, size and detected format,
// and the statement is queued (PENDING) for the statement stage, which parses and reconciles it later (a file
// that cannot be read ends there as ERROR with the parser's problems, its text kept). Nothing is parsed here
// but the accounts (a cheap scan of the MT940 :25:/:25P: lines or the camt Acct elements), to see which
// programs' accounts the statement is about: a bank identity scoped to sponsor bank codes may only upload
// statements of its own accounts, and the audit trail names them. The scope is stored with the statement
// (uploader_bank_codes), and the statement stage checks every statement it parses against it again.
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { recordAudit } from '../audit/index.js';
import { allows } from '../auth/index.js';
import type { Db, Queryable } from '../db/index.js';
import type { Feature } from '../feature/context.js';
import { type AppContext, type Caller, callerOf, FORBIDDEN_ACCOUNT } from '../feature/context.js';
import { ErrorCode } from '../g2p/codes.js';
import { type G2pStatus, responseHeader } from '../g2p/message.js';
import { findProgramByAccount, type ProgramAccount } from './accounts.js';
import { detectStatementFormat, SNIFF_BYTES } from './detect.js';
import type { StatementFormatName } from './model.js';
import { type FormFailure, FormStream, isFormData } from './multipart.js';

export const STATEMENT_FIELD = 'statement_file';

/**
 * What a form may carry besides the file's content (part headers, boundaries, a few small fields): the
 * route's body limit is MAX_STATEMENT_BYTES plus this, so an oversized upload is refused (413) while it
 * streams in, before it is held in memory.
 */
export const FORM_OVERHEAD_BYTES = 64 * 1024;
/** Plain fields a form may carry beside the file (ignored), as the multipart plugin allowed before. */
const FORM_FIELDS = 10;

export interface StoredStatement {
  statement_id: string;
  content_sha256: string;
  size_bytes: number;
}

/** The format the statement stage will read the text as (null: neither, it will end as ERROR). */
export function statementFormatOf(text: string): StatementFormatName | null {
  const detected = detectStatementFormat(text.slice(0, SNIFF_BYTES));
  if (detected.format === 'mt940') return 'MT940';
  if (detected.format === 'camt') return detected.kind === '053' ? 'CAMT053' : 'CAMT054';
  return null;
}

/** Stands for an Acct element the scan cannot read plainly: no program has it, so a scoped caller is refused. */
export const UNREADABLE_ACCOUNT = '(an Acct element the upload scan cannot read)';

const NAME = '(?:[A-Za-z_][\\w.-]*:)?';
const ATTRS = '(?:\\s[^>]*)?';
const ACCT_ELEMENT = new RegExp(`<${NAME}Acct${ATTRS}>([\\s\\S]*?)</${NAME}Acct\\s*>`, 'g');
const ACCT_OPEN = new RegExp(`<${NAME}Acct[\\s/>]`, 'g');
const IBAN_OPEN = new RegExp(`<${NAME}IBAN[\\s/>]`, 'g');
const IBAN = new RegExp(`<${NAME}IBAN${ATTRS}>([^<&]*)</${NAME}IBAN\\s*>`, 'g');
// Id/Othr/Id is an account id; an owner's or servicer's Othr sits under OrgId, PrvtId or FinInstnId.
const OTHER_OPEN = new RegExp(`<${NAME}Id${ATTRS}>\\s*<${NAME}Othr[\\s/>]`, 'g');
const OTHER_ID = new RegExp(
  `<${NAME}Id${ATTRS}>\\s*<${NAME}Othr${ATTRS}>\\s*<${NAME}Id${ATTRS}>([^<&]*)</${NAME}Id\\s*>`,
  'g',
);

/**
 * The account ids of a camt file's Acct elements (camt.053/.054 have one per statement or notification):
 * every IBAN and Id/Othr/Id in them. The scan errs on the side of refusing: an Acct it cannot read plainly
 * (a comment, CDATA or character reference in the way, an id it cannot pair with its element, an unclosed
 * element) counts as UNREADABLE_ACCOUNT, so a scoped caller cannot hide from it an account the parser sees.
 */
function camtAccounts(text: string): string[] {
  const accounts: string[] = [];
  let closed = 0;
  for (const m of text.matchAll(ACCT_ELEMENT)) {
    closed++;
    accounts.push(...acctAccounts(m[1]!));
  }
  if ((text.match(ACCT_OPEN)?.length ?? 0) !== closed) accounts.push(UNREADABLE_ACCOUNT);
  return accounts;
}

/**
 * The account identifications a statement file names, in order, without repeats: its :25: and :25P: lines (MT940),
 * its Acct elements (camt), or both when the format is unknown.
 */
export function statementAccounts(text: string, format = statementFormatOf(text)): string[] {
  const accounts = new Set<string>();
  if (format !== 'MT940') for (const a of camtAccounts(text)) accounts.add(a);
  if (format === 'MT940' || format === null)
    for (const m of text.matchAll(/(?:^|[\r\n]):25P?:([^\r\n]*)/g)) accounts.add(m[1]!.trim());
  return [...accounts];
}

/** Longest text the streaming scan holds for one line or one Acct element; beyond it the account is unreadable. */
const SCAN_HOLD_CHARS = 1024 * 1024;
const MT940_ACCOUNT_LINE = /^:25P?:/;

/**
 * statementAccounts over a text that arrives in pieces, holding only what a match may still need: the line
 * being read (MT940) and the text from the first Acct element not yet closed (camt). Gives what
 * statementAccounts gives the whole text, except that a line or Acct element longer than SCAN_HOLD_CHARS
 * counts as UNREADABLE_ACCOUNT (so a scoped caller is refused) instead of being read.
 */
export class StatementAccountScan {
  private readonly camt: string[] = [];
  private readonly mt940: string[] = [];
  private line = '';
  /** The current line is past SCAN_HOLD_CHARS (or cannot be an account line): skipped to its end. */
  private skipLine = false;
  private xml = '';
  private opened = 0;
  private closed = 0;

  push(piece: string): void {
    this.scanLines(piece);
    this.scanXml(piece);
  }

  /** The accounts, as statementAccounts(text, format) names them. */
  end(format: StatementFormatName | null): string[] {
    if (!this.skipLine) this.accountLine(this.line);
    this.opened += this.xml.match(ACCT_OPEN)?.length ?? 0;
    const accounts = new Set<string>();
    if (format !== 'MT940') {
      for (const a of this.camt) accounts.add(a);
      if (this.opened !== this.closed) accounts.add(UNREADABLE_ACCOUNT);
    }
    if (format === 'MT940' || format === null) for (const a of this.mt940) accounts.add(a);
    return [...accounts];
  }

  private scanLines(piece: string): void {
    let from = 0;
    for (;;) {
      const cr = piece.indexOf('\r', from);
      const lf = piece.indexOf('\n', from);
      const eol = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      const part = piece.slice(from, eol < 0 ? piece.length : eol);
      if (!this.skipLine) {
        this.line += part;
        // Past 5 characters a line that does not open with :25: or :25P: never will: not held.
        if (this.line.length >= 6 && !MT940_ACCOUNT_LINE.test(this.line)) this.skipLine = true;
        else if (this.line.length > SCAN_HOLD_CHARS) {
          this.mt940.push(UNREADABLE_ACCOUNT);
          this.skipLine = true;
        }
      }
      if (eol < 0) return;
      if (!this.skipLine) this.accountLine(this.line);
      this.line = '';
      this.skipLine = false;
      from = eol + 1;
    }
  }

  private accountLine(line: string): void {
    const m = /^:25P?:(.*)$/s.exec(line);
    if (m) this.mt940.push(m[1]!.trim());
  }

  private scanXml(piece: string): void {
    let text = this.xml + piece;
    let done = 0;
    for (const m of text.matchAll(ACCT_ELEMENT)) {
      this.closed++;
      this.camt.push(...acctAccounts(m[1]!));
      done = m.index + m[0].length;
    }
    // Held from the first Acct opening not closed yet, or else from the last '<' (a tag may be cut).
    ACCT_OPEN.lastIndex = done;
    const open = ACCT_OPEN.exec(text);
    let keep = open ? open.index : text.lastIndexOf('<');
    if (keep < done) keep = text.length;
    if (text.length - keep > SCAN_HOLD_CHARS) {
      // An Acct element this long is not read: unreadable, and the scan goes on past its opening.
      this.camt.push(UNREADABLE_ACCOUNT);
      keep += 1;
      const next = text.indexOf('<', keep);
      keep = next < 0 ? text.length : next;
    }
    this.opened += text.slice(0, keep).match(ACCT_OPEN)?.length ?? 0;
    text = text.slice(keep);
    this.xml = text;
  }
}

/** The account ids of one Acct element's content, UNREADABLE_ACCOUNT first when it is not read plainly. */
function acctAccounts(body: string): string[] {
  const ibans = [...body.matchAll(IBAN)].map((x) => x[1]!.trim());
  const others = [...body.matchAll(OTHER_ID)].map((x) => x[1]!.trim());
  const plain =
    !/<[!?]/.test(body) &&
    ibans.length === (body.match(IBAN_OPEN)?.length ?? 0) &&
    others.length === (body.match(OTHER_OPEN)?.length ?? 0) &&
    ibans.length + others.length > 0 &&
    [...ibans, ...others].every((id) => id !== '');
  return plain ? [...ibans, ...others] : [UNREADABLE_ACCOUNT, ...ibans, ...others];
}

/** A statement the caller may not upload: answered 403, nothing stored. */
export class StatementForbidden extends Error {
  readonly code = FORBIDDEN_ACCOUNT;
}

/**
 * The programs whose funding accounts the statement names. A caller scoped to bank codes must name at least
 * one account, and only accounts of programs of its bank codes (an unknown account is not provably its own).
 */
async function statementPrograms(tx: Queryable, accounts: string[], caller: Caller): Promise<string[]> {
  const { rows: known } = await tx.query<ProgramAccount>(
    `SELECT benefit_program_mnemonic AS program, sponsor_bank_account_number AS account,
            sponsor_bank_account_currency AS currency, sponsor_bank_code AS "bankCode"
       FROM benefit_program`,
  );
  const programs = new Set<string>();
  for (const account of accounts) {
    const p = findProgramByAccount(account, known);
    if (p) programs.add(p.program);
    if (caller.bankCodes && (!p || !allows(caller.bankCodes, p.bankCode))) {
      throw new StatementForbidden(
        `The caller ${caller.subject} may upload statements of the accounts of sponsor bank ${caller.bankCodes.join(', ') || '(none)'} only; ${JSON.stringify(account)} is not one of them`,
      );
    }
  }
  if (caller.bankCodes && accounts.length === 0) {
    throw new StatementForbidden(
      'The statement names no account (:25: or Acct), so it cannot be checked against the caller’s bank',
    );
  }
  return [...programs].sort();
}

/**
 * The bank-scope check of an upload for a statement that arrives another way (a bank's SFTP inbound folder,
 * src/pipeline/stages/bank-files.ts): throws StatementForbidden unless it names accounts of programs of
 * `caller.bankCodes` only; answers those programs.
 */
export function checkStatementScope(tx: Queryable, text: string, caller: Caller): Promise<string[]> {
  return statementPrograms(tx, statementAccounts(text), caller);
}

/** Characters of statement text per stored piece (account_statement_chunk): about 1 MiB. */
export const STATEMENT_CHUNK_CHARS = 1024 * 1024;

/** Why an upload is refused once its file is being read: thrown so that nothing of it is kept. */
class UploadRefused extends Error {
  constructor(readonly refusal: FormFailure | { ok: false; errorCode: 'not_text'; message: string }) {
    super(refusal.message);
  }
}

/** The staged pieces of an upload are gone (its lease ran out and housekeeping purged them): nothing is stored. */
export class UploadLost extends Error {}

/**
 * How long an upload's staged pieces are kept without a sign of life from the process receiving it: the lease
 * is renewed with every piece and every UPLOAD_RENEW_MS while the upload waits for its client, so only a
 * process that died (or stalled this long) loses it, and housekeeping then purges its pieces.
 */
export const UPLOAD_LEASE_SECONDS = 300;
const UPLOAD_RENEW_MS = 60_000;

/**
 * An upload's staging area: a lease row in account_statement_upload and its pieces in
 * account_statement_chunk without a statement_id, each committed in a short transaction of its own so that
 * the database (on PGlite, its one connection) is free between pieces. No reader sees them: the statement
 * stage reads the pieces of a statement by its statement_id, and there is no statement until close().
 */
class StagedUpload {
  /** The statement_id the statement will have; its pieces carry it as upload_id. */
  readonly id = randomUUID();
  private pieces = 0;
  private renewal: NodeJS.Timeout | null = null;

  private constructor(private readonly db: Db) {}

  static async open(db: Db): Promise<StagedUpload> {
    const upload = new StagedUpload(db);
    await db.query(
      `INSERT INTO account_statement_upload (upload_id, expires_at)
       VALUES ($1, now() + make_interval(secs => $2::double precision))`,
      [upload.id, UPLOAD_LEASE_SECONDS],
    );
    // A slow client sends nothing for a while: the lease is renewed all the same while the request lasts.
    upload.renewal = setInterval(() => {
      db.query(
        `UPDATE account_statement_upload SET expires_at = now() + make_interval(secs => $2::double precision)
          WHERE upload_id = $1`,
        [upload.id, UPLOAD_LEASE_SECONDS],
      ).catch(() => {}); // a failed renewal is seen at the next piece or at close()
    }, UPLOAD_RENEW_MS);
    upload.renewal.unref();
    return upload;
  }

  /** One piece, committed now with the lease renewed; UploadLost if the upload's lease row is gone. */
  async write(content: string): Promise<void> {
    const { rowCount } = await this.db.query(
      `WITH lease AS (
         UPDATE account_statement_upload SET expires_at = now() + make_interval(secs => $4::double precision)
          WHERE upload_id = $1 RETURNING upload_id),
       kept AS (INSERT INTO account_statement_text (upload_id, seq, content) SELECT upload_id, $2, $3 FROM lease)
       INSERT INTO account_statement_chunk (upload_id, seq, content) SELECT upload_id, $2, $3 FROM lease`,
      [this.id, this.pieces, content, UPLOAD_LEASE_SECONDS],
    );
    if (rowCount !== 1) throw new UploadLost(`the staged upload ${this.id} is gone (its lease ran out)`);
    this.pieces++;
  }

  /**
   * In the closing transaction: the lease ends and the statement (its row inserted already) adopts every
   * staged piece, the 1 MiB values untouched (an UPDATE of statement_id keeps their TOAST pointers).
   * UploadLost if the lease or any piece is gone.
   */
  async adopt(tx: Queryable): Promise<void> {
    this.stopRenewal();
    const lease = await tx.query('DELETE FROM account_statement_upload WHERE upload_id = $1', [this.id]);
    if (lease.rowCount !== 1)
      throw new UploadLost(`the staged upload ${this.id} is gone (its lease ran out)`);
    for (const table of ['account_statement_chunk', 'account_statement_text']) {
      const adopted = await tx.query(
        `UPDATE ${table} SET statement_id = upload_id WHERE upload_id = $1 AND statement_id IS NULL`,
        [this.id],
      );
      if (adopted.rowCount !== this.pieces)
        throw new UploadLost(
          `the staged upload ${this.id} lost pieces (${adopted.rowCount} of ${this.pieces})`,
        );
    }
  }

  /** The upload ends without a statement (refused, broken, failed): its staged pieces and lease go now. */
  async discard(): Promise<void> {
    this.stopRenewal();
    await this.db.transaction(async (tx) => {
      for (const table of ['account_statement_chunk', 'account_statement_text'])
        await tx.query(`DELETE FROM ${table} WHERE upload_id = $1 AND statement_id IS NULL`, [this.id]);
      await tx.query('DELETE FROM account_statement_upload WHERE upload_id = $1', [this.id]);
    });
  }

  stopRenewal(): void {
    if (this.renewal) clearInterval(this.renewal);
    this.renewal = null;
  }
}

/**
 * Housekeeping (src/pipeline/index.ts): removes the staged pieces of uploads whose lease ran out (the process
 * receiving them died or stalled past UPLOAD_LEASE_SECONDS), and any staged piece whose upload row is gone.
 * An upload in progress renews its lease and keeps its pieces. Answers the number of pieces removed.
 */
export async function purgeAbandonedUploads(db: Db): Promise<number> {
  return db.transaction(async (tx) => {
    await tx.query('DELETE FROM account_statement_upload WHERE expires_at < now()');
    let purged = 0;
    for (const table of ['account_statement_chunk', 'account_statement_text']) {
      const { rowCount } = await tx.query(
        `DELETE FROM ${table} c
          WHERE c.statement_id IS NULL
            AND NOT EXISTS (SELECT 1 FROM account_statement_upload u WHERE u.upload_id = c.upload_id)`,
      );
      purged += rowCount;
    }
    return purged;
  });
}

/**
 * The statement file as it streams in: its bytes counted, hashed and checked (no NUL, UTF-8), its text
 * decoded, sniffed for the format, scanned for accounts and staged a piece of about STATEMENT_CHUNK_CHARS at
 * a time. A file found not to be text is read on to the end of the form (a broken form is answered as such)
 * but no more of it is written.
 */
class StatementIntake {
  private readonly hash = createHash('sha256');
  // ignoreBOM keeps a byte-order mark in the text: the stored text is the upload, unchanged.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private readonly scan = new StatementAccountScan();
  private size = 0;
  private nul = false;
  private notUtf8 = false;
  private head = '';
  private pending: string[] = [];
  private pendingChars = 0;

  constructor(private readonly upload: StagedUpload) {}

  async push(bytes: Buffer): Promise<void> {
    this.size += bytes.length;
    this.hash.update(bytes);
    if (!this.nul && bytes.includes(0)) this.nul = true;
    if (this.nul || this.notUtf8) return;
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch {
      this.notUtf8 = true;
      return;
    }
    await this.add(text);
  }

  /** The whole file is in: what to store, or why it is not a statement we can keep as text. */
  async end(): Promise<
    | { ok: true; stored: StoredStatement; format: StatementFormatName | null; accounts: string[] }
    | { ok: false; errorCode: 'not_text'; message: string }
  > {
    const refuse = (message: string) => ({ ok: false as const, errorCode: 'not_text' as const, message });
    if (this.size === 0) return refuse('the file is empty');
    if (this.nul) return refuse('the file contains NUL bytes (binary, not an MT940 text)');
    if (!this.notUtf8)
      try {
        await this.add(this.decoder.decode());
      } catch {
        this.notUtf8 = true;
      }
    if (this.notUtf8) return refuse('the file is not valid UTF-8 text');
    await this.flush();
    const format = statementFormatOf(this.head);
    return {
      ok: true,
      stored: {
        statement_id: this.upload.id,
        content_sha256: this.hash.digest('hex'),
        size_bytes: this.size,
      },
      format,
      accounts: this.scan.end(format),
    };
  }

  private async add(text: string): Promise<void> {
    if (text === '') return;
    if (this.head.length < SNIFF_BYTES) this.head += text.slice(0, SNIFF_BYTES - this.head.length);
    this.scan.push(text);
    this.pending.push(text);
    this.pendingChars += text.length;
    // Pieces of STATEMENT_CHUNK_CHARS however the body arrives (one read of a socket or a test's stream may
    // hand over megabytes at once).
    while (this.pendingChars >= STATEMENT_CHUNK_CHARS) await this.flush(STATEMENT_CHUNK_CHARS);
  }

  /** Stages the first `chars` characters pending (all by default), never cutting a surrogate pair. */
  private async flush(chars = this.pendingChars): Promise<void> {
    if (this.pendingChars === 0) return;
    const joined = this.pending.join('');
    let cut = chars;
    if (cut < joined.length) {
      const last = joined.charCodeAt(cut - 1);
      if (last >= 0xd800 && last <= 0xdbff) cut -= 1; // a high surrogate stays with its low one
    }
    const rest = joined.slice(cut);
    this.pending = rest === '' ? [] : [rest];
    this.pendingChars = rest.length;
    await this.upload.write(joined.slice(0, cut));
  }
}

/**
 * Reads the rest of the form from the statement file's content on, staging its text in pieces as they
 * arrive (each committed on its own), then (the form read to its end and the file found to be text) stores
 * the statement in one short closing transaction: the header row, the staged pieces adopted, the whole text
 * joined in the database, and the audit row. Throws UploadRefused, StatementForbidden or UploadLost, and then
 * nothing is stored and the staged pieces are deleted (by housekeeping, should this process die first).
 */
async function receiveStatement(
  db: Db,
  form: FormStream,
  caller: Caller,
  action: 'upload_mt940' | 'upload_statement',
): Promise<StoredStatement> {
  const upload = await StagedUpload.open(db);
  try {
    const intake = new StatementIntake(upload);
    for (;;) {
      const r = await form.read();
      if (!r.ok) throw new UploadRefused(r);
      if (r.piece === null) break;
      await intake.push(r.piece);
    }
    for (;;) {
      const next = await form.next(); // later parts are read (and dropped): the form must still end well
      if (!next.ok) throw new UploadRefused(next);
      if (next.part === null) break;
    }
    const file = await intake.end();
    if (!file.ok) throw new UploadRefused(file);
    const { stored, format, accounts } = file;
    return await db.transaction(async (tx) => {
      const programs = await statementPrograms(tx, accounts, caller);
      await tx.query(
        `INSERT INTO account_statement (statement_id, content_sha256, size_bytes, uploaded_by, statement_format,
                                        uploader_bank_codes)
         VALUES ($1, $2, $3, $4, $5, $6)`,
        [
          stored.statement_id,
          stored.content_sha256,
          stored.size_bytes,
          caller.subject,
          format,
          caller.bankCodes ? [...caller.bankCodes] : null,
        ],
      );
      // The pieces become the statement's: the stage's copy (account_statement_chunk) and the kept one
      // (account_statement_text), which account_statement_lob joins when the whole text is read (migration 017).
      await upload.adopt(tx);
      await recordAudit(tx, caller, {
        action,
        program: programs.length === 1 ? programs[0] : null,
        targetIds: [stored.statement_id],
        summary: { ...stored, format, accounts, programs },
      });
      return stored;
    });
  } catch (error) {
    // Nothing of a refused or broken upload stays: its pieces go now (housekeeping's, if this fails too).
    await upload.discard().catch(() => {});
    throw error;
  } finally {
    upload.stopRenewal();
  }
}

type UploadAction = 'upload_mt940' | 'upload_statement';

function statementResponse(
  action: UploadAction,
  now: Date,
  status: G2pStatus,
  fields: { statement_id?: string; code?: string; message: string; stored?: StoredStatement },
) {
  return {
    signature: null,
    header: responseHeader(undefined, action, status, now, {
      code: fields.code ?? null,
      message: fields.message,
    }),
    message: fields.stored ?? null,
    statement_id: fields.statement_id ?? null,
    response_error_code: fields.code ?? null,
  };
}

const responseSchema = {
  type: 'object',
  properties: {
    signature: { type: ['string', 'null'] },
    header: { type: 'object', additionalProperties: true },
    message: {
      type: ['object', 'null'],
      description: 'Extra beyond 1.0.2: statement_id, content_sha256 and size_bytes of the stored statement.',
      properties: {
        statement_id: { type: 'string' },
        content_sha256: { type: 'string' },
        size_bytes: { type: 'integer' },
      },
    },
    statement_id: { type: ['string', 'null'] },
    response_error_code: { type: ['string', 'null'] },
  },
} as const;

const ROUTES: Record<UploadAction, { summary: string; description: string; file: string }> = {
  upload_mt940: {
    summary: 'Upload an MT940 account statement',
    description: '',
    file: 'The MT940 file.',
  },
  upload_statement: {
    summary: 'Upload an account statement: MT940, camt.053 or camt.054',
    description:
      'The format is detected from the content (an XML camt.053.001.02/.04/.08 or camt.054.001.02/.08 document, ' +
      "else MT940); a file that cannot be read is stored all the same and ends as ERROR with the parser's problems. ",
    file: 'The statement file: MT940, camt.053 or camt.054.',
  },
};

/** POST /upload_mt940 and POST /upload_statement (role bank): the same form, checks and answers. */
export const statementUploadRoutes: Feature = (app, ctx: AppContext) => {
  // The body is handed on as the request's stream, read by our strict reader (./multipart.ts) as it
  // arrives: the statement file goes to the database in pieces, never whole into memory. The size limits are
  // the reader's (the whole body, and the file). No other route takes multipart/form-data.
  app.addContentTypeParser('multipart/form-data', (_request, payload, done) => done(null, payload));
  for (const [action, route] of Object.entries(ROUTES) as [UploadAction, (typeof ROUTES)[UploadAction]][])
    uploadRoute(app, ctx, action, route);
};
function uploadRoute(
  app: Parameters<Feature>[0],
  ctx: AppContext,
  action: UploadAction,
  route: (typeof ROUTES)[UploadAction],
) {
  app.post(
    `/${action}`,
    {
      config: { roles: ['bank'] },
      bodyLimit: ctx.config.MAX_STATEMENT_BYTES + FORM_OVERHEAD_BYTES,
      // The body schema documents the multipart form for /docs; the parts are read and checked below.
      validatorCompiler: () => () => true,
      schema: {
        tags: ['G2P Bridge Account Statement'],
        summary: route.summary,
        description:
          route.description +
          `multipart/form-data with one file in field \`${STATEMENT_FIELD}\` (at most MAX_STATEMENT_BYTES). The text is stored ` +
          'unchanged and processed asynchronously; the answer carries its statement_id. Not text (NUL bytes, invalid UTF-8) ' +
          'or empty: rjct STATEMENT_UPLOAD_ERROR. Too large: HTTP 413 REQUEST_TOO_LARGE.',
        consumes: ['multipart/form-data'],
        body: {
          type: 'object',
          required: [STATEMENT_FIELD],
          properties: {
            [STATEMENT_FIELD]: { type: 'string', format: 'binary', description: route.file },
          },
        },
        // 403: a role refusal ({error, message}) or a bank-scope refusal (the rjct body), so either shape.
        response: {
          200: responseSchema,
          400: responseSchema,
          403: { type: 'object', additionalProperties: true },
          413: responseSchema,
          415: responseSchema,
        },
      },
    },
    async (request, reply) => {
      const contentType = request.headers['content-type'];
      if (!(request.body instanceof Readable) || !isFormData(contentType)) {
        return reply.code(415).send(
          statementResponse(action, ctx.now(), 'rjct', {
            code: 'UNSUPPORTED_MEDIA_TYPE',
            message: `Send multipart/form-data with the file in field ${STATEMENT_FIELD}`,
          }),
        );
      }
      const bodyBytes = ctx.config.MAX_STATEMENT_BYTES + FORM_OVERHEAD_BYTES;
      const refused = (failure: UploadRefused['refusal']) => {
        const { errorCode: error, message: reason } = failure;
        if (error === 'too_large') {
          return reply.code(413).send(
            statementResponse(action, ctx.now(), 'rjct', {
              code: 'REQUEST_TOO_LARGE',
              message: `The statement is larger than MAX_STATEMENT_BYTES (${ctx.config.MAX_STATEMENT_BYTES} bytes)`,
            }),
          );
        }
        // More files or fields than a statement upload has: a refused upload, not an unreadable one.
        if (error === 'too_many_parts') {
          return statementResponse(action, ctx.now(), 'rjct', {
            code: ErrorCode.STATEMENT_UPLOAD_ERROR,
            message: `Send one file, in multipart field ${STATEMENT_FIELD} (the form holds ${reason})`,
          });
        }
        if (error === 'not_text') {
          request.log.info({ reason }, 'statement upload rejected');
          return statementResponse(action, ctx.now(), 'rjct', {
            code: ErrorCode.STATEMENT_UPLOAD_ERROR,
            message: `Statement rejected: ${reason}`,
          });
        }
        // Whatever else fails (no boundary, a cut-off body, a broken part header) is the caller's malformed
        // upload, a 400, never the bridge's 500.
        request.log.info({ reason }, 'statement upload is not a valid multipart form');
        return reply.code(400).send(
          statementResponse(action, ctx.now(), 'rjct', {
            code: ErrorCode.STATEMENT_UPLOAD_ERROR,
            message: `The multipart/form-data body could not be read (${reason}); send the file in field ${STATEMENT_FIELD}`,
          }),
        );
      };
      // A declared length over the limit is refused before anything is read.
      if (Number(request.headers['content-length'] ?? 0) > bodyBytes)
        return refused({ ok: false, errorCode: 'too_large', message: 'the body is too large' });
      const opened = FormStream.open(request.body, contentType ?? '', {
        fileBytes: ctx.config.MAX_STATEMENT_BYTES,
        files: 1,
        fields: FORM_FIELDS,
        bodyBytes,
      });
      if (!opened.ok) return refused(opened);
      const form = opened.form;
      // Parts before the statement file are read and dropped; the file's content is read in the transaction.
      let plainField = false;
      for (;;) {
        const next = await form.next();
        if (!next.ok) return refused(next);
        if (next.part === null) {
          return statementResponse(action, ctx.now(), 'rjct', {
            code: ErrorCode.STATEMENT_UPLOAD_ERROR,
            message: plainField
              ? `Multipart field ${STATEMENT_FIELD} is a plain field, not a file (its part has no filename)`
              : `No file in multipart field ${STATEMENT_FIELD}`,
          });
        }
        if (next.part.name === STATEMENT_FIELD) {
          if (next.part.filename !== null) break;
          plainField = true;
        }
      }
      let stored: StoredStatement;
      try {
        stored = await receiveStatement(ctx.db, form, callerOf(request), action);
      } catch (error) {
        if (error instanceof UploadRefused) return refused(error.refusal);
        if (!(error instanceof StatementForbidden)) throw error;
        request.log.info({ code: error.code }, 'statement upload refused');
        return reply
          .code(403)
          .send(statementResponse(action, ctx.now(), 'rjct', { code: error.code, message: error.message }));
      }
      request.log.info({ statement: stored.statement_id, size: stored.size_bytes }, 'statement stored');
      return statementResponse(action, ctx.now(), 'succ', {
        statement_id: stored.statement_id,
        message: 'Statement stored; it will be processed asynchronously',
        stored,
      });
    },
  );
}
