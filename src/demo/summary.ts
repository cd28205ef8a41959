// The reconciliation summary the demo ends with: every disbursement accounted for, by state and reason,
// with exact amounts, and the checks that tie the bridge's figures to what the demo sent.
import { LIFECYCLE_STATES, type LifecycleState } from '../envelopes/lifecycle.js';
import { compareDecimals, decimalToMinor, formatMinorUnits } from '../money/index.js';
import type { StageTiming } from './progress.js';

// The demo counts the same lifecycle states the bridge derives, in the same order.
export type State = LifecycleState;
const STATES = LIFECYCLE_STATES;
export type StateTotals = Record<State, { count: number; amount: string }>;
export interface ReasonRow {
  state: State;
  reason: string | null;
  count: number;
  amount: string;
}

/** One payout channel's disbursements per state: 'BANK', a provider code, or null (not decided). */
export interface ChannelTotals {
  channel: string | null;
  states: StateTotals;
}

export interface Check {
  ok: boolean;
  text: string;
}

export interface SummaryInput {
  envelopeId: string;
  program: string;
  currency: string;
  exponent: number;
  states: StateTotals;
  reasons: ReasonRow[];
  /** The API's envelope status (number_of_disbursements_* counters). */
  api: {
    number_of_disbursements_shipped: number;
    number_of_disbursements_reconciled: number;
    number_of_disbursements_reversed: number;
    lifecycle_summary?: Partial<Record<State, { count: number }>>;
  };
  expected: {
    count: number;
    total: string;
    cancelled: number;
    cancelledAmount: string;
    unresolved: number;
    unresolvedAmount: string;
  };
  statements: { processed: number; errorRecons: number };
  /** Per payout channel (the envelope status's channel_summary), when the run pays wallets too. */
  channels?: ChannelTotals[];
  /** What the plan sends through the wallet channel, and what the provider is expected to refuse. */
  wallet?: {
    provider: string;
    count: number;
    amount: string;
    refused: Array<{ code: string; count: number; amount: string }>;
  };
  elapsedMs: number;
  /** Wall time per stage of the cycle, when the demo timed them. */
  stages?: StageTiming[];
}

function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1234567.50" → "1,234,567.50", exactly (string work, no float). */
export function groupAmount(decimal: string): string {
  const [int = '0', frac] = decimal.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac !== undefined ? `${grouped}.${frac}` : grouped;
}

