import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { type Db, openPglite, openPostgres } from '../../src/db/index.js';

let counter = 0;

/**
 * A fresh, fully migrated database for one test file (or one test): a clone of the run's template, on
 * PostgreSQL when DATABASE_URL is set, else on PGlite in memory. Close it with `db.close()`.
 */
export async function testDb(): Promise<Db & { url?: string }> {
  const template = process.env.G2P_TEST_PG_TEMPLATE;
  if (process.env.DATABASE_URL && template) {
    const name = `g2p_t_${process.ppid}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    try {
      await createFromTemplate(admin, name, template);
    } finally {
      await admin.end();
    }
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    const db = await openPostgres(url.toString(), { poolSize: 12 });
    return {
      ...db,
      url: url.toString(),
      async close() {
        await db.close();
        const drop = new pg.Client({ connectionString: process.env.DATABASE_URL });
        await drop.connect();
        await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
        await drop.end();
      },
    };
  }
  const path = process.env.G2P_TEST_PGLITE_TEMPLATE;
  if (!path) throw new Error('test/support/global-setup.ts did not run (see vitest.config.ts)');
  const blob = new Blob([await readFile(path)]);
  return openPglite({ loadDataDir: blob });
}

/** CREATE DATABASE ... TEMPLATE fails while another session copies the same template; retry briefly. */
async function createFromTemplate(admin: pg.Client, name: string, template: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
      return;
    } catch (error) {
      if (attempt > 50 || !/being accessed by other users/.test((error as Error).message)) throw error;
      await new Promise((r) => setTimeout(r, 100 + Math.random() * 200));
    }
  }
}

export const onPostgres = () => Boolean(process.env.DATABASE_URL);
