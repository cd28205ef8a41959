import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { decodeStatementBytes, run } from '../../src/cli/commands/mt940.js';
import { parseMt940 } from '../../src/mt940/index.js';

const dir = mkdtempSync(join(tmpdir(), 'mt940-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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

describe('g2p-bridge mt940', () => {
  it('prints usage with --help', async () => {
    const r = await capture(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Usage: g2p-bridge mt940 <file\|->/);
  });

  it('prints the statements of a file as JSON, exit 0 when clean', async () => {
    const file = join(dir, 'ok.sta');
    writeFileSync(
      file,
      ':20:A\r\n:25:X\r\n:60F:C240101EUR1,00\r\n:61:240101D0,50NTRFREF1\r\n:62F:C240101EUR0,50\r\n-\r\n',
    );
    const r = await capture([file]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(json.statements[0].entries[0]).toMatchObject({ amount: '0.50', customerReference: 'REF1' });
    expect(json.statements[0].balanceCheck.ok).toBe(true);
  });

  it('exits 1 on a failed balance check or a file that is not MT940, 2 on a usage error', async () => {
    const bad = join(dir, 'bad.sta');
    writeFileSync(bad, ':20:A\n:25:X\n:60F:C240101EUR1,00\n:62F:C240101EUR2,00\n');
    expect((await capture([bad, '--summary'])).out).toMatch(/BALANCE CHECK FAILED/);
    expect((await capture([bad])).code).toBe(1);
    const junk = join(dir, 'junk.txt');
    writeFileSync(junk, 'hello\n');
    expect((await capture([junk, '--compact'])).code).toBe(1);
    expect((await capture([])).code).toBe(2);
    expect((await capture(['--nope', bad])).code).toBe(2);
  });

  it('streams one statement per line with --ndjson', async () => {
    const file = join(dir, 'two.sta');
    writeFileSync(file, ':20:A\n:25:X\n-\n:20:B\n:25:Y\n-\n');
    const r = await capture([file, '--ndjson']);
    expect(
      r.out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).transactionReference),
    ).toEqual(['A', 'B']);
  });

  it('--ndjson reads CR-only line ends as the whole-file parse does', async () => {
    const file = join(dir, 'cr.sta');
    writeFileSync(
      file,
      ':20:A\r:25:X\r:60F:C240101EUR1,00\r:61:240101D0,50NTRFREF1\r:62F:C240101EUR0,50\r-\r',
    );
    const whole = await capture([file, '--compact']);
    const streamed = await capture([file, '--ndjson']);
    expect(streamed.code).toBe(0);
    expect(whole.code).toBe(0);
    const lines = streamed.out.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual(JSON.parse(whole.out).statements[0]);
    expect(JSON.parse(lines[0]!).entries).toHaveLength(1);
  });

  it('exits 1 on a file cut short (no closing balance), with or without --ndjson', async () => {
    const file = join(dir, 'short.sta');
    writeFileSync(file, ':20:A\n:25:X\n:60F:C240101EUR1,00\n:61:240101D0,50NTRFREF1\n');
    expect((await capture([file])).code).toBe(1);
    expect((await capture([file, '--ndjson'])).code).toBe(1);
  });

  it('reads Latin-1 files', async () => {
    const file = join(dir, 'latin1.sta');
    writeFileSync(file, Buffer.from(':20:A\n:25:X\n:61:240101C1,NTRFR\n:86:Empf\xe4nger\n', 'latin1'));
    const r = await capture([file]);
    expect(JSON.parse(r.out).statements[0].entries[0].narratives).toEqual(['Empfänger']);
  });

  it('decodes ASCII, UTF-8 (with or without a byte-order mark) and Latin-1 as TextDecoder would', async () => {
    const ascii = ':20:STMT-1\r\n:25:NL91ABNA0417164300\r\n:86:Amina Diallo ~ {x} \u007f\r\n-';
    const utf8 = ':20:STMT-1\r\n:86:Zoë Müller \u00a0 Ñandú \u20ac \u{1f600}\r\n-';
    const bytes = (t: string) => new Uint8Array(Buffer.from(t, 'utf8'));
    expect(decodeStatementBytes(bytes(ascii))).toBe(new TextDecoder().decode(bytes(ascii)));
    expect(decodeStatementBytes(bytes(ascii), 'utf8')).toBe(ascii);
    expect(decodeStatementBytes(bytes(utf8))).toBe(utf8);
    expect(decodeStatementBytes(bytes(`\ufeff${ascii}`))).toBe(ascii);
    expect(decodeStatementBytes(bytes(`\ufeff${utf8}`))).toBe(utf8);
    const latin1 = new Uint8Array(Buffer.from(':86:Zoë Müller', 'latin1'));
    expect(decodeStatementBytes(latin1)).toBe(':86:Zoë Müller');
    expect(() => decodeStatementBytes(latin1, 'utf8')).toThrow();
    // an ASCII file through --compact: the bytes of JSON.stringify(parseMt940(text))
    const file = join(dir, 'ascii.sta');
    const text = [
      ':20:STMT-1',
      ':25:NL91ABNA0417164300',
      ':28C:12/1',
      ':60F:C240131EUR1000,00',
      ':61:2402010201D250,50NTRFDISB-1//BNK-77',
      ':86:Child grant ~ "quoted" \\ back',
      ':62F:C240201EUR749,50',
      '-',
    ].join('\r\n');
    writeFileSync(file, text);
    const r = await capture(['--compact', file]);
    expect(r.out).toBe(`${JSON.stringify(parseMt940(text))}\n`);
    expect(r.code).toBe(0);
  });

  it('uses the bytes main.ts read ahead only for the file it was asked to read', async () => {
    const text = [
      ':20:AHEAD',
      ':25:NL91ABNA0417164300',
      ':60F:C240131EUR1,00',
      ':62F:C240131EUR1,00',
      '-',
    ].join('\n');
    const file = join(dir, 'ahead.sta');
    writeFileSync(file, text.replace('AHEAD', 'ON-DISK'));
    const bytes = Promise.resolve(new Uint8Array(Buffer.from(text)));
    const same = await capture(['--compact', file]);
    expect(same.out).toContain('ON-DISK');
    // run with the read-ahead: its bytes are the input
    let out = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
      out += String(c);
      return true;
    });
    try {
      expect(await run(['--compact', file], { file, bytes })).toBe(0);
      expect(out).toBe(`${JSON.stringify(parseMt940(text))}\n`);
      out = '';
      // a read-ahead of another file, or one that found no regular file, is not used
      expect(await run(['--compact', file], { file: `${file}.other`, bytes })).toBe(0);
      expect(out).toContain('ON-DISK');
      out = '';
      expect(await run(['--compact', file], { file, bytes: Promise.resolve(null) })).toBe(0);
      expect(out).toContain('ON-DISK');
    } finally {
      o.mockRestore();
    }
    // a failed read-ahead is the command's error, exit 1
    const failed = Promise.reject(new Error('EIO: i/o error, read'));
    failed.catch(() => {});
    const e = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await run(['--compact', file], { file, bytes: failed })).toBe(1);
      expect(e).toHaveBeenCalledWith('mt940: EIO: i/o error, read\n');
    } finally {
      e.mockRestore();
    }
  });
});
