export type { Db, Queryable, QueryOptions, QueryResult } from './db.js';
export { copyField } from './db.js';
export { DataDirInUseError, lockDataDir } from './lock.js';
export { migrate, migrationsDir } from './migrate.js';
export { type DbSettings, dbSettings, openDb } from './open.js';
export { openPglite } from './pglite.js';
export { openPostgres } from './postgres.js';
