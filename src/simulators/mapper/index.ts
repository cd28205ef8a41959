// The example ID-account mapper: answers G2P Connect resolve from its own table so the bridge runs end to end
// with nothing else installed. Served under /mapper by `start`, or alone by `g2p-bridge mapper`.
import { createReadStream } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../../config/index.js';
import { type Db, migrate } from '../../db/index.js';
import { guardSimulator, type SimulatorAccess } from '../access.js';
import type { CsvSource } from './csv.js';
import { MapperFaults } from './faults.js';
import { mapperRoutes } from './routes.js';
import {
  createMapperStore,
  type LinkItem,
  type ListOptions,
  type MapperEntry,
  type MapperStore,
  type UnlinkItem,
  type UnlinkResult,
} from './store.js';

export { CsvError, parseCsv } from './csv.js';
export { FAIL_MODES, type FailMode, type FaultState, MapperFaults } from './faults.js';
export {
  CsvLoadError,
  type LinkItem,
  type MapperEntry,
  type UnlinkItem,
  type UnlinkResult,
} from './store.js';

export interface MapperSimulator {
  /**
   * Adds the simulator's routes under `prefix` ('' for the root, '/mapper' inside the bridge), open to anyone
   * or behind the admin role as `access` says (src/simulators/access.ts; default open, for loopback).
   */
  register(app: FastifyInstance, prefix: string, access?: SimulatorAccess): Promise<void>;
  /** Links ids to FAs (replacing existing links); returns the number of distinct ids written. */
  link(items: readonly LinkItem[]): Promise<number>;
  unlink(items: readonly UnlinkItem[]): Promise<UnlinkResult[]>;
  /** Bulk load (header id,fa[,name][,active]); all or nothing; returns the number of data rows read. */
  loadCsv(source: CsvSource): Promise<number>;
  list(options?: ListOptions): Promise<{ entries: MapperEntry[]; next: string | null }>;
  faults: MapperFaults;
  store: MapperStore;
  /** Ends pending delays and hangs; the database stays open (the caller owns it). */
  stop(): Promise<void>;
}

export async function createMapperSimulator(opts: {
  db: Db;
  log: Logger;
  /** Its settings, from the parsed configuration. */
  config: Pick<Config, 'MAPPER_SIMULATOR_CSV'>;
  /** The simulator's clock (message_ts of its answers); default the system clock. */
  now?: () => Date;
}): Promise<MapperSimulator> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log.child({ component: 'mapper-simulator' });
  const settings = opts.config;
  await migrate(opts.db, 'example_mapper');
  const store = createMapperStore(opts.db);
  const faults = new MapperFaults();

  if (settings.MAPPER_SIMULATOR_CSV) {
    const rows = await store.loadCsv(createReadStream(settings.MAPPER_SIMULATOR_CSV));
    log.info({ rows }, 'mapper simulator: loaded MAPPER_SIMULATOR_CSV');
  }

  return {
    async register(app, prefix, access = { open: true, why: 'loopback' }) {
      const routes = mapperRoutes(store, faults, log, now);
      await app.register(
        async (scope) => {
          guardSimulator(scope, access, (reply, status, code, message) =>
            reply.code(status).send({ error: code, message }),
          );
          // Closing the server waits for open requests; release hanging ones first.
          scope.addHook('preClose', async () => faults.releaseAll());
          await routes(scope);
        },
        { prefix },
      );
    },
    link: (items) => store.link(items),
    unlink: (items) => store.unlink(items),
    loadCsv: (source) => store.loadCsv(source),
    list: (options) => store.list(options),
    faults,
    store,
    async stop() {
      faults.reset();
    },
  };
}
