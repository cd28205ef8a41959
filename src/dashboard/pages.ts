// The dashboard's pages, rendered on the server from the rows queries.ts reads.

import type { LedgerErrorCount } from '../payouts/ledger.js';
import {
  amount,
  badge,
  count,
  disbursementLink,
  envelopeLink,
  lifecycleBar,
  page,
  pager,
  progressBar,
  statementLink,
  type Tone,
  totalOf,
} from './components.js';
import { formatCount, html, type SafeHtml, seg } from './html.js';
import {
  type AuditRow,
  addDecimal as addAmounts,
  type BatchProgress,
  type BatchRow,
  type CallbackRow,
  type CallbackSenderRow,
  type DisbursementDetail,
  type EnvelopeBreakdown,
  type EnvelopeRow,
  type ErrorReconRow,
  LIFECYCLE_STATES,
  type StateCounts,
  type StatementRow,
} from './queries.js';

export interface View {
  time: (value: Date | string | null | undefined) => string;
  refreshSeconds: number;
  /** 'YYYY-MM-DD' in the deployment's time zone. */
  today: string;
}

interface Stage {
  name: string;
  done: number;
  of: number;
  failed?: number;
  figure: SafeHtml;
  sub?: SafeHtml;
  key: string;
}

function payable(counts: StateCounts): number {
  return totalOf(counts) - counts.cancelled.count - counts.unresolved.count;
}

function stagesOf(e: EnvelopeRow, counts: StateCounts, batches: BatchProgress): Stage[] {
  const shippedLike = counts.shipped.count + counts.reconciled.count + counts.reversed.count;
  const toPay = payable(counts);
  const settled = counts.reconciled.count + counts.reversed.count;
  const fundsDone =
    (e.funds_available_with_bank === 'FUNDS_AVAILABLE' ? 1 : 0) +
    (e.funds_blocked_with_bank === 'FUNDS_BLOCK_SUCCESS' ? 1 : 0);
  const fundsFailed =
    (e.funds_available_with_bank === 'ERROR' ? 1 : 0) + (e.funds_blocked_with_bank === 'ERROR' ? 1 : 0);
  return [
    {
      key: 'receipt',
      name: 'Received',
      done: e.number_of_disbursements_received,
      of: e.number_of_disbursements,
      figure: html`${count(e.number_of_disbursements_received)} / ${count(e.number_of_disbursements)}`,
      sub: html`${amount(e.total_disbursement_amount_received, e.disbursement_currency_code, false)} of ${amount(e.total_disbursement_amount, e.disbursement_currency_code)}`,
    },
    e.id_mapper_resolution_required
      ? {
          key: 'resolution',
          name: 'Resolved',
          done: batches.mapperProcessed,
          of: batches.mapperTotal,
          failed: batches.mapperError,
          figure: html`${count(batches.mapperProcessed)} / ${count(batches.mapperTotal)} batches`,
          sub: html`${count(counts.unresolved.count)} unresolved${retrying(batches.mapperRetrying, batches.mapperRetryCode)}${
            batches.mapperError ? html` · <span class="badge bad">${batches.mapperError} failed</span>` : ''
          }`,
        }
      : {
          key: 'resolution',
          name: 'Resolved',
          done: 1,
          of: 1,
          figure: html`not required`,
          sub: html`ids go to the bank as they are`,
        },
    {
      key: 'funds',
      name: 'Funds',
      done: fundsDone,
      of: 2,
      failed: fundsFailed,
      figure: html`${fundsDone === 2 ? 'blocked' : e.funds_available_with_bank === 'FUNDS_AVAILABLE' ? 'available' : shortFunds(e.funds_available_with_bank)}`,
      sub: html`check ${e.funds_available_attempts}× · block ${e.funds_blocked_attempts}×${
        e.funds_available_latest_error_code || e.funds_blocked_latest_error_code
          ? html` · <span class="badge warn">${e.funds_blocked_latest_error_code ?? e.funds_available_latest_error_code}</span>`
          : ''
      }`,
    },
    {
      key: 'shipping',
      name: 'Shipped',
      done: shippedLike,
      of: toPay,
      failed: 0,
      figure: html`${count(shippedLike)} / ${count(toPay)}`,
      sub: html`${count(batches.bankProcessed)} / ${count(batches.bankTotal)} bank batches${
        batches.bankError ? html` · <span class="badge bad">${batches.bankError} failed</span>` : ''
      }${retrying(batches.bankRetrying, batches.bankRetryCode)}`,
    },
    {
      key: 'reconciliation',
      name: 'Reconciled',
      done: counts.reconciled.count,
      of: toPay,
      failed: counts.reversed.count,
      figure: html`${count(settled)} / ${count(toPay)}`,
      sub: html`${count(counts.reversed.count)} reversed`,
    },
  ];
}

function retrying(n: number, code: string | null): SafeHtml {
  return n
    ? html` · <span class="badge warn" title="retried after a backoff">${n} retrying: ${code}</span>`
    : html``;
}

