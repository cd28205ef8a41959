// Statements: the account's unreported entries written as MT940 or camt.053.001.08 with the project's writers
// (the bank's setting, or the account's own), kept for download, and delivered to the bridge in order: MT940 to
// /upload_mt940, camt.053 to /upload_statement (a failed delivery is retried next time).
import type { Logger } from 'pino';
import {
  customerReferenceFor,
  NO_REFERENCE,
  narrativeText,
  paymentNarratives,
} from '../../bank/example/layout.js';
import { type Camt053Balance, writeCamt053 } from '../../camt/writer.js';
import type { Db } from '../../db/index.js';
import { type Mt940EntryInput, writeMt940 } from '../../mt940/index.js';
import { camtEntries, type LedgerRow } from './camt.js';
import { businessDay, fromMinor, minor, money } from './common.js';
import type { Faults } from './faults.js';

export const STATEMENT_FORMATS = ['mt940', 'camt053'] as const;
export type StatementFormat = (typeof STATEMENT_FORMATS)[number];

/** How an account's statements are written when the account does not say otherwise. */
export interface StatementDefaults {
  format: StatementFormat;
  /** camt053: the payments of one bank batch posted together as one entry. */
  batchBooking: boolean;
}

export type StatementUploader = (
  text: string,
  fileName: string,
  /** Default mt940. */
  format?: StatementFormat,
) => Promise<void>;

export interface GeneratedStatement {
  statementId: number;
  accountNumber: string;
  statementNumber: number;
  entries: number;
  fileName: string;
  format: StatementFormat;
}

type EntryRow = LedgerRow;

const SIGNED = `CASE WHEN e.mark IN ('D', 'RC') THEN -e.amount ELSE e.amount END`;

/** The bank's own reference of an entry (:61: after //): unique, 16 characters. */
export const bankReferenceOf = (entryId: number) => `EB${String(entryId).padStart(14, '0')}`;
/** The reference of a camt batch entry, after its first ledger entry (never equal to an entry's). */
export const batchReferenceOf = (entryId: number) => `EBB${String(entryId).padStart(13, '0')}`;

/**
 * Writes statements of unreported entries: for one account (whatever its statement setting), or for every
 * account with statements enabled. At most `maxEntries` entries per statement; more make several. With
 * `fullOnly`, only statements of exactly `maxEntries` entries are written and the rest stays unreported for
 * a later call: what the bank writes while it is still posting. The statements come out the same as if all
 * were written at the end (entries are cut in entry order either way), only sooner.
 */
export async function generateStatements(
  db: Db,
  options: {
    accountNumber?: string;
    maxEntries: number;
    now: Date;
    defaults?: StatementDefaults;
    fullOnly?: boolean;
  },
): Promise<GeneratedStatement[]> {
  const defaults = options.defaults ?? { format: 'mt940', batchBooking: false };
  const accounts = options.accountNumber
    ? [options.accountNumber]
    : (
        await db.query<{ account_number: string }>(
          `SELECT a.account_number FROM example_bank.account a
           WHERE a.statements_enabled AND EXISTS (SELECT 1 FROM example_bank.ledger_entry e
             WHERE e.account_number = a.account_number AND e.statement_id IS NULL)
           ORDER BY a.account_number`,
        )
      ).rows.map((r) => r.account_number);
  const out: GeneratedStatement[] = [];
  for (const account of accounts) {
    for (;;) {
      const statement = await generateOne(
        db,
        account,
        options.maxEntries,
        options.now,
        defaults,
        options.fullOnly ?? false,
      );
      if (!statement) break;
      out.push(statement);
    }
  }
  return out;
}

