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
