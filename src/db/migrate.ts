import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

/** Project root: this file sits in src/db or dist/db, migrations in <root>/migrations/<set>/. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function migrationsDir(set: string): string {
  return `${ROOT}migrations/${set}`;
}

/**
 * Applies the pending migrations of one set (`bridge`, `example_bank`, `example_mapper`), each in its own
 * transaction, in file-name order. An advisory lock lets many processes start at once on PostgreSQL.
 */
export async function migrate(db: Db, set = 'bridge'): Promise<string[]> {
  const dir = migrationsDir(set);
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    migration_set text NOT NULL,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration_set, name))`);
  const applied: string[] = [];
  for (const file of files) {
    const sql = await readFile(`${dir}/${file}`, 'utf8');
    const done = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`g2p-bridge-migrate-${set}`]);
      const seen = await tx.query('SELECT 1 FROM schema_migrations WHERE migration_set = $1 AND name = $2', [
        set,
        file,
      ]);
      if (seen.rows.length > 0) return false;
      for (const statement of splitStatements(sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (migration_set, name) VALUES ($1, $2)', [set, file]);
      return true;
    });
    if (done) applied.push(file);
  }
  return applied;
}

/** Splits a migration on `;` at line ends, outside dollar-quoted bodies (the files are ours, kept simple). */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let inDollar = false;
  for (const line of sql.split('\n')) {
    if (/^\s*--/.test(line) && !inDollar) continue;
    const dollars = line.match(/\$\$/g)?.length ?? 0;
    if (dollars % 2 === 1) inDollar = !inDollar;
    current += `${line}\n`;
    if (!inDollar && /;\s*$/.test(line)) {
      if (current.trim() !== ';') statements.push(current.trim());
      current = '';
    }
  }
  if (current.trim()) statements.push(current.trim());
  return statements;
}