function shortFunds(status: string): string {
  switch (status) {
    case 'PENDING_CHECK':
      return 'pending';
    case 'FUNDS_NOT_AVAILABLE':
      return 'not available';
    case 'ERROR':
      return 'error';
    default:
      return status.toLowerCase();
  }
}

type EnvelopeState = { label: string; tone: Tone; active: boolean };

function envelopeState(
  e: EnvelopeRow,
  counts: StateCounts,
  batches: BatchProgress,
  today: string,
): EnvelopeState {
  if (e.cancellation_status === 'Cancelled') return { label: 'cancelled', tone: '', active: false };
  const toPay = payable(counts);
  const settled = counts.reconciled.count + counts.reversed.count;
  const allReceived = e.number_of_disbursements_received === e.number_of_disbursements;
  if (allReceived && toPay > 0 && settled === toPay) return { label: 'complete', tone: 'ok', active: false };
  if (allReceived && toPay === 0 && totalOf(counts) > 0)
    return { label: 'nothing to pay', tone: 'warn', active: false };
  if (
    batches.mapperError ||
    batches.bankError ||
    e.funds_available_with_bank === 'ERROR' ||
    e.funds_blocked_with_bank === 'ERROR'
  )
    return { label: 'needs attention', tone: 'bad', active: true };
  if (
    e.funds_available_with_bank === 'FUNDS_NOT_AVAILABLE' ||
    e.funds_blocked_with_bank === 'FUNDS_BLOCK_FAILURE'
  )
    return { label: 'waiting for funds', tone: 'warn', active: true };
  if (batches.mapperRetrying || batches.bankRetrying)
    return { label: 'retrying', tone: 'warn', active: true };
  if (!allReceived) return { label: 'receiving', tone: 'info', active: true };
  if (e.disbursement_schedule_date > today) return { label: 'scheduled', tone: 'info', active: true };
  return { label: 'in progress', tone: 'info', active: true };
}

function stageGrid(stages: Stage[]): SafeHtml {
  return html`<div class="stages">${stages.map(
    (s) => html`<div class="stage" data-stage="${s.key}">
  <div class="label"><span class="name">${s.name}</span><span class="figure">${s.figure}</span></div>
  ${progressBar(s.done, s.of, s.failed ?? 0)}
  ${s.sub ? html`<div class="sub">${s.sub}</div>` : ''}
</div>`,
  )}</div>`;
}

export interface EnvelopeListData {
  envelopes: EnvelopeRow[];
  counts: Map<string, StateCounts>;
  batches: Map<string, BatchProgress>;
  more: boolean;
  offset: number;
  limit: number;
  program?: string;
  programs: Array<{ benefit_program_mnemonic: string; benefit_program_name: string }>;
}

export function envelopesPage(view: View, data: EnvelopeListData): string {
  let active = false;
  const cards = data.envelopes.map((e) => {
    const counts = data.counts.get(e.disbursement_envelope_id)!;
    const batches = data.batches.get(e.disbursement_envelope_id)!;
    const state = envelopeState(e, counts, batches, view.today);
    active ||= state.active;
    return html`<section class="panel envelope" data-envelope="${e.disbursement_envelope_id}">
  <div class="card-head">
    <span class="title">${envelopeLink(e.disbursement_envelope_id)}</span>
    ${badge(state.label, state.tone)}
    <span class="muted">${e.benefit_program_mnemonic} · ${e.cycle_code_mnemonic} · ${e.disbursement_frequency} · scheduled ${e.disbursement_schedule_date}</span>
    <span class="spacer"></span>
    <span class="muted">${amount(e.total_disbursement_amount, e.disbursement_currency_code)} declared</span>
  </div>
  ${lifecycleBar(counts, e.disbursement_envelope_id)}
  ${stageGrid(stagesOf(e, counts, batches))}
</section>`;
  });
  const programFilter = html`<form method="get" action="/dashboard" class="actions">
  <label for="program" class="muted">Program</label>
  <select name="program" id="program">
    <option value="">all</option>
    ${data.programs.map(
      (p) =>
        html`<option value="${p.benefit_program_mnemonic}" ${p.benefit_program_mnemonic === data.program ? html`selected` : ''}>${p.benefit_program_mnemonic} — ${p.benefit_program_name}</option>`,
    )}
  </select>
  <button type="submit">Show</button>
</form>`;
  const body = html`<h1>Envelopes</h1>
${programFilter}
<p class="muted">Newest first. Bars split each envelope's disbursements by lifecycle state; below them, progress per stage.</p>
${
  cards.length
    ? cards
    : html`<div class="panel muted">No envelopes yet. A PBMS creates them with <code>POST /create_disbursement_envelope</code>; <code>g2p-bridge demo</code> runs a whole cycle.</div>`
}
${pager('/dashboard', data.offset, data.limit, data.more, { program: data.program })}`;
  return page({ title: 'Envelopes', nav: 'envelopes', refresh: active ? view.refreshSeconds : 0 }, body);
}

