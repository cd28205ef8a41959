// `start` as a newcomer runs it: a busy port is named at once (before any database work), and standard output
// carries the banner alone while the JSON logs go to standard error.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { portCheck } from '../../src/cli/commands/start.js';

function startProcess(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', ...args], {
    env: { ...process.env, DATABASE_URL: '', HOST: '127.0.0.1', PUBLIC_URL: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout!.on('data', (d) => {
    out.stdout += String(d);
  });
  child.stderr!.on('data', (d) => {
    out.stderr += String(d);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out, exited };
}

describe('start as a newcomer runs it', () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  let busy: Server | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    await new Promise<void>((resolve) => (busy ? busy.close(() => resolve()) : resolve()));
    busy = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a busy port: exit 2 naming PORT, before the database is created', async () => {
    busy = createServer();
    await new Promise<void>((resolve) => busy!.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const port = (busy.address() as { port: number }).port;
    expect(await portCheck('127.0.0.1', port)).toContain(`PORT ${port} is already in use on 127.0.0.1`);
    expect(await portCheck('127.0.0.1', 0)).toBeNull();

    dir = await mkdtemp(join(tmpdir(), 'g2p-busy-'));
    const run = startProcess(['--port', String(port)], { DATA_DIR: dir, LOG_LEVEL: 'info' });
    child = run.child;
    expect(await run.exited).toBe(2);
    expect(run.out.stderr).toContain(`PORT ${port} is already in use`);
    expect(run.out.stderr).toContain(`--port ${port + 1}`);
    expect(run.out.stdout).toBe('');
    expect(existsSync(join(dir, 'db'))).toBe(false);
  });

  it('prints the banner alone on stdout; the JSON logs go to stderr', async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2p-banner-'));
    const run = startProcess(['--port', '0'], { DATA_DIR: dir, LOG_LEVEL: 'info' });
    child = run.child;
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (/try it .*\n/.test(run.out.stdout)) resolve();
      };
      run.child.stdout!.on('data', check);
      run.child.on('exit', (code) => reject(new Error(`exited ${code}: ${run.out.stderr}`)));
    });
    const url = /is listening on (http:\/\/\S+)/.exec(run.out.stdout)![1]!;
    expect(run.out.stdout).toContain('npm run -s cli -- token admin');
    expect(run.out.stdout).toContain(`npm run -s cli -- demo --url ${url}`);
    // A request is logged (pino at info): on stderr, never among the banner's lines.
    await fetch(`${url}/health`);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(run.out.stdout.split('\n').filter((line) => line.trimStart().startsWith('{'))).toEqual([]);
    const logLines = run.out.stderr.split('\n').filter(Boolean);
    expect(logLines.length).toBeGreaterThan(0);
    for (const line of logLines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(logLines.some((line) => JSON.parse(line).msg === 'stopped')).toBe(true);
  });
});
