// A small Prometheus registry written for the bridge: counters, gauges and histograms kept in memory, plus
// collectors that read their figures (from the database) at scrape time. Output is the text exposition
// format 0.0.4 that every Prometheus-compatible scraper reads.

export type Labels = Record<string, string>;
export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface Sample {
  /** Suffix added to the family name (`_bucket`, `_sum`, `_count`), empty for plain samples. */
  suffix?: string;
  labels: Labels;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** Reads figures at scrape time. A collector that throws is reported, the rest of the scrape goes on. */
export type Collector = () => Promise<Family[]> | Family[];

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function keyOf(labelNames: readonly string[], labels: Labels): string {
  return labelNames.map((n) => labels[n] ?? '').join('\u0000');
}

function checkLabels(name: string, labelNames: readonly string[], labels: Labels) {
  for (const key of Object.keys(labels)) {
    if (!labelNames.includes(key)) throw new Error(`metric ${name} has no label ${key}`);
  }
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
    for (const l of labelNames) if (!LABEL.test(l) || l === 'le') throw new Error(`invalid label ${l}`);
  }
  abstract family(): Family;
}

export class Counter extends Metric {
  private values = new Map<string, { labels: Labels; value: number }>();

  inc(labels: Labels = {}, by = 1) {
    if (!(by >= 0)) throw new Error(`counter ${this.name} can only go up`);
    checkLabels(this.name, this.labelNames, labels);
    const key = keyOf(this.labelNames, labels);
    const entry = this.values.get(key);
    if (entry) entry.value += by;
    else this.values.set(key, { labels: { ...labels }, value: by });
  }

  get(labels: Labels = {}): number {
    return this.values.get(keyOf(this.labelNames, labels))?.value ?? 0;
  }

  family(): Family {
    const samples = [...this.values.values()].map((v) => ({ labels: v.labels, value: v.value }));
    return { name: this.name, help: this.help, type: 'counter', samples };
  }
}

export class Gauge extends Metric {
  private values = new Map<string, { labels: Labels; value: number }>();

  set(labels: Labels, value: number) {
    checkLabels(this.name, this.labelNames, labels);
    this.values.set(keyOf(this.labelNames, labels), { labels: { ...labels }, value });
  }

  family(): Family {
    const samples = [...this.values.values()].map((v) => ({ labels: v.labels, value: v.value }));
    return { name: this.name, help: this.help, type: 'gauge', samples };
  }
}

export class Histogram extends Metric {
  private series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {
    super(name, help, labelNames);
    for (let i = 1; i < buckets.length; i++) {
      if (buckets[i]! <= buckets[i - 1]!) throw new Error(`histogram ${name}: buckets must increase`);
    }
  }

  observe(labels: Labels, value: number) {
    checkLabels(this.name, this.labelNames, labels);
    const key = keyOf(this.labelNames, labels);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { ...labels }, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    // Buckets are cumulative in the exposition; store them per bucket and add up when rendering.
    const index = this.buckets.findIndex((b) => value <= b);
    if (index >= 0) s.counts[index]!++;
    s.sum += value;
    s.count++;
  }

  family(): Family {
    const samples: Sample[] = [];
    for (const s of this.series.values()) {
      let running = 0;
      this.buckets.forEach((bound, i) => {
        running += s.counts[i]!;
        samples.push({ suffix: '_bucket', labels: { ...s.labels, le: formatValue(bound) }, value: running });
      });
      samples.push({ suffix: '_bucket', labels: { ...s.labels, le: '+Inf' }, value: s.count });
      samples.push({ suffix: '_sum', labels: s.labels, value: s.sum });
      samples.push({ suffix: '_count', labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', samples };
  }
}

export class Registry {
  private metrics: Metric[] = [];
  private collectors: Array<{ name: string; collect: Collector }> = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames));
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** `name` identifies the collector in `g2p_metrics_collector_up`. */
  collector(name: string, collect: Collector) {
    this.collectors.push({ name, collect });
  }

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} exists`);
    this.metrics.push(metric);
    return metric;
  }

  /** Every family: the in-memory metrics, then each collector's, then whether each collector answered. */
  async collect(): Promise<{ families: Family[]; failures: Array<{ collector: string; error: Error }> }> {
    const families = this.metrics.map((m) => m.family());
    const failures: Array<{ collector: string; error: Error }> = [];
    const up: Sample[] = [];
    for (const c of this.collectors) {
      try {
        families.push(...(await c.collect()));
        up.push({ labels: { collector: c.name }, value: 1 });
      } catch (error) {
        failures.push({ collector: c.name, error: error as Error });
        up.push({ labels: { collector: c.name }, value: 0 });
      }
    }
    if (this.collectors.length) {
      families.push({
        name: 'g2p_metrics_collector_up',
        help: 'Whether the collector answered at this scrape (1) or failed (0).',
        type: 'gauge',
        samples: up,
      });
    }
    return { families, failures };
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Renders families in the text format. Families sharing a name are merged under one HELP/TYPE header. */
export function renderText(families: Family[]): string {
  const merged = new Map<string, Family>();
  for (const f of families) {
    const existing = merged.get(f.name);
    if (existing) existing.samples.push(...f.samples);
    else merged.set(f.name, { ...f, samples: [...f.samples] });
  }
  const lines: string[] = [];
  for (const f of merged.values()) {
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    lines.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const entries = Object.entries(s.labels);
      const labels = entries.length
        ? `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`
        : '';
      lines.push(`${f.name}${s.suffix ?? ''}${labels} ${formatValue(s.value)}`);
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
