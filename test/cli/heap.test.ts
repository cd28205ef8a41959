// start and serve bound how far the heap grows between full collections (decision 038): the flag is set
// unless the operator sized the heap, and it does bound the old generation of a process that churns.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { boundHeapGrowth, HEAP_GROWING_PERCENT } from '../../src/cli/heap.js';

const run = promisify(execFile);

interface Churn {
  flag: string | null;
  liveMb: number;
  mostOldSpaceMb: number;
  heapLimitMb: number;
}

async function churn(mode: 'bound' | 'default'): Promise<Churn> {
  const { stdout } = await run(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'test/cli/fixtures/heap-churn.ts', mode],
    { env: { ...process.env, NODE_OPTIONS: '' } },
  );
  return JSON.parse(stdout) as Churn;
}

describe('the heap growth bound of start and serve', () => {
  it('sets --heap-growing-percent unless node flags or NODE_OPTIONS size the heap', () => {
    const set: string[] = [];
    const record = (flag: string) => void set.push(flag);
    expect(boundHeapGrowth(['--import', 'tsx'], '', record)).toBe(
      `--heap-growing-percent=${HEAP_GROWING_PERCENT}`,
    );
    expect(set).toEqual(['--heap-growing-percent=100']);
    expect(boundHeapGrowth(['--max-old-space-size=2048'], '', record)).toBeNull();
    expect(boundHeapGrowth(['--max_old_space_size=2048'], '', record)).toBeNull();
    expect(boundHeapGrowth(['--heap-growing-percent=300'], '', record)).toBeNull();
    expect(boundHeapGrowth([], '--max-old-space-size=1024 --enable-source-maps', record)).toBeNull();
    expect(boundHeapGrowth([], '--max-heap-size=1024', record)).toBeNull();
    expect(set).toHaveLength(1);
  });

  it('keeps the old generation of a churning process near twice what it keeps alive', async () => {
    const [bound, left] = await Promise.all([churn('bound'), churn('default')]);
    expect(bound.flag).toBe('--heap-growing-percent=100');
    expect(left.flag).toBeNull();
    // Twice the live set, plus the young objects promoted since the last collection.
    expect(bound.mostOldSpaceMb).toBeLessThan(4 * bound.liveMb);
    // V8's own factor reaches 4 only where the heap limit is 2 GB or more (machines with 8 GB or more).
    if (left.heapLimitMb >= 2048) expect(bound.mostOldSpaceMb).toBeLessThan(0.7 * left.mostOldSpaceMb);
  });
});

describe('the worker process', () => {
  it('bounds its heap growth as start and serve do', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'g2p-worker-heap-'));
    try {
      const { stdout, stderr } = await run(
        process.execPath,
        ['--import', 'tsx', 'src/cli/main.ts', 'worker', '--once', '--stages', 'check_funds'],
        {
          env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: '', DATA_DIR: dir, LOG_LEVEL: 'debug' },
          timeout: 120_000,
        },
      );
      const line = `${stdout}\n${stderr}`
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { msg?: string; v8Flag?: string })
        .find((l) => l.msg === 'heap growth between full collections');
      expect(line?.v8Flag).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
