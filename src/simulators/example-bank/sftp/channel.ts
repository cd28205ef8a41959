// The example bank's host-to-host face: an SFTP server (src/sftp/server.ts) with one folder pair per customer —
// `to-bank/` where the customer drops pain.001 files, `from-bank/` where the bank writes pain.002 status
// reports and the account's statements. Each pain.001 is read (./pain001.ts), refused as a whole when
// malformed (FF01) or already taken (DU01, by MsgId), and otherwise posted exactly like the HTTP
// initiate_payment (../operations.ts): the bank blocks each PmtInf's total on the debtor account itself — a
// file carries no block — then initiates the payments against that block. Files are handled one at a time,
// in arrival order; a handled file moves to `to-bank/archive/`.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Logger } from 'pino';
import { type Db, migrate } from '../../../db/index.js';
import { loadOrCreateHostKey, type RunningSftpServer, startSftpServer } from '../../../sftp/server.js';
import { Sleepers } from '../../sleepers.js';
import { fromMinor, positiveMinor } from '../common.js';
import { blockFunds, initiatePayment, type WirePayment } from '../operations.js';
import type { StatementFormat, StatementUploader } from '../statements.js';
import { type Pain001Message, readPain001 } from './pain001.js';
import { type PaymentInfoStatus, type TransactionStatus, writePain002 } from './pain002.js';

export const OUTBOUND = 'to-bank';
export const INBOUND = 'from-bank';

export interface SftpCustomer {
  username: string;
  /** OpenSSH public key lines. */
  authorizedKeys: string[];
}

export interface ExampleBankSftpSettings {
  host: string;
  port: number;
  /** Folder holding one sub-folder per customer. */
  dir: string;
  /** Private host key file; generated there when missing. */
  hostKeyFile?: string;
  customers: SftpCustomer[];
  maxFileBytes?: number;
}

/** The bank's refusals of the initiate_payment checks, as ISO external status reason codes. */
const REASON_OF: Record<string, string> = {
  ACCOUNT_NOT_FOUND: 'AC01',
  INSUFFICIENT_FUNDS: 'AM04',
  CURRENCY_MISMATCH: 'AM11',
  INVALID_AMOUNT: 'AM12',
  AMOUNT_TOO_LARGE: 'AM02',
  INVALID_CURRENCY: 'AM11',
  INVALID_PAYMENT_REFERENCE: 'RC11',
  DUPLICATE_IN_BATCH: 'AM05',
  BLOCK_EXCEEDED: 'AM04',
  BLOCK_NOT_FOUND: 'AM04',
  BLOCK_ACCOUNT_MISMATCH: 'AC01',
};
export const reasonCodeOf = (errorCode: string) => REASON_OF[errorCode] ?? 'NARR';

/** Failure controls of the file channel, in the manner of ../faults.ts. */
export class SftpFaults {
  private refusals: { remaining: number; code: string }[] = [];
  private rejects: { remaining: number; code: string }[] = [];
  private drops = 0;
  private latency = 0;
  readonly sleepers = new Sleepers();

  /** The next `count` files are refused as a whole with `code` (default FF01). */
  refuseNextFiles(count: number, code = 'FF01') {
    this.refusals.push({ remaining: positive(count), code });
  }
  /** The next `count` transactions (across files) are rejected with `code` (default AC04), the rest go on. */
  rejectNextTransactions(count: number, code = 'AC04') {
    this.rejects.push({ remaining: positive(count), code });
  }
  /** The next `count` uploads lose their connection at their first chunk. */
  dropNextUploads(count: number) {
    this.drops += positive(count);
  }
  /** Every upload chunk and every file handled waits `ms` first (0: none). */
  setLatency(ms: number) {
    if (!Number.isInteger(ms) || ms < 0) throw new Error('latency must be a whole number of milliseconds');
    this.latency = ms;
  }
  takeRefusal(): string | null {
    return take(this.refusals);
  }
  takeReject(): string | null {
    return take(this.rejects);
  }
  takeDrop(): boolean {
    if (this.drops === 0) return false;
    this.drops--;
    return true;
  }
  wait(): Promise<void> {
    return this.sleepers.sleep(this.latency);
  }
  clear() {
    this.refusals = [];
    this.rejects = [];
    this.drops = 0;
    this.latency = 0;
    this.sleepers.wakeAll();
  }
  snapshot() {
    return {
      refuse_files: this.refusals.map((r) => ({ code: r.code, count: r.remaining })),
      reject_transactions: this.rejects.map((r) => ({ code: r.code, count: r.remaining })),
      drop_uploads: this.drops,
      latency_ms: this.latency,
    };
  }
}

