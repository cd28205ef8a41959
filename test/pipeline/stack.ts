// The embedded stack for end-to-end tests: the bridge API, the example bank and the example mapper on one
// ephemeral port, talking real HTTP to each other, with the workers driven by runOnce().
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { g2pRequest } from '../../src/api/g2p-request.js';
import { createApp, createContext } from '../../src/app.js';
import { localSecret, mintToken, type Role } from '../../src/auth/index.js';
import { loadConfig } from '../../src/config/index.js';
import type { Db } from '../../src/db/index.js';
import type { AppContext } from '../../src/feature/context.js';
import { createLogger } from '../../src/logger.js';
import { mapperClientFromConfig } from '../../src/mapper/index.js';
import { startWorkers, type Workers } from '../../src/pipeline/index.js';
import { createExampleBank, type ExampleBank } from '../../src/simulators/example-bank/index.js';
import { createMapperSimulator, type MapperSimulator } from '../../src/simulators/mapper/index.js';
import { testDb } from '../support/db.js';

// biome-ignore lint/suspicious/noExplicitAny: JSON answers, inspected field by field in the tests
type Json = any;

export interface Stack {
  db: Db & { url?: string };
  ctx: AppContext;
  app: FastifyInstance;
  url: string;
  bank: ExampleBank;
  mapper: MapperSimulator;
  workers: Workers;
  /**
   * Holds the bank's next answer to initiate_payment after the bank has committed the batch (the window
   * between the bank's acknowledgement and our commit). `held` resolves once an answer is being held.
   */
  /** Holds the answer to the next initiate_payment (after the bank committed it); `held` gives its batch id. */
  holdNextPaymentAnswer(): { held: Promise<string>; release(): void };
  /** Environment a worker child process needs to reach this stack. */
  env: Record<string, string>;
  setNow(iso: string): void;
  token(role: Role): Promise<string>;
  /** POST a G2P Connect call over HTTP as the PBMS. */
  call(action: string, message: unknown): Promise<{ status: number; body: Json }>;
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }>;
  close(): Promise<void>;
}

export async function startStack(
  overrides: Record<string, string> = {},
  options: { workers?: boolean } = {},
): Promise<Stack> {
  const db = await testDb();
  const env: Record<string, string> = {
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    JWT_SECRET: 'test-secret-0123456789abcdef-pipeline',
    WORKER_POLL_INTERVAL_SECONDS: '0.1',
    RETRY_BACKOFF_BASE_SECONDS: '0',
    EXAMPLE_BANK_PROCESS_INTERVAL_MS: '0',
    EXAMPLE_BANK_SEED: 'pipeline-e2e',
    MAPPER_TIMEOUT_MS: '5000',
    EXAMPLE_BANK_TIMEOUT_MS: '5000',
    ...overrides,
  };
  const config = loadConfig(env);
  const log = createLogger(config.LOG_LEVEL);
  let now = new Date();
  const ctx = await createContext(config, db, log, () => now);
  const app = await createApp(ctx);
  const secret = await localSecret(config, db);
  const token = (role: Role) => mintToken(secret, { roles: [role], ttlSeconds: 3600 });
  let url = '';
  const mapper = await createMapperSimulator({ db, log, config });
  await mapper.register(app, '/mapper');
  const bank = await createExampleBank({
    db,
    log,
    config,
    now: () => now,
    // The bank delivers its statements over HTTP, as role bank, like a real bank's uploader would.
    async uploadStatement(text, fileName) {
      const form = new FormData();
      form.append('statement_file', new Blob([text], { type: 'text/plain' }), fileName);
      const res = await fetch(`${url}/upload_mt940`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await token('bank')}` },
        body: form,
      });
      if (res.status !== 200) throw new Error(`upload_mt940 answered ${res.status}: ${await res.text()}`);
    },
  });
  await bank.register(app, '/example-bank');
  let hold: { reached: (batchId: string) => void; gate: Promise<void> } | null = null;
  app.addHook('onSend', async (request, _reply, payload) => {
    if (hold && request.url.endsWith('/example-bank/initiate_payment')) {
      const h = hold;
      hold = null;
      h.reached(String((request.body as { batch_id?: unknown } | undefined)?.batch_id));
      await h.gate;
    }
    return payload;
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const workerEnv = { ...env, MAPPER_URL: `${url}/mapper`, EXAMPLE_BANK_URL: `${url}/example-bank` };
  const workers =
    options.workers === false
      ? { workerId: 'none', stop: async () => {}, runOnce: async () => ({}) as never }
      : startWorkers(ctx, {
          rawEnv: workerEnv,
          mapper: mapperClientFromConfig({ ...config, MAPPER_URL: `${url}/mapper` }, log),
          poll: false,
        });

  const send = async (path: string, method: string, role: Role, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await token(role)}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    db,
    ctx,
    app,
    url,
    bank,
    mapper,
    workers,
    env: { ...workerEnv, ...(db.url ? { DATABASE_URL: db.url } : {}) },
    holdNextPaymentAnswer() {
      let reached!: (batchId: string) => void;
      let release!: () => void;
      const held = new Promise<string>((r) => {
        reached = r;
      });
      const gate = new Promise<void>((r) => {
        release = r;
      });
      hold = { reached, gate };
      return { held, release };
    },
    setNow(iso) {
      now = new Date(iso);
    },
    token,
    call: (action, message) =>
      send(
        `/${action}`,
        'POST',
        'pbms',
        g2pRequest(action, message, 'e2e-pbms', { meta: null }, () => now),
      ),
    admin: (method, path, body) => send(path, method, 'admin', body),
    async close() {
      await workers.stop();
      await bank.stop();
      await mapper.stop();
      await app.close();
      await db.close();
    },
  };
}
