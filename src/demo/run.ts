// One full disbursement cycle against a running all-in-one bridge: set up a program, a funded account at
// the example bank and beneficiaries in the example mapper; create an envelope; send the disbursements in
// batches; cancel a few and pull the schedule date to today; then follow every stage to the end and print
// the reconciliation summary.
import { randomBytes } from 'node:crypto';
import type { BatchProgress, EnvelopeRow } from '../dashboard/queries.js';
import { LIFECYCLE_STATES } from '../envelopes/lifecycle.js';
import { decimalToMinor, formatMinorUnits } from '../money/index.js';
import { BridgeClient, DemoError } from './client.js';
import {
  type DemoPlan,
  expectedTotals,
  MAX_BATCH,
  makePlan,
  type PlannedItem,
  plannedItems,
} from './plan.js';
import { type Bar, type Output, progressView, StageClock, type StageTiming } from './progress.js';
import {
  type ChannelTotals,
  type Check,
  groupAmount,
  type ReasonRow,
  renderSummary,
  type StateTotals,
} from './summary.js';

export interface DemoOptions {
  /** The bridge, e.g. http://127.0.0.1:8000 (with the example bank at /example-bank, the mapper at /mapper). */
  url: string;
  /** A token with the roles admin and pbms ('' when the bridge runs with AUTH_MODE=none). */
  token: string;
  size: number;
  batchSize?: number;
  currency?: string;
  /** The example bank's bank code (EXAMPLE_BANK_CODE) and the program's sponsor bank code. */
  bankCode?: string;
  /** A short tag that keeps this run's program, accounts and ids apart from other runs'. */
  run?: string;
  pollMs?: number;
  timeoutMs?: number;
  out: Output;
  /** Print the envelope's dashboard address at the end (false when the bridge stops right after). */
  dashboardHint?: boolean;
  /**
   * The statement format the example bank writes for this run's funding account (the bank's own setting when
   * not given): mt940, or camt053, delivered to /upload_statement.
   */
  statementFormat?: DemoStatementFormat;
  /** camt053: the bank books each bank batch as one entry with a transaction per payment. */
  batchBooking?: boolean;
  /**
   * Payout channels bank and wallet: the mobile-wallet beneficiaries are paid through this provider code, the
   * bridge's wallet-provider simulator under /wallet-provider (`start` names it MOMO); unset: the bank only.
   */
  walletProvider?: string;
}

export const DEMO_STATEMENT_FORMATS = ['mt940', 'camt053'] as const;
export type DemoStatementFormat = (typeof DEMO_STATEMENT_FORMATS)[number];

export interface DemoResult {
  ok: boolean;
  plan: DemoPlan;
  checks: Check[];
  summary: string;
  /** Wall time per stage: ingest, resolution, funds, shipping, bank posting, statement writing, reconciliation. */
  stages: StageTiming[];
}

/** The stages in the order of the cycle (the keys of StageTiming). */
export const STAGE_ORDER = [
  'ingest',
  'resolution',
  'funds',
  'shipping',
  'bank',
  'statements',
  'reconciliation',
] as const;

/** What /dashboard/envelopes/:id/progress.json answers (the fields read here). */
interface Progress {
  envelope: Pick<
    EnvelopeRow,
    | 'funds_available_with_bank'
    | 'funds_available_latest_error_code'
    | 'funds_blocked_with_bank'
    | 'funds_blocked_latest_error_code'
    | 'funds_blocked_reference_number'
    | 'number_of_disbursements_shipped'
    | 'number_of_disbursements_reconciled'
    | 'number_of_disbursements_reversed'
    | 'disbursement_schedule_date'
  >;
  batches: BatchProgress;
  statements: { pending: number; error: number };
}

interface BankAccount {
  blocks?: Array<{
    block_reference: string;
    amount: string;
    amount_committed: string;
    amount_released: string;
    idempotency_key: string;
  }>;
}

const dateOffset = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
const count = (n: number) => n.toLocaleString('en-US');