function positive(count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new Error('count must be a positive whole number');
  return count;
}
function take(queue: { remaining: number; code: string }[]): string | null {
  const head = queue[0];
  if (!head) return null;
  if (--head.remaining === 0) queue.shift();
  return head.code;
}

export interface HandledFile {
  username: string;
  file: string;
  msgId: string | null;
  /** ACCP, PART or RJCT of the whole file. */
  status: 'ACCP' | 'PART' | 'RJCT';
  reason?: string;
  accepted: number;
  rejected: number;
  statusReport: string;
}

export interface ExampleBankSftp {
  readonly server: RunningSftpServer;
  readonly faults: SftpFaults;
  /** The folder pair of a customer on the host. */
  foldersOf(username: string): { outbound: string; inbound: string };
  /** Statements of accounts that a customer paid from over SFTP go to its inbound folder; others to `fallback`. */
  statementUploader(fallback: StatementUploader | null): StatementUploader;
  /** Resolves when every file that has arrived so far is handled. */
  idle(): Promise<void>;
  readonly handled: HandledFile[];
  close(): Promise<void>;
}

export async function startExampleBankSftp(options: {
  db: Db;
  log: Logger;
  settings: ExampleBankSftpSettings;
  now?: () => Date;
}): Promise<ExampleBankSftp> {
  const { db, settings } = options;
  const log = options.log.child({ component: 'example-bank-sftp' });
  const now = options.now ?? (() => new Date());
  const faults = new SftpFaults();
  await migrate(db, 'example_bank');
  const handled: HandledFile[] = [];
  /** account number → customer, learnt from the DbtrAcct of the files it sent (example_bank.sftp_account_owner). */
  const learnOwner = async (accountNumber: string, username: string) => {
    await db.query(
      `INSERT INTO example_bank.sftp_account_owner (account_number, username) VALUES ($1, $2)
       ON CONFLICT (account_number) DO UPDATE SET username = EXCLUDED.username, learnt_at = now()`,
      [accountNumber, username],
    );
  };
  const ownerOf = async (accountNumber: string): Promise<string | null> => {
    const { rows } = await db.query<{ username: string }>(
      'SELECT username FROM example_bank.sftp_account_owner WHERE account_number = $1',
      [accountNumber],
    );
    const username = rows[0]?.username;
    // A customer no longer configured gets nothing: its statements go the other way.
    return username && settings.customers.some((c) => c.username === username) ? username : null;
  };
  const rootOf = (username: string) => join(settings.dir, username);
  const foldersOf = (username: string) => ({
    outbound: join(rootOf(username), OUTBOUND),
    inbound: join(rootOf(username), INBOUND),
  });
  for (const customer of settings.customers) {
    const { outbound, inbound } = foldersOf(customer.username);
    await mkdir(join(outbound, 'archive'), { recursive: true });
    await mkdir(inbound, { recursive: true });
  }
  let reportSeq = 0;

  let queue: Promise<unknown> = Promise.resolve();
  const enqueue = (job: () => Promise<void>) => {
    queue = queue.then(job).catch((error) => log.error({ err: error }, 'example bank: SFTP file failed'));
    return queue;
  };

  /** Writes a file to a customer's inbound folder under a temporary name, then renames it. */
  const deliver = async (username: string, name: string, content: string) => {
    const { inbound } = foldersOf(username);
    const tmp = join(inbound, `.${name}.tmp`);
    await writeFile(tmp, content, { mode: 0o640 });
    await rename(tmp, join(inbound, name));
  };

  const archive = async (username: string, path: string) => {
    const { outbound } = foldersOf(username);
    let target = join(outbound, 'archive', basename(path));
    for (let i = 1; await exists(target); i++) target = join(outbound, 'archive', `${basename(path)}.${i}`);
    await rename(path, target);
  };

  const handle = async (username: string, path: string) => {
    await faults.wait();
    let xml: string;
    try {
      xml = await readFile(path, 'utf8');
    } catch {
      return; // gone (handled twice, or removed by the customer)
    }
    await archive(username, path);
    const file = basename(path);
    const read = readPain001(xml);
    const msgId = read.ok ? read.message.msgId : read.msgId;
    const version = read.ok ? read.message.version : read.version;
    const refuse = async (code: string, text: string) => {
      const report = writePain002({
        msgId: reportId(),
        createdAt: now(),
        originalMsgId: msgId ?? 'NOTPROVIDED',
        originalVersion: version,
        groupReason: { code, text },
        paymentInfos: [],
      });
      const statusReport = `pain002_${safe(msgId ?? file)}_${code}.xml`;
      await deliver(username, statusReport, report);
      handled.push({
        username,
        file,
        msgId,
        status: 'RJCT',
        reason: code,
        accepted: 0,
        rejected: 0,
        statusReport,
      });
      log.info({ username, file, msgId, code }, 'example bank: pain.001 refused');
    };
    if (!read.ok) return refuse('FF01', read.problem);
    const message = read.message;
    const taken = await db.query('SELECT 1 FROM example_bank.payment_batch WHERE batch_id = $1', [
      message.msgId,
    ]);
    if (taken.rows.length > 0) return refuse('DU01', 'duplicate message id');
    const forced = faults.takeRefusal();
    if (forced) return refuse(forced, 'refused by a failure control');

    const statuses = await post(message);
    if (statuses === 'duplicate') return refuse('DU01', 'duplicate message id');
    for (const account of new Set(message.paymentInfos.map((i) => i.debtorAccount)))
      await learnOwner(account, username);
    const report = writePain002({
      msgId: reportId(),
      createdAt: now(),
      originalMsgId: message.msgId,
      originalVersion: message.version,
      paymentInfos: statuses,
    });
    const all = statuses.flatMap((s) => s.transactions);
    const rejected = all.filter((t) => t.status === 'RJCT').length;
    const statusReport = `pain002_${safe(message.msgId)}.xml`;
    await deliver(username, statusReport, report);
    handled.push({
      username,
      file,
      msgId: message.msgId,
      status: rejected === 0 ? 'ACCP' : rejected === all.length ? 'RJCT' : 'PART',
      accepted: all.length - rejected,
      rejected,
      statusReport,
    });
    log.info(
      { username, file, msgId: message.msgId, accepted: all.length - rejected, rejected },
      'example bank: pain.001 taken',
    );
  };

  const reportId = () =>
    `EBSTS${now().toISOString().replace(/\D/g, '').slice(0, 14)}${String(++reportSeq).padStart(6, '0')}`;

  /** Blocks each PmtInf's payable total, then initiates the payable transactions as one batch (MsgId). */
  const post = async (message: Pain001Message): Promise<PaymentInfoStatus[] | 'duplicate'> => {
    const statuses: PaymentInfoStatus[] = [];
    const payments: WirePayment[] = [];
    const slot = new Map<string, TransactionStatus>();
    for (const info of message.paymentInfos) {
      const transactions: TransactionStatus[] = info.transactions.map((tx) => ({
        instrId: tx.instrId,
        endToEndId: tx.endToEndId,
        status: 'ACCP',
      }));
      statuses.push({ pmtInfId: info.pmtInfId, transactions });
      const reject = (i: number, reason: string) => {
        transactions[i]!.status = 'RJCT';
        transactions[i]!.reason = reason;
      };
      const currency = info.transactions[0]!.currency;
      let total = 0n;
      info.transactions.forEach((tx, i) => {
        const amount = positiveMinor(tx.amount, tx.currency);
        const forced = () => faults.takeReject();
        const problem =
          tx.currency !== currency
            ? 'AM11'
            : amount === null
              ? 'AM12'
              : !tx.creditorAccount
                ? 'AC01'
                : forced();
        if (problem) reject(i, problem);
        else total += amount!;
      });
      if (total === 0n) continue;
      const block = await blockFunds(db, {
        accountNumber: info.debtorAccount,
        currency,
        amount: fromMinor(total, currency),
        idempotencyKey: `pain001:${message.msgId}:${info.pmtInfId}`,
      });
      if (!block.ok) {
        const code = reasonCodeOf(block.errorCode);
        transactions.forEach((t, i) => {
          if (t.status === 'ACCP') reject(i, code);
        });
        continue;
      }
      info.transactions.forEach((tx, i) => {
        if (transactions[i]!.status !== 'ACCP') return;
        slot.set(tx.endToEndId, transactions[i]!);
        payments.push(toWire(message, info, tx, block.blockReference));
      });
    }
    if (payments.length === 0) return statuses;
    const answer = await initiatePayment(db, message.msgId, payments);
    if (!answer.ok) {
      const code = reasonCodeOf(answer.errorCode);
      for (const t of slot.values()) Object.assign(t, { status: 'RJCT', reason: code });
      return statuses;
    }
    if (answer.duplicateBatch) return 'duplicate';
    for (const problem of answer.refused) {
      const t = problem.disbursement_id ? slot.get(problem.disbursement_id) : undefined;
      if (t) Object.assign(t, { status: 'RJCT', reason: reasonCodeOf(problem.error_code) });
    }
    return statuses;
  };

  const server = await startSftpServer(
    {
      hostKey: loadOrCreateHostKey(settings.hostKeyFile),
      users: settings.customers.map((c) => ({ ...c, root: rootOf(c.username) })),
      maxFileBytes: settings.maxFileBytes,
      watchedFolders: [`/${OUTBOUND}`],
      onFileArrived: (file) => {
        void enqueue(() => handle(file.username, file.absolutePath));
      },
      beforeWrite: async () => {
        if (faults.takeDrop()) return 'drop';
        await faults.wait();
        return 'continue';
      },
      onError: (error, context) => log.warn({ err: error, context }, 'example bank: SFTP'),
    },
    { host: settings.host, port: settings.port },
  );
  log.info({ host: server.host, port: server.port }, 'example bank: SFTP channel listening');

  return {
    server,
    faults,
    handled,
    foldersOf,
    statementUploader(fallback) {
      return async (text: string, fileName: string, format?: StatementFormat) => {
        const account = fileName.slice(0, fileName.lastIndexOf('-'));
        const owner = await ownerOf(account);
        if (owner) return deliver(owner, fileName, text);
        if (fallback) return fallback(text, fileName, format);
        throw new Error(`no channel for the statements of account ${account}`);
      };
    },
    idle: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      await queue;
    },
    async close() {
      faults.clear();
      await server.close();
      await queue;
    },
  };
}

