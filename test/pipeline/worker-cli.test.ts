import { afterEach, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/commands/worker.js';

describe('worker command', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('prints its help', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(await run(['--help'])).toBe(0);
    expect(String(out.mock.calls[0]![0])).toContain('--stages');
  });

  it('refuses an unknown stage before touching anything', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await run(['--stages', 'disburse,shipping'])).toBe(2);
    expect(String(err.mock.calls[0]![0])).toContain('shipping');
  });
});
