/**
 * A small folder-backed SFTP server on ssh2's server side: public-key users, each confined to a root folder
 * (chroot semantics: absolute paths and `..` resolve inside the root, symbolic links are refused), the
 * operations an SFTP client needs to list, upload, download, rename and remove files, bounded file sizes, and
 * a hook called when a file lands in a watched folder (closed after writing, or renamed into it).
 *
 * It is the transport of the example bank's host-to-host face and of the tests of the bridge's SFTP connector;
 * it is not a general-purpose SSH server (no shell, no exec, no port forwarding).
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync, constants as fsConstants, readFileSync, writeFileSync } from 'node:fs';
import {
  type FileHandle,
  link,
  lstat,
  mkdir,
  open,
  readdir,
  realpath,
  rmdir,
  unlink,
} from 'node:fs/promises';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { join, posix, relative, sep } from 'node:path';
import ssh2, { type Attributes, type Connection, type ParsedKey, type SFTPWrapper } from 'ssh2';

// ssh2 is CommonJS: Node's ESM loader gives only some of its names as named exports (not Server, not utils).
const { Server, utils } = ssh2;

const { OPEN_MODE, STATUS_CODE } = utils.sftp;

/** One SFTP account: who may log in (OpenSSH public key lines) and the folder that is its whole world. */
export interface SftpUser {
  username: string;
  /** OpenSSH public keys (`ssh-ed25519 AAAA... comment`), one per entry. */
  authorizedKeys: string[];
  /** Absolute folder on the host that the user sees as `/`. Created when missing. */
  root: string;
}

/** A file that has just landed in a watched folder. `path` is the user's view (`/to-bank/x.xml`). */
export interface SftpFileArrived {
  username: string;
  path: string;
  absolutePath: string;
}

/** What the server asks before accepting a chunk of an upload: go on, or drop the whole connection. */
export type SftpWriteDecision = 'continue' | 'drop';

export interface SftpServerOptions {
  /** Private host key (OpenSSH or PEM). See {@link loadOrCreateHostKey}. */
  hostKey: string | Buffer;
  users: SftpUser[];
  /** Largest file a user may write, in bytes (default 64 MiB). A write past it fails with FAILURE. */
  maxFileBytes?: number;
  /** Folders (user's view, e.g. `/to-bank`) whose arrivals call {@link onFileArrived}. */
  watchedFolders?: string[];
  /** Names in watched folders that are still being uploaded and never announced (default: dot files, *.tmp,
   * *.part, *.filepart). */
  isTemporaryName?: (name: string) => boolean;
  onFileArrived?: (file: SftpFileArrived) => void | Promise<void>;
  /** Called before each upload chunk is written; it may wait (slowness) or drop the connection. */
  beforeWrite?: (info: {
    username: string;
    path: string;
    offset: number;
    bytes: number;
  }) => SftpWriteDecision | Promise<SftpWriteDecision>;
  /** Where hook failures and refused logins are reported (no file contents are ever passed). */
  onError?: (error: Error, context: string) => void;
  /** Most open handles per session (default 64). */
  maxHandles?: number;
  /** How long close() lets sessions end on their own before it cuts their sockets (default 2000 ms). */
  closeGraceMs?: number;
}

export interface RunningSftpServer {
  host: string;
  port: number;
  /** The host key's public half in OpenSSH format, for clients to pin. */
  hostPublicKey: string;
  close(): Promise<void>;
}

const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_HANDLES = 64;
const READDIR_CHUNK = 100;

export function defaultIsTemporaryName(name: string): boolean {
  return name.startsWith('.') || /\.(tmp|part|filepart)$/i.test(name);
}

/** Reads the private host key from `file`, or generates an ed25519 key and writes it there (mode 0600) when the
 * file does not exist yet. Without a file, a fresh key for this process only. */
export function loadOrCreateHostKey(file?: string): string {
  if (file && existsSync(file)) return readFileSync(file, 'utf8');
  const pair = generateSshKeyPair();
  if (file) writeFileSync(file, pair.private, { mode: 0o600 });
  return pair.private;
}

/**
 * An ed25519 key pair in OpenSSH form. ssh2's generator now and then (about 1 in 300) writes a private key its
 * own parser calls malformed; such a pair is thrown away and another made.
 */
