// The host-to-host connector (`builtin:iso20022-sftp`): each bank batch becomes one pain.001 file uploaded to
// the bank's outbound folder over SFTP; the bank's pain.002 status reports and statements are collected from
// the inbound folder by the bank-files stage. The bank's host key is pinned: any other key ends the connection
// before our key is offered.
//
// Paid once: the file name and MsgId are functions of the batch id. A retried batch first looks for its file
// (already there: "already sent"), otherwise uploads under a temporary dot-name and renames it; a rename that
// meets the file already there is "already sent" too. A file the bank has already picked up is refused by the
// bank with DU01 in a pain.002, which the bank-files stage records as a duplicate and applies to nothing.
//
// Funds: a file channel carries no funds check and no block. See `fundsPolicy` below and
// docs/bank-connectors.md, "Funds on a file channel".
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { Client, type SFTPWrapper } from 'ssh2';
import type {
  BankConnector,
  BlockFundsResult,
  CheckFundsResult,
  ConnectorFailure,
  ConnectorModuleFactory,
  InboundFile,
  InitiatePaymentResult,
  Payment,
} from '../connector.js';
import { BANK_ERROR, failure } from '../errors.js';
import {
  type AccountScheme,
  type ChargeBearer,
  type Pain001Options,
  type Pain001Version,
  writePain001,
} from '../iso20022/pain001.js';

/**
 * refuse: no check, no block (the funds stage fails with a clear code); prefunded: the account is funded by
 * arrangement, the bridge answers both itself; at-bank: the bank checks and blocks each PmtInf when it takes
 * the file (the example bank does), so the bridge passes both on and a shortfall comes back as pain.002
 * RJCT AM04, which ends those disbursements `refused` — never a silent success.
 */
export type FundsPolicy = 'refuse' | 'prefunded' | 'at-bank';

export interface SftpConnectorSettings {
  bankCode: string;
  host: string;
  port: number;
  username: string;
  privateKey: Buffer;
  /** `SHA256:<base64>` fingerprint or an OpenSSH public key line (`ssh-ed25519 AAAA...`). */
  hostKey: string;
  outbound: string;
  inbound: string;
  fileNamePattern: string;
  timeoutMs: number;
  pain001: Pain001Options;
  funds: FundsPolicy;
  /** Largest inbound file read (bytes). */
  maxInboundBytes: number;
}

/** The environment prefix of a bank's settings: SFTP_<CODE>_, the code upper-cased with [.-] as _. */
export const sftpPrefix = (bankCode: string) => `SFTP_${bankCode.toUpperCase().replace(/[.-]/g, '_')}_`;

