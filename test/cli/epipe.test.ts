// A command whose reader goes away (`g2p-bridge mt940 big.sta | head`) stops quietly, as Unix tools do,
// instead of dying on an unhandled EPIPE with a stack trace.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'g2p-epipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bigStatement(entries: number): string {
  const lines = [':20:REF1', ':25:ACC1', ':28C:1/1', ':60F:C261130EUR0,00'];
  for (let i = 0; i < entries; i++) lines.push(`:61:2611301130C1,00NTRFREF${i}//B${i}`, `:86:top up ${i}`);
  lines.push(`:62F:C261130EUR${entries},00`);
  return `${lines.join('\r\n')}\r\n`;
}

it('mt940 stops quietly when its output pipe closes early', async () => {
  const file = join(dir, 'big.sta');
  writeFileSync(file, bigStatement(20_000));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'mt940', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  // Read the first bytes, then go away like `head -c 100`.
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  expect(stderr).not.toMatch(/EPIPE|Unhandled/);
  expect(code).toBe(0);
});