export interface EnvelopeData {
  envelope: EnvelopeRow;
  counts: StateCounts;
  batches: BatchProgress;
  breakdown: EnvelopeBreakdown;
  mapperBatches: Array<BatchRow & { resolved: number; unresolved: number }>;
  bankBatches: BatchRow[];
  errorRecons: ErrorReconRow[];
  errorReconLimit: number;
  /** What the wallet providers' ledgers contradict, by reason (src/payouts/ledger.ts envelopeLedgerErrors). */
  ledgerErrors?: LedgerErrorCount[];
  /** The envelope's audit trail, oldest first. */
  audit?: AuditRow[];
  auditLimit?: number;
}

/**
 * Disbursements per payout channel: shown when the envelope pays through a wallet provider as well as (or
 * instead of) its sponsor bank. Each row adds up its channel; the rows add up the envelope.
 */
function channelTable(byChannel: Map<string, StateCounts>, cur: string): SafeHtml | string {
  if (![...byChannel.keys()].some((c) => c !== 'BANK' && c !== '')) return '';
  const order = [...byChannel.keys()].sort(
    (a, b) =>
      Number(a === '') - Number(b === '') ||
      Number(a !== 'BANK') - Number(b !== 'BANK') ||
      a.localeCompare(b),
  );
  const cell = (c: StateCounts, s: (typeof LIFECYCLE_STATES)[number]) =>
    html`<td class="num" data-count="${s}">${count(c[s].count)}</td>`;
  return html`<h2>Disbursements by payout channel</h2>
<div class="table-wrap"><table data-table="channels">
<thead><tr><th>Channel</th><th class="num">Awaiting outcome</th><th class="num">Paid</th><th class="num">Refused</th><th class="num">Reversed</th><th class="num">Not shipped yet</th><th class="num">Cancelled</th><th class="num">Disbursements</th><th class="num">Amount (${cur})</th></tr></thead>
<tbody>${order.map((channel) => {
    const c = byChannel.get(channel)!;
    const total = Object.values(c).reduce((sum, x) => (x.count ? addAmounts(sum, x.amount) : sum), '0');
    const label =
      channel === ''
        ? html`<span class="muted">not decided (unresolved or pending)</span>`
        : channel === 'BANK'
          ? 'sponsor bank'
          : html`wallet provider <span class="mono">${channel}</span>`;
    return html`<tr data-channel="${channel || 'none'}"><td>${label}</td>${cell(c, 'shipped')}${cell(c, 'reconciled')}${cell(c, 'refused')}${cell(c, 'reversed')}<td class="num" data-count="received">${count(c.received.count + c.unresolved.count)}</td>${cell(c, 'cancelled')}<td class="num">${count(totalOf(c))}</td><td class="num" data-amount>${amount(total, cur, false)}</td></tr>`;
  })}</tbody>
</table></div>`;
}

/**
 * Wallet ledger errors by reason: shown when the envelope pays through a wallet provider, or when a ledger
 * contradicts something of it. Errors naming none of our disbursements (a forged debit) are counted on the
 * program's funding accounts.
 */
function ledgerErrorTable(rows: LedgerErrorCount[], byChannel: Map<string, StateCounts>): SafeHtml | string {
  const wallets = [...byChannel.keys()].some((c) => c !== 'BANK' && c !== '');
  if (rows.length === 0)
    return wallets
      ? html`<h2>Wallet ledger errors</h2><p class="muted">The wallet providers' ledgers contradict nothing of this envelope.</p>`
      : '';
  return html`<h2>Wallet ledger errors</h2>
<div class="table-wrap"><table data-table="ledger-errors">
<thead><tr><th>Concerns</th><th>Wallet provider</th><th>Reason</th><th class="num">Errors</th><th class="num">Still open</th><th class="num">Amount stated</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr data-reason="${r.reason}"><td>${r.scope === 'ENVELOPE' ? "this envelope's disbursements" : html`<span class="muted">the program's funding account, no disbursement of ours</span>`}</td><td class="mono">${r.providerCode}</td><td>${badge(r.reason, 'bad')}</td><td class="num" data-count>${count(r.count)}</td><td class="num" data-open>${count(r.open)}</td><td class="num">${r.currency === null ? '' : amount(r.amount, r.currency)}</td></tr>`,
  )}</tbody></table></div>`;
}

export function envelopePage(view: View, d: EnvelopeData): string {
  const e = d.envelope;
  const cur = e.disbursement_currency_code;
  const state = envelopeState(e, d.counts, d.batches, view.today);
  const reasons = (which: 'reversed' | 'unresolved') =>
    d.breakdown.byStateReason
      .filter((r) => r.state === which)
      .sort((a, b) => b.count - a.count || String(a.reason).localeCompare(String(b.reason)));
  const reversals = reasons('reversed');
  const unresolved = reasons('unresolved');
  const fact = (label: string, value: SafeHtml | string | number | null, field?: string) =>
    html`<div><dt>${label}</dt><dd ${field ? html`data-field="${field}"` : ''}>${value ?? ''}</dd></div>`;

  const body = html`<h1>Envelope <span class="mono">${e.disbursement_envelope_id}</span> ${badge(state.label, state.tone)}</h1>
