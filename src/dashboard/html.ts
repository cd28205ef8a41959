// HTML building with escaping by default: every value interpolated into `html\`...\`` is escaped unless it
// is itself the result of `html` (already safe). Names, references and error messages come from PBMS input
// and bank statements, so nothing reaches a page unescaped.

export class SafeHtml {
  constructor(readonly value: string) {}
  toString() {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

type Value = SafeHtml | string | number | bigint | boolean | null | undefined | Value[];

function render(value: Value): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0]!;
  values.forEach((value, i) => {
    out += render(value) + strings[i + 1]!;
  });
  return new SafeHtml(out);
}

/** A query string from parameters, each name and value URL-encoded (the result still goes through html``). */
export function query(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  return parts.length ? `?${parts.join('&')}` : '';
}

/** A path segment: ids may contain any character, so they are percent-encoded inside links. */
export const seg = (value: string) => encodeURIComponent(value);

/** 1234567 → "1,234,567" (plain digits grouping; no locale surprises in tests). */
export function formatCount(n: number): string {
  return groupDigits(String(n));
}

/** An exact decimal string ("1234567.50") with grouped thousands; never through a float. */
export function formatAmount(decimal: string | null | undefined): string {
  if (decimal === null || decimal === undefined) return '';
  const negative = decimal.startsWith('-');
  const [int, frac] = (negative ? decimal.slice(1) : decimal).split('.');
  const grouped = groupDigits(int ?? '0');
  return `${negative ? '-' : ''}${grouped}${frac !== undefined ? `.${frac}` : ''}`;
}

function groupDigits(digits: string): string {
  const negative = digits.startsWith('-');
  const d = negative ? digits.slice(1) : digits;
  let out = '';
  for (let i = 0; i < d.length; i++) {
    if (i > 0 && (d.length - i) % 3 === 0) out += ',';
    out += d[i];
  }
  return negative ? `-${out}` : out;
}

/** Timestamps in the deployment's time zone, "2025-03-01 14:05:09". */
export function timeFormatter(timeZone: string) {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('sv-SE', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hour12: false,
    });
  } catch {
    format = new Intl.DateTimeFormat('sv-SE', { timeZone: 'UTC', dateStyle: 'short', timeStyle: 'medium' });
  }
  return (value: Date | string | null | undefined): string => {
    if (value === null || value === undefined) return '';
    const date = value instanceof Date ? value : new Date(value);
    return Number.isNaN(date.getTime()) ? String(value) : format.format(date);
  };
}
