// The G2P Connect disburse transaction mapped onto the bridge's model (decision in docs/decisions.md): one
// disburse request becomes one envelope (frequency OnDemand, cycle = transaction_id) and one batch of
// disbursements, created through the same service functions as the 1.0.2 API (checks, scopes, audit). The
// program is the one whose funding account `payer_fa` names; the payee's financial address is stored as its
// resolution, so no mapper call is made for it. Status and search answer from g2p_connect_item joined to the
// disbursement_lifecycle view, in a fixed number of statements whatever the number of items.
import { recordAudit } from '../audit/index.js';
import type { Queryable } from '../db/index.js';
import { createDisbursements } from '../disbursements/service.js';
import { createEnvelope, today } from '../envelopes/service.js';
import { type AppContext, type Caller, requirePrograms } from '../feature/context.js';
import { positiveMinor } from '../g2p/amounts.js';
import { addDays, localDate } from '../g2p/dates.js';
import { isDateTime, Rejection } from '../g2p/message.js';
import { parseFinancialAddress } from '../mapper/fa.js';
import type { FinancialAddress } from '../mapper/types.js';
import { formatMinorUnits, minorUnitsOf } from '../money/index.js';
import { DisburseReason, HeaderReason } from './schemas.js';

export interface DisburseItem {
  reference_id: string;
  payer_fa: string;
  payee_fa: string;
  amount: string;
  scheduled_timestamp?: string;
  payer_name?: string;
  payee_name?: string;
  note?: string;
  purpose?: string;
  currency_code?: string;
}

export interface DisburseRequest {
  transaction_id: string;
  disbursements: DisburseItem[];
}

/** One item of the spec's DisburseResponse.disbursements_status. */
export interface DisburseStatus {
  reference_id: string;
  timestamp: string;
  status: 'rcvd' | 'pdng' | 'succ' | 'rjct';
  status_reason_code?: string;
  status_reason_message?: string;
  amount?: string;
  payer_fa?: string;
  payee_fa?: string;
  currency_code?: string;
}

type Ctx = Pick<AppContext, 'config' | 'now' | 'bankLimits'>;

/** The spec's request status for a bridge lifecycle state. */
export function statusOfLifecycle(state: string | null): DisburseStatus['status'] {
  switch (state) {
    case 'received':
      return 'rcvd';
    case 'shipped':
      return 'pdng';
    case 'reconciled':
      return 'succ';
    default:
      return 'rjct';
  }
}

/** `[type:]id[@provider]` (G2P Connect's cdpi_FinancialAddress). */
function splitFa(fa: string): { type: string | null; id: string; provider: string | null } {
  const at = fa.lastIndexOf('@');
  const left = at >= 0 ? fa.slice(0, at) : fa;
  const provider = at >= 0 ? fa.slice(at + 1) : null;
  const colon = left.indexOf(':');
  return colon >= 0
    ? { type: left.slice(0, colon).toLowerCase(), id: left.slice(colon + 1), provider }
    : { type: null, id: left, provider };
}

/**
 * The payee's financial address in parts: the configured MAPPER_FA_PATTERNS first (SPAR's form), then G2P
 * Connect's `account:<no>@<bank code>` / `mobile:<no>@<wallet provider>` / `<no>@<bank code>`.
 */
export function payeeAddress(fa: string, ctx: Pick<AppContext, 'config'>): FinancialAddress | null {
  const configured = parseFinancialAddress(fa, ctx.config.MAPPER_FA_PATTERNS);
  if (configured) return configured;
  const { type, id, provider } = splitFa(fa.trim());
  if (!id || !provider || /\s/.test(id)) return null;
  if (type === 'mobile') return { faType: 'MOBILE_WALLET', mobileNumber: id, walletProvider: provider };
  if (type === null || type === 'account' || type === 'acc')
    return { faType: 'BANK_ACCOUNT', accountNumber: id, bankCode: provider };
  return null;
}

interface ProgramRow {
  mnemonic: string;
  account: string;
  bank: string;
  currency: string;
}

