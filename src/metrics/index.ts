// `/metrics`: the bridge in Prometheus text format. Request counts and latencies are counted in this process;
// stage backlog, throughput, attempts and errors are read from the database at scrape time (see database.ts),
// so a scrape of any bridge process sees the work of every worker.
import type { FastifyInstance } from 'fastify';
import type { Feature } from '../feature/context.js';
import { collectDatabase } from './database.js';
import { CONTENT_TYPE, type Family, Registry } from './registry.js';

export { collectDatabase, STAGES, type Stage } from './database.js';
export type { Collector, Counter, Family, Gauge, Histogram, Labels, Sample, Scrape } from './registry.js';
export { Registry } from './registry.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The registry behind /metrics; `start` adds the workers' collector to it. */
    metrics: Registry;
  }
}

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const startedAt = Date.now() / 1000;

function processFamilies(): Family[] {
  const cpu = process.cpuUsage();
  const memory = process.memoryUsage();
  return [
    {
      name: 'process_cpu_seconds_total',
      help: 'User and system CPU time spent by this process, in seconds.',
      type: 'counter',
      samples: [{ labels: {}, value: (cpu.user + cpu.system) / 1e6 }],
    },
    {
      name: 'process_resident_memory_bytes',
      help: 'Resident memory of this process, in bytes.',
      type: 'gauge',
      samples: [{ labels: {}, value: memory.rss }],
    },
    {
      name: 'nodejs_heap_used_bytes',
      help: 'V8 heap in use, in bytes.',
      type: 'gauge',
      samples: [{ labels: {}, value: memory.heapUsed }],
    },
    {
      name: 'process_start_time_seconds',
      help: 'Start time of this process since the Unix epoch, in seconds.',
      type: 'gauge',
      samples: [{ labels: {}, value: Math.floor(startedAt) }],
    },
  ];
}

/**
 * Counts every request by route pattern (never the raw URL: ids would explode the label set) and serves
 * `/metrics`, public when METRICS_PUBLIC is true (the usual in-cluster scrape), else admin-only.
 */
export const metricsRoutes: Feature = (app: FastifyInstance, ctx) => {
  const registry = new Registry();
  app.decorate('metrics', registry);

  const requests = registry.counter(
    'g2p_http_requests_total',
    'HTTP requests answered, by route and status.',
    ['method', 'route', 'status'],
  );
  const duration = registry.histogram(
    'g2p_http_request_duration_seconds',
    'Time to answer HTTP requests, by route.',
    ['method', 'route'],
    DURATION_BUCKETS,
  );
  registry.collector('process', processFamilies);
  registry.collector('database', () => collectDatabase(ctx.db, ctx.now()));

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = request.method;
    requests.inc({ method, route, status: String(reply.statusCode) });
    duration.observe({ method, route }, reply.elapsedTime / 1000);
  });

  const roles = ctx.config.METRICS_PUBLIC ? ('public' as const) : (['admin'] as const);
  app.get('/metrics', { config: { roles }, schema: { hide: true } }, async (request, reply) => {
    const { text, failures } = await registry.scrape();
    for (const failure of failures) {
      request.log.warn({ err: failure.error, collector: failure.collector }, 'metrics collector failed');
    }
    return reply.type(CONTENT_TYPE).send(text);
  });
};