<section class="panel">
  <dl class="facts">
    ${fact('Program', html`${e.benefit_program_mnemonic} <span class="muted">${e.benefit_program_name}</span>`)}
    ${fact('Cycle', e.cycle_code_mnemonic)}
    ${fact('Frequency', e.disbursement_frequency)}
    ${fact('Schedule date', e.disbursement_schedule_date)}
    ${fact('Beneficiaries declared', count(e.number_of_beneficiaries), 'number_of_beneficiaries')}
    ${fact('Disbursements declared', count(e.number_of_disbursements), 'number_of_disbursements')}
    ${fact('Amount declared', amount(e.total_disbursement_amount, cur), 'total_disbursement_amount')}
    ${fact('Disbursements received', count(e.number_of_disbursements_received), 'number_of_disbursements_received')}
    ${fact('Amount received', amount(e.total_disbursement_amount_received, cur), 'total_disbursement_amount_received')}
    ${fact('Shipped', count(e.number_of_disbursements_shipped), 'number_of_disbursements_shipped')}
    ${fact('Reconciled', count(e.number_of_disbursements_reconciled), 'number_of_disbursements_reconciled')}
    ${fact('Reversed', count(e.number_of_disbursements_reversed), 'number_of_disbursements_reversed')}
    ${fact('Received at', view.time(e.receipt_time_stamp))}
    ${fact('Cancellation', html`${badge(e.cancellation_status)} ${view.time(e.cancellation_time_stamp)}`, 'cancellation_status')}
    ${fact('Sponsor bank', html`${e.sponsor_bank_code} <span class="mono">${e.sponsor_bank_account_number}</span>`)}
    ${fact('Id resolution', e.id_mapper_resolution_required ? 'through the mapper' : 'not required')}
  </dl>
</section>
<section class="panel">
  ${lifecycleBar(d.counts, e.disbursement_envelope_id)}
  ${stageGrid(stagesOf(e, d.counts, d.batches))}
  <div class="actions">
    <a href="/dashboard/envelopes/${seg(e.disbursement_envelope_id)}/disbursements.csv" download>Download per-disbursement status (CSV)</a>
  </div>
</section>

<h2>Disbursements by state</h2>
<div class="table-wrap"><table>
<thead><tr><th>State</th><th class="num">Disbursements</th><th class="num">Amount (${cur})</th></tr></thead>
<tbody>${LIFECYCLE_STATES.map(
    (s) =>
      html`<tr data-state="${s}"><td><span class="badge">${s}</span></td><td class="num" data-count>${count(d.counts[s].count)}</td><td class="num" data-amount>${amount(d.counts[s].amount, cur, false)}</td></tr>`,
  )}</tbody>
</table></div>

${channelTable(d.breakdown.byChannel, cur)}
<h2>Funds</h2>
<div class="table-wrap"><table>
<thead><tr><th>Step</th><th>Status</th><th class="num">Attempts</th><th>Latest error</th><th>Latest attempt</th><th>Block reference</th></tr></thead>
<tbody>
<tr data-step="check"><td>Check funds</td><td data-field="funds_available_with_bank">${badge(e.funds_available_with_bank)}</td><td class="num">${e.funds_available_attempts}</td><td>${e.funds_available_latest_error_code}</td><td class="nowrap">${view.time(e.funds_available_latest_timestamp)}</td><td></td></tr>
<tr data-step="block"><td>Block funds</td><td data-field="funds_blocked_with_bank">${badge(e.funds_blocked_with_bank)}</td><td class="num">${e.funds_blocked_attempts}</td><td>${e.funds_blocked_latest_error_code}</td><td class="nowrap">${view.time(e.funds_blocked_latest_timestamp)}</td><td class="mono">${e.funds_blocked_reference_number}</td></tr>
</tbody>
</table></div>

<h2>Reversals by reason</h2>
${reasonTable(reversals, cur, 'No reversals.', 'reversals')}

<h2>Unresolved beneficiaries by reason</h2>
${reasonTable(unresolved, cur, e.id_mapper_resolution_required ? 'Every resolved beneficiary has a financial address.' : 'This program does not resolve ids.', 'unresolved')}

<h2>Mapper batches</h2>
${
  d.mapperBatches.length
    ? html`<div class="table-wrap"><table data-table="mapper-batches">
<thead><tr><th>Batch</th><th>Status</th><th class="num">Attempts</th><th>Latest error</th><th class="num">Disbursements</th><th class="num">Resolved</th><th class="num">Unresolved</th><th>Resolved at</th><th>Next attempt</th></tr></thead>
<tbody>${d.mapperBatches.map((b) => {
        const c = d.breakdown.byMapperBatch.get(b.batch_id);
        return html`<tr><td class="mono">${b.batch_id}</td><td>${badge(b.status)}</td><td class="num">${b.attempts}</td><td>${b.latest_error_code}</td><td class="num">${count(c ? totalOf(c) : 0)}</td><td class="num">${count(b.resolved)}</td><td class="num">${count(b.unresolved)}</td><td class="nowrap">${view.time(b.time_stamp)}</td><td class="nowrap">${b.status === 'PENDING' ? view.time(b.next_attempt_at) : ''}</td></tr>`;
      })}</tbody></table></div>`
    : html`<p class="muted">No batches yet.</p>`
}