/** Programs whose funding account (and, when the FA names one, sponsor bank) the payer FAs name. */
async function programsByPayer(tx: Queryable, payers: string[]): Promise<Map<string, ProgramRow>> {
  const accounts = [...new Set(payers.map((p) => splitFa(p).id))];
  const { rows } = await tx.query<ProgramRow>(
    `SELECT benefit_program_mnemonic AS mnemonic, sponsor_bank_account_number AS account,
            sponsor_bank_code AS bank, trim(sponsor_bank_account_currency) AS currency
       FROM benefit_program WHERE sponsor_bank_account_number = ANY($1::text[])`,
    [accounts],
  );
  const out = new Map<string, ProgramRow>();
  for (const payer of new Set(payers)) {
    const { id, provider } = splitFa(payer);
    const program = rows.find(
      (r) => r.account === id && (provider === null || provider.toLowerCase() === r.bank.toLowerCase()),
    );
    if (program) out.set(payer, program);
  }
  return out;
}

function rejectedItems(
  items: DisburseItem[],
  codes: string[][],
  at: string,
): { code: string; message: DisburseStatus[] } {
  const message = items.map((item, i) => {
    const own = codes[i] ?? [];
    return {
      reference_id: item.reference_id,
      timestamp: at,
      status: 'rjct' as const,
      ...(own.length > 0
        ? { status_reason_code: own[0], status_reason_message: own.join(', ') }
        : { status_reason_message: 'not applied: other items of the request have errors' }),
    };
  });
  const first = codes.find((c) => c.length > 0)?.[0] ?? HeaderReason.ERRORS_TOO_MANY;
  return { code: first, message };
}

/**
 * Creates the envelope and disbursements of one disburse request, all-or-nothing, in the caller's
 * transaction. A Rejection carries the DisburseResponse with every item's reason code.
 */
