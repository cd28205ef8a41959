import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Db, DbSettings } from '../../src/db/index.js';
import { createMapperStore } from '../../src/simulators/mapper/store.js';
import { testDb } from '../support/db.js';

// The command opens its own database; hand it this file's clone instead (a fresh embedded database on disk
// costs seconds), and record what it asked for.
const opened: DbSettings[] = [];
let shared: Db;
vi.mock('../../src/db/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/db/index.js')>();
  return {
    ...real,
    openDb: async (settings: DbSettings) => {
      opened.push(settings);
      return { ...shared, close: async () => {} };
    },
  };
});
const { run } = await import('../../src/cli/commands/mapper.js');

describe('g2p-bridge mapper load', () => {
  let dir: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2p-mapper-cli-'));
    shared = await testDb();
    process.env.LOG_LEVEL = 'silent';
    process.env.DATA_DIR = dir;
  });
  afterAll(async () => {
    process.env = saved;
    await shared.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('loads a CSV into the mapper database and refuses bad input', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const good = join(dir, 'good.csv');
      await writeFile(
        good,
        'id,fa,name\nC1,account:1@nb,"Doe, Jane"\nC2,mobile:07@mp,\nC1,account:9@nb,Jane\n',
      );
      expect(await run(['load', good])).toBe(0);
      expect(String(out.mock.calls.at(-1)?.[0])).toMatch(/loaded 3 rows .* \(2 ids, 2 linked\)/);
      // its own database: DATABASE_URL, else DATA_DIR/mapper
      expect(opened[0]).toMatchObject(
        process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : { dataDir: `${dir}/mapper` },
      );

      const bad = join(dir, 'bad.csv');
      await writeFile(bad, 'id,fa\nC3,\n');
      expect(await run(['load', bad])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/line 2: fa is empty/);
      expect(await run(['load', join(dir, 'missing.csv')])).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toMatch(/no such file: .*missing\.csv/);
      expect(await run(['load'])).toBe(2);
      expect(await run(['frobnicate'])).toBe(2);
      expect(await run(['--port', 'x'])).toBe(2);
      expect(await run(['--help'])).toBe(0);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const { entries } = await createMapperStore(shared).list();
    expect(entries).toEqual([
      { id: 'C1', fa: 'account:9@nb', name: 'Jane', active: true },
      { id: 'C2', fa: 'mobile:07@mp', name: null, active: true },
    ]);
  });
});
