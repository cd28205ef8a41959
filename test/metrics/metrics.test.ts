import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from '../../src/metrics/index.js';
import { seedEnvelope } from '../dashboard/seed.js';
import { type TestApp, testApp } from '../support/app.js';

interface Parsed {
  types: Map<string, string>;
  samples: Array<{ name: string; labels: Record<string, string>; value: number }>;
}

/** A strict reader of the text exposition format: fails the test on any line a scraper would reject. */
function parseExposition(text: string): Parsed {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Parsed['samples'] = [];
  const seen = new Set<string>();
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${name})(\\{(.*)\\})? (\\S+)$`);
  const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\\\|\\"|\\n)*)"(,|$)/y;
  for (const line of text.slice(0, -1).split('\n')) {
    let m = new RegExp(`^# HELP (${name}) (.*)$`).exec(line);
    if (m) {
      expect(helps.has(m[1]!), `HELP twice for ${m[1]}`).toBe(false);
      helps.add(m[1]!);
      continue;
    }
    m = new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (m) {
      expect(types.has(m[1]!), `TYPE twice for ${m[1]}`).toBe(false);
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = sampleLine.exec(line);
    expect(m, `bad line: ${line}`).not.toBeNull();
    const [, metric, , rawLabels = '', rawValue] = m!;
    const labels: Record<string, string> = {};
    labelPair.lastIndex = 0;
    while (labelPair.lastIndex < rawLabels.length) {
      const pair = labelPair.exec(rawLabels);
      expect(pair, `bad labels: ${rawLabels}`).not.toBeNull();
      labels[pair![1]!] = pair![2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const family = metric!.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(metric!) || types.has(family), `sample before TYPE: ${metric}`).toBe(true);
    const value = rawValue === '+Inf' ? Number.POSITIVE_INFINITY : Number(rawValue);
    expect(Number.isNaN(value) && rawValue !== 'NaN', `bad value ${rawValue}`).toBe(false);
    const key = `${metric}${JSON.stringify(Object.entries(labels).sort())}`;
    expect(seen.has(key), `duplicate series ${key}`).toBe(false);
    seen.add(key);
    samples.push({ name: metric!, labels, value });
  }
  return { types, samples };
}

function value(p: Parsed, name: string, labels: Record<string, string> = {}): number | undefined {
  return p.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    ?.value;
}

describe('/metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await testApp();
    await seedEnvelope(t.ctx.db, 'ENV-M', 10);
  });
  afterAll(async () => t.close());

  it('is public by default and well-formed Prometheus text', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const parsed = parseExposition(res.body);
    expect(parsed.types.get('g2p_http_requests_total')).toBe('counter');
    expect(parsed.types.get('g2p_stage_backlog')).toBe('gauge');
    expect(value(parsed, 'g2p_metrics_collector_up', { collector: 'database' })).toBe(1);
  });

  it('reads backlog, attempts, errors and throughput per stage from the tables', async () => {
    const parsed = parseExposition((await t.app.inject({ method: 'GET', url: '/metrics' })).body);
    expect(value(parsed, 'g2p_stage_backlog', { stage: 'disburse' })).toBe(1);
    expect(value(parsed, 'g2p_stage_backlog', { stage: 'mapper_resolution' })).toBe(1);
    expect(value(parsed, 'g2p_stage_backlog', { stage: 'statement' })).toBe(0);
    expect(value(parsed, 'g2p_stage_backlog', { stage: 'check_funds' })).toBe(0);
    expect(value(parsed, 'g2p_stage_rows', { stage: 'disburse', status: 'PROCESSED' })).toBe(1);
    expect(value(parsed, 'g2p_stage_attempts_total', { stage: 'disburse' })).toBe(4);
    expect(value(parsed, 'g2p_stage_attempts_total', { stage: 'block_funds' })).toBe(2);
    expect(value(parsed, 'g2p_stage_errors', { stage: 'disburse', code: 'BANK_TIMEOUT' })).toBe(1);
    expect(value(parsed, 'g2p_disbursements_received', { currency: 'USD' })).toBe(19);
    expect(value(parsed, 'g2p_disbursements_shipped_total', { currency: 'USD' })).toBe(7);
    expect(value(parsed, 'g2p_disbursements_reversed_total', { currency: 'USD' })).toBe(1);
    expect(value(parsed, 'g2p_disbursement_amount_received', { currency: 'USD' })).toBe(194.75);
    expect(value(parsed, 'g2p_error_recons', { reason: 'DUPLICATE_DISBURSEMENT' })).toBe(1);
    expect(value(parsed, 'g2p_envelopes', { currency: 'USD', status: 'active' })).toBe(1);
    expect(value(parsed, 'g2p_stage_backlog_oldest_seconds', { stage: 'disburse' })).toBeGreaterThanOrEqual(
      0,
    );
  });

  it('counts requests by route pattern and status, never by raw URL', async () => {
    await t.app.inject({ method: 'GET', url: '/ping' });
    await t.app.inject({ method: 'GET', url: '/ping' });
    await t.app.inject({ method: 'GET', url: '/no/such/path/123' });
    await t.app.inject({
      method: 'GET',
      url: '/dashboard/envelopes/ENV-M',
      headers: { accept: 'application/json' },
    });
    const parsed = parseExposition((await t.app.inject({ method: 'GET', url: '/metrics' })).body);
    expect(value(parsed, 'g2p_http_requests_total', { route: '/ping', status: '200' })).toBe(2);
    expect(value(parsed, 'g2p_http_requests_total', { route: 'unmatched', status: '404' })).toBe(1);
    expect(
      value(parsed, 'g2p_http_requests_total', { route: '/dashboard/envelopes/:id', status: '401' }),
    ).toBe(1);
    expect(parsed.samples.some((s) => s.labels.route?.includes('123'))).toBe(false);
    const count = value(parsed, 'g2p_http_request_duration_seconds_count', { route: '/ping' });
    const inf = value(parsed, 'g2p_http_request_duration_seconds_bucket', { route: '/ping', le: '+Inf' });
    expect(count).toBe(2);
    expect(inf).toBe(2);
  });
});

