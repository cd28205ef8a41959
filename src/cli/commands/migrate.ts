import { loadConfig } from '../../config/index.js';
import { dbSettings, migrate, openDb } from '../../db/index.js';
import { parseCommandArgs } from '../args.js';

const HELP = `Usage: g2p-bridge migrate

Applies the bridge's pending database migrations (DATABASE_URL, or the embedded database in DATA_DIR)
and exits. The bridge also migrates at start; this command is for deployments that migrate first.`;

export async function run(argv: string[]): Promise<number> {
  if (!parseCommandArgs(argv, {}, HELP)) return 0;
  const config = loadConfig();
  // Opened unmigrated (not with openDatabase) so that the one migrate call reports what it applied.
  const db = await openDb(dbSettings(config));
  const applied = await migrate(db, 'bridge');
  process.stdout.write(applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
  await db.close();
  return 0;
}
