// "Today" is judged in the deployment's time zone (a country's), not the server's or UTC.

// Building an Intl.DateTimeFormat is costly and the zone is one per deployment: build it once per zone.
const dayFormats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date of `now` in `timeZone`, as 'YYYY-MM-DD'. */
export function localDate(now: Date, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dayFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** 'YYYY-MM-DD' plus `days` calendar days. */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** A `date` column value as the reference's date-time string (a bank date has no time of day). */
export function dateAsDateTime(date: string | null): string | null {
  return date === null ? null : `${date}T00:00:00`;
}

export function isoOrNull(value: Date | string | null): string | null {
  if (value === null) return null;
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}