export function generateSshKeyPair(): { private: string; public: string } {
  for (let attempt = 0; ; attempt++) {
    const pair = utils.generateKeyPairSync('ed25519');
    const ok =
      !(utils.parseKey(pair.private) instanceof Error) && !(utils.parseKey(pair.public) instanceof Error);
    if (ok || attempt >= 20) return pair;
  }
}

/** The OpenSSH public line (`ssh-ed25519 AAAA...`) of a private or public key. */
export function publicKeyLine(key: string | Buffer): string {
  const parsed = parseKeyOrThrow(key);
  return `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
}

function parseKeyOrThrow(key: string | Buffer): ParsedKey {
  const parsed = utils.parseKey(key);
  if (parsed instanceof Error) throw new Error(`SFTP_KEY_INVALID: ${parsed.message}`);
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

export class SftpPathError extends Error {
  constructor(
    readonly code: 'SFTP_PATH_INVALID' | 'SFTP_PATH_ESCAPES',
    message: string,
  ) {
    super(message);
  }
}

/** The user's view of a path, normalised: always absolute, `..` cannot climb above `/`. */
export function virtualPath(requested: string, cwd = '/'): string {
  if (requested.includes('\0')) throw new SftpPathError('SFTP_PATH_INVALID', 'path contains NUL');
  const normalised = posix.resolve(cwd, requested === '' ? '.' : requested);
  return normalised;
}

/** Maps a user's path under `root` and checks, through the real file system, that no symbolic link takes it
 * elsewhere: every existing component must be a real directory or file inside the root. */
export async function resolveInRoot(
  root: string,
  requested: string,
): Promise<{ virtual: string; real: string }> {
  const virtual = virtualPath(requested);
  const rootReal = await realpath(root);
  const real = join(rootReal, ...virtual.split('/').filter(Boolean));
  const rel = relative(rootReal, real);
  if (rel.startsWith('..') || rel.includes(`..${sep}`)) {
    throw new SftpPathError('SFTP_PATH_ESCAPES', 'path escapes the root');
  }
  let current = rootReal;
  for (const part of virtual.split('/').filter(Boolean)) {
    current = join(current, part);
    try {
      const info = await lstat(current);
      if (info.isSymbolicLink()) throw new SftpPathError('SFTP_PATH_ESCAPES', 'symbolic links are refused');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
      throw error;
    }
  }
  return { virtual, real };
}

type OpenFile = {
  kind: 'file';
  fd: FileHandle;
  virtual: string;
  real: string;
  writable: boolean;
  failed: boolean;
};
type OpenDir = { kind: 'dir'; virtual: string; real: string; entries: string[] | null; next: number };

function attrsOf(info: {
  mode: number;
  uid: number;
  gid: number;
  size: number;
  atimeMs: number;
  mtimeMs: number;
}): Attributes {
  return {
    mode: info.mode,
    uid: info.uid,
    gid: info.gid,
    size: info.size,
    atime: Math.floor(info.atimeMs / 1000),
    mtime: Math.floor(info.mtimeMs / 1000),
  };
}

function longname(name: string, attrs: Attributes): string {
  const isDir = (attrs.mode & fsConstants.S_IFMT) === fsConstants.S_IFDIR;
  const perms = ['r', 'w', 'x', 'r', 'w', 'x', 'r', 'w', 'x']
    .map((ch, i) => (attrs.mode & (0o400 >> i) ? ch : '-'))
    .join('');
  const date = new Date(attrs.mtime * 1000).toISOString().slice(0, 16).replace('T', ' ');
  return `${isDir ? 'd' : '-'}${perms} 1 ${attrs.uid} ${attrs.gid} ${attrs.size} ${date} ${name}`;
}

function statusFor(error: unknown): { code: number; message: string } {
  if (error instanceof SftpPathError) return { code: STATUS_CODE.PERMISSION_DENIED, message: error.code };
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return { code: STATUS_CODE.NO_SUCH_FILE, message: 'no such file' };
  if (code === 'EACCES' || code === 'EPERM' || code === 'ELOOP')
    return { code: STATUS_CODE.PERMISSION_DENIED, message: 'permission denied' };
  if (code === 'EEXIST') return { code: STATUS_CODE.FAILURE, message: 'already exists' };
  if (code === 'ENOTEMPTY') return { code: STATUS_CODE.FAILURE, message: 'directory not empty' };
  return { code: STATUS_CODE.FAILURE, message: 'failure' };
}

function openFlags(pflags: number): number {
  const read = (pflags & OPEN_MODE.READ) !== 0;
  const write = (pflags & OPEN_MODE.WRITE) !== 0;
  let flags = read && write ? fsConstants.O_RDWR : write ? fsConstants.O_WRONLY : fsConstants.O_RDONLY;
  if (pflags & OPEN_MODE.APPEND) flags |= fsConstants.O_APPEND;
  if (pflags & OPEN_MODE.CREAT) flags |= fsConstants.O_CREAT;
  if (pflags & OPEN_MODE.TRUNC) flags |= fsConstants.O_TRUNC;
  if (pflags & OPEN_MODE.EXCL) flags |= fsConstants.O_EXCL;
  return flags | fsConstants.O_NOFOLLOW;
}

export async function startSftpServer(
  options: SftpServerOptions,
  listen: { host?: string; port?: number } = {},
): Promise<RunningSftpServer> {
  const maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const maxHandles = options.maxHandles ?? DEFAULT_MAX_HANDLES;
  const isTemporary = options.isTemporaryName ?? defaultIsTemporaryName;
  const watched = new Set((options.watchedFolders ?? []).map((folder) => virtualPath(folder)));
  const report = (error: unknown, context: string) =>
    options.onError?.(error instanceof Error ? error : new Error(String(error)), context);
  const users = new Map<string, { user: SftpUser; keys: ParsedKey[] }>();
  for (const user of options.users) {
    await mkdir(user.root, { recursive: true });
    users.set(user.username, { user, keys: user.authorizedKeys.map(parseKeyOrThrow) });
  }
  const hostPublicKey = publicKeyLine(options.hostKey);
  const connections = new Set<Connection>();

  const announce = (username: string, virtual: string, real: string) => {
    if (!watched.has(posix.dirname(virtual)) || isTemporary(posix.basename(virtual))) return;
    if (!options.onFileArrived) return;
    Promise.resolve()
      .then(() => options.onFileArrived!({ username, path: virtual, absolutePath: real }))
      .catch((error) => report(error, 'onFileArrived'));
  };

  const server = new Server({ hostKeys: [options.hostKey] }, (client) => {
    connections.add(client);
    let username: string | null = null;
    client.on('error', (error) => report(error, 'connection'));
    client.on('close', () => connections.delete(client));
    client.on('authentication', (ctx) => {
      const entry = users.get(ctx.username);
      if (ctx.method !== 'publickey' || !entry) return ctx.reject(['publickey']);
      const key = entry.keys.find((candidate) => {
        const blob = candidate.getPublicSSH();
        return (
          candidate.type === ctx.key.algo &&
          blob.length === ctx.key.data.length &&
          timingSafeEqual(blob, ctx.key.data)
        );
      });
      if (!key) return ctx.reject(['publickey']);
      // Without a signature the client only asks whether the key would do; with one, it must verify.
      if (ctx.signature && key.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) !== true) {
        return ctx.reject(['publickey']);
      }
      username = ctx.username;
      ctx.accept();
    });
    client.on('ready', () => {
      const entry = users.get(username!)!;
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        session.on('sftp', (acceptSftp) => {
          serveSftp(acceptSftp(), client, entry.user);
        });
        // Refuse everything but SFTP.
        session.on('exec', (_accept, reject) => reject());
        session.on('shell', (_accept, reject) => reject());
        session.on('pty', (_accept, reject) => reject?.());
      });
      client.on('tcpip', (_accept, reject) => reject());
    });
  });

  function serveSftp(sftp: SFTPWrapper, client: Connection, user: SftpUser): void {
    const handles = new Map<number, OpenFile | OpenDir>();
    let nextHandle = 1;
    const newHandle = (item: OpenFile | OpenDir): Buffer | null => {
      if (handles.size >= maxHandles) return null;
      const id = nextHandle++;
      handles.set(id, item);
      const buf = Buffer.alloc(4);
      buf.writeUInt32BE(id);
      return buf;
    };
    const handleOf = (buf: Buffer) => (buf.length === 4 ? handles.get(buf.readUInt32BE(0)) : undefined);
    const fail = (reqid: number, error: unknown) => {
      const { code, message } = statusFor(error);
      sftp.status(reqid, code, message);
    };
    const resolve = (path: string) => resolveInRoot(user.root, path);
    // Each request runs to completion even if an earlier one is still waiting on the disk; errors become
    // statuses, never crashes.
    const run = (reqid: number, work: () => Promise<void>) => {
      work().catch((error) => fail(reqid, error));
    };

    sftp.on('close', () => {
      for (const item of handles.values()) if (item.kind === 'file') item.fd.close().catch(() => {});
      handles.clear();
    });

    sftp.on('REALPATH', (reqid, path) =>
      run(reqid, async () => {
        const virtual = virtualPath(path);
        sftp.name(reqid, [{ filename: virtual, longname: virtual, attrs: {} as Attributes }]);
      }),
    );
    const statLike = (reqid: number, path: string) =>
      run(reqid, async () => {
        const { real } = await resolve(path);
        sftp.attrs(reqid, attrsOf(await lstat(real)));
      });
    sftp.on('STAT', statLike);
    sftp.on('LSTAT', statLike);
    sftp.on('FSTAT', (reqid, handle) =>
      run(reqid, async () => {
        const item = handleOf(handle);
        if (!item) return sftp.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
        sftp.attrs(reqid, attrsOf(item.kind === 'file' ? await item.fd.stat() : await lstat(item.real)));
      }),
    );
    // Attributes (times, modes) are not the client's to change here; accept silently as OpenSSH does for
    // what it cannot apply, so uploads that set times do not fail.
    sftp.on('SETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
    sftp.on('FSETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK));
    sftp.on('OPENDIR', (reqid, path) =>
      run(reqid, async () => {
        const { virtual, real } = await resolve(path);
        if (!(await lstat(real)).isDirectory())
          return sftp.status(reqid, STATUS_CODE.FAILURE, 'not a directory');
        const handle = newHandle({ kind: 'dir', virtual, real, entries: null, next: 0 });
        if (!handle) return sftp.status(reqid, STATUS_CODE.FAILURE, 'too many open handles');
        sftp.handle(reqid, handle);
      }),
    );
    sftp.on('READDIR', (reqid, handle) =>
      run(reqid, async () => {
        const item = handleOf(handle);
        if (item?.kind !== 'dir') return sftp.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
        item.entries ??= (await readdir(item.real)).sort();
        if (item.next >= item.entries.length) return sftp.status(reqid, STATUS_CODE.EOF);
        const names = item.entries.slice(item.next, item.next + READDIR_CHUNK);
        item.next += names.length;
        const listed = [];
        for (const name of names) {
          try {
            const info = await lstat(join(item.real, name));
            if (info.isSymbolicLink()) continue;
            const attrs = attrsOf(info);
            listed.push({ filename: name, longname: longname(name, attrs), attrs });
          } catch {
            // Gone between readdir and lstat: skip it.
          }
        }
        if (listed.length === 0 && item.next >= item.entries.length)
          return sftp.status(reqid, STATUS_CODE.EOF);
        sftp.name(reqid, listed);
      }),
    );
    sftp.on('OPEN', (reqid, path, pflags) =>
      run(reqid, async () => {
        const { virtual, real } = await resolve(path);
        const writable = (pflags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND)) !== 0;
        const fd = await open(real, openFlags(pflags), 0o640);
        const info = await fd.stat();
        if (!info.isFile()) {
          await fd.close();
          return sftp.status(reqid, STATUS_CODE.FAILURE, 'not a regular file');
        }
        const handle = newHandle({ kind: 'file', fd, virtual, real, writable, failed: false });
        if (!handle) {
          await fd.close();
          return sftp.status(reqid, STATUS_CODE.FAILURE, 'too many open handles');
        }
        sftp.handle(reqid, handle);
      }),
    );
    sftp.on('READ', (reqid, handle, offset, length) =>
      run(reqid, async () => {
        const item = handleOf(handle);
        if (item?.kind !== 'file') return sftp.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
        const buffer = Buffer.alloc(Math.min(length, 256 * 1024));
        const { bytesRead } = await item.fd.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) return sftp.status(reqid, STATUS_CODE.EOF);
        sftp.data(reqid, buffer.subarray(0, bytesRead));
      }),
    );
    sftp.on('WRITE', (reqid, handle, offset, data) =>
      run(reqid, async () => {
        const item = handleOf(handle);
        if (item?.kind !== 'file' || !item.writable)
          return sftp.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
        if (offset + data.length > maxFileBytes) {
          item.failed = true;
          return sftp.status(reqid, STATUS_CODE.FAILURE, `file larger than ${maxFileBytes} bytes`);
        }
        if (options.beforeWrite) {
          const decision = await options.beforeWrite({
            username: user.username,
            path: item.virtual,
            offset,
            bytes: data.length,
          });
          if (decision === 'drop') {
            item.failed = true;
            client.end();
            return;
          }
        }
        await item.fd.write(data, 0, data.length, offset);
        sftp.status(reqid, STATUS_CODE.OK);
      }),
    );
    sftp.on('CLOSE', (reqid, handle) =>
      run(reqid, async () => {
        const item = handleOf(handle);
        if (!item) return sftp.status(reqid, STATUS_CODE.FAILURE, 'invalid handle');
        handles.delete(handle.readUInt32BE(0));
        if (item.kind === 'file') await item.fd.close();
        sftp.status(reqid, STATUS_CODE.OK);
        if (item.kind === 'file' && item.writable && !item.failed)
          announce(user.username, item.virtual, item.real);
      }),
    );
    sftp.on('REMOVE', (reqid, path) =>
      run(reqid, async () => {
        const { real } = await resolve(path);
        if (!(await lstat(real)).isFile())
          return sftp.status(reqid, STATUS_CODE.FAILURE, 'not a regular file');
        await unlink(real);
        sftp.status(reqid, STATUS_CODE.OK);
      }),
    );
    sftp.on('MKDIR', (reqid, path) =>
      run(reqid, async () => {
        const { real } = await resolve(path);
        await mkdir(real, { mode: 0o750 });
        sftp.status(reqid, STATUS_CODE.OK);
      }),
    );
    sftp.on('RMDIR', (reqid, path) =>
      run(reqid, async () => {
        const { virtual, real } = await resolve(path);
        if (virtual === '/') return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED, 'the root stays');
        await rmdir(real);
        sftp.status(reqid, STATUS_CODE.OK);
      }),
    );
    // SFTP v3 rename never replaces an existing target: for files, link + unlink makes that atomic, so a second
    // upload renamed onto a name already delivered fails instead of overwriting it.
    sftp.on('RENAME', (reqid, from, to) =>
      run(reqid, async () => {
        const source = await resolve(from);
        const target = await resolve(to);
        if (source.virtual === '/' || target.virtual === '/')
          return sftp.status(reqid, STATUS_CODE.PERMISSION_DENIED, 'the root stays');
        const info = await lstat(source.real);
        if (!info.isFile()) return sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED, 'only files are renamed');
        await link(source.real, target.real);
        await unlink(source.real);
        sftp.status(reqid, STATUS_CODE.OK);
        announce(user.username, target.virtual, target.real);
      }),
    );
    sftp.on('READLINK', (reqid) => sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED, 'no symbolic links'));
    sftp.on('SYMLINK', (reqid) => sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED, 'no symbolic links'));
    sftp.on('EXTENDED', (reqid) => sftp.status(reqid, STATUS_CODE.OP_UNSUPPORTED, 'no extensions'));
  }

  // Our own listener hands each socket to ssh2, so close() can see (and, if need be, cut) every one of them.
  const sockets = new Set<Socket>();
  const tcp = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    server.injectSocket(socket);
  });
  const host = listen.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(listen.port ?? 0, host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const address = tcp.address();
  const port = typeof address === 'object' && address ? address.port : (listen.port ?? 0);
  return {
    host,
    port,
    hostPublicKey,
    close: () =>
      new Promise<void>((resolve) => {
        for (const connection of connections) connection.end();
        // end() only half-closes, and a peer still in its handshake has no connection to end: either would
        // hold close() forever, and with it the shutdown of the process. After the grace, cut what is left.
        const force = setTimeout(() => {
          for (const socket of sockets) socket.destroy();
        }, options.closeGraceMs ?? 2000);
        force.unref();
        tcp.close(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
