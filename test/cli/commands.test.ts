import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { collector, type TestStack, testStack } from './stack.js';

const COMMANDS = ['start', 'serve', 'demo', 'statement'] as const;

async function captured(fn: () => Promise<number>) {
  const out = collector();
  const err = collector();
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((t) => out.write(String(t)));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((t) => err.write(String(t)));
  try {
    const code = await fn();
    return { code, stdout: out.text(), stderr: err.text() };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe('command help', () => {
  it.each(COMMANDS)('%s --help prints its usage and exits 0', async (name) => {
    const command = await import(`../../src/cli/commands/${name}.ts`);
    const r = await captured(() => command.run(['--help']));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: g2p-bridge ${name}`));
  });
});

describe('argument checks', () => {
  it('demo refuses a size outside 100..1,000,000 and stray options', async () => {
    const { run } = await import('../../src/cli/commands/demo.js');
    for (const args of [
      ['--size', '99'],
      ['--size', '2000000'],
      ['--size', 'lots'],
      ['--batch', '20000'],
    ]) {
      const r = await captured(() => run(args));
      expect(r.code, args.join(' ')).toBe(2);
    }
    const r = await captured(() => run(['--url', 'http://127.0.0.1:1', '--keep']));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--keep');
  });

  it('statement needs the upload action and a readable file', async () => {
    const { run } = await import('../../src/cli/commands/statement.js');
    expect((await captured(() => run([]))).code).toBe(2);
    expect((await captured(() => run(['upload', '/no/such/file.sta']))).code).toBe(2);
  });
});

describe('statement upload to a running bridge', () => {
  let stack: TestStack;
  let dir: string;
  beforeAll(async () => {
    stack = await testStack({ EXAMPLE_BANK_PROCESS_INTERVAL_MS: '0' });
    dir = await mkdtemp(join(tmpdir(), 'g2p-cli-'));
  });
  afterAll(async () => {
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('stores the file as the bank and prints its id; a refusal exits 1', async () => {
    const { run } = await import('../../src/cli/commands/statement.js');
    const file = join(dir, 'stmt.sta');
    const text =
      ':20:CLI1\r\n:25:NOSUCHACCOUNT\r\n:28C:1/1\r\n:60F:C250301USD100,00\r\n:62F:C250301USD100,00\r\n-';
    await writeFile(file, text);
    const token = await stack.token(['bank']);
    const ok = await captured(() => run(['upload', file, '--url', stack.url, '--token', token]));
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const id = /stored as statement (\S+) /.exec(ok.stdout)?.[1];
    expect(id).toBeTruthy();
    const { rows } = await stack.db.query<{ statement_lob: string }>(
      'SELECT statement_lob FROM account_statement_lob WHERE statement_id = $1',
      [id],
    );
    expect(rows[0]?.statement_lob).toBe(text);

    const empty = join(dir, 'empty.sta');
    await writeFile(empty, '');
    const refused = await captured(() => run(['upload', empty, '--url', stack.url, '--token', token]));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('STATEMENT_UPLOAD_ERROR');

    const pbms = await stack.token(['pbms']);
    const wrongRole = await captured(() => run(['upload', file, '--url', stack.url, '--token', pbms]));
    expect(wrongRole.code).toBe(1);
  });
});

describe('start as a process', () => {
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves everything on one port, is ready, and shuts down cleanly on SIGTERM', async () => {
    dir = await mkdtemp(join(tmpdir(), 'g2p-start-'));
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start', '--port', '0'], {
      env: {
        ...process.env,
        DATA_DIR: dir,
        DATABASE_URL: '',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        PUBLIC_URL: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout!.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr!.on('data', () => {});
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner: ${stdout}`)), 60_000);
      child!.stdout!.on('data', () => {
        const m = /is listening on (http:\/\/\S+)/.exec(stdout);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]!);
        }
      });
      child!.on('exit', (code) => reject(new Error(`exited ${code}: ${stdout}`)));
    });
    expect(stdout).toContain(`${url}/dashboard`);
    expect(stdout).toContain('npm run -s cli -- token admin');

    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { checks: Record<string, { ok: boolean }> };
    expect(body.checks.workers?.ok).toBe(true);
    expect((await fetch(`${url}/dashboard/login`)).status).toBe(200);
    expect((await fetch(`${url}/example-bank/admin/accounts`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
    const page = await fetch(`${url}/dashboard`, { redirect: 'manual', headers: { accept: 'text/html' } });
    expect(page.status).toBe(303);

    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('start and BANK_CONNECTORS', () => {
  it('stops at start, naming the entry, when a connector module cannot be loaded', async () => {
    await expect(testStack({ BANK_CONNECTORS: 'EXAMPLE=./no-such-connector.js' })).rejects.toThrow(
      /BANK_CONNECTORS: EXAMPLE=\.\/no-such-connector\.js: cannot load the module/,
    );
  });
});
