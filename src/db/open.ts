import { mkdir } from 'node:fs/promises';
import type { Config } from '../config/index.js';
import type { Db } from './db.js';
import { lockDataDir } from './lock.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export interface DbSettings {
  databaseUrl?: string;
  /** Embedded database directory; ignored when databaseUrl is set. */
  dataDir?: string;
  poolSize?: number;
}

/** DATABASE_URL, else the embedded database in DATA_DIR/<dir> (the bridge's is `db`, each simulator has its own). */
export function dbSettings(config: Config, dir = 'db'): DbSettings {
  return {
    databaseUrl: config.DATABASE_URL,
    dataDir: config.DATABASE_URL ? undefined : `${config.DATA_DIR}/${dir}`,
    poolSize: config.DATABASE_POOL_SIZE,
  };
}

/** PostgreSQL when a URL is given, else the embedded PGlite in `dataDir` (memory when that is unset too). */
export async function openDb(settings: DbSettings): Promise<Db> {
  if (settings.databaseUrl) return openPostgres(settings.databaseUrl, { poolSize: settings.poolSize });
  if (!settings.dataDir) return openPglite({});
  await mkdir(settings.dataDir, { recursive: true });
  const unlock = await lockDataDir(settings.dataDir);
  try {
    const db = await openPglite({ dataDir: settings.dataDir });
    return {
      ...db,
      close: async () => {
        try {
          await db.close();
        } finally {
          await unlock();
        }
      },
    };
  } catch (error) {
    await unlock();
    throw error;
  }
}