export function validateSize(size: number): string | null {
  if (!Number.isInteger(size) || size < 100 || size > 1_000_000)
    return '--size must be a whole number from 100 to 1,000,000';
  return null;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const sizeProblem = validateSize(options.size);
  if (sizeProblem) throw new DemoError(sizeProblem);
  const batchSize = Math.min(options.batchSize ?? MAX_BATCH, MAX_BATCH);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new DemoError('--batch must be from 1 to 10,000');
  const started = Date.now();
  const out = options.out;
  const say = (text: string) => out.write(`${text}\n`);
  const client = new BridgeClient(options.url.replace(/\/+$/, ''), options.token);
  const plan = makePlan({
    run: options.run ?? randomBytes(3).toString('hex'),
    size: options.size,
    currency: options.currency ?? 'USD',
    bankCode: options.bankCode ?? 'EXAMPLE',
    walletProvider: options.walletProvider,
  });
  const expected = expectedTotals(plan);
  const money = (minor: bigint) => formatMinorUnits(minor, plan.exponent);

  say(`g2p-bridge demo: ${count(plan.size)} disbursements through ${client.baseUrl}  (run ${plan.run})`);

  // 1. Set-up: the program, its funded account at the example bank, own-bank customers, the mapper's entries.
  const funding = expected.totalMinor + expected.totalMinor / 20n; // the envelope total plus 5 %
  await client.call('POST', '/example-bank/admin/accounts', {
    account_number: plan.fundingAccount,
    currency: plan.currency,
    holder_name: `Demo program ${plan.run} funding`,
    opening_balance: money(funding),
    statements_enabled: true,
    ...(options.statementFormat ? { statement_format: options.statementFormat } : {}),
    ...(options.batchBooking !== undefined ? { batch_booking: options.batchBooking } : {}),
  });
  for (const own of expected.ownAccounts) {
    await client.call('POST', '/example-bank/admin/accounts', {
      account_number: own.number,
      currency: plan.currency,
      holder_name: 'Demo beneficiary',
      status: own.status,
    });
  }
  await client.call('POST', '/admin/programs', {
    benefit_program_mnemonic: plan.program,
    benefit_program_name: `Demo cash transfer ${plan.run}`,
    funding_org_code: 'DEMO-MIN',
    funding_org_name: 'Ministry of Demonstrations',
    sponsor_bank_code: plan.bankCode,
    sponsor_bank_branch_code: 'HQ',
    sponsor_bank_account_number: plan.fundingAccount,
    sponsor_bank_account_currency: plan.currency,
    id_mapper_resolution_required: true,
  });
  say(
    `  program ${plan.program}, funding account ${plan.fundingAccount} at the example bank with ${groupAmount(money(funding))} ${plan.currency}`,
  );
  if (plan.walletProvider) await setUpWallets(client, plan, say);
  if (options.statementFormat)
    say(
      `  statements: ${options.statementFormat === 'camt053' ? `camt.053.001.08${options.batchBooking ? ', each bank batch booked as one entry' : ''}` : 'MT940'}`,
    );
  let linked = 0;
  for (let from = 0; from < plan.size; from += 100_000) {
    const lines = ['id,fa,name'];
    for (const item of plannedItems(plan, from, Math.min(plan.size, from + 100_000))) {
      if (item.fa === null) continue;
      lines.push(`${item.beneficiaryId},${item.fa},${item.beneficiaryName}`);
      linked++;
    }
    await client.postText('/mapper/admin/entries/csv', `${lines.join('\n')}\n`, 'text/csv');
  }
  say(
    `  mapper: ${count(linked)} beneficiaries linked to financial addresses, ${count(plan.size - linked)} left unknown; ` +
      `${expected.ownAccounts.length} are customers of the example bank itself`,
  );

  // 2. The envelope, scheduled two days ahead so that the PBMS may still cancel.
  await client.g2pOk('create_disbursement_envelope', {
    disbursement_envelope_id: plan.envelopeId,
    benefit_program_mnemonic: plan.program,
    disbursement_frequency: 'Monthly',
    cycle_code_mnemonic: plan.cycle,
    number_of_beneficiaries: plan.size,
    number_of_disbursements: plan.size,
    total_disbursement_amount: expected.total,
    disbursement_currency_code: plan.currency,
    disbursement_schedule_date: dateOffset(2),
  });
  say(
    `  envelope ${plan.envelopeId}: ${count(plan.size)} disbursements, ${groupAmount(expected.total)} ${plan.currency}`,
  );

  // 3. The disbursements, in batches of up to 10,000 (one mapper batch and one bank batch each).
  const view = progressView(out);
  const cycleStart = Date.now();
  const clock = new StageClock(cycleStart);
  const toCancel: string[] = [];
  let sent = 0;
  let calls = 0;
  for (let from = 0; from < plan.size; from += batchSize) {
    const items: PlannedItem[] = [...plannedItems(plan, from, Math.min(plan.size, from + batchSize))];
    const answer = await client.g2pOk<
      Array<{ disbursement_id: string | null; beneficiary_id: string | null }>
    >(
      'create_disbursements',
      items.map((item) => ({
        disbursement_envelope_id: plan.envelopeId,
        mis_reference_number: `MIS-${plan.run}-${item.index + 1}`,
        beneficiary_id: item.beneficiaryId,
        beneficiary_name: item.beneficiaryName,
        disbursement_amount: money(item.amountMinor),
        narrative: `Demo benefit ${plan.cycle}`,
      })),
      items.length,
    );
    const byBeneficiary = new Map((answer ?? []).map((a) => [a.beneficiary_id, a.disbursement_id]));
    for (const item of items) {
      if (!item.cancel) continue;
      const id = byBeneficiary.get(item.beneficiaryId);
      if (!id) throw new DemoError(`create_disbursements answered no id for ${item.beneficiaryId}`);
      toCancel.push(id);
    }
    sent += items.length;
    calls++;
    view.update([
      {
        key: 'send',
        label: 'sending',
        done: sent,
        of: plan.size,
        text: `${count(sent)} / ${count(plan.size)} in ${calls} call${calls === 1 ? '' : 's'}`,
      },
    ]);
  }
  view.finish();
  clock.set('ingest', 'ingest', cycleStart, Date.now());
  clock.rows('ingest', sent);

  // 4. The PBMS changes its mind about a few, then pulls the schedule date in so the cycle runs now.
  if (toCancel.length) {
    await client.g2pOk(
      'cancel_disbursements',
      toCancel.map((id) => ({ disbursement_id: id })),
      toCancel.length,
    );
  }
  const remaining = plan.size - expected.cancelled;
  const remainingTotal = money(expected.totalMinor - expected.cancelledMinor);
  let scheduled: string | null = null;
  for (const date of [dateOffset(-1), dateOffset(0), dateOffset(1)]) {
    const answer = await client.g2p('amend_disbursement_envelope', {
      disbursement_envelope_id: plan.envelopeId,
      number_of_beneficiaries: remaining,
      number_of_disbursements: remaining,
      total_disbursement_amount: remainingTotal,
      disbursement_schedule_date: date,
    });
    if (answer.header.status !== 'rjct') {
      scheduled = date;
      break;
    }
    if (answer.header.status_reason_code !== 'INVALID_DISBURSEMENT_SCHEDULE_DATE') {
      throw new DemoError(`amend_disbursement_envelope was rejected: ${answer.header.status_reason_code}`);
    }
  }
  if (!scheduled) {
    throw new DemoError(
      "amend_disbursement_envelope refused every date up to tomorrow: the bridge's DISBURSEMENT_SLA_DAYS keeps the cycle in the future",
    );
  }
  say(
    `  cancelled ${count(toCancel.length)} (${groupAmount(expected.cancelledAmount)} ${plan.currency}); envelope amended to ` +
      `${count(remaining)} disbursements, ${groupAmount(remainingTotal)} ${plan.currency}, scheduled ${scheduled}`,
  );

  // What the bank pays: the wallet channel's part goes to the provider.
  const payable = money(
    expected.totalMinor -
      expected.cancelledMinor -
      decimalToMinor(expected.unresolvedAmount, plan.exponent) -
      (plan.walletProvider ? expected.wallet.minor : 0n),
  );

  // 5. Follow the stages until every disbursement is in an end state (or a stage gives up, or time runs out).
  say('  following the cycle:');
  const pollMs = options.pollMs ?? 1000;
  const deadline = started + (options.timeoutMs ?? 300_000 + plan.size * 2);
  const enc = encodeURIComponent;
  let finished = false;
  let stuck: string | null = null;
  for (;;) {
    const p = await client.getJson<Progress>(`/dashboard/envelopes/${enc(plan.envelopeId)}/progress.json`);
    const account = await client.getJson<BankAccount>(
      `/example-bank/admin/accounts/${enc(plan.fundingAccount)}`,
    );
    const block =
      account.blocks?.find(
        (b) =>
          b.block_reference === p.envelope.funds_blocked_reference_number ||
          b.idempotency_key === plan.envelopeId,
      ) ?? fileBlocks(account, plan.exponent);
    // Over files the bank blocks only what it accepted: what it rejects in its pain.002 is never posted.
    const shown = bars(
      p,
      block,
      plan.currency,
      block?.block_reference === 'pain.001' ? block.amount : payable,
    );
    clock.observe(shown);
    view.update(shown);
    const b = p.batches;
    const e = p.envelope;
    const mapperDone = b.mapperProcessed + b.mapperError === b.mapperTotal;
    const bankDone = b.bankTotal > 0 && b.bankProcessed + b.bankError === b.bankTotal;
    const fundsFailed = e.funds_available_with_bank === 'ERROR' || e.funds_blocked_with_bank === 'ERROR';
    if (b.mapperError || b.bankError || fundsFailed) {
      stuck = `a stage gave up: mapper batches in error ${b.mapperError}, bank batches in error ${b.bankError}, funds ${e.funds_available_with_bank}/${e.funds_blocked_with_bank}`;
    }
    if (
      mapperDone &&
      bankDone &&
      e.number_of_disbursements_reconciled >= e.number_of_disbursements_shipped &&
      p.statements.pending === 0 &&
      // The bank's side is done; payments on other channels (wallets) may still be on their way: the
      // lifecycle says whether every disbursement reached an end state.
      (await nothingInFlight(client, plan.envelopeId))
    ) {
      finished = true;
      break;
    }
    if (stuck) break;
    if (Date.now() > deadline) {
      stuck = `timed out after ${Math.round((Date.now() - started) / 1000)} s (see ${client.baseUrl}/dashboard/envelopes/${enc(plan.envelopeId)})`;
      break;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
  view.finish();
  if (!finished) say(`  stopped following: ${stuck}`);

  // 6. The summary, from the dashboard's breakdown (lifecycle view) checked against the PBMS status API.
  const summary = await client.getJson<{
    states: StateTotals;
    reasons: ReasonRow[];
    statements: { processed: number; error_recons: number };
  }>(`/dashboard/envelopes/${enc(plan.envelopeId)}/summary.json`);
  const status = await client.g2pOk<{
    number_of_disbursements_shipped: number;
    number_of_disbursements_reconciled: number;
    number_of_disbursements_reversed: number;
    lifecycle_summary?: Partial<Record<keyof StateTotals, { count: number }>>;
    channel_summary?: ApiChannel[];
  }>('get_disbursement_envelope_status', plan.envelopeId);
  const written = await client.getJson<{
    statements: Array<{ entry_count: number; created_at: string; delivered_at: string | null }>;
  }>(`/example-bank/statements?account_number=${enc(plan.fundingAccount)}&limit=1000`);
  const writtenAt = written.statements.map((x) => Date.parse(x.created_at));
  const deliveredAt = written.statements.map((x) =>
    x.delivered_at ? Date.parse(x.delivered_at) : Number.NaN,
  );
  // From the first statement the bank began to the last one the bridge received (writing and handing over).
  clock.set(
    'statements',
    'statement writing',
    writtenAt.length ? Math.min(...writtenAt) : null,
    deliveredAt.length && deliveredAt.every(Number.isFinite) ? Math.max(...deliveredAt) : null,
  );
  const shippedRows =
    summary.states.shipped.count + summary.states.reconciled.count + summary.states.reversed.count;
  clock.rows('resolution', plan.size);
  clock.rows('shipping', shippedRows + (summary.states.refused?.count ?? 0));
  clock.rows('bank', shippedRows);
  clock.rows(
    'statements',
    written.statements.reduce((n, x) => n + x.entry_count, 0),
  );
  clock.rows('reconciliation', status.number_of_disbursements_reconciled);
  const stages = clock.timings([...STAGE_ORDER]);
  const rendered = renderSummary({
    envelopeId: plan.envelopeId,
    program: plan.program,
    currency: plan.currency,
    exponent: plan.exponent,
    states: summary.states,
    reasons: summary.reasons,
    api: status,
    expected: {
      count: expected.count,
      total: expected.total,
      cancelled: expected.cancelled,
      cancelledAmount: expected.cancelledAmount,
      unresolved: expected.unresolved,
      unresolvedAmount: expected.unresolvedAmount,
    },
    statements: { processed: summary.statements.processed, errorRecons: summary.statements.error_recons },
    ...(plan.walletProvider
      ? {
          channels: channelTotals(status.channel_summary ?? []),
          wallet: {
            provider: plan.walletProvider,
            count: expected.wallet.count,
            amount: expected.wallet.amount,
            refused: [...expected.wallet.refused].map(([code, r]) => ({
              code,
              count: r.count,
              amount: money(r.minor),
            })),
          },
        }
      : {}),
    elapsedMs: Date.now() - started,
    stages,
  });
  out.write(`\n${rendered.text}`);
  if (options.dashboardHint !== false)
    say(`Dashboard: ${client.baseUrl}/dashboard/envelopes/${enc(plan.envelopeId)}`);
  return {
    ok: finished && rendered.checks.every((c) => c.ok),
    plan,
    checks: rendered.checks,
    summary: rendered.text,
    stages,
  };
}

/** One channel of the envelope status's channel_summary (amounts as the API answers them). */
type ApiChannel = { payout_channel: string | null } & Partial<
  Record<keyof StateTotals, { count: number; amount: number | string }>
>;

/** The API's per-channel buckets as exact decimal strings (an answered number has at most 15 digits). */
function channelTotals(channels: ApiChannel[]): ChannelTotals[] {
  return channels.map((c) => {
    const states = {} as StateTotals;
    for (const state of LIFECYCLE_STATES) {
      const b = c[state];
      states[state] = { count: b?.count ?? 0, amount: b ? String(b.amount) : '0' };
    }
    return { channel: c.payout_channel, states };
  });
}

/**
 * The wallet side of a `bank,wallet` run at the simulator: the program's disbursement account, funded with
 * the wallet channel's share plus 5 %; the beneficiaries' wallets (active or suspended; the `unknown` ones
 * never opened); and the program's channel at the provider.
 */
async function setUpWallets(client: BridgeClient, plan: DemoPlan, say: (text: string) => void) {
  const expected = expectedTotals(plan);
  const money = (minor: bigint) => formatMinorUnits(minor, plan.exponent);
  const funding = expected.wallet.minor + expected.wallet.minor / 20n + 1n;
  await client.call('POST', '/wallet-provider/admin/accounts', {
    accountId: plan.walletAccount,
    currency: plan.currency,
    name: `Demo program ${plan.run} wallet payouts`,
    openingBalance: money(funding),
  });
  let opened = 0;
  const states = { active: 0, suspended: 0, unknown: 0 };
  for (let from = 0; from < plan.size; from += 100_000) {
    const wallets: Array<{ msisdn: string; currency: string; state: 'active' | 'suspended' }> = [];
    for (const item of plannedItems(plan, from, Math.min(plan.size, from + 100_000))) {
      if (!item.wallet) continue;
      states[item.wallet.state]++;
      if (item.wallet.state === 'unknown') continue;
      wallets.push({ msisdn: item.wallet.msisdn, currency: plan.currency, state: item.wallet.state });
    }
    if (wallets.length === 0) continue;
    await client.call('POST', '/wallet-provider/admin/wallets', { wallets });
    opened += wallets.length;
  }
  await client.call(
    'PUT',
    `/admin/programs/${encodeURIComponent(plan.program)}/payout-channels/${encodeURIComponent(plan.walletProvider!)}`,
    { debit_party_account: `accountid@${plan.walletAccount}`, currency: plan.currency },
  );
  say(
    `  wallet channel ${plan.walletProvider}: account ${plan.walletAccount} at the wallet provider with ${groupAmount(money(funding))} ${plan.currency}; ` +
      `${count(opened)} wallets opened (${count(states.suspended)} suspended), ${count(states.unknown)} numbers unknown to it`,
  );
}

/**
 * Over a file channel the bank blocks each pain.001 payment information itself (idempotency key
 * `pain001:<MsgId>:<PmtInfId>`): the run's own funding account holds only this run's, summed exactly.
 */
function fileBlocks(
  account: BankAccount,
  exponent: number,
): NonNullable<BankAccount['blocks']>[number] | undefined {
  const blocks = account.blocks?.filter((b) => b.idempotency_key.startsWith('pain001:')) ?? [];
  if (blocks.length === 0) return undefined;
  const sum = (k: 'amount' | 'amount_committed' | 'amount_released') =>
    formatMinorUnits(
      blocks.reduce((n, b) => n + decimalToMinor(b[k], exponent), 0n),
      exponent,
    );
  return {
    block_reference: 'pain.001',
    idempotency_key: 'pain.001',
    amount: sum('amount'),
    amount_committed: sum('amount_committed'),
    amount_released: sum('amount_released'),
  };
}

/** Whether no disbursement of the envelope is still to ship or awaiting its outcome, on any channel. */
async function nothingInFlight(client: BridgeClient, envelopeId: string): Promise<boolean> {
  const { states } = await client.getJson<{ states: StateTotals }>(
    `/dashboard/envelopes/${encodeURIComponent(envelopeId)}/summary.json`,
  );
  return states.received.count === 0 && states.shipped.count === 0;
}

function bars(
  p: Progress,
  block: NonNullable<BankAccount['blocks']>[number] | undefined,
  currency: string,
  /** What the bank will pay in the end: the envelope less cancelled and unresolved disbursements. */
  payable: string,
): Bar[] {
  const b = p.batches;
  const e = p.envelope;
  const fundsDone =
    (e.funds_available_with_bank === 'FUNDS_AVAILABLE' ? 1 : 0) +
    (e.funds_blocked_with_bank === 'FUNDS_BLOCK_SUCCESS' ? 1 : 0);
  const fundsError = e.funds_blocked_latest_error_code ?? e.funds_available_latest_error_code;
  const released = block ? Number(block.amount_released) : 0;
  return [
    {
      key: 'resolution',
      label: 'resolution',
      done: b.mapperProcessed,
      of: b.mapperTotal,
      text: `${count(b.mapperProcessed)} / ${count(b.mapperTotal)} mapper batches${b.mapperError ? `, ${b.mapperError} in error` : ''}${b.mapperRetrying ? `, ${b.mapperRetrying} retrying (${b.mapperRetryCode})` : ''}`,
    },
    {
      key: 'funds',
      label: 'funds',
      done: fundsDone,
      of: 2,
      text: `check ${e.funds_available_with_bank}, block ${e.funds_blocked_with_bank}${fundsError ? ` (last error ${fundsError})` : ''}`,
    },
    {
      key: 'shipping',
      label: 'shipping',
      done: b.bankProcessed,
      of: b.bankTotal,
      text: `${count(b.bankProcessed)} / ${count(b.bankTotal)} bank batches, ${count(e.number_of_disbursements_shipped)} disbursements${b.bankError ? `, ${b.bankError} in error` : ''}${b.bankRetrying ? `, ${b.bankRetrying} retrying (${b.bankRetryCode})` : ''}`,
    },
    {
      key: 'bank',
      label: 'bank posting',
      // Display only: the ratio of two exact amounts, drawn as a bar.
      done: released,
      of: Number(payable),
      text: block
        ? `${groupAmount(block.amount_released)} of ${groupAmount(payable)} ${currency} posted (${groupAmount(block.amount_committed)} handed over so far)`
        : 'no funds blocked yet',
    },
    {
      key: 'reconciliation',
      label: 'reconciliation',
      done: e.number_of_disbursements_reconciled,
      of: e.number_of_disbursements_shipped,
      text: `${count(e.number_of_disbursements_reconciled)} / ${count(e.number_of_disbursements_shipped)} debits on statements, ${count(e.number_of_disbursements_reversed)} reversed${p.statements.pending ? `, ${p.statements.pending} statement${p.statements.pending === 1 ? '' : 's'} waiting` : ''}`,
    },
  ];
}
