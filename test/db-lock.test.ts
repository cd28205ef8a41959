// The embedded database directory belongs to one process at a time: a second one (e.g. `g2p-bridge program
// add` while `start` runs) would write pages the first never sees.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
    // pid, then (where /proc exists) the process's start time, so that a reused pid is not mistaken for us
    expect((await readFile(`${dataDir}.lock`, 'utf8')).split(/\s+/)[0]).toBe(String(process.pid));
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    await db.close();
    expect(existsSync(`${dataDir}.lock`)).toBe(false);
  });

  it('takes over the lock of a pid that now belongs to another process', async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2p-lock-'));
    const dataDir = join(dir, 'db');
    // The parent process runs, but it started at another time than the lock's holder did.
    await writeFile(`${dataDir}.lock`, `${process.ppid} 1\n`);
    const db = await openDb({ dataDir });
    expect((await readFile(`${dataDir}.lock`, 'utf8')).split(/\s+/)[0]).toBe(String(process.pid));
    await db.close();
  });

  // A holder killed with SIGKILL stays a zombie until its parent reaps it; here the parent is `sleep`, which
  // never does, so the restart below meets exactly that window (on Linux, where /proc tells a zombie apart).
  it.skipIf(!existsSync('/proc/self/stat'))(
    'lets a restart in at once after the holder was SIGKILLed, even while it is an unreaped zombie',
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'g2p-lock-'));
      const dataDir = join(dir, 'db');
      const shell = spawn(
        'sh',
        ['-c', '"$NODE" --import tsx test/fixtures/hold-data-dir-lock.ts "$DIR" & exec sleep 120'],
        {
          env: { ...process.env, NODE: process.execPath, DIR: dataDir },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      try {
        const pid = await new Promise<number>((resolve, reject) => {
          let out = '';
          shell.stdout!.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            const m = /locked (\d+)/.exec(out);
            if (m) resolve(Number(m[1]));
          });
          shell.once('exit', () => reject(new Error(`the holder did not start: ${out}`)));
        });
        await expect(openDb({ dataDir })).rejects.toBeInstanceOf(DataDirInUseError);
        process.kill(pid, 'SIGKILL');
        // Wait for the kernel to finish the kill; the zombie keeps its pid.
        const state = () => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0];
        while (state() !== 'Z') await new Promise((r) => setImmediate(r));
        const db = await openDb({ dataDir });
        expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
        await db.close();
      } finally {
        shell.kill('SIGKILL');
      }
    },
  );
});