async function generateOne(
  db: Db,
  accountNumber: string,
  maxEntries: number,
  now: Date,
  defaults: StatementDefaults,
  fullOnly: boolean,
): Promise<GeneratedStatement | null> {
  return db.transaction(async (tx) => {
    // The account row lock orders this against postings: every entry posted updates the account row in
    // the same transaction, so the book balance read here matches exactly the entries visible here.
    const { rows: accounts } = await tx.query<{
      currency: string;
      book_balance: string;
      blocked_amount: string;
      last_statement_number: number;
      holder_name: string;
      statement_format: StatementFormat | null;
      batch_booking: boolean | null;
    }>(
      `SELECT currency, book_balance::text, blocked_amount::text, last_statement_number, holder_name,
         statement_format, batch_booking
       FROM example_bank.account WHERE account_number = $1 FOR UPDATE`,
      [accountNumber],
    );
    const account = accounts[0];
    if (!account) return null;
    if (fullOnly) {
      // Counted through the partial index of unreported entries, reading at most `maxEntries` of them.
      const { rows: enough } = await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (SELECT 1 FROM example_bank.ledger_entry e
           WHERE e.account_number = $1 AND e.statement_id IS NULL LIMIT $2) u`,
        [accountNumber, maxEntries],
      );
      if (enough[0]!.n < maxEntries) return null;
    }
    const { rows: unreported } = await tx.query<{ total: string }>(
      `SELECT coalesce(sum(${SIGNED}), 0)::text AS total FROM example_bank.ledger_entry e
       WHERE e.account_number = $1 AND e.statement_id IS NULL`,
      [accountNumber],
    );
    const { rows: entries } = await tx.query<EntryRow>(
      `SELECT e.entry_id, e.mark, e.amount::text, e.value_date,
         e.transaction_type, e.description, p.payment_reference, p.narrative, p.program_mnemonic, p.cycle_code,
         p.beneficiary_id, p.beneficiary_name, p.reversal_reason, p.account_number AS payer_account, p.batch_id,
         p.beneficiary_account
       FROM example_bank.ledger_entry e LEFT JOIN example_bank.payment p ON p.payment_id = e.payment_id
       WHERE e.account_number = $1 AND e.statement_id IS NULL
       ORDER BY e.entry_id LIMIT $2`,
      [accountNumber, maxEntries],
    );
    if (entries.length === 0) return null;
    const currency = account.currency;
    const openingMinor = minor(account.book_balance, currency) - minor(unreported[0]!.total, currency);
    let closingMinor = openingMinor;
    for (const e of entries) {
      const amount = minor(e.amount, currency);
      closingMinor += e.mark === 'D' || e.mark === 'RC' ? -amount : amount;
    }
    const availableMinor = closingMinor - minor(account.blocked_amount, currency);
    const number = account.last_statement_number + 1;
    const { rows: ids } = await tx.query<{ id: number }>(
      `SELECT nextval(pg_get_serial_sequence('example_bank.statement', 'statement_id')) AS id`,
    );
    const statementId = ids[0]!.id;
    const reference = `EXB${String(statementId).padStart(10, '0')}`;
    const today = businessDay(now);
    const firstDate = [today, ...entries.map((e) => e.value_date)].sort()[0]!;
    const balance = (value: bigint, date: string) => ({
      mark: value < 0n ? ('D' as const) : ('C' as const),
      date,
      currency,
      amount: fromMinor(value < 0n ? -value : value, currency),
    });
    const format = account.statement_format ?? defaults.format;
    const fileName = `${accountNumber}-${String(number).padStart(5, '0')}.${format === 'camt053' ? 'camt053.xml' : 'mt940'}`;
    const text =
      format === 'camt053'
        ? writeCamt053({
            header: { messageId: `${reference}M`, createdAt: now.toISOString() },
            statements: [
              {
                id: reference,
                electronicSequenceNumber: number,
                createdAt: now.toISOString(),
                from: `${firstDate}T00:00:00Z`,
                to: now.toISOString(),
                account: { id: accountNumber, currency, ownerName: account.holder_name },
                balances: [
                  camtBalance('OPBD', openingMinor, firstDate, currency),
                  camtBalance('CLBD', closingMinor, today, currency),
                  camtBalance('CLAV', availableMinor, today, currency),
                ],
                entries: camtEntries(
                  entries.map((e) => ({ ...e, amount: money(e.amount, currency) })),
                  {
                    batchBooking: account.batch_booking ?? defaults.batchBooking,
                    bankReference: bankReferenceOf,
                    batchReference: batchReferenceOf,
                    add: (a, b) => fromMinor(minor(a, currency) + minor(b, currency), currency),
                  },
                ),
              },
            ],
          })
        : writeMt940(
            {
              transactionReference: reference,
              accountIdentification: accountNumber,
              statementNumber: String(number % 100000),
              sequenceNumber: '1',
              currency,
              openingBalance: balance(openingMinor, firstDate),
              closingBalance: balance(closingMinor, today),
              closingAvailableBalance: balance(availableMinor, today),
              entries: entries.map((e) => toEntry(e, currency)),
            },
            { lineEnding: '\r\n' },
          );
    await tx.query(
      `INSERT INTO example_bank.statement (statement_id, account_number, statement_number, reference, statement_date,
         currency, opening_balance, closing_balance, entry_count, file_name, mt940, format)
       VALUES ($1, $2, $3, $4, $5::date, $6, $7::numeric, $8::numeric, $9, $10, $11, $12)`,
      [
        statementId,
        accountNumber,
        number,
        reference,
        today,
        currency,
        fromMinor(openingMinor, currency),
        fromMinor(closingMinor, currency),
        entries.length,
        fileName,
        text,
        format,
      ],
    );
    await tx.query(
      `UPDATE example_bank.ledger_entry SET statement_id = $1 WHERE entry_id = ANY($2::bigint[])`,
      [statementId, entries.map((e) => e.entry_id)],
    );
    await tx.query(`UPDATE example_bank.account SET last_statement_number = $2 WHERE account_number = $1`, [
      accountNumber,
      number,
    ]);
    return { statementId, accountNumber, statementNumber: number, entries: entries.length, fileName, format };
  });
}

function camtBalance(type: string, value: bigint, date: string, currency: string): Camt053Balance {
  return { type, amount: fromMinor(value, currency), date };
}

function toEntry(e: EntryRow, currency: string): Mt940EntryInput {
  const base = {
    valueDate: e.value_date,
    entryDate: e.value_date,
    mark: e.mark,
    amount: money(e.amount, currency),
    transactionType: e.transaction_type,
    bankReference: bankReferenceOf(e.entry_id),
  };
  if (e.payment_reference === null)
    return { ...base, customerReference: NO_REFERENCE, narratives: [narrativeText(e.description)] };
  return {
    ...base,
    customerReference: customerReferenceFor(e.payment_reference),
    narratives: paymentNarratives({
      reference: e.payment_reference,
      narrative: e.narrative ?? '',
      program: e.program_mnemonic ?? '',
      cycle: e.cycle_code ?? '',
      beneficiaryId: e.beneficiary_id ?? '',
      beneficiaryName: e.beneficiary_name ?? '',
      reversalReason: e.mark === 'RD' ? e.reversal_reason : null,
    }),
  };
}

export interface DeliveryResult {
  delivered: number;
  failed: number;
  /** Statements still waiting for delivery after this attempt. */
  pending: number;
}

/**
 * Delivers undelivered statements, oldest first. After a failure for an account its later statements wait,
 * so the bridge always receives an account's statements in order.
 */
export async function deliverStatements(
  db: Db,
  upload: StatementUploader,
  faults: Faults,
  log: Logger,
  accountNumber?: string,
): Promise<DeliveryResult> {
  const { rows } = await db.query<{
    statement_id: number;
    account_number: string;
    file_name: string;
    format: StatementFormat;
  }>(
    `SELECT statement_id, account_number, file_name, format FROM example_bank.statement
     WHERE delivered_at IS NULL AND ($1::text IS NULL OR account_number = $1) ORDER BY statement_id`,
    [accountNumber ?? null],
  );
  const blocked = new Set<string>();
  let delivered = 0;
  let failed = 0;
  for (const s of rows) {
    if (blocked.has(s.account_number)) continue;
    try {
      const fault = faults.take('deliver_statement');
      if (fault?.mode === 'delay') await faults.sleep(fault.delayMs);
      else if (fault) throw new Error(`simulated delivery failure (${fault.mode})`);
      const { rows: text } = await db.query<{ mt940: string }>(
        'SELECT mt940 FROM example_bank.statement WHERE statement_id = $1',
        [s.statement_id],
      );
      await upload(text[0]!.mt940, s.file_name, s.format);
      await db.query(
        `UPDATE example_bank.statement SET delivered_at = now(), delivery_attempts = delivery_attempts + 1,
           delivery_error = NULL WHERE statement_id = $1`,
        [s.statement_id],
      );
      delivered++;
    } catch (error) {
      const message = (error as Error).message.slice(0, 500);
      await db.query(
        `UPDATE example_bank.statement SET delivery_attempts = delivery_attempts + 1, delivery_error = $2
         WHERE statement_id = $1`,
        [s.statement_id, message],
      );
      log.warn({ statementId: s.statement_id, error: message }, 'example bank: statement delivery failed');
      blocked.add(s.account_number);
      failed++;
    }
  }
  return { delivered, failed, pending: rows.length - delivered };
}

/** The bridge's route for a statement of `format`: MT940 keeps its own; camt goes to the format-neutral one. */
export const uploadRouteOf = (format: StatementFormat = 'mt940') =>
  format === 'camt053' ? '/upload_statement' : '/upload_mt940';

export const contentTypeOf = (format: StatementFormat = 'mt940') =>
  format === 'camt053' ? 'application/xml' : 'text/plain';

/** Uploads to the bridge over HTTP: multipart field statement_file, bearer token when configured. */
export function httpUploader(
  bridgeUrl: string,
  token: string | undefined,
  timeoutMs = 60_000,
): StatementUploader {
  return async (text, fileName, format = 'mt940') => {
    const form = new FormData();
    form.append('statement_file', new Blob([text], { type: contentTypeOf(format) }), fileName);
    const route = uploadRouteOf(format);
    const response = await fetch(`${bridgeUrl}${route}`, {
      method: 'POST',
      body: form,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = await response.text();
    if (!response.ok)
      throw new Error(`${route.slice(1)} answered HTTP ${response.status}: ${body.slice(0, 200)}`);
  };
}

export interface StatementSummary {
  statement_id: number;
  account_number: string;
  statement_number: number;
  reference: string;
  statement_date: string;
  currency: string;
  opening_balance: string;
  closing_balance: string;
  entry_count: number;
  file_name: string;
  format: StatementFormat;
  created_at: Date;
  delivered_at: Date | null;
  delivery_attempts: number;
  delivery_error: string | null;
}

export async function listStatements(
  db: Db,
  accountNumber?: string,
  limit = 100,
): Promise<StatementSummary[]> {
  const { rows } = await db.query<StatementSummary>(
    `SELECT statement_id, account_number, statement_number, reference, statement_date, currency,
       opening_balance::text, closing_balance::text, entry_count, file_name, format, created_at, delivered_at,
       delivery_attempts, delivery_error
     FROM example_bank.statement WHERE ($1::text IS NULL OR account_number = $1)
     ORDER BY statement_id DESC LIMIT $2`,
    [accountNumber ?? null, limit],
  );
  return rows.map((r) => ({
    ...r,
    opening_balance: money(r.opening_balance, r.currency),
    closing_balance: money(r.closing_balance, r.currency),
  }));
}

export async function readStatement(
  db: Db,
  statementId: number,
): Promise<{ fileName: string; text: string; format: StatementFormat } | null> {
  const { rows } = await db.query<{ file_name: string; mt940: string; format: StatementFormat }>(
    'SELECT file_name, mt940, format FROM example_bank.statement WHERE statement_id = $1',
    [statementId],
  );
  return rows[0] ? { fileName: rows[0].file_name, text: rows[0].mt940, format: rows[0].format } : null;
}