export function renderSummary(s: SummaryInput): { text: string; checks: Check[] } {
  const e = s.exponent;
  const minor = (a: string) => decimalToMinor(a, e);
  const fmt = (m: bigint) => groupAmount(formatMinorUnits(m, e));
  // A bridge older than the `refused` state leaves it out: count it as none.
  const st = { ...s.states, refused: s.states.refused ?? { count: 0, amount: '0' } };
  const sum = (...states: State[]) => ({
    count: states.reduce((n, x) => n + st[x].count, 0),
    minor: states.reduce((m, x) => m + minor(st[x].amount), 0n),
  });
  const all = sum(...STATES);
  const shipped = sum('shipped', 'reconciled', 'reversed');
  const debited = sum('reconciled', 'reversed');

  const rows: Array<[string, number, bigint]> = [
    ['received from the PBMS', all.count, all.minor],
    ['cancelled by the PBMS', st.cancelled.count, minor(st.cancelled.amount)],
    ['unresolved by the mapper', st.unresolved.count, minor(st.unresolved.amount)],
    [
      s.channels ? 'refused (by the bank or provider)' : 'refused by the bank',
      st.refused.count,
      minor(st.refused.amount),
    ],
    ['still to ship', st.received.count, minor(st.received.amount)],
    [s.channels ? 'shipped (bank and wallets)' : 'shipped to the bank', shipped.count, shipped.minor],
    ['  reconciled (paid)', st.reconciled.count, minor(st.reconciled.amount)],
    ['  reversed by the bank', st.reversed.count, minor(st.reversed.amount)],
  ];
  const reversals = s.reasons
    .filter((r) => r.state === 'reversed')
    .sort((a, b) => b.count - a.count || String(a.reason).localeCompare(String(b.reason)));
  for (const r of reversals) rows.push([`    ${r.reason ?? '(no reason given)'}`, r.count, minor(r.amount)]);
  rows.push(['  awaiting a statement', st.shipped.count, minor(st.shipped.amount)]);
  const refusals = s.reasons
    .filter((r) => r.state === 'refused')
    .sort((a, b) => b.count - a.count || String(a.reason).localeCompare(String(b.reason)));
  const unresolvedReasons = s.reasons.filter((r) => r.state === 'unresolved');

  const labelWidth = Math.max(34, ...rows.map((r) => r[0].length + 2));
  const countWidth = Math.max(13, ...rows.map((r) => fmtCount(r[1]).length));
  const amountWidth = Math.max(18, ...rows.map((r) => fmt(r[2]).length));
  const lines = [
    `Reconciliation summary: envelope ${s.envelopeId}, program ${s.program}, amounts in ${s.currency}`,
    `  ${''.padEnd(labelWidth)}${'disbursements'.padStart(countWidth)}  ${'amount'.padStart(amountWidth)}`,
    ...rows.map(
      ([label, count, amount]) =>
        `  ${label.padEnd(labelWidth)}${fmtCount(count).padStart(countWidth)}  ${fmt(amount).padStart(amountWidth)}`,
    ),
  ];
  if (unresolvedReasons.length) {
    lines.push(
      `  unresolved because: ${unresolvedReasons.map((r) => `${r.reason ?? 'no reason'} (${fmtCount(r.count)})`).join(', ')}`,
    );
  }
  if (refusals.length) {
    lines.push(
      `  refused because: ${refusals.map((r) => `${r.reason ?? 'no reason'} (${fmtCount(r.count)})`).join(', ')}`,
    );
  }

  if (s.channels) lines.push(...channelLines(s.channels, (m) => fmt(m / 10n ** BigInt(SCALE - e))));

  const expectedTotal = minor(s.expected.total);
  const reasonCount = reversals.reduce((n, r) => n + r.count, 0);
  const reasonMinor = reversals.reduce((m, r) => m + minor(r.amount), 0n);
  const lifecycle = s.api.lifecycle_summary;
  const checks: Check[] = [
    {
      ok: all.count === s.expected.count && all.minor === expectedTotal,
      text: `the bridge holds what the demo sent: ${fmtCount(s.expected.count)} disbursements for ${fmt(expectedTotal)}`,
    },
    {
      ok:
        st.cancelled.count === s.expected.cancelled &&
        compareDecimals(st.cancelled.amount, s.expected.cancelledAmount) === 0,
      text: `cancelled as planned: ${fmtCount(s.expected.cancelled)} for ${groupAmount(s.expected.cancelledAmount)}`,
    },
    {
      ok:
        st.unresolved.count === s.expected.unresolved &&
        compareDecimals(st.unresolved.amount, s.expected.unresolvedAmount) === 0,
      text: `unresolved as planned (ids the mapper does not know): ${fmtCount(s.expected.unresolved)} for ${groupAmount(s.expected.unresolvedAmount)}`,
    },
    {
      ok: st.received.count === 0 && st.shipped.count === 0,
      text: 'every disbursement reached an end state (none still to ship, none awaiting a statement)',
    },
    {
      ok:
        all.minor ===
        minor(st.cancelled.amount) +
          minor(st.unresolved.amount) +
          minor(st.refused.amount) +
          shipped.minor +
          minor(st.received.amount),
      text: 'received = cancelled + unresolved + refused + shipped + still to ship, to the last minor unit',
    },
    {
      ok: reasonCount === st.reversed.count && reasonMinor === minor(st.reversed.amount),
      text: 'reversals by reason add up to the reversed total',
    },
    {
      ok:
        s.api.number_of_disbursements_shipped === shipped.count &&
        s.api.number_of_disbursements_reconciled === debited.count &&
        s.api.number_of_disbursements_reversed === st.reversed.count,
      text: `the envelope status API agrees: shipped ${fmtCount(s.api.number_of_disbursements_shipped)}, debits reconciled ${fmtCount(s.api.number_of_disbursements_reconciled)}, reversed ${fmtCount(s.api.number_of_disbursements_reversed)}`,
    },
  ];
  if (lifecycle) {
    checks.push({
      ok: STATES.every((x) => (lifecycle[x]?.count ?? 0) === st[x].count),
      text: "the API's lifecycle_summary matches the dashboard's counts",
    });
  }
  if (s.channels) checks.push(...channelChecks(s, all, minor, fmt));
  lines.push('', 'Checks');
  for (const c of checks) lines.push(`  ${c.ok ? 'ok  ' : 'FAIL'} ${c.text}`);
  lines.push(
    '',
    `Statements reconciled: ${fmtCount(s.statements.processed)}; statement entries that could not be matched: ${fmtCount(s.statements.errorRecons)}.`,
    `Took ${(s.elapsedMs / 1000).toFixed(1)} s.`,
  );
  if (s.stages?.length) lines.push('', ...renderStages(s.stages));
  return { text: `${lines.join('\n')}\n`, checks };
}

