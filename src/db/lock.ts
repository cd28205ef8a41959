// The embedded database directory's lock: one process at a time, and a lock that a dead process left behind
// never stands in the way of a restart.
import { existsSync, readFileSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';

/** Another live process has the embedded database open. */
export class DataDirInUseError extends Error {
  readonly code = 'DATA_DIR_IN_USE';
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

/** What the lock file says: the holder's pid and, where /proc exists, when that process started. */
interface Holder {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): a reused pid has another one. */
  startTime?: string;
}

const HAS_PROC = existsSync('/proc/self/stat');

/** State and start time of a process from /proc, or null when there is no such process. */
function procStat(pid: number): { state: string; startTime: string } | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so read after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', startTime: fields[19] ?? '' };
}

function kill0(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether the holder still runs. A pid alone is not enough: a process killed with SIGKILL stays a zombie
 * (its pid answers signals) until its parent reaps it, and a pid may since belong to another process.
 */
function holderAlive(holder: Holder): boolean {
  if (!HAS_PROC) return kill0(holder.pid);
  const stat = procStat(holder.pid);
  if (!stat) return false;
  if (stat.state === 'Z' || stat.state === 'X') return false;
  return holder.startTime === undefined || holder.startTime === stat.startTime;
}

function describeSelf(): string {
  const start = HAS_PROC ? procStat(process.pid)?.startTime : undefined;
  return start ? `${process.pid} ${start}\n` : `${process.pid}\n`;
}

/** `pid [starttime]`; a lock written before start times were recorded holds the pid alone. */
function parseHolder(text: string): Holder | null {
  const [pid, startTime] = text.trim().split(/\s+/);
  const n = Number.parseInt(pid ?? '', 10);
  if (!Number.isInteger(n) || n <= 0) return null;
  return startTime && /^\d+$/.test(startTime) ? { pid: n, startTime } : { pid: n };
}

/**
 * Claims `<dataDir>.lock` for this process: PGlite keeps its own copy of the pages in memory, so a second
 * process on the same directory would neither see the first one's writes nor keep the files consistent.
 * A lock left by a process that no longer runs (gone, a zombie, or its pid reused) is taken over. Returns the
 * release function.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const lockFile = `${dataDir.replace(/[/\\]+$/, '')}.lock`;
  const self = describeSelf();
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(lockFile, self, { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = parseHolder(await readFile(lockFile, 'utf8').catch(() => ''));
      if (holder && holder.pid !== process.pid && holderAlive(holder)) {
        throw new DataDirInUseError(dataDir, holder.pid, lockFile);
      }
      await unlink(lockFile).catch(() => {}); // stale (or ours): take it over
    }
  }
  return async () => {
    await unlink(lockFile).catch(() => {});
  };
}
