// What the benchmark scripts share: a scratch PostgreSQL database for one run, a free port, a process's peak
// memory, the steps of an HTTP request. Not part of the bridge.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates `<prefix>_<random>` on the server of `serverUrl`, with `settings` set on it (ALTER DATABASE), and
 * gives its URL; drop() removes it, connections and all.
 */
export async function scratchDatabase(
  serverUrl: string,
  prefix: string,
  settings: Array<[string, string]> = [],
): Promise<ScratchDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
    for (const [key, value] of settings) {
      if (!/^[a-z_.]+$/.test(key)) throw new Error(`not a setting name: ${key}`);
      await admin.query(`ALTER DATABASE ${name} SET ${key} = ${admin.escapeLiteral(value)}`);
    }
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Peak resident set (VmHWM) of a live process, in MiB; null where /proc is not there. */
export function peakRssMb(pid: number): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : null;
  } catch {
    return null;
  }
}

/** Labels of the steps between Fastify's hooks, in order: after onRequest, preParsing, preValidation, preHandler, onSend. */
export type StepLabels = [string, string, string, string, string];

/**
 * Times every request to a path starting with `path` between Fastify's hooks: `record` gets each step's label
 * and milliseconds when the answer has gone out (the last step ends when it is sent).
 */
export function timeRequestSteps(
  app: FastifyInstance,
  path: string,
  labels: StepLabels,
  record: (steps: [string, number][]) => void,
): void {
  const marks = new WeakMap<object, number[]>();
  const mark = async (request: { raw: object; url: string }) => {
    if (!request.url.startsWith(path)) return;
    const list = marks.get(request.raw) ?? [];
    list.push(performance.now());
    marks.set(request.raw, list);
  };
  for (const hook of ['onRequest', 'preParsing', 'preValidation', 'preHandler', 'onSend'] as const)
    app.addHook(hook, mark);
  app.addHook('onResponse', async (request) => {
    const list = marks.get(request.raw);
    if (!list) return;
    list.push(performance.now());
    record(labels.slice(0, list.length - 1).map((label, i) => [label, list[i + 1]! - list[i]!]));
  });
}