<h2>Bank batches</h2>
${
  d.bankBatches.length
    ? html`<div class="table-wrap"><table data-table="bank-batches">
<thead><tr><th>Batch</th><th>Status</th><th class="num">Attempts</th><th>Latest error</th><th class="num">Disbursements</th><th class="num">Amount (${cur})</th><th class="num">Payable</th><th class="num">Reconciled</th><th class="num">Reversed</th><th>Shipped at</th><th>Next attempt</th></tr></thead>
<tbody>${d.bankBatches.map((b) => {
        const c = d.breakdown.byBankBatch.get(b.batch_id);
        const total = c ? totalOf(c) : 0;
        const batchAmount = c
          ? Object.values(c).reduce((sum, s) => (s.count ? addAmounts(sum, s.amount) : sum), '0')
          : '0';
        return html`<tr><td class="mono">${b.batch_id}</td><td>${badge(b.status)}</td><td class="num">${b.attempts}</td><td>${b.latest_error_code}</td><td class="num">${count(total)}</td><td class="num">${amount(batchAmount, cur, false)}</td><td class="num">${count(c ? payable(c) : 0)}</td><td class="num">${count(c?.reconciled.count ?? 0)}</td><td class="num">${count(c?.reversed.count ?? 0)}</td><td class="nowrap">${view.time(b.time_stamp)}</td><td class="nowrap">${b.status === 'PENDING' ? view.time(b.next_attempt_at) : ''}</td></tr>`;
      })}</tbody></table></div>`
    : html`<p class="muted">No batches yet.</p>`
}

<h2>Error recons</h2>
${errorReconTable(d.errorRecons, "No statement entry naming this envelope's disbursements failed to reconcile.")}
${d.errorRecons.length >= d.errorReconLimit ? html`<p class="muted">Showing the first ${formatCount(d.errorReconLimit)}.</p>` : ''}
${ledgerErrorTable(d.ledgerErrors ?? [], d.breakdown.byChannel)}

<h2>Audit trail</h2>
${auditTable(view, d.audit ?? [], 'No change to this envelope has been recorded.')}
${d.auditLimit && (d.audit?.length ?? 0) >= d.auditLimit ? html`<p class="muted">Showing the first ${formatCount(d.auditLimit)}; the CSV has them all.</p>` : ''}
<div class="actions"><a href="/dashboard/envelopes/${seg(e.disbursement_envelope_id)}/audit.csv" download>Download the audit trail (CSV)</a></div>`;
  return page(
    {
      title: `Envelope ${e.disbursement_envelope_id}`,
      nav: 'envelopes',
      refresh: state.active ? view.refreshSeconds : 0,
    },
    body,
  );
}

/** Audit rows: when, who, what, on which targets, and the PII-free summary as compact JSON. */
function auditTable(view: View, rows: AuditRow[], empty: string): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="table-wrap"><table data-table="audit">
<thead><tr><th>At</th><th>Who</th><th>Roles</th><th>Sender</th><th>Action</th><th>Program</th><th>Envelope</th><th>Targets</th><th>Summary</th><th>Request / message</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr data-audit="${r.id}"><td class="nowrap">${view.time(r.at)}</td><td class="mono">${r.subject}</td><td>${r.roles.join(' ')}</td><td class="mono">${r.sender_id}</td><td>${badge(r.action)}</td><td>${r.program}</td><td>${r.envelope_id ? envelopeLink(r.envelope_id) : ''}</td><td class="mono">${shortList(r.target_ids)}</td><td class="mono">${JSON.stringify(r.summary)}</td><td class="mono">${r.request_id}${r.message_id ? html`<br>${r.message_id}` : ''}</td></tr>`,
  )}</tbody></table></div>`;
}

function shortList(ids: string[], max = 5): string {
  return ids.length <= max ? ids.join(' ') : `${ids.slice(0, max).join(' ')} … (${formatCount(ids.length)})`;
}

/** The whole audit trail, newest first (admin only). */
export function auditPage(view: View, rows: AuditRow[], more: boolean, before?: number): string {
  const last = rows[rows.length - 1];
  const body = html`<h1>Audit trail</h1>