/** Seconds with one decimal from whole milliseconds, without a float in the figure. */
const seconds = (ms: number) => `${Math.floor(ms / 1000)}.${Math.floor((ms % 1000) / 100)}`;

/** Rows per second, rounded down (display only). */
export function rate(rows: number, ms: number): number | null {
  return ms > 0 && rows > 0 ? Math.floor((rows * 1000) / ms) : null;
}

/** The stages' wall times: when each ran (from the start of the cycle), how long, and at what rate. */
export function renderStages(stages: StageTiming[]): string[] {
  const width = Math.max(18, ...stages.map((t) => t.label.length + 2));
  const lines = [
    `Stages (wall time; they overlap, each timed to within one poll)`,
    `  ${''.padEnd(width)}${'from'.padStart(9)}${'to'.padStart(9)}${'took'.padStart(9)}${'rows'.padStart(12)}${'rows/s'.padStart(10)}`,
  ];
  for (const t of stages) {
    const took = t.startedMs !== null && t.finishedMs !== null ? t.finishedMs - t.startedMs : null;
    const r = took === null ? null : rate(t.rows, took);
    lines.push(
      `  ${t.label.padEnd(width)}${(t.startedMs === null ? '–' : `${seconds(t.startedMs)} s`).padStart(9)}` +
        `${(t.finishedMs === null ? '–' : `${seconds(t.finishedMs)} s`).padStart(9)}` +
        `${(took === null ? 'not done' : `${seconds(took)} s`).padStart(9)}` +
        `${fmtCount(t.rows).padStart(12)}${(r === null ? '–' : fmtCount(r)).padStart(10)}`,
    );
  }
  return lines;
}

const channelName = (c: string | null) =>
  c === null ? '(not decided)' : c === 'BANK' ? 'bank' : `wallet ${c}`;

/**
 * A line per payout channel: paid, refused, awaiting an outcome, and the channel's whole amount (`fmt` takes
 * it in SCALE decimals).
 */
