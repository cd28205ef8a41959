// `g2p-bridge statement parse FILE`: MT940 or camt detected, JSON out, exit status by problems.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { run } from '../../src/cli/commands/statement.js';

const dir = mkdtempSync(join(tmpdir(), 'statement-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/camt/${name}`, import.meta.url));

async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out += String(c);
    return true;
  });
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err += String(c);
    return true;
  });
  try {
    return { code: await run(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('g2p-bridge statement parse', () => {
  it('prints a camt.053 as JSON with its format, exit 0 when clean', async () => {
    const r = await capture(['parse', fixture('camt053-v08-multi.xml')]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.format).toBe('camt.053.001.08');
    expect(doc.statements.map((s: { id: string }) => s.id)).toEqual([
      'STMT-EUR-20250301',
      'STMT-USD-20250301',
    ]);
    expect(r.out).toContain('\n  "statements"');
  });

  it('--compact prints one line; a failed balance check exits 1', async () => {
    const r = await capture(['parse', fixture('camt053-v08-broken-balance.xml'), '--compact']);
    expect(r.code).toBe(1);
    expect(r.out.trim().split('\n')).toHaveLength(1);
    expect(JSON.parse(r.out).statements[0].balanceCheck.ok).toBe(false);
  });

  it('--ndjson streams header, entries and statements', async () => {
    const r = await capture(['parse', fixture('camt054-v08.xml'), '--ndjson']);
    expect(r.code).toBe(0);
    const lines = r.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['header', 'entry', 'entry', 'statement']);
    expect(lines[0].format).toBe('camt.054.001.08');
    expect(lines[3].statement).toMatchObject({ entries: [], entryCount: 2 });
  });

  it('reads MT940 too', async () => {
    const file = join(dir, 'ok.sta');
    writeFileSync(
      file,
      ':20:A\r\n:25:X\r\n:60F:C240101EUR1,00\r\n:61:240101D0,50NTRFREF1\r\n:62F:C240101EUR0,50\r\n-\r\n',
    );
    const r = await capture(['parse', file, '--compact']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.format).toBe('mt940');
    expect(doc.statements[0].entries[0].amount).toBe('0.50');
  });

  it('hostile, unknown and truncated files exit 1 with the reason on stderr', async () => {
    const bomb = await capture(['parse', fixture('billion-laughs.xml')]);
    expect(bomb.code).toBe(1);
    expect(bomb.err).toContain('DOCTYPE is refused');
    const unknown = await capture(['parse', fixture('unknown-version.xml')]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('camt.053.001.03');
    const cut = await capture(['parse', fixture('truncated.xml'), '--ndjson']);
    expect(cut.code).toBe(1);
    expect(cut.err).toContain('cut short');
  });

  it('bad arguments exit 2', async () => {
    expect((await capture(['parse'])).code).toBe(2);
    expect((await capture(['parse', 'a', 'b'])).code).toBe(2);
    expect((await capture(['parse', 'a', '--compact', '--ndjson'])).code).toBe(2);
  });
});
