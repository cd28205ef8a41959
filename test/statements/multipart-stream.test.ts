// The streaming form reader (FormStream) against the whole-body one (readForm): the same parts and contents
// for every body, however the body is cut into chunks, and a refusal wherever readForm refuses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FormLimits, FormStream, readForm } from '../../src/statements/multipart.js';

const B = 'xYz-b0und';
const CT = `multipart/form-data; boundary=${B}`;

async function* chunks(body: Buffer, cuts: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (const cut of [...new Set(cuts.map((c) => c % (body.length + 1)))].sort((a, b) => a - b)) {
    yield body.subarray(at, cut);
    at = cut;
  }
  yield body.subarray(at);
}

type Read =
  | {
      ok: true;
      parts: Array<{ name: string; filename: string | null; contentType: string | null; content: string }>;
    }
  | { ok: false; errorCode: string };

async function readStream(
  body: Buffer,
  cuts: number[],
  limits: Partial<FormLimits & { bodyBytes: number }> = {},
): Promise<Read> {
  const opened = FormStream.open(chunks(body, cuts), CT, limits);
  if (!opened.ok) return { ok: false, errorCode: opened.errorCode };
  const parts: Array<{ name: string; filename: string | null; contentType: string | null; content: string }> =
    [];
  for (;;) {
    const next = await opened.form.next();
    if (!next.ok) return { ok: false, errorCode: next.errorCode };
    if (next.part === null) return { ok: true, parts };
    const pieces: Buffer[] = [];
    for (;;) {
      const r = await opened.form.read();
      if (!r.ok) return { ok: false, errorCode: r.errorCode };
      if (r.piece === null) break;
      pieces.push(Buffer.from(r.piece)); // a copy: the reader's buffer moves on
    }
    parts.push({ ...next.part, content: Buffer.concat(pieces).toString('latin1') });
  }
}

function readWhole(body: Buffer, limits: Partial<FormLimits> = {}): Read {
  const r = readForm(body, CT, limits);
  if (!r.ok) return { ok: false, errorCode: r.errorCode };
  return {
    ok: true,
    parts: r.parts.map((p) => ({
      name: p.name,
      filename: p.filename,
      contentType: p.contentType,
      content: p.content.toString('latin1'),
    })),
  };
}

const part = (name: string, filename: string | null, content: string) =>
  `Content-Disposition: form-data; name="${name}"${filename === null ? '' : `; filename="${filename}"`}\r\n` +
  `Content-Type: text/plain\r\n\r\n${content}`;

/** The pieces a hostile body is made of: the framing's own bytes, near misses of them, and plain text. */
const token = fc.oneof(
  fc.constantFrom(
    `--${B}`,
    `\r\n--${B}`,
    `\r\n--${B}--`,
    `\r\n--${B}--\r\n`,
    `--${B.slice(0, 4)}`,
    '\r\n',
    '\r\n\r\n',
    '\r',
    '\n',
    '--',
    ' ',
    '\t',
    'Content-Disposition: form-data; name="a"',
    'Content-Disposition: form-data; name="statement_file"; filename="s.sta"',
    'Content-Type: text/plain',
    'X-Other: 1',
    ':20:REF',
  ),
  fc.string({ maxLength: 12 }),
);
const hostileBody = fc.array(token, { maxLength: 30 }).map((t) => Buffer.from(t.join(''), 'utf8'));
const wellFormedBody = fc
  .array(
    fc.record({
      name: fc.constantFrom('statement_file', 'a', 'b'),
      filename: fc.option(fc.constantFrom('s.sta', 'x'), { nil: null }),
      content: fc.array(
        fc.constantFrom(`--${B}`, `\r\n--${B}x`, '\r\n', 'abc', '-', `\r\n--${B.slice(0, 5)}`),
        {
          maxLength: 8,
        },
      ),
    }),
    { maxLength: 4 },
  )
  .map((ps) =>
    Buffer.from(
      `preamble\r\n${ps.map((p) => `--${B}\r\n${part(p.name, p.filename, p.content.join(''))}\r\n`).join('')}--${B}--\r\nepilogue`,
      'utf8',
    ),
  );
