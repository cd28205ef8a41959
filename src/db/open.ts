import { mkdir } from 'node:fs/promises';
import type { Db } from './db.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export interface DbSettings {
  databaseUrl?: string;
  /** Embedded database directory; ignored when databaseUrl is set. */
  dataDir?: string;
  poolSize?: number;
}

/** PostgreSQL when a URL is given, else the embedded PGlite in `dataDir` (memory when that is unset too). */
export async function openDb(settings: DbSettings): Promise<Db> {
  if (settings.databaseUrl) return openPostgres(settings.databaseUrl, { poolSize: settings.poolSize });
  if (settings.dataDir) await mkdir(settings.dataDir, { recursive: true });
  return openPglite({ dataDir: settings.dataDir });
}