describe('/metrics behind authentication', () => {
  it('needs an admin token when METRICS_PUBLIC=false', async () => {
    const t = await testApp({ METRICS_PUBLIC: 'false' });
    try {
      expect((await t.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const pbms = await t.token('pbms');
      const denied = await t.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${pbms}` },
      });
      expect(denied.statusCode).toBe(403);
      const admin = await t.token('admin');
      const ok = await t.app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(ok.statusCode).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe('metrics registry', () => {
  it('escapes label values and help text', async () => {
    const r = new Registry();
    r.counter('x_total', 'Help with \\ and\nnewline', ['l']).inc({ l: 'a"b\\c\nd' }, 2);
    const { text } = await r.scrape();
    expect(text).toBe(
      '# HELP x_total Help with \\\\ and\\nnewline\n# TYPE x_total counter\nx_total{l="a\\"b\\\\c\\nd"} 2\n',
    );
    const parsed = parseExposition(text);
    expect(parsed.samples[0]!.labels.l).toBe('a"b\\c\nd');
  });

  it('keeps histogram buckets cumulative', async () => {
    const r = new Registry();
    const h = r.histogram('h_seconds', 'h', [], [0.1, 1]);
    for (const v of [0.05, 0.5, 0.5, 5]) h.observe({}, v);
    const parsed = parseExposition((await r.scrape()).text);
    expect(value(parsed, 'h_seconds_bucket', { le: '0.1' })).toBe(1);
    expect(value(parsed, 'h_seconds_bucket', { le: '1' })).toBe(3);
    expect(value(parsed, 'h_seconds_bucket', { le: '+Inf' })).toBe(4);
    expect(value(parsed, 'h_seconds_sum')).toBe(6.05);
  });

  it('refuses counters that go down and unknown labels, and reports a failing collector', async () => {
    const r = new Registry();
    const c = r.counter('c_total', 'c', ['a']);
    expect(() => c.inc({}, -1)).toThrow();
    expect(() => c.inc({ b: 'x' })).toThrow();
    r.collector('broken', () => {
      throw new Error('down');
    });
    const { text, failures } = await r.scrape();
    expect(failures.map((f) => f.collector)).toEqual(['broken']);
    const parsed = parseExposition(text);
    expect(value(parsed, 'g2p_metrics_collector_up', { collector: 'broken' })).toBe(0);
  });
});
