// Helpers for the conformance suite: find the corpus, read statements, compare with the peer's expected JSON.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { compareDecimals } from '../../src/money/index.js';
import type { Mt940Balance, Mt940ParseResult, Mt940Statement } from '../../src/mt940/index.js';

/** MT940_CORPUS_DIR, else ../shared/corpus/mt940 beside the checkout when it exists. */
export function corpusDir(): string | undefined {
  const fromEnv = process.env.MT940_CORPUS_DIR;
  if (fromEnv) return existsSync(fromEnv) ? resolve(fromEnv) : undefined;
  const local = resolve(import.meta.dirname, '../../../shared/corpus/mt940');
  return existsSync(local) ? local : undefined;
}

export function corpusFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.expected.json')) out.push(p.slice(0, -'.expected.json'.length));
    }
  };
  walk(dir);
  return out;
}

/** Bytes to text: UTF-8 when valid, else Latin-1 (what older bank files are). */
export function decode(buf: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    return buf.toString('latin1');
  }
}

export function readStatementFile(path: string): string {
  return decode(readFileSync(path));
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface ExpectedBalance {
  amount: { amount: string; currency: string };
  date: string;
  status: string;
}

function sameBalance(e: ExpectedBalance, b: Mt940Balance | undefined): string | undefined {
  if (!b) return 'missing';
  if (e.status !== b.mark) return `mark ${b.mark} != ${e.status}`;
  if (e.date !== b.date) return `date ${b.date} != ${e.date}`;
  if (e.amount.currency !== b.currency) return `currency ${b.currency} != ${e.amount.currency}`;
  const want = e.amount.amount.replace(/^-/, ''); // the peer signs debit balances; ours carry the mark
  if (compareDecimals(want, b.amount) !== 0) return `amount ${b.amount} != ${e.amount.amount}`;
  return undefined;
}

/** The peer trims each :86: line and drops blank lines; we keep the lines as given. Compare like the peer. */
const rtrimLines = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('\n');

/**
 * Compares our result with the peer's, field by field. The peer keeps one set of statement fields per file
 * (the last value seen wins) and a flat list of transactions; we compare the same way.
 * Returns mismatches as "field: detail" strings.
 */
export function compareWithExpected(result: Mt940ParseResult, expected: Record<string, Json>): string[] {
  const out: string[] = [];
  const statements = result.statements;
  const st = (expected.statement ?? {}) as Record<string, Json>;
  const last = <T>(pick: (s: Mt940Statement) => T | undefined): T | undefined => {
    let v: T | undefined;
    for (const s of statements) {
      const x = pick(s);
      if (x !== undefined && x !== '') v = x;
    }
    return v;
  };
  const scalar = (key: string, pick: (s: Mt940Statement) => string | undefined) => {
    if (!(key in st) || st[key] === null) return;
    const got = last(pick);
    if (got !== st[key])
      out.push(`statement.${key}: got ${JSON.stringify(got)}, expected ${JSON.stringify(st[key])}`);
  };
  scalar('transaction_reference', (s) => s.transactionReference);
  scalar('related_reference', (s) => s.relatedReference);
  scalar('account_identification', (s) => s.accountIdentification);
  scalar('statement_number', (s) => s.statementNumber);
  scalar('sequence_number', (s) => s.sequenceNumber);
  const balance = (key: string, pick: (s: Mt940Statement) => Mt940Balance | undefined) => {
    if (!(key in st) || st[key] === null) return;
    const diff = sameBalance(st[key] as unknown as ExpectedBalance, last(pick));
    if (diff) out.push(`statement.${key}: ${diff}`);
  };
  balance('final_opening_balance', (s) => (s.openingBalance?.intermediate ? undefined : s.openingBalance));
  balance('intermediate_opening_balance', (s) =>
    s.openingBalance?.intermediate ? s.openingBalance : undefined,
  );
  balance('final_closing_balance', (s) => (s.closingBalance?.intermediate ? undefined : s.closingBalance));
  balance('intermediate_closing_balance', (s) =>
    s.closingBalance?.intermediate ? s.closingBalance : undefined,
  );
  balance('available_balance', (s) => s.closingAvailableBalance);
  balance('forward_available_balance', (s) => s.forwardAvailableBalances.at(-1));

  const entries = statements.flatMap((s) => s.entries.map((e) => ({ e, s })));
  const txs = (expected.transactions ?? []) as Array<Record<string, Json>>;
  if (txs.length !== entries.length) out.push(`transactions: got ${entries.length}, expected ${txs.length}`);
  txs.forEach((t, i) => {
    const pair = entries[i];
    if (!pair) return;
    const { e, s } = pair;
    const p = `transactions[${i}]`;
    const eq = (field: string, got: unknown, want: unknown) => {
      if (got !== want)
        out.push(`${p}.${field}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    };
    eq('status', e.mark, t.status);
    const amount = t.amount as { amount: string; currency: string | null };
    if (compareDecimals(amount.amount, e.signedAmount) !== 0) eq('amount', e.signedAmount, amount.amount);
    eq('currency', s.currency ?? null, amount.currency);
    eq('date', e.valueDate, t.date);
    eq('entry_date', e.entryDate, t.entry_date);
    eq('funds_code', e.fundsCode ?? null, t.funds_code);
    eq('id', e.transactionType, t.id);
    const ref = t.customer_reference;
    if (typeof ref === 'string' && !ref.includes('\n'))
      eq('customer_reference', e.customerReference, ref.trimEnd());
    eq('bank_reference', e.bankReference ?? null, t.bank_reference);
    eq('extra_details', e.supplementaryDetails ?? '', t.extra_details);
    if (typeof t.transaction_details === 'string') {
      eq('transaction_details', rtrimLines(e.narratives.join('\n')), rtrimLines(t.transaction_details));
    }
    const d = e.details ?? {};
    const detail = (key: string, ours: string) => {
      const want = t[key];
      if (typeof want !== 'string' || want.trim() === '') return;
      eq(`${key}`, d[ours]?.trim(), want.trim());
    };
    detail('transaction_code', 'code');
    detail('posting_text', 'postingText');
    detail('prima_nota', 'primaNota');
    detail('purpose', 'purpose');
    detail('applicant_bin', 'counterpartyBic');
    detail('applicant_iban', 'counterpartyAccount');
    detail('applicant_name', 'counterpartyName');
    detail('return_debit_notes', 'textKeyExtension');
    // the peer trims each ?6x subfield before joining them; compare without blanks
    const extra = t.additional_purpose;
    if (
      typeof extra === 'string' &&
      extra.replace(/\s/g, '') !== (d.additionalPurpose ?? '').replace(/\s/g, '')
    ) {
      eq('additional_purpose', d.additionalPurpose, extra);
    }
    detail('end_to_end_reference', 'EREF');
    detail('additional_position_reference', 'MREF');
    detail('applicant_creditor_id', 'CRED');
  });
  return out;
}
