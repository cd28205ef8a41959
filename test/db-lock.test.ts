// The embedded database directory belongs to one process at a time: a second one (e.g. `g2p-bridge program
// add` while `start` runs) would write pages the first never sees.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, openDb } from '../src/db/index.js';

describe('embedded database lock', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a data directory another live process holds, naming it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2p-lock-'));
    const dataDir = join(dir, 'db');
    await writeFile(`${dataDir}.lock`, `${process.ppid}\n`);
    const opening = openDb({ dataDir });
    await expect(opening).rejects.toBeInstanceOf(DataDirInUseError);
    await expect(opening).rejects.toThrow(new RegExp(`in use by process ${process.ppid}`));
  });

  it('takes over a lock left by a process that is gone, and releases it on close', async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2p-lock-'));
    const dataDir = join(dir, 'db');
    await writeFile(`${dataDir}.lock`, '999999999\n'); // above any pid_max
    const db = await openDb({ dataDir });
    expect((await readFile(`${dataDir}.lock`, 'utf8')).trim()).toBe(String(process.pid));
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    await db.close();
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });
});