<p class="muted">Every change a caller made (envelopes, disbursements, statement uploads, programs), newest first. Rows are never changed; they are removed only after AUDIT_RETENTION_DAYS.</p>
${auditTable(view, rows, 'No change has been recorded yet.')}
<div class="pager">
${before !== undefined ? html`<a href="/dashboard/audit">← Newest</a>` : ''}
${more && last ? html`<a href="/dashboard/audit?before=${String(last.id)}">Older →</a>` : ''}
</div>
<div class="actions"><a href="/dashboard/audit.csv" download>Download the whole audit trail (CSV)</a></div>`;
  return page({ title: 'Audit trail', nav: 'none', refresh: 0 }, body);
}

function reasonTable(
  rows: Array<{ reason: string | null; count: number; amount: string }>,
  currency: string,
  empty: string,
  name: string,
): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="table-wrap"><table data-table="${name}">
<thead><tr><th>Reason</th><th class="num">Disbursements</th><th class="num">Amount (${currency})</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr><td>${r.reason ?? html`<span class="muted">none given</span>`}</td><td class="num">${count(r.count)}</td><td class="num">${amount(r.amount, currency, false)}</td></tr>`,
  )}</tbody></table></div>`;
}

function errorReconTable(rows: ErrorReconRow[], empty: string): SafeHtml {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="table-wrap"><table data-table="error-recons">
<thead><tr><th>Reason</th><th>Disbursement id</th><th>Statement</th><th>Number / sequence</th><th class="num">Entry</th><th>Entry date</th><th>Value date</th><th class="num">Amount</th><th>Bank reference</th></tr></thead>
<tbody>${rows.map(
    (r) =>
      html`<tr><td>${badge(r.error_reason, 'bad')}</td><td>${disbursementLink(r.disbursement_id)}</td><td>${statementLink(r.statement_id)}</td><td>${r.statement_number ?? ''}${r.statement_sequence ? `/${r.statement_sequence}` : ''}</td><td class="num">${r.entry_sequence}</td><td>${r.entry_date}</td><td>${r.value_date}</td><td class="num">${r.entry_amount === null ? '' : `${r.entry_amount} ${r.entry_currency ?? ''}`}</td><td class="mono">${r.bank_reference_number}</td></tr>`,
  )}</tbody></table></div>`;
}

export function statementsPage(
  view: View,
  statements: StatementRow[],
  offset: number,
  limit: number,
  more: boolean,
) {
  const pending = statements.some((s) => s.statement_process_status === 'PENDING');
  const body = html`<h1>Statements</h1>
<p class="muted">MT940 account statements uploaded by the sponsor banks, newest first.</p>
${
  statements.length
    ? html`<div class="table-wrap"><table data-table="statements">
<thead><tr><th>Statement</th><th>Account</th><th>Program</th><th>Reference</th><th>Number / sequence</th><th>Date</th><th>Uploaded</th><th>Status</th><th class="num">Attempts</th><th>Error</th><th class="num">Error recons</th></tr></thead>
<tbody>${statements.map(
        (s) =>
          html`<tr data-statement="${s.statement_id}"><td>${statementLink(s.statement_id)}</td><td class="mono">${s.account_number}</td><td>${s.benefit_program_mnemonic}</td><td class="mono">${s.reference_number}</td><td>${s.statement_number ?? ''}${s.sequence_number ? `/${s.sequence_number}` : ''}</td><td class="nowrap">${s.statement_date}</td><td class="nowrap">${view.time(s.statement_upload_timestamp)}</td><td>${badge(s.statement_process_status)}${s.duplicate_of_statement_id ? html` <span class="badge warn">duplicate</span>` : ''}</td><td class="num">${s.statement_process_attempts}</td><td>${s.statement_process_error_code}</td><td class="num">${count(s.error_recons)}</td></tr>`,
      )}</tbody></table></div>`
    : html`<div class="panel muted">No statements yet. Banks upload them with <code>POST /upload_mt940</code>; operators with <code>g2p-bridge statement upload FILE</code>.</div>`
}
${pager('/dashboard/statements', offset, limit, more)}`;
  return page({ title: 'Statements', nav: 'statements', refresh: pending ? view.refreshSeconds : 0 }, body);
}

export function statementPage(
  view: View,
  d: {
    statement: StatementRow;
    matched: { debits: number; reversals: number };
    errorRecons: ErrorReconRow[];
  },
) {
  const s = d.statement;
  const fact = (label: string, value: SafeHtml | string | number | null, field?: string) =>
    html`<div><dt>${label}</dt><dd ${field ? html`data-field="${field}"` : ''}>${value ?? ''}</dd></div>`;
  const body = html`<h1>Statement <span class="mono">${s.statement_id}</span> ${badge(s.statement_process_status)}</h1>
<section class="panel"><dl class="facts">
  ${fact('Account (:25:)', html`<span class="mono">${s.account_number}</span>`)}
  ${fact('Program', s.benefit_program_mnemonic)}
  ${fact('Reference (:20:)', s.reference_number)}
  ${fact('Number / sequence (:28C:)', `${s.statement_number ?? ''}${s.sequence_number ? `/${s.sequence_number}` : ''}`)}
  ${fact('Statement date', s.statement_date)}
  ${fact('Uploaded', html`${view.time(s.statement_upload_timestamp)} <span class="muted">by ${s.uploaded_by ?? 'unknown'}</span>`)}
  ${fact('Size', `${formatCount(s.size_bytes)} bytes`)}
  ${fact('SHA-256', html`<span class="mono">${s.content_sha256}</span>`)}
  ${fact('Processed', view.time(s.statement_process_timestamp))}
  ${fact('Attempts', s.statement_process_attempts)}
  ${fact('Error', s.statement_process_error_code ? html`${badge(s.statement_process_error_code, 'bad')} ${s.statement_process_error_message}` : '')}
  ${fact('Duplicate of', statementLink(s.duplicate_of_statement_id))}
  ${fact('Debits reconciled', count(d.matched.debits), 'debits')}
  ${fact('Reversals matched', count(d.matched.reversals), 'reversals')}
  ${fact('Error recons', count(s.error_recons), 'error_recons')}
</dl>
<div class="actions"><a href="/dashboard/statements/${seg(s.statement_id)}/raw">Raw MT940 as uploaded</a></div>
</section>
<h2>Entries that could not be reconciled</h2>
${errorReconTable(d.errorRecons, 'Every entry of this statement was reconciled.')}`;
  return page(
    {
      title: `Statement ${s.statement_id}`,
      nav: 'statements',
      refresh: s.statement_process_status === 'PENDING' ? view.refreshSeconds : 0,
    },
    body,
  );
}

