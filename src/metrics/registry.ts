// The bridge's Prometheus registry, on prom-client (docs/decisions.md, record 028): counters, gauges and
// histogram kept in memory by the library, plus collectors that read their figures (from the database) at
// scrape time and describe them as families. The library renders the text exposition format 0.0.4.
import client from 'prom-client';

export type Labels = Record<string, string>;
export type MetricType = 'counter' | 'gauge';

export interface Sample {
  labels: Labels;
  value: number;
}

/** What a collector read: one metric family and its samples at this scrape. */
export interface Family {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

/** Reads figures at scrape time. A collector that throws is reported, the rest of the scrape goes on. */
export type Collector = () => Promise<Family[]> | Family[];

export type Counter = client.Counter<string>;
export type Gauge = client.Gauge<string>;
export type Histogram = client.Histogram<string>;

export const CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;

export interface Scrape {
  /** The exposition text of every metric: the in-memory ones, each collector's, and whether each answered. */
  text: string;
  failures: Array<{ collector: string; error: Error }>;
}

export class Registry {
  /** The metrics this process counts itself (requests, durations). */
  private readonly live = new client.Registry();
  private readonly collectors: Array<{ name: string; collect: Collector }> = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return new client.Counter({ name, help, labelNames, registers: [this.live] });
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return new client.Gauge({ name, help, labelNames, registers: [this.live] });
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): Histogram {
    return new client.Histogram({ name, help, labelNames, buckets: [...buckets], registers: [this.live] });
  }

  /** `name` identifies the collector in `g2p_metrics_collector_up`. */
  collector(name: string, collect: Collector) {
    this.collectors.push({ name, collect });
  }

  /**
   * Runs every collector and renders everything. What collectors read goes into a registry made for this
   * scrape, so a series that is gone from the tables is gone from the answer too.
   */
  async scrape(): Promise<Scrape> {
    const read = new client.Registry();
    const failures: Scrape['failures'] = [];
    const up: Sample[] = [];
    for (const c of this.collectors) {
      try {
        for (const family of await c.collect()) record(read, family);
        up.push({ labels: { collector: c.name }, value: 1 });
      } catch (error) {
        failures.push({ collector: c.name, error: error as Error });
        up.push({ labels: { collector: c.name }, value: 0 });
      }
    }
    if (this.collectors.length) {
      record(read, {
        name: 'g2p_metrics_collector_up',
        help: 'Whether the collector answered at this scrape (1) or failed (0).',
        type: 'gauge',
        samples: up,
      });
    }
    const text = await client.Registry.merge([this.live, read]).metrics();
    // prom-client puts a blank line between families; scrapers skip it, stricter readers refuse it.
    return { text: text.replace(/\n\n+/g, '\n'), failures };
  }
}

/** Sets a collected family's samples on its metric in `registry`; families sharing a name add up their samples. */
function record(registry: client.Registry, family: Family): void {
  const labelNames = [...new Set(family.samples.flatMap((s) => Object.keys(s.labels)))];
  const existing = registry.getSingleMetric(family.name);
  const metric =
    existing ??
    (family.type === 'counter'
      ? new client.Counter({ name: family.name, help: family.help, labelNames, registers: [registry] })
      : new client.Gauge({ name: family.name, help: family.help, labelNames, registers: [registry] }));
  for (const s of family.samples) {
    if (metric instanceof client.Counter) metric.inc(s.labels, s.value);
    else if (metric instanceof client.Gauge) metric.set(s.labels, s.value);
    else throw new Error(`metric ${family.name} is not a ${family.type}`);
  }
}