function channelLines(channels: ChannelTotals[], fmt: (m: bigint) => string): string[] {
  const rows = channels.map((c) => {
    const minorOf = (x: State[]) => x.reduce((n, k) => n + decimalToMinorLoose(c.states[k].amount), 0n);
    return {
      name: channelName(c.channel),
      paid: c.states.reconciled.count,
      refused: c.states.refused.count,
      awaiting: c.states.shipped.count + c.states.received.count,
      reversed: c.states.reversed.count,
      other: c.states.cancelled.count + c.states.unresolved.count,
      total: STATES.reduce((n, k) => n + c.states[k].count, 0),
      amount: minorOf([...STATES]),
    };
  });
  const w = Math.max(16, ...rows.map((r) => r.name.length + 2));
  const head = `  ${'by payout channel'.padEnd(w)}${'paid'.padStart(10)}${'refused'.padStart(10)}${'reversed'.padStart(10)}${'awaiting'.padStart(10)}${'other'.padStart(8)}${'total'.padStart(10)}  ${'amount'.padStart(18)}`;
  return [
    '',
    head,
    ...rows.map(
      (r) =>
        `  ${r.name.padEnd(w)}${fmtCount(r.paid).padStart(10)}${fmtCount(r.refused).padStart(10)}${fmtCount(r.reversed).padStart(10)}${fmtCount(r.awaiting).padStart(10)}${fmtCount(r.other).padStart(8)}${fmtCount(r.total).padStart(10)}  ${fmt(r.amount).padStart(18)}`,
    ),
  ];
}

/** An answered amount at whatever scale it comes (the API drops trailing zeros), in a fixed minor unit. */
const SCALE = 10;
function decimalToMinorLoose(amount: string): bigint {
  return decimalToMinor(amount, SCALE);
}

function channelChecks(
  s: SummaryInput,
  all: { count: number; minor: bigint },
  minor: (a: string) => bigint,
  fmt: (m: bigint) => string,
): Check[] {
  const channels = s.channels ?? [];
  const scaled = (m: bigint) => m * 10n ** BigInt(SCALE - s.exponent);
  const sumCount = channels.reduce((n, c) => n + STATES.reduce((k, x) => k + c.states[x].count, 0), 0);
  const sumMinor = channels.reduce(
    (n, c) => n + STATES.reduce((k, x) => k + decimalToMinorLoose(c.states[x].amount), 0n),
    0n,
  );
  const checks: Check[] = [
    {
      ok: sumCount === all.count && sumMinor === scaled(all.minor),
      text: `the payout channels add up to the envelope exactly: ${fmtCount(sumCount)} disbursements for ${fmt(all.minor)}`,
    },
  ];
  const w = s.wallet;
  if (!w) return checks;
  const c = channels.find((x) => x.channel?.toUpperCase() === w.provider.toUpperCase());
  const st = c?.states;
  const of = (x: State) => st?.[x] ?? { count: 0, amount: '0' };
  const carried = STATES.filter((x) => x !== 'cancelled');
  const walletCount = carried.reduce((n, x) => n + of(x).count, 0);
  const walletMinor = carried.reduce((n, x) => n + decimalToMinorLoose(of(x).amount), 0n);
  checks.push({
    ok: walletCount === w.count && walletMinor === scaled(minor(w.amount)),
    text: `the wallet channel ${w.provider} carried what the plan sends it: ${fmtCount(w.count)} disbursements for ${groupAmount(w.amount)}`,
  });
  checks.push({
    ok: of('shipped').count === 0 && of('received').count === 0,
    text: `every wallet payment ended paid or refused with a code (${fmtCount(of('reconciled').count)} paid, ${fmtCount(of('refused').count)} refused)`,
  });
  const refusedPlanned = w.refused.reduce((n, r) => n + r.count, 0);
  const byCode = new Map(
    s.reasons.filter((r) => r.state === 'refused').map((r) => [r.reason ?? '', r] as const),
  );
  checks.push({
    ok:
      of('refused').count === refusedPlanned &&
      w.refused.every(
        (r) => byCode.get(r.code)?.count === r.count && minor(byCode.get(r.code)!.amount) === minor(r.amount),
      ),
    text: `the provider refused the planned wallets: ${w.refused.map((r) => `${r.code} ${fmtCount(r.count)}`).join(', ') || 'none'}`,
  });
  return checks;
}
