import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type SFTPWrapper, utils } from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateSshKeyPair,
  loadOrCreateHostKey,
  publicKeyLine,
  type RunningSftpServer,
  type SftpFileArrived,
  startSftpServer,
} from '../../src/sftp/server.js';

const userKey = generateSshKeyPair();
const strangerKey = generateSshKeyPair();

let dir: string;
let root: string;
let server: RunningSftpServer;
const arrived: SftpFileArrived[] = [];
let dropNext = false;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sftp-server-'));
  root = join(dir, 'alice');
  await writeFile(join(dir, 'secret.txt'), 'outside the root');
  server = await startSftpServer({
    hostKey: loadOrCreateHostKey(join(dir, 'host_key')),
    users: [{ username: 'alice', authorizedKeys: [userKey.public], root }],
    maxFileBytes: 1024,
    watchedFolders: ['/inbox'],
    onFileArrived: (file) => {
      arrived.push(file);
    },
    beforeWrite: () => {
      if (!dropNext) return 'continue';
      dropNext = false;
      return 'drop';
    },
  });
  const { mkdir } = await import('node:fs/promises');
  await mkdir(join(root, 'inbox'), { recursive: true });
  await symlink(join(dir, 'secret.txt'), join(root, 'link.txt'));
  await symlink(dir, join(root, 'outside'));
});

afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

function connect(
  options: { key?: string; username?: string; hostKey?: string } = {},
): Promise<{ client: Client; sftp: SFTPWrapper }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const expected = utils.parseKey(options.hostKey ?? server.hostPublicKey);
    client
      .on('ready', () => {
        client.sftp((error, sftp) => (error ? reject(error) : resolve({ client, sftp })));
      })
      .on('error', reject)
      .connect({
        host: server.host,
        port: server.port,
        username: options.username ?? 'alice',
        privateKey: options.key ?? userKey.private,
        hostVerifier: (key: Buffer) => !(expected instanceof Error) && key.equals(expected.getPublicSSH()),
      });
  });
}

const p =
  <T>(fn: (cb: (error: Error | null | undefined, value?: T) => void) => void) =>
  () =>
    new Promise<T>((resolve, reject) => fn((error, value) => (error ? reject(error) : resolve(value as T))));

async function put(sftp: SFTPWrapper, path: string, data: string | Buffer): Promise<void> {
  const handle = await p<Buffer>((cb) => sftp.open(path, 'w', cb))();
  const buf = Buffer.from(data);
  await p<void>((cb) => sftp.write(handle, buf, 0, buf.length, 0, (e) => cb(e)))();
  await p<void>((cb) => sftp.close(handle, (e) => cb(e)))();
}
async function get(sftp: SFTPWrapper, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    sftp.readFile(path, (error, data) => (error ? reject(error) : resolve(data.toString())));
  });
}