export async function disburse(
  tx: Queryable,
  ctx: Ctx,
  request: DisburseRequest,
  caller: Caller,
): Promise<{ transaction_id: string; disbursements_status: DisburseStatus[]; envelopeId: string }> {
  const sender = caller.senderId ?? '';
  const items = request.disbursements;
  const at = ctx.now().toISOString();
  const txn = request.transaction_id;
  if (items.length > ctx.config.MAX_DISBURSEMENTS_PER_REQUEST)
    throw new Rejection(
      HeaderReason.TOTAL_COUNT_LIMIT_EXCEEDED,
      `${items.length} disbursements is above the limit of ${ctx.config.MAX_DISBURSEMENTS_PER_REQUEST} per request`,
    );

  const programs = await programsByPayer(
    tx,
    items.map((i) => i.payer_fa),
  );
  const { rows: stored } = await tx.query<{ reference_id: string }>(
    `SELECT reference_id FROM g2p_connect_item
      WHERE sender_id = $1 AND transaction_id = $2 AND reference_id = ANY($3::text[])`,
    [sender, txn, items.map((i) => i.reference_id)],
  );
  const taken = new Set(stored.map((r) => r.reference_id));
  const seen = new Set<string>();
  const program = programs.get(items[0]!.payer_fa) ?? null;
  const earliest = addDays(today(ctx), ctx.config.DISBURSEMENT_SLA_DAYS);
  let scheduleDate = earliest;
  const addresses: (FinancialAddress | null)[] = [];
  const codes: string[][] = items.map((item) => {
    const own: string[] = [];
    if (taken.has(item.reference_id) || seen.has(item.reference_id))
      own.push(DisburseReason.REFERENCE_ID_DUPLICATE);
    seen.add(item.reference_id);
    const mine = programs.get(item.payer_fa);
    // One request is one envelope: every item must be paid from the same program's account.
    if (!mine || mine.mnemonic !== program?.mnemonic) own.push(DisburseReason.PAYER_FA_INVALID);
    const address = payeeAddress(item.payee_fa, ctx);
    addresses.push(address);
    if (!address) own.push(DisburseReason.PAYEE_FA_INVALID);
    const currency = item.currency_code ?? program?.currency;
    if (program && currency !== program.currency) own.push(DisburseReason.CURRENCY_CODE_INVALID);
    else if (program && positiveMinor(item.amount, program.currency) === null)
      own.push(DisburseReason.AMOUNT_INVALID);
    if (item.scheduled_timestamp !== undefined) {
      if (!isDateTime(item.scheduled_timestamp)) own.push(DisburseReason.SCHEDULE_TS_INVALID);
      else {
        const date = localDate(new Date(item.scheduled_timestamp), ctx.config.TIME_ZONE);
        if (date < earliest) own.push(DisburseReason.SCHEDULE_TS_INVALID);
        else if (date > scheduleDate) scheduleDate = date;
      }
    }
    return own;
  });
  if (codes.some((c) => c.length > 0)) {
    const rejected = rejectedItems(items, codes, at);
    throw new Rejection(
      rejected.code,
      `${codes.filter((c) => c.length > 0).length} of ${items.length} disbursements have errors; nothing was applied`,
      { transaction_id: txn, disbursements_status: rejected.message },
    );
  }

  const p = program!;
  const exponent = minorUnitsOf(p.currency);
  let total = 0n;
  for (const item of items) total += positiveMinor(item.amount, p.currency)!;
  const envelope = await createEnvelope(
    tx,
    ctx,
    {
      benefit_program_mnemonic: p.mnemonic,
      disbursement_frequency: 'OnDemand',
      cycle_code_mnemonic: txn.slice(0, 64),
      number_of_beneficiaries: items.length,
      number_of_disbursements: items.length,
      total_disbursement_amount: formatMinorUnits(total, exponent),
      disbursement_currency_code: p.currency,
      disbursement_schedule_date: scheduleDate,
    },
    caller,
  );
  const envelopeId = envelope.disbursement_envelope_id!;
  const created = await createDisbursements(
    tx,
    ctx,
    items.map((item) => ({
      disbursement_envelope_id: envelopeId,
      mis_reference_number: item.reference_id,
      beneficiary_id: item.payee_fa,
      beneficiary_name: item.payee_name?.trim() || splitFa(item.payee_fa).id,
      disbursement_amount: item.amount,
      narrative: (item.note?.trim() || item.purpose?.trim() || txn).slice(0, 99),
    })),
  );
  await recordAudit(tx, caller, {
    action: 'create_disbursements',
    program: created.program,
    envelopeId,
    targetIds: [created.batchId],
    summary: { count: created.ids.length, amount: created.amount, currency: created.currency },
  });
  // The payee FAs are their own resolution: stored as the mapper would have, the batch marked resolved.
  const col = <K extends keyof FinancialAddress>(k: K) => addresses.map((a) => (a?.[k] as string) ?? null);
  await tx.query(
    `WITH items AS (
       INSERT INTO g2p_connect_item (sender_id, transaction_id, reference_id, disbursement_id,
         disbursement_envelope_id, payer_fa, payee_fa)
       SELECT $1, $2, u.ref, u.id, $3, u.payer, u.payee
         FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) AS u(ref, id, payer, payee)),
     details AS (
       INSERT INTO mapper_resolution_details
         (disbursement_id, mapper_resolution_batch_id, beneficiary_id, resolved, mapper_resolved_fa,
          mapper_resolved_name, mapper_resolved_fa_type, bank_account_number, bank_code, branch_code,
          mobile_number, mobile_wallet_provider, email_address, email_wallet_provider)
       SELECT u.id, $8, u.payee, true, u.payee, u.name, u.fa_type, u.account, u.bank, u.branch, u.mobile,
              u.wallet, u.email, u.email_wallet
         FROM unnest($5::text[], $7::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                     $14::text[], $15::text[], $16::text[], $17::text[])
              AS u(id, payee, name, fa_type, account, bank, branch, mobile, wallet, email, email_wallet))
     UPDATE mapper_resolution_batch_status
        SET resolution_status = 'PROCESSED', resolution_time_stamp = now()
      WHERE mapper_resolution_batch_id = $8`,
    [
      sender,
      txn,
      envelopeId,
      items.map((i) => i.reference_id),
      created.ids,
      items.map((i) => i.payer_fa),
      items.map((i) => i.payee_fa),
      created.batchId,
      items.map((i) => i.payee_name ?? null),
      col('faType'),
      col('accountNumber'),
      col('bankCode'),
      col('branchCode'),
      col('mobileNumber'),
      col('walletProvider'),
      col('emailAddress'),
      col('emailWalletProvider'),
    ],
  );
  return {
    transaction_id: txn,
    envelopeId,
    disbursements_status: items.map((item) => ({
      reference_id: item.reference_id,
      timestamp: at,
      status: 'rcvd',
      amount: item.amount,
      payer_fa: item.payer_fa,
      payee_fa: item.payee_fa,
      currency_code: p.currency,
    })),
  };
}