/** Reads a bank's SFTP settings; throws with every problem named (the registry stops the start with it). */
export function sftpConnectorSettings(
  bankCode: string,
  env: Record<string, string | undefined>,
): SftpConnectorSettings {
  const pre = sftpPrefix(bankCode);
  const get = (k: string) => env[pre + k]?.trim() || undefined;
  const problems: string[] = [];
  const need = (k: string) => {
    const v = get(k);
    if (!v) problems.push(`${pre}${k} is required`);
    return v ?? '';
  };
  const oneOf = <T extends string>(k: string, allowed: readonly T[], dflt: T): T => {
    const v = get(k) ?? dflt;
    if (!allowed.includes(v as T)) problems.push(`${pre}${k} must be one of ${allowed.join(', ')}, got ${v}`);
    return v as T;
  };
  const int = (k: string, dflt: number) => {
    const v = get(k);
    const n = v === undefined ? dflt : Number(v);
    if (!Number.isInteger(n) || n <= 0) problems.push(`${pre}${k} must be a positive whole number`);
    return n;
  };
  const host = need('HOST');
  const username = need('USER');
  const keyFile = need('PRIVATE_KEY_FILE');
  const hostKey = need('HOST_KEY');
  let privateKey = Buffer.alloc(0);
  if (keyFile)
    try {
      privateKey = readFileSync(keyFile);
    } catch (e) {
      problems.push(
        `${pre}PRIVATE_KEY_FILE cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  if (hostKey && !parsePin(hostKey))
    problems.push(`${pre}HOST_KEY is neither SHA256:<base64> nor a public key line`);
  const version = oneOf<Pain001Version>('PAIN001_VERSION', ['001.001.03', '001.001.09'], '001.001.03');
  const scheme = oneOf<AccountScheme>('ACCOUNT_SCHEME', ['OTHR', 'IBAN'], 'OTHR');
  const bearer = get('CHARGE_BEARER');
  if (bearer && !['SLEV', 'DEBT', 'SHAR', 'CRED'].includes(bearer))
    problems.push(`${pre}CHARGE_BEARER must be SLEV, DEBT, SHAR or CRED`);
  const bic = get('DEBTOR_BIC');
  if (bic && !/^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$/.test(bic))
    problems.push(`${pre}DEBTOR_BIC is not a BIC`);
  const purpose = get('CATEGORY_PURPOSE');
  if (purpose && !/^[A-Z0-9]{1,4}$/.test(purpose))
    problems.push(`${pre}CATEGORY_PURPOSE must be a 1-4 letter code`);
  const pattern = get('FILE_NAME') ?? '{msgId}.xml';
  if (!pattern.includes('{msgId}') || /[/\\]/.test(pattern) || pattern.startsWith('.'))
    problems.push(`${pre}FILE_NAME must contain {msgId}, no slash, and not start with a dot`);
  const batchBooking = oneOf('BATCH_BOOKING', ['true', 'false'], 'true') === 'true';
  const settings: SftpConnectorSettings = {
    bankCode,
    host,
    port: int('PORT', 22),
    username,
    privateKey,
    hostKey,
    outbound: get('OUTBOUND') ?? 'outbound',
    inbound: get('INBOUND') ?? 'inbound',
    fileNamePattern: pattern,
    timeoutMs: int('TIMEOUT_MS', 30_000),
    funds: oneOf<FundsPolicy>('FUNDS', ['refuse', 'prefunded', 'at-bank'], 'refuse'),
    maxInboundBytes: int('MAX_INBOUND_BYTES', 50_000_000),
    pain001: {
      version,
      debtorName: get('DEBTOR_NAME') ?? bankCode,
      debtorAgentBic: bic,
      accountScheme: scheme,
      batchBooking,
      categoryPurpose: purpose,
      chargeBearer: bearer as ChargeBearer | undefined,
    },
  };
  if (problems.length) throw new Error(problems.join('; '));
  return settings;
}

/** The pinned key as a SHA-256 digest of the key blob, from either accepted form. */
function parsePin(pin: string): Buffer | null {
  const fp = /^SHA256:([A-Za-z0-9+/]{43})=?$/.exec(pin);
  if (fp) return Buffer.from(fp[1]!, 'base64');
  const line = /^(ssh-[a-z0-9-]+|ecdsa-[a-z0-9-]+)\s+([A-Za-z0-9+/=]+)/.exec(pin);
  if (line) return createHash('sha256').update(Buffer.from(line[2]!, 'base64')).digest();
  return null;
}

/** OpenSSH's fingerprint of a public key blob (what `ssh-keygen -lf` prints). */
export function hostKeyFingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

interface SftpError extends Error {
  code?: number | string;
  level?: string;
}
const NO_SUCH_FILE = 2;

function classify(error: unknown, pinned: { mismatch: boolean }): ConnectorFailure {
  const e = error as SftpError;
  if (pinned.mismatch)
    return failure('BANK_HOST_KEY_MISMATCH', "the bank's host key is not the pinned one; connection refused");
  if (e?.level === 'client-authentication')
    return failure('BANK_AUTHENTICATION_FAILED', 'our key was refused');
  if (e?.level === 'client-timeout' || e?.code === 'ETIMEDOUT') return failure(BANK_ERROR.TIMEOUT, e.message);
  if (e?.code === 'ECONNREFUSED' || e?.code === 'ENOTFOUND' || e?.code === 'EHOSTUNREACH')
    return failure(BANK_ERROR.UNAVAILABLE, e.message);
  return failure(BANK_ERROR.CONNECTION, e?.message?.slice(0, 300));
}

const call = <T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
/** For the SFTP calls that answer with an error only. */
const done = (fn: (cb: (err?: Error | null) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

/** `now`: the bridge's clock, the creation time of each pain.001. */
export function createSftpConnectorFromSettings(
  s: SftpConnectorSettings,
  now: () => Date = () => new Date(),
): BankConnector {
  const pin = parsePin(s.hostKey)!;

  /** One SFTP session for one operation; the connection is always ended. */
  async function session<T>(work: (sftp: SFTPWrapper) => Promise<T>): Promise<T | ConnectorFailure> {
    const conn = new Client();
    const pinned = { mismatch: false };
    try {
      await new Promise<void>((resolve, reject) => {
        conn.once('ready', resolve);
        conn.once('error', reject);
        conn.connect({
          host: s.host,
          port: s.port,
          username: s.username,
          privateKey: s.privateKey,
          readyTimeout: s.timeoutMs,
          hostVerifier: (key: Buffer) => {
            const ok = createHash('sha256').update(key).digest().equals(pin);
            if (!ok) pinned.mismatch = true;
            return ok;
          },
        });
      });
      // After ready, a dropped connection must fail the pending SFTP call, which may never call back.
      const closed = new Promise<never>((_, reject) => {
        const cut = () =>
          reject(Object.assign(new Error('the connection closed mid-operation'), { code: 'ECONNRESET' }));
        conn.on('error', cut);
        conn.on('close', cut);
      });
      closed.catch(() => {});
      const sftp = await Promise.race([call<SFTPWrapper>((cb) => conn.sftp(cb)), closed]);
      return await Promise.race([work(sftp), closed]);
    } catch (error) {
      return classify(error, pinned);
    } finally {
      conn.end();
    }
  }

  const exists = (sftp: SFTPWrapper, path: string) =>
    call((cb) => sftp.stat(path, cb)).then(
      () => true,
      (e: SftpError) => {
        if (e.code === NO_SUCH_FILE) return false;
        throw e;
      },
    );

  async function upload(batchId: string, payments: Payment[]): Promise<InitiatePaymentResult> {
    const file = writePain001(batchId, payments, s.pain001, now());
    if ('error' in file) {
      // Nothing in the batch can be written: every payment is refused with the reason, none is lost.
      if (file.error === 'NOTHING_WRITABLE') {
        const again = writePain001(batchId, payments, s.pain001, new Date(0));
        const refused = 'refused' in again ? again.refused : [];
        return { status: 'SUCCESS', refused };
      }
      return failure(`PAIN001_${file.error}`);
    }
    const name = s.fileNamePattern.replace('{msgId}', file.msgId);
    const target = posix.join(s.outbound, name);
    const temporary = posix.join(s.outbound, `.${name}.part`);
    const sent = await session(async (sftp) => {
      if (await exists(sftp, target)) return 'ALREADY_SENT' as const;
      await done((cb) => sftp.writeFile(temporary, file.xml, cb));
      try {
        await done((cb) => sftp.rename(temporary, target, cb));
      } catch (e) {
        // SFTP rename never replaces: the file is there already (another worker, or our own earlier try).
        if (await exists(sftp, target)) {
          await done((cb) => sftp.unlink(temporary, cb)).catch(() => {});
          return 'ALREADY_SENT' as const;
        }
        throw e;
      }
      return 'SENT' as const;
    });
    if (typeof sent === 'object') return sent;
    return file.refused.length ? { status: 'SUCCESS', refused: file.refused } : { status: 'SUCCESS' };
  }

  return {
    bankCode: s.bankCode,
    limits: { maxReferenceLength: 35, referencePattern: /^[A-Za-z0-9.:/?()+,' -]+$/ },
    async checkFunds(): Promise<CheckFundsResult> {
      if (s.funds !== 'refuse') return { status: 'FUNDS_AVAILABLE' };
      return failure('FUNDS_CHECK_NOT_ON_FILE_CHANNEL', `${sftpPrefix(s.bankCode)}FUNDS=refuse`);
    },
    async blockFunds(_a, _c, _amount, idempotencyKey): Promise<BlockFundsResult> {
      if (s.funds === 'at-bank') return { status: 'SUCCESS', blockReference: `AT-BANK-${idempotencyKey}` };
      if (s.funds === 'prefunded') return { status: 'SUCCESS', blockReference: `BRIDGE-${idempotencyKey}` };
      return failure('FUNDS_BLOCK_NOT_ON_FILE_CHANNEL', `${sftpPrefix(s.bankCode)}FUNDS=refuse`);
    },
    initiatePayment: upload,
    retrieveDisbursementId: (_bankReference, customerReference) => customerReference.trim() || null,
    retrieveBeneficiaryName: () => null,
    retrieveReversalReason: (narratives) => narratives.join(' ').trim() || null,
    async collectInbound(limit) {
      return session(async (sftp) => {
        const list = await call<
          Array<{ filename: string; attrs: { size: number; mtime: number; isFile(): boolean } }>
        >((cb) => sftp.readdir(s.inbound, cb));
        const files = list
          .filter((f) => f.attrs.isFile() && !f.filename.startsWith('.') && !f.filename.endsWith('.part'))
          .sort((a, b) => a.attrs.mtime - b.attrs.mtime || a.filename.localeCompare(b.filename))
          .slice(0, limit);
        const out: InboundFile[] = [];
        for (const f of files) {
          if (f.attrs.size > s.maxInboundBytes) {
            out.push({
              name: f.filename,
              content: '',
              tooLarge: { sizeBytes: f.attrs.size, limitBytes: s.maxInboundBytes },
            });
            continue;
          }
          const data = await call<Buffer>((cb) => sftp.readFile(posix.join(s.inbound, f.filename), cb));
          out.push({ name: f.filename, content: data.toString('utf8') });
        }
        return out;
      });
    },
    async acknowledgeInbound(name) {
      if (name.includes('/') || name.startsWith('.')) return failure('BAD_INBOUND_NAME');
      const result = await session(async (sftp) => {
        await done((cb) => sftp.unlink(posix.join(s.inbound, name), cb)).catch((e: SftpError) => {
          if (e.code !== NO_SUCH_FILE) throw e;
        });
        return { status: 'SUCCESS' as const };
      });
      return result;
    },
  };
}

export const createSftpConnector: ConnectorModuleFactory = ({ bankCode, env, log, now }) => {
  const settings = sftpConnectorSettings(bankCode, env);
  if (settings.funds === 'prefunded')
    log.warn(
      { bankCode },
      'file channel: FUNDS=prefunded, funds checks and blocks are answered by the bridge, not the bank',
    );
  return createSftpConnectorFromSettings(settings, now);
};
