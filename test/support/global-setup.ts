import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { migrate, migrationsDir, openPglite } from '../../src/db/index.js';

/**
 * Migrates one template database per test run; every test file clones it. On PGlite the template is a
 * dumped data directory (loading one takes ~1 s against ~4 s for a fresh database); on PostgreSQL it is a
 * template database that CREATE DATABASE ... TEMPLATE copies.
 */
export default async function setup() {
  // Tests keep their state in temporary folders: a run that leaves ./data in the checkout fails.
  const checkoutData = join(import.meta.dirname, '../../data');
  const hadData = existsSync(checkoutData);
  const teardown = await prepare();
  return async () => {
    await teardown();
    if (!hadData && existsSync(checkoutData)) {
      // vitest reports an error thrown here but still exits 0: set the exit code as well.
      process.exitCode = 1;
      throw new Error(
        `the tests wrote ${checkoutData} into the checkout: give the test that did a temporary DATA_DIR (or JWT_SECRET)`,
      );
    }
  };
}

async function prepare(): Promise<() => Promise<void>> {
  const sets = (await readdir(migrationsDir('').replace(/\/$/, ''))).filter((s) =>
    existsSync(migrationsDir(s)),
  );
  if (process.env.DATABASE_URL) {
    const name = `g2p_tpl_${process.pid}_${Date.now().toString(36)}`;
    const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    const { openPostgres } = await import('../../src/db/index.js');
    const db = await openPostgres(url.toString(), { poolSize: 2 });
    for (const set of sets) await migrate(db, set);
    await db.close();
    process.env.G2P_TEST_PG_TEMPLATE = name;
    return async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
      // Databases cloned by test files that did not clean up after a crash.
      const { rows } = await admin.query<{ datname: string }>(
        `SELECT datname FROM pg_database WHERE datname LIKE $1`,
        [`g2p_t_${process.pid}_%`],
      );
      for (const row of rows)
        await admin.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`).catch(() => {});
      await admin.end();
    };
  }
  const dir = await mkdtemp(join(tmpdir(), 'g2p-tpl-'));
  const db = await openPglite();
  for (const set of sets) await migrate(db, set);
  const dump = await db.pglite.dumpDataDir('none');
  await writeFile(join(dir, 'template.tar'), Buffer.from(await dump.arrayBuffer()));
  await db.close();
  process.env.G2P_TEST_PGLITE_TEMPLATE = join(dir, 'template.tar');
  process.env.G2P_TEST_RUN_ID = String(process.pid);
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}