/** A G2P Connect item with its disbursement's lifecycle, as ITEM_SELECT reads it. */
export interface ItemRow {
  program?: string;
  transaction_id: string;
  reference_id: string;
  payer_fa: string;
  payee_fa: string;
  amount: string;
  currency: string;
  lifecycle_status: string;
  lifecycle_reason: string | null;
}

const ITEM_SELECT = `
  SELECT e.benefit_program_mnemonic AS program, i.transaction_id, i.reference_id, i.payer_fa, i.payee_fa, d.disbursement_amount::text AS amount,
         trim(e.disbursement_currency_code) AS currency, l.lifecycle_status, l.lifecycle_reason
    FROM g2p_connect_item i
    JOIN disbursement d ON d.disbursement_id = i.disbursement_id
    JOIN disbursement_envelope e ON e.disbursement_envelope_id = i.disbursement_envelope_id
    JOIN disbursement_lifecycle l ON l.disbursement_id = i.disbursement_id`;

export function itemStatus(r: ItemRow, at: string): DisburseStatus {
  const exponent = minorUnitsOf(r.currency);
  const reason = r.lifecycle_reason ? ` (${r.lifecycle_reason})` : '';
  return {
    reference_id: r.reference_id,
    timestamp: at,
    status: statusOfLifecycle(r.lifecycle_status),
    status_reason_message: `${r.lifecycle_status}${reason}`.slice(0, 999),
    amount: formatMinorUnits(positiveMinor(r.amount, r.currency) ?? 0n, Math.max(exponent, 1)),
    payer_fa: r.payer_fa,
    payee_fa: r.payee_fa,
    currency_code: r.currency,
  };
}

/**
 * The current status of a sender's transaction (all of it, or the listed reference ids). A caller scoped to
 * programs is refused (forbidden.program) when any item found belongs to another program, as get_*_status are.
 */
export async function transactionStatus(
  db: Queryable,
  ctx: Pick<AppContext, 'now'>,
  caller: Caller,
  transactionId: string,
  referenceIds: string[] | null,
): Promise<{ transaction_id: string; disbursements_status: DisburseStatus[] } | null> {
  const sender = caller.senderId ?? '';
  const { rows } = await db.query<ItemRow>(
    `${ITEM_SELECT}
     WHERE i.sender_id = $1 AND i.transaction_id = $2 AND ($3::text[] IS NULL OR i.reference_id = ANY($3::text[]))
     ORDER BY i.created_at, i.reference_id`,
    [sender, transactionId, referenceIds],
  );
  if (rows.length === 0) return null;
  requirePrograms(
    caller,
    rows.map((r) => r.program ?? ''),
  );
  const at = ctx.now().toISOString();
  return { transaction_id: transactionId, disbursements_status: rows.map((r) => itemStatus(r, at)) };
}

/**
 * A sender's disbursements by payer or payee FA (at most `limit` per criterion). A caller scoped to programs
 * finds only its programs' items: the others are not found (no payee address or status of them leaks).
 */
export async function searchByFa(
  db: Queryable,
  ctx: Pick<AppContext, 'now'>,
  caller: Caller,
  criteria: { reference_id: string; attribute_type: 'payer_fa' | 'payee_fa'; attribute_value: string }[],
  limit = 1000,
) {
  const at = ctx.now().toISOString();
  const { rows } = await db.query<ItemRow & { criterion: number }>(
    `SELECT c.n AS criterion, x.* FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS c(kind, value, n)
       CROSS JOIN LATERAL (${ITEM_SELECT}
         WHERE i.sender_id = $1 AND ($5::text[] IS NULL OR e.benefit_program_mnemonic = ANY($5::text[]))
           AND ((c.kind = 'payee_fa' AND i.payee_fa = c.value) OR (c.kind = 'payer_fa' AND i.payer_fa = c.value))
         ORDER BY i.created_at, i.reference_id LIMIT $4) x
     ORDER BY c.n`,
    [
      caller.senderId ?? '',
      criteria.map((c) => c.attribute_type),
      criteria.map((c) => c.attribute_value),
      limit,
      caller.programs ? [...caller.programs] : null,
    ],
  );
  return criteria.map((c, i) => ({
    criterion: c,
    found: rows
      .filter((r) => Number(r.criterion) === i + 1)
      .map((r) => ({ row: r, status: itemStatus(r, at) })),
  }));
}