function toWire(
  message: Pain001Message,
  info: Pain001Message['paymentInfos'][number],
  tx: Pain001Message['paymentInfos'][number]['transactions'][number],
  blockReference: string,
): WirePayment {
  const proxy = tx.creditorAccountKind === 'PROXY';
  const email = proxy && tx.creditorAccount!.includes('@');
  return {
    disbursement_id: tx.endToEndId,
    remitting_account: info.debtorAccount,
    remitting_account_currency: tx.currency,
    payment_amount: fromMinor(positiveMinor(tx.amount, tx.currency)!, tx.currency),
    funds_blocked_reference_number: blockReference,
    beneficiary_id: tx.endToEndId,
    beneficiary_name: tx.creditorName,
    beneficiary_account: proxy ? null : tx.creditorAccount,
    beneficiary_account_currency: tx.currency,
    beneficiary_account_type: email ? 'EMAIL_WALLET' : proxy ? 'MOBILE_WALLET' : 'BANK_ACCOUNT',
    beneficiary_bank_code: tx.creditorAgent,
    beneficiary_phone_no: proxy && !email ? tx.creditorAccount : null,
    beneficiary_email: email ? tx.creditorAccount : null,
    disbursement_narrative: tx.remittance ?? '',
    benefit_program_mnemonic: info.categoryPurpose ?? message.initiatingParty ?? '',
    cycle_code_mnemonic: info.pmtInfId,
    payment_date: info.requestedExecutionDate,
  };
}

const safe = (value: string) => value.replace(/[^A-Za-z0-9._-]/g, '_');

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
