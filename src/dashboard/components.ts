// Building blocks shared by the dashboard pages: the page frame, progress bars (inline SVG: no inline styles,
// so the strict Content-Security-Policy holds), badges and number formatting.
import { currencyExponent, normaliseDecimal } from '../money/index.js';
import { CSS_PATH, JS_PATH } from './assets.js';
import { formatAmount, formatCount, html, query, type SafeHtml, seg } from './html.js';
import { LIFECYCLE_STATES, type LifecycleState, type StateCounts } from './queries.js';

export interface Frame {
  title: string;
  nav?: 'envelopes' | 'statements' | 'callbacks' | 'lookup' | 'none';
  /** Seconds between automatic reloads; 0 for pages with nothing in progress. */
  refresh?: number;
  signedIn?: boolean;
  lookupValue?: string;
}

export function page(frame: Frame, body: SafeHtml): string {
  const nav = frame.nav ?? 'none';
  const link = (key: Frame['nav'], href: string, label: string) =>
    html`<a href="${href}" class="${nav === key ? 'current' : ''}">${label}</a>`;
  const header =
    frame.signedIn === false
      ? html`<header class="top"><span class="brand">g2p-bridge</span></header>`
      : html`<header class="top">
  <a class="brand" href="/dashboard">g2p-bridge</a>
  <nav>${link('envelopes', '/dashboard', 'Envelopes')}${link('statements', '/dashboard/statements', 'Statements')}${link('callbacks', '/dashboard/callbacks', 'Callbacks')}</nav>
  <form method="get" action="/dashboard/disbursements" role="search">
    <input type="text" name="id" placeholder="Disbursement id" aria-label="Disbursement id" value="${frame.lookupValue ?? ''}" size="22">
    <button type="submit">Look up</button>
  </form>
  <span class="spacer"></span>
  <button type="button" id="refresh-toggle" hidden>Auto-refresh</button>
  <form method="post" action="/dashboard/logout"><button type="submit">Sign out</button></form>
</header>`;
  return `<!doctype html>
${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · g2p-bridge</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${CSS_PATH}">
</head>
<body data-refresh="${frame.refresh ?? 0}">
${header}
<main>
${body}
</main>
<script src="${JS_PATH}"></script>
</body>
</html>`}`;
}

const STATE_LABEL: Record<LifecycleState, string> = {
  received: 'received',
  cancelled: 'cancelled',
  unresolved: 'unresolved',
  shipped: 'shipped',
  refused: 'refused by the bank',
  reconciled: 'reconciled',
  reversed: 'reversed',
};

// Left to right in the order a payment travels, so the bar fills from the left as work completes.
const BAR_ORDER: LifecycleState[] = [
  'reconciled',
  'reversed',
  'shipped',
  'refused',
  'unresolved',
  'cancelled',
  'received',
];

export function totalOf(counts: StateCounts): number {
  return LIFECYCLE_STATES.reduce((n, s) => n + counts[s].count, 0);
}

/** One bar split into the lifecycle states, with a legend of exact counts. */
export function lifecycleBar(counts: StateCounts, envelopeId?: string): SafeHtml {
  const total = totalOf(counts);
  let x = 0;
  const rects = BAR_ORDER.filter((s) => counts[s].count > 0).map((s) => {
    const width = (counts[s].count / total) * 1000;
    const rect = html`<rect class="s-${s}" x="${x.toFixed(2)}" y="0" width="${width.toFixed(2)}" height="12"><title>${STATE_LABEL[s]}: ${formatCount(counts[s].count)}</title></rect>`;
    x += width;
    return rect;
  });
  const label = LIFECYCLE_STATES.map((s) => `${STATE_LABEL[s]} ${counts[s].count}`).join(', ');
  return html`<svg class="bar" viewBox="0 0 1000 12" preserveAspectRatio="none" role="img" aria-label="${label}">
<rect class="track" x="0" y="0" width="1000" height="12"></rect>${rects}</svg>
<div class="legend" ${envelopeId ? html`data-envelope="${envelopeId}"` : ''}>${LIFECYCLE_STATES.map(
    (s) =>
      html`<span><span class="dot s-${s}"></span>${STATE_LABEL[s]} <strong data-state="${s}">${formatCount(counts[s].count)}</strong></span>`,
  )}<span class="muted">total <strong data-state="total">${formatCount(total)}</strong></span></div>`;
}

/** A single progress bar: `done` of `of`, with an optional failed part shown in red at the end. */
export function progressBar(done: number, of: number, failed = 0): SafeHtml {
  const w = (n: number) => (of > 0 ? Math.min(1000, (n / of) * 1000) : 0);
  const doneWidth = w(done);
  const failedWidth = Math.min(1000 - doneWidth, w(failed));
  return html`<svg class="bar" viewBox="0 0 1000 12" preserveAspectRatio="none" role="img" aria-label="${done} of ${of}">
<rect class="track" x="0" y="0" width="1000" height="12"></rect>
<rect class="done" x="0" y="0" width="${doneWidth.toFixed(2)}" height="12"></rect>
${failed > 0 ? html`<rect class="err" x="${doneWidth.toFixed(2)}" y="0" width="${failedWidth.toFixed(2)}" height="12"></rect>` : ''}
</svg>`;
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | '';

const TONES: Record<string, Tone> = {
  PROCESSED: 'ok',
  PENDING: 'info',
  ERROR: 'bad',
  PENDING_CHECK: 'info',
  FUNDS_AVAILABLE: 'ok',
  FUNDS_NOT_AVAILABLE: 'warn',
  FUNDS_BLOCK_SUCCESS: 'ok',
  FUNDS_BLOCK_FAILURE: 'warn',
  Cancelled: '',
  Not_Cancelled: 'ok',
};

export function badge(text: string | null | undefined, tone?: Tone): SafeHtml {
  if (!text) return html``;
  return html`<span class="badge ${tone ?? TONES[text] ?? ''}">${text}</span>`;
}

export function count(n: number | null | undefined): SafeHtml {
  return html`${n === null || n === undefined ? '' : formatCount(n)}`;
}

/** An exact amount, with the currency's minor digits ("0" → "0.00") and, unless `label` is false, its code. */
export function amount(value: string | null | undefined, currency?: string, label = true): SafeHtml {
  if (value === null || value === undefined) return html``;
  let text = value;
  const exponent = currency ? currencyExponent(currency) : undefined;
  if (exponent !== undefined) {
    try {
      text = normaliseDecimal(value, exponent);
    } catch {
      text = value; // more decimals than the currency has: show what the database holds
    }
  }
  return html`${formatAmount(text)}${currency && label ? html` <span class="muted">${currency}</span>` : ''}`;
}

export const envelopeLink = (id: string) => html`<a href="/dashboard/envelopes/${seg(id)}">${id}</a>`;
export const statementLink = (id: string | null | undefined) =>
  id ? html`<a href="/dashboard/statements/${seg(id)}" class="mono">${id}</a>` : html``;
export const disbursementLink = (id: string | null | undefined) =>
  id ? html`<a href="/dashboard/disbursements${query({ id })}" class="mono">${id}</a>` : html``;

export function pager(base: string, offset: number, limit: number, more: boolean, params = {}): SafeHtml {
  if (offset === 0 && !more) return html``;
  const prev = Math.max(0, offset - limit);
  return html`<div class="pager">
${offset > 0 ? html`<a href="${base}${query({ ...params, offset: prev || undefined })}">← Newer</a>` : ''}
${more ? html`<a href="${base}${query({ ...params, offset: offset + limit })}">Older →</a>` : ''}
</div>`;
}