const cuts = fc.array(fc.nat({ max: 4000 }), { maxLength: 12 });

describe('FormStream', () => {
  it('reads every well-formed body as readForm does, wherever it is cut', async () => {
    await fc.assert(
      fc.asyncProperty(wellFormedBody, cuts, async (body, at) => {
        const limits = { files: 10, fields: 10 };
        expect(await readStream(body, at, limits)).toEqual(readWhole(body, limits));
      }),
      { numRuns: 400 },
    );
  });

  it('refuses a hostile body exactly when readForm does, and otherwise reads the same parts', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBody, cuts, async (body, at) => {
        const limits = { files: 10, fields: 10 };
        const whole = readWhole(body, limits);
        const stream = await readStream(body, at, limits);
        expect(stream.ok).toBe(whole.ok);
        if (whole.ok) expect(stream).toEqual(whole);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a second file, and a file over fileBytes, before reading the rest of the body', async () => {
    const two = Buffer.from(
      `--${B}\r\n${part('f', 'a', 'x')}\r\n--${B}\r\n${part('g', 'b', 'y')}\r\n--${B}--`,
    );
    expect(await readStream(two, [7, 90], { files: 1 })).toEqual({ ok: false, errorCode: 'too_many_parts' });
    expect(readWhole(two, { files: 1 })).toEqual({ ok: false, errorCode: 'too_many_parts' });

    // A file of 2 MiB and no closing delimiter: refused as too large once 1 MiB has arrived.
    let pulled = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      yield Buffer.from(`--${B}\r\n${part('statement_file', 's', '')}`);
      for (let i = 0; i < 32; i++) {
        pulled++;
        yield Buffer.alloc(64 * 1024, 'A');
      }
    }
    const opened = FormStream.open(endless(), CT, { fileBytes: 1024 * 1024 });
    if (!opened.ok) throw new Error('not opened');
    expect((await opened.form.next()).ok).toBe(true);
    let r: Awaited<ReturnType<FormStream['read']>>;
    do r = await opened.form.read();
    while (r.ok && r.piece !== null);
    expect(r).toMatchObject({ ok: false, errorCode: 'too_large' });
    expect(pulled).toBe(17); // 16 chunks are 1 MiB exactly; the 17th goes over
  });

  it('refuses a body over bodyBytes, whatever it holds', async () => {
    const body = Buffer.from(`--${B}\r\n${part('a', null, 'x'.repeat(5000))}\r\n--${B}--\r\n`);
    expect(await readStream(body, [1000, 2000], { bodyBytes: 4096 })).toEqual({
      ok: false,
      errorCode: 'too_large',
    });
    expect((await readStream(body, [1000, 2000], { bodyBytes: body.length })).ok).toBe(true);
  });

  it('hands a file on in pieces without holding it: the buffer stays near one chunk', async () => {
    const piece = Buffer.alloc(64 * 1024, 'B');
    async function* big(): AsyncGenerator<Buffer> {
      yield Buffer.from(`--${B}\r\n${part('statement_file', 's', '')}`);
      for (let i = 0; i < 200; i++) yield piece;
      yield Buffer.from(`\r\n--${B}--\r\n`);
    }
    const opened = FormStream.open(big(), CT);
    if (!opened.ok) throw new Error('not opened');
    expect(await opened.form.next()).toMatchObject({ ok: true, part: { name: 'statement_file' } });
    let total = 0;
    let largest = 0;
    for (;;) {
      const r = await opened.form.read();
      if (!r.ok) throw new Error(r.message);
      if (r.piece === null) break;
      total += r.piece.length;
      largest = Math.max(largest, r.piece.length);
    }
    expect(total).toBe(200 * piece.length);
    expect(largest).toBeLessThanOrEqual(piece.length + B.length + 4);
    expect(await opened.form.next()).toEqual({ ok: true, part: null });
  });
});
