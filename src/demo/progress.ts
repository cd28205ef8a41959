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
    const pct = `${Math.floor(f * 100)}%`.padStart(4);
    return `  ${bar.label.padEnd(labelWidth)} ${color}${'█'.repeat(filled)}\x1b[2m${'░'.repeat(WIDTH - filled)}\x1b[0m ${pct}  ${bar.text}`;
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
  const shown = new Map<string, { tenth: number; text: string }>();
  return {
    update(bars) {
      for (const bar of bars) {
        const tenth = Math.floor(fraction(bar) * 10);
        const previous = shown.get(bar.key);
        const complete = bar.of > 0 && bar.done >= bar.of;
        // A line when a stage first shows, moves by a tenth, or finishes (each once).
        if (
          !previous ||
          tenth > previous.tenth ||
          (complete && previous.tenth < 10 && bar.text !== previous.text)
        ) {
          out.write(
            `  ${bar.label.padEnd(labelWidth)} ${`${Math.floor(fraction(bar) * 100)}%`.padStart(4)}  ${bar.text}\n`,
          );
          shown.set(bar.key, { tenth: complete ? 10 : tenth, text: bar.text });
        }
      }
    },
    line(text) {
      out.write(`${text}\n`);
    },
    finish() {},
  };
}
