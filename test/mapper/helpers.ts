import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import type { Db } from '../../src/db/index.js';
import { createMapperSimulator, type MapperSimulator } from '../../src/simulators/mapper/index.js';
import { testDb } from '../support/db.js';

export const silentLog = pino({ level: 'silent' });

export interface RunningSimulator {
  db: Db;
  sim: MapperSimulator;
  app: FastifyInstance;
  /** Base URL as MAPPER_URL would name it (the simulator is mounted under /mapper, as in `start`). */
  url: string;
  close(): Promise<void>;
}

/** The mapper simulator on a fresh database, listening on an ephemeral port. */
export async function runSimulator(): Promise<RunningSimulator> {
  const db = await testDb();
  const sim = await createMapperSimulator({
    db,
    log: silentLog,
    config: { MAPPER_SIMULATOR_CSV: undefined },
  });
  const app = Fastify({ logger: false });
  await sim.register(app, '/mapper');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  return {
    db,
    sim,
    app,
    url: `http://127.0.0.1:${address.port}/mapper`,
    async close() {
      await sim.stop();
      await app.close();
      await db.close();
    },
  };
}

export function g2pBody(action: string, message: object, count: number) {
  return {
    signature: null,
    header: {
      version: '1.0.0',
      message_id: `msg-${action}`,
      message_ts: new Date().toISOString(),
      action,
      sender_id: 'test',
      total_count: count,
    },
    message,
  };
}
