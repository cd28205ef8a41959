import type { Logger } from 'pino';
import type { TokenVerifier } from '../auth/index.js';
import type { Config } from '../config/index.js';
import type { Db } from '../db/index.js';

/** What every feature needs: settings, the database, a logger and the clock (injectable for tests). */
export interface AppContext {
  config: Config;
  db: Db;
  log: Logger;
  now: () => Date;
  /** null when AUTH_MODE=none. */
  verifier: TokenVerifier | null;
}