export function disbursementPage(view: View, id: string, d: DisbursementDetail | null) {
  if (!id) {
    return page(
      { title: 'Look up a disbursement', nav: 'lookup' },
      html`<h1>Look up a disbursement</h1><p class="muted">Type a disbursement id in the box at the top.</p>`,
    );
  }
  if (!d) {
    return page(
      { title: 'Disbursement not found', nav: 'lookup', lookupValue: id },
      html`<h1>Disbursement not found</h1><div class="notice">No disbursement has the id <code>${id}</code>.</div>`,
    );
  }
  const x = d.disbursement;
  const fact = (label: string, value: SafeHtml | string | number | null, field?: string) =>
    html`<div><dt>${label}</dt><dd ${field ? html`data-field="${field}"` : ''}>${value ?? ''}</dd></div>`;
  const tone: Record<string, Tone> = {
    reconciled: 'ok',
    reversed: 'bad',
    unresolved: 'warn',
    cancelled: '',
    shipped: 'info',
    received: 'info',
  };
  const body = html`<h1>Disbursement <span class="mono">${x.disbursement_id}</span> ${badge(x.lifecycle_status, tone[x.lifecycle_status])}</h1>
<section class="panel"><dl class="facts">
  ${fact('Lifecycle', html`${badge(x.lifecycle_status, tone[x.lifecycle_status])} ${x.lifecycle_reason ?? ''}`, 'lifecycle_status')}
  ${fact('Payout channel', x.payout_channel === 'BANK' ? 'sponsor bank' : x.payout_channel ? html`wallet provider <span class="mono">${x.payout_channel}</span>` : null, 'payout_channel')}
  ${x.refused_by ? fact('Refused by', [x.refused_by, x.refusal_error_category, x.lifecycle_reason].filter(Boolean).join(' · '), 'refused_by') : ''}
  ${fact('Envelope', envelopeLink(x.disbursement_envelope_id))}
  ${fact('Amount', amount(x.disbursement_amount, x.disbursement_currency_code), 'disbursement_amount')}
  ${fact('Beneficiary id', html`<span class="mono">${x.beneficiary_id}</span>`)}
  ${fact('Beneficiary name', x.beneficiary_name)}
  ${fact('Narrative', x.narrative)}
  ${fact('PBMS reference', x.mis_reference_number)}
  ${fact('Received at', view.time(x.receipt_time_stamp))}
  ${fact('Cancellation', html`${badge(x.cancellation_status)} ${view.time(x.cancellation_time_stamp)}`)}
  ${fact('Mapper batch', html`<span class="mono">${x.mapper_resolution_batch_id}</span>`)}
  ${fact('Bank batch', html`<span class="mono">${x.bank_disbursement_batch_id}</span>`)}
</dl></section>
<h2>Id resolution</h2>
${
  d.resolution
    ? html`<section class="panel"><dl class="facts">
  ${fact('Resolved', d.resolution.resolved ? badge('resolved', 'ok') : badge('unresolved', 'warn'))}
  ${fact('Reason', d.resolution.unresolved_reason)}
  ${fact('Address type', d.resolution.mapper_resolved_fa_type)}
  ${fact('Bank / branch', [d.resolution.bank_code, d.resolution.branch_code].filter(Boolean).join(' / '))}
  ${fact('Wallet provider', d.resolution.mobile_wallet_provider ?? d.resolution.email_wallet_provider)}
  ${fact('Resolved at', view.time(d.resolution.resolved_at))}
</dl></section>`
    : html`<p class="muted">Not resolved (yet, or the program sends ids to the bank as they are).</p>`
}
<h2>Reconciliation</h2>
${
  d.recon
    ? html`<section class="panel"><dl class="facts">
  ${fact('Debit statement', statementLink(d.recon.remittance_statement_id))}
  ${fact('Statement number / sequence', `${d.recon.remittance_statement_number ?? ''}${d.recon.remittance_statement_sequence ? `/${d.recon.remittance_statement_sequence}` : ''}`)}
  ${fact('Entry', d.recon.remittance_entry_sequence)}
  ${fact('Entry / value date', `${d.recon.remittance_entry_date ?? ''} / ${d.recon.remittance_value_date ?? ''}`)}
  ${fact('Bank reference', html`<span class="mono">${d.recon.remittance_reference_number}</span>`)}
  ${fact('Name at the bank', d.recon.beneficiary_name_from_bank)}
  ${fact('Reversed', d.recon.reversal_found ? badge('reversed', 'bad') : 'no')}
  ${d.recon.reversal_found ? fact('Reversal statement', statementLink(d.recon.reversal_statement_id)) : ''}
  ${d.recon.reversal_found ? fact('Reversal entry / date', `${d.recon.reversal_entry_sequence ?? ''} / ${d.recon.reversal_entry_date ?? ''}`) : ''}
  ${d.recon.reversal_found ? fact('Reversal reason', d.recon.reversal_reason) : ''}
</dl></section>`
    : html`<p class="muted">No debit for this disbursement on any statement yet.</p>`
}
<h2>Error recons</h2>
${errorReconTable(d.errorRecons, 'None.')}`;
  const active = ['received', 'shipped'].includes(x.lifecycle_status);
  return page(
    {
      title: `Disbursement ${x.disbursement_id}`,
      nav: 'lookup',
      lookupValue: id,
      refresh: active ? view.refreshSeconds : 0,
    },
    body,
  );
}

