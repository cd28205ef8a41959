import { readFile, unlink, writeFile } from 'node:fs/promises';

/** Another live process has the embedded database open. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
    readonly lockFile: string,
  ) {
    super(
      `The embedded database in ${dataDir} is in use by process ${pid} (a running 'g2p-bridge start'?). ` +
        'Only one process may open it at a time: stop that process, or use its HTTP API (e.g. /admin/programs), ' +
        `or set DATABASE_URL to share a PostgreSQL. If no such process runs, remove ${lockFile}.`,
    );
    this.name = 'DataDirInUseError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Claims `<dataDir>.lock` for this process: PGlite keeps its own copy of the pages in memory, so a second
 * process on the same directory would neither see the first one's writes nor keep the files consistent.
 * A lock left by a process that no longer runs is taken over. Returns the release function.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = `${dataDir.replace(/[/\\]+$/, '')}.lock`;
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lockFile, `${process.pid}\n`, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const pid = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        throw new DataDirInUseError(dataDir, pid, lockFile);
      }
      await unlink(lockFile).catch(() => {}); // stale (or ours): take it over
    }
  }
  return async () => {
    await unlink(lockFile).catch(() => {});
  };
}