describe('SFTP server', () => {
  it('uploads, lists, renames, reads and removes files inside the root', async () => {
    const { client, sftp } = await connect();
    try {
      expect(await p<string>((cb) => sftp.realpath('.', cb))()).toBe('/');
      await p<void>((cb) => sftp.mkdir('/work', (e) => cb(e)))();
      await put(sftp, '/work/a.txt.part', 'hello');
      await p<void>((cb) => sftp.rename('/work/a.txt.part', '/work/a.txt', (e) => cb(e)))();
      const list = await p<{ filename: string }[]>((cb) => sftp.readdir('/work', cb))();
      expect(list.map((entry) => entry.filename)).toEqual(['a.txt']);
      expect(await get(sftp, '/work/a.txt')).toBe('hello');
      const stats = await p<{ size: number; isFile(): boolean }>((cb) => sftp.stat('/work/a.txt', cb))();
      expect(stats.size).toBe(5);
      expect(stats.isFile()).toBe(true);
      expect(await readFile(join(root, 'work', 'a.txt'), 'utf8')).toBe('hello');
      await p<void>((cb) => sftp.unlink('/work/a.txt', (e) => cb(e)))();
      await expect(p((cb) => sftp.stat('/work/a.txt', cb))()).rejects.toMatchObject({ code: 2 });
      await p<void>((cb) => sftp.rmdir('/work', (e) => cb(e)))();
    } finally {
      client.end();
    }
  });

  it('keeps `..` and absolute paths inside the root', async () => {
    const { client, sftp } = await connect();
    try {
      expect(await p<string>((cb) => sftp.realpath('/../../..', cb))()).toBe('/');
      await expect(get(sftp, '../secret.txt')).rejects.toMatchObject({ code: 2 });
      await expect(get(sftp, '/../../secret.txt')).rejects.toMatchObject({ code: 2 });
      await expect(get(sftp, join(dir, 'secret.txt'))).rejects.toMatchObject({ code: 2 });
      await put(sftp, '/../escape.txt', 'x');
      expect(await readFile(join(root, 'escape.txt'), 'utf8')).toBe('x');
      await expect(readFile(join(dir, 'escape.txt'))).rejects.toThrow();
    } finally {
      client.end();
    }
  });

  it('refuses symbolic links, to read through, list, write through or create', async () => {
    const { client, sftp } = await connect();
    try {
      await expect(get(sftp, '/link.txt')).rejects.toMatchObject({ code: 3 });
      await expect(get(sftp, '/outside/secret.txt')).rejects.toMatchObject({ code: 3 });
      await expect(p((cb) => sftp.readdir('/outside', cb))()).rejects.toMatchObject({ code: 3 });
      await expect(put(sftp, '/outside/new.txt', 'x')).rejects.toMatchObject({ code: 3 });
      await expect(p<void>((cb) => sftp.symlink('/etc/passwd', '/p', (e) => cb(e)))()).rejects.toMatchObject({
        code: 8,
      });
      const names = (await p<{ filename: string }[]>((cb) => sftp.readdir('/', cb))()).map((e) => e.filename);
      expect(names).not.toContain('link.txt');
      expect(await readFile(join(dir, 'secret.txt'), 'utf8')).toBe('outside the root');
    } finally {
      client.end();
    }
  });

  it('never lets a rename replace a file already there', async () => {
    const { client, sftp } = await connect();
    try {
      await put(sftp, '/first.txt', 'one');
      await put(sftp, '/second.txt', 'two');
      await expect(
        p<void>((cb) => sftp.rename('/second.txt', '/first.txt', (e) => cb(e)))(),
      ).rejects.toThrow();
      expect(await get(sftp, '/first.txt')).toBe('one');
    } finally {
      client.end();
    }
  });

  it('bounds file sizes', async () => {
    const { client, sftp } = await connect();
    try {
      await expect(put(sftp, '/big.bin', Buffer.alloc(2048))).rejects.toMatchObject({ code: 4 });
    } finally {
      client.end();
    }
  });

  it('announces files closed or renamed into a watched folder, not temporary names', async () => {
    const { client, sftp } = await connect();
    try {
      arrived.length = 0;
      await put(sftp, '/inbox/direct.xml', '<a/>');
      await put(sftp, '/inbox/renamed.xml.part', '<b/>');
      await put(sftp, '/elsewhere.xml', '<c/>');
      await p<void>((cb) => sftp.rename('/inbox/renamed.xml.part', '/inbox/renamed.xml', (e) => cb(e)))();
      await p<void>((cb) => sftp.rename('/elsewhere.xml', '/inbox/moved.xml', (e) => cb(e)))();
      await new Promise((resolve) => setImmediate(resolve));
      expect(arrived.map((file) => file.path).sort()).toEqual([
        '/inbox/direct.xml',
        '/inbox/moved.xml',
        '/inbox/renamed.xml',
      ]);
      expect(arrived.every((file) => file.username === 'alice' && file.absolutePath.startsWith(root))).toBe(
        true,
      );
    } finally {
      client.end();
    }
  });

  it('can drop the connection in the middle of an upload, and announces nothing', async () => {
    const { client, sftp } = await connect();
    arrived.length = 0;
    dropNext = true;
    const closed = new Promise<void>((resolve) => client.on('close', () => resolve()));
    await expect(put(sftp, '/inbox/cut.xml', '<d/>')).rejects.toThrow();
    await closed;
    expect(arrived).toEqual([]);
  });

  it('refuses an unknown key, an unknown user, and a client pinned to another host key', async () => {
    await expect(connect({ key: strangerKey.private })).rejects.toThrow(/authentication/i);
    await expect(connect({ username: 'mallory' })).rejects.toThrow(/authentication/i);
    await expect(connect({ hostKey: publicKeyLine(strangerKey.private) })).rejects.toThrow();
  });

  it('keeps the generated host key across restarts', async () => {
    const file = join(dir, 'host_key_2');
    const first = loadOrCreateHostKey(file);
    expect(loadOrCreateHostKey(file)).toBe(first);
    expect(publicKeyLine(first)).toMatch(/^ssh-ed25519 /);
  });
});

describe('SFTP server close', () => {
  it('returns even when a peer never closes its side of the connection', async () => {
    const d = await mkdtemp(join(tmpdir(), 'sftp-close-'));
    const s = await startSftpServer({
      hostKey: loadOrCreateHostKey(join(d, 'host_key')),
      users: [{ username: 'alice', authorizedKeys: [userKey.public], root: join(d, 'alice') }],
      closeGraceMs: 200,
    });
    // A peer that keeps its half of the TCP connection open after the server ends its own.
    const { connect: tcp } = await import('node:net');
    const peer = tcp({ host: s.host, port: s.port, allowHalfOpen: true });
    peer.on('error', () => {});
    await new Promise<void>((resolve) => peer.once('data', () => resolve()));
    const outcome = await Promise.race([
      s.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open after 5 s'), 5000)),
    ]);
    peer.destroy();
    await rm(d, { recursive: true, force: true });
    expect(outcome).toBe('closed');
  });
});