export function loginPage(options: {
  next: string;
  error?: string;
  authDisabled?: boolean;
  /** Where a token this bridge accepts comes from, and the command that mints one (when it is local). */
  token: { text: string; command?: string };
}) {
  const body = html`<div class="login panel">
<h1>Sign in to the dashboard</h1>
${options.error ? html`<div class="notice bad" role="alert">${options.error}</div>` : ''}
<p>Paste a bearer token with the <strong>admin</strong> or <strong>pbms</strong> role. ${options.token.text}</p>
${options.token.command ? html`<pre class="mono">${options.token.command}</pre>` : ''}
<form method="post" action="/dashboard/login">
  <input type="hidden" name="next" value="${options.next}">
  <label for="token" class="muted">Token</label>
  <textarea id="token" name="token" required autocomplete="off" spellcheck="false"></textarea>
  <div class="actions"><button type="submit" class="primary">Sign in</button>
  <span class="muted">The token is kept in an HttpOnly cookie for this browser until it expires.</span></div>
</form>
</div>`;
  return page({ title: 'Sign in', signedIn: false }, body);
}

export function messagePage(title: string, message: SafeHtml | string, tone: 'bad' | '' = '') {
  return page({ title }, html`<h1>${title}</h1><div class="notice ${tone}">${message}</div>`);
}

/** G2P Connect callbacks: per sender, pending / delivered / failing, and the ones not delivered yet. */
export function callbacksPage(
  view: View,
  senders: CallbackSenderRow[],
  undelivered: CallbackRow[],
  limit: number,
) {
  const waiting = senders.some((s) => s.pending > 0 || s.failing > 0);
  const body = html`<h1>Callbacks</h1>
<p class="muted">Answers and status pushes to G2P Connect senders, delivered to each sender's configured callback URL (G2P_CONNECT_SENDERS). Failing: tried and refused or unreachable, retried with backoff (or given up: ERROR).</p>
${
  senders.length
    ? html`<div class="table-wrap"><table data-table="callback-senders">
<thead><tr><th>Sender</th><th class="num">Pending</th><th class="num">Delivered</th><th class="num">Failing</th><th>Last delivered</th></tr></thead>
<tbody>${senders.map(
        (s) =>
          html`<tr data-sender="${s.sender_id}"><td class="mono">${s.sender_id}</td><td class="num" data-field="pending">${count(s.pending)}</td><td class="num" data-field="delivered">${count(s.delivered)}</td><td class="num" data-field="failing">${s.failing ? badge(formatCount(s.failing), 'bad') : count(0)}</td><td class="nowrap">${view.time(s.last_delivered_at)}</td></tr>`,
      )}</tbody></table></div>`
    : html`<div class="panel muted">No callbacks yet. They are queued by the asynchronous G2P Connect calls (<code>POST /disburse</code>, …) and by status pushes to subscribed senders.</div>`
}
<h2>Not delivered yet</h2>
${
  undelivered.length
    ? html`<div class="table-wrap"><table data-table="callbacks">
<thead><tr><th>Message id</th><th>Sender</th><th>Action</th><th>Transaction</th><th>Status</th><th class="num">Attempts</th><th>Error</th><th>Next attempt</th><th>Queued</th></tr></thead>
<tbody>${undelivered.map(
        (c) =>
          html`<tr data-callback="${c.message_id}"><td class="mono">${c.message_id}</td><td class="mono">${c.sender_id}</td><td>${c.action}</td><td class="mono">${c.transaction_id ?? ''}</td><td>${badge(c.delivery_status)}</td><td class="num">${count(c.delivery_attempts)}</td><td>${c.latest_error_code ? badge(c.latest_error_code, 'bad') : ''}</td><td class="nowrap">${c.delivery_status === 'PENDING' ? view.time(c.next_attempt_at) : ''}</td><td class="nowrap">${view.time(c.created_at)}</td></tr>`,
      )}</tbody></table></div>${undelivered.length >= limit ? html`<p class="muted">The first ${formatCount(limit)} shown.</p>` : ''}`
    : html`<div class="panel muted">Every callback was delivered.</div>`
}`;
  return page({ title: 'Callbacks', nav: 'callbacks', refresh: waiting ? view.refreshSeconds : 0 }, body);
}
