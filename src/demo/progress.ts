// Progress bars for the demo: redrawn in place with plain ANSI escapes on a terminal, and as plain lines
// (one per stage, when it moves by a tenth or finishes) when the output is a file, a pipe or a test.

export interface Bar {
  key: string;
  label: string;
  done: number;
  of: number;
  /** The figure shown after the bar, e.g. "6 / 10 batches". */
  text: string;
}

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressView {
  /** Shows the bars' current state. */
  update(bars: Bar[]): void;
  /** Prints a line above the bars. */
  line(text: string): void;
  /** Leaves the bars as they are and moves below them. */
  finish(): void;
}

const WIDTH = 28;

function fraction(bar: Bar): number {
  if (bar.of <= 0) return bar.done > 0 ? 1 : 0;
  return Math.max(0, Math.min(1, bar.done / bar.of));
}

/** Whole percent, rounded down, without the float surprise of 58 / 100 * 100 = 57.99…. */
function percent(bar: Bar): number {
  if (bar.of <= 0) return bar.done > 0 ? 100 : 0;
  return Math.max(0, Math.min(100, Math.floor((bar.done * 100) / bar.of + 1e-9)));
}

export function progressView(out: Output, labelWidth = 14): ProgressView {
  return out.isTTY ? ttyView(out, labelWidth) : plainView(out, labelWidth);
}

function ttyView(out: Output, labelWidth: number): ProgressView {
  let drawn = 0;
  let last: Bar[] = [];
  const render = (bar: Bar) => {
    const f = fraction(bar);
    const filled = Math.round(f * WIDTH);
    const complete = bar.of > 0 && bar.done >= bar.of;
    const color = complete ? '\x1b[32m' : '\x1b[36m';
    const pct = `${percent(bar)}%`.padStart(4);
    // A wrapped line would break the redraw (it moves up by lines): keep each bar on one terminal row.
    const room = (out.columns ?? 120) - (labelWidth + WIDTH + 11);
    const text = bar.text.length > room ? `${bar.text.slice(0, Math.max(0, room - 1))}…` : bar.text;
    return `  ${bar.label.padEnd(labelWidth)} ${color}${'█'.repeat(filled)}\x1b[2m${'░'.repeat(WIDTH - filled)}\x1b[0m ${pct}  ${text}`;
  };
  const clear = () => {
    if (drawn > 0) out.write(`\x1b[${drawn}F`);
    for (let i = 0; i < drawn; i++) out.write('\x1b[2K\n');
    if (drawn > 0) out.write(`\x1b[${drawn}F`);
    drawn = 0;
  };
  const draw = (bars: Bar[]) => {
    clear();
    for (const bar of bars) out.write(`\x1b[2K${render(bar)}\n`);
    drawn = bars.length;
    last = bars;
  };
  return {
    update: draw,
    line(text) {
      clear();
      out.write(`${text}\n`);
      if (last.length) draw(last);
    },
    finish() {
      drawn = 0;
      last = [];
    },
  };
}

function plainView(out: Output, labelWidth: number): ProgressView {
  const printed = new Map<string, { tenth: number; text: string }>();
  let latest: Bar[] = [];
  const print = (bar: Bar) => {
    out.write(`  ${bar.label.padEnd(labelWidth)} ${`${percent(bar)}%`.padStart(4)}  ${bar.text}\n`);
    printed.set(bar.key, { tenth: Math.floor(percent(bar) / 10), text: bar.text });
  };
  return {
    update(bars) {
      latest = bars;
      // A line when a stage first shows and whenever it crosses a tenth (either way: denominators grow).
      for (const bar of bars) {
        const previous = printed.get(bar.key);
        if (!previous || Math.floor(percent(bar) / 10) !== previous.tenth) print(bar);
      }
    },
    line(text) {
      out.write(`${text}\n`);
    },
    finish() {
      // The final state of every stage, where it moved since its last line.
      for (const bar of latest) if (printed.get(bar.key)?.text !== bar.text) print(bar);
      latest = [];
    },
  };
}

/** How long one stage of the cycle took, as the demo saw it (wall time, whole milliseconds). */
export interface StageTiming {
  key: string;
  label: string;
  /** Milliseconds since the cycle started (the first create_disbursements call); null: never seen moving. */
  startedMs: number | null;
  /** Null: not seen complete. */
  finishedMs: number | null;
  /** Rows the stage handled (disbursements, payments, statement entries), for a rate. */
  rows: number;
}

/**
 * Times the stages from the progress the demo polls anyway: a stage starts after the last poll that saw it
 * idle and ends at the first poll that sees it complete, so each figure is exact to one poll interval.
 * Stages overlap (the bank posts while batches still ship); each is timed on its own.
 */
export class StageClock {
  private readonly stages = new Map<
    string,
    { label: string; idleAt: number; start: number | null; end: number | null; rows: number }
  >();

  constructor(
    private readonly origin: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records what the bars show at this moment. */
  observe(bars: Bar[], at = this.now()): void {
    for (const bar of bars) {
      const s = this.entry(bar.key, bar.label);
      if (s.start === null && bar.done <= 0) s.idleAt = at;
      else if (s.start === null) s.start = s.idleAt;
      if (s.end === null && bar.of > 0 && bar.done >= bar.of) s.end = at;
    }
  }

  /** A stage timed from outside the bars (ingest by the demo itself, statement writing by the bank). */
  set(key: string, label: string, start: number | null, end: number | null): void {
    const s = this.entry(key, label);
    s.start = start;
    s.end = end;
  }

  rows(key: string, rows: number): void {
    const s = this.stages.get(key);
    if (s) s.rows = rows;
  }

  timings(order: string[]): StageTiming[] {
    const keys = [...order, ...[...this.stages.keys()].filter((k) => !order.includes(k))];
    return keys.flatMap((key) => {
      const s = this.stages.get(key);
      if (!s) return [];
      const rel = (t: number | null) => (t === null ? null : Math.max(0, Math.round(t - this.origin)));
      return [{ key, label: s.label, startedMs: rel(s.start), finishedMs: rel(s.end), rows: s.rows }];
    });
  }

  private entry(key: string, label: string) {
    let s = this.stages.get(key);
    if (!s) {
      s = { label, idleAt: this.origin, start: null, end: null, rows: 0 };
      this.stages.set(key, s);
    }
    return s;
  }
}
