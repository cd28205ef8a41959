import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formBoundary, isFormData, readForm } from '../../src/statements/multipart.js';

/** A part as the reference encoder writes it. */
interface RefPart {
  name: string;
  filename: string | null;
  contentType: string | null;
  content: Buffer;
}

interface Style {
  preamble: string;
  epilogue: string | null;
  padding: string;
  upperHeaders: boolean;
  quoteTokens: boolean;
  extraHeader: boolean;
}

const PLAIN: Style = {
  preamble: '',
  epilogue: '\r\n',
  padding: '',
  upperHeaders: false,
  quoteTokens: true,
  extraHeader: false,
};
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** RFC 7578 as a careful sender writes it (quoted-string with backslash escapes), in a chosen style. */
function encode(
  parts: RefPart[],
  boundary: string,
  style: Style = PLAIN,
): { body: Buffer; contentType: string } {
  const param = (v: string) =>
    TOKEN.test(v) && !style.quoteTokens ? v : `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  const cd = style.upperHeaders
    ? 'CONTENT-DISPOSITION: FORM-DATA; NAME='
    : 'Content-Disposition: form-data; name=';
  const chunks: Buffer[] = [];
  if (style.preamble) chunks.push(Buffer.from(`${style.preamble}\r\n`));
  for (const p of parts) {
    let head = `--${boundary}${style.padding}\r\n`;
    if (style.extraHeader) head += 'X-Whatever: a; b="c"\r\n';
    head += `${cd}${param(p.name)}`;
    if (p.filename !== null) head += `; ${style.upperHeaders ? 'FILENAME' : 'filename'}=${param(p.filename)}`;
    head += '\r\n';
    if (p.contentType !== null) head += `Content-Type: ${p.contentType}\r\n`;
    chunks.push(Buffer.from(`${head}\r\n`), p.content, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--`));
  if (style.epilogue !== null) chunks.push(Buffer.from(style.epilogue));
  return {
    body: Buffer.concat(chunks),
    contentType: `multipart/form-data; boundary=${TOKEN.test(boundary) ? boundary : `"${boundary}"`}`,
  };
}

const boundaryArb = fc.stringMatching(/^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/);
/** Header text without CR, LF or other controls (what a Content-Disposition value can carry). */
const headerText = fc
  .string({ unit: 'grapheme', maxLength: 20 })
  .filter((s) => ![...s].some((c) => c < ' ' || c === '\u007f'));

/** Content that likes to look like a delimiter: CR, LF, dashes and pieces of the boundary. */
function contentArb(boundary: string): fc.Arbitrary<Buffer> {
  const piece = fc.oneof(
    fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
    fc.constantFrom('\r\n', '\r', '\n', '--', '\r\n--', '\r\n\r\n').map((s) => Buffer.from(s)),
    fc.nat(boundary.length).map((n) => Buffer.from(`\r\n--${boundary.slice(0, n)}`)),
    fc.nat(boundary.length).map((n) => Buffer.from(`--${boundary.slice(n)}`)),
  );
  return fc
    .array(piece, { maxLength: 12 })
    .map((xs) => Buffer.concat(xs))
    .filter((c) => !c.includes(`\r\n--${boundary}`));
}

const formArb = boundaryArb.chain((boundary) =>
  fc.record({
    boundary: fc.constant(boundary),
    parts: fc.array(
      fc.record({
        name: headerText,
        filename: fc.option(headerText),
        contentType: fc.option(
          fc.constantFrom('text/plain', 'application/octet-stream', 'text/plain; charset=utf-8'),
        ),
        content: contentArb(boundary),
      }),
      { maxLength: 5 },
    ),
    style: fc.record({
      preamble: fc
        .string({ maxLength: 30 })
        .filter((p) => !`${p}\r\n`.includes(`\r\n--${boundary}`) && !p.startsWith(`--${boundary}`)),
      epilogue: fc.option(fc.string({ maxLength: 30 }).map((e) => `\r\n${e}`)),
      padding: fc.constantFrom('', ' ', '\t ', '  '),
      upperHeaders: fc.boolean(),
      quoteTokens: fc.boolean(),
      extraHeader: fc.boolean(),
    }),
  }),
);

const UNLIMITED = { files: 1000, fields: 1000, fileBytes: 1 << 30 };

describe('readForm', () => {
  it('reads back whatever the reference encoder writes (round trip)', () => {
    fc.assert(
      fc.property(formArb, ({ boundary, parts, style }) => {
        const { body, contentType } = encode(parts, boundary, style);
        const form = readForm(body, contentType, UNLIMITED);
        expect(form).toEqual({ ok: true, parts });
      }),
      { numRuns: 500 },
    );
  });

  it('refuses every body cut before the end of its closing delimiter, as malformed', () => {
    fc.assert(
      fc.property(formArb, fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }), (f, at) => {
        const { body, contentType } = encode(f.parts, f.boundary, { ...f.style, epilogue: null });
        const cut = Math.floor(body.length * at);
        const form = readForm(body.subarray(0, cut), contentType, UNLIMITED);
        expect(form).toMatchObject({ ok: false, errorCode: 'malformed' });
      }),
      { numRuns: 500 },
    );
  });

  it('never throws, whatever the bytes and the Content-Type', () => {
    const contentTypes = fc.oneof(
      fc.constant('multipart/form-data; boundary=xyz'),
      fc.string({ maxLength: 60 }),
      fc.string({ maxLength: 20 }).map((s) => `multipart/form-data; boundary=${s}`),
    );
    const bodies = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
      fc
        .array(
          fc.constantFrom('--xyz', '\r\n', '--', 'Content-Disposition: form-data; name="a"', ':', '"', ' '),
          {
            maxLength: 20,
          },
        )
        .map((xs) => Buffer.from(xs.join(''))),
    );
    fc.assert(
      fc.property(bodies, contentTypes, (body, contentType) => {
        const form = readForm(body, contentType);
        expect(typeof form.ok).toBe('boolean');
      }),
      { numRuns: 2000 },
    );
  });

  it('answers a large part without Content-Disposition arriving at once (the busboy hang) as malformed', () => {
    const b = '----gen-boundary-7';
    const body = Buffer.concat([
      Buffer.from(`--${b}\r\nContent-Type: text/plain\r\n\r\n`),
      Buffer.alloc(16_384, 'A'),
      Buffer.from(`\r\n--${b}--\r\n`),
    ]);
    const form = readForm(body, `multipart/form-data; boundary=${b}`);
    expect(form).toMatchObject({
      ok: false,
      errorCode: 'malformed',
      message: expect.stringMatching(/Content-Disposition/),
    });
  });

  it('hands out views of the body, not copies', () => {
    const { body, contentType } = encode(
      [{ name: 'statement_file', filename: 's.sta', contentType: null, content: Buffer.alloc(100_000, 'x') }],
      'b',
    );
    const form = readForm(body, contentType);
    if (!form.ok) throw new Error(form.message);
    const content = form.parts[0]!.content;
    expect(content.buffer).toBe(body.buffer);
    expect(content.byteOffset).toBe(body.byteOffset + body.indexOf('x'));
    expect(content.length).toBe(100_000);
  });

  it('reads names and filenames: quoted-pairs, tokens, filename*, case-insensitive parameters', () => {
    const read = (disposition: string) => {
      const body = Buffer.from(`--b\r\nContent-Disposition: ${disposition}\r\n\r\nx\r\n--b--`);
      const form = readForm(body, 'multipart/form-data; boundary=b');
      return form.ok ? form.parts.map(({ name, filename }) => ({ name, filename })) : form.message;
    };
    expect(read('form-data; name="a\\"b\\\\c"; filename="x;y=z.sta"')).toEqual([
      { name: 'a"b\\c', filename: 'x;y=z.sta' },
    ]);
    expect(read('Form-Data;NAME=statement_file ; FileName=s.sta;')).toEqual([
      { name: 'statement_file', filename: 's.sta' },
    ]);
    expect(read(`form-data; name="f"; filename*=UTF-8''%E2%82%AC%20rates.sta`)).toEqual([
      { name: 'f', filename: '€ rates.sta' },
    ]);
    expect(read('form-data; name="f"; filename=""')).toEqual([{ name: 'f', filename: '' }]);
    expect(read('form-data; name="f"')).toEqual([{ name: 'f', filename: null }]);
    expect(read('form-data; name="f"; filename="a')).toMatch(/not closed/);
    expect(read('form-data; name="f"; name="g"')).toMatch(/twice/);
    expect(read('form-data; filename="a"')).toMatch(/no name/);
    expect(read('attachment; name="f"')).toMatch(/not form-data/);
    expect(read('form-data; name=a b')).toMatch(/";" expected/);
    expect(read('form-data; name=')).toMatch(/no value/);
  });

  it('reads the header block: folded lines, other headers ignored, broken lines refused', () => {
    const read = (headers: string) => {
      const form = readForm(
        Buffer.from(`--b\r\n${headers}\r\n\r\nx\r\n--b--`),
        'multipart/form-data; boundary=b',
      );
      return form.ok ? form.parts[0]!.name : form.message;
    };
    expect(read('Content-Disposition: form-data;\r\n\tname="f"')).toBe('f');
    expect(read('X-Thing: 1\r\ncontent-disposition:form-data; name="f"\r\nContent-Type: text/plain')).toBe(
      'f',
    );
    expect(read('Content-Disposition form-data; name="f"')).toMatch(/Name: value/);
    expect(read(' Content-Disposition: form-data; name="f"')).toMatch(/continuation/);
    expect(read('Content-Disposition: form-data; name="f"\nX: y')).toMatch(/bare CR, LF/);
    expect(
      read('Content-Disposition: form-data; name="f"\r\nContent-Disposition: form-data; name="g"'),
    ).toMatch(/two/);
    expect(read('Content-Type: text/plain')).toMatch(/no Content-Disposition/);
    const long = `X: ${'h'.repeat(20_000)}\r\nContent-Disposition: form-data; name="f"`;
    expect(read(long)).toMatch(/longer than 16384 bytes/);
    expect(
      readForm(Buffer.from(`--b\r\n${long}\r\n\r\nx\r\n--b--`), 'multipart/form-data; boundary=b', {
        headerBytes: 32_000,
      }),
    ).toMatchObject({ ok: true });
  });

  it('ignores preamble and epilogue, allows padding after a boundary, and needs CRLF line ends', () => {
    const ct = 'multipart/form-data; boundary=b';
    const part = 'Content-Disposition: form-data; name="f"\r\n\r\nx';
    const names = (text: string) => {
      const form = readForm(Buffer.from(text), ct);
      return form.ok ? form.parts.map((p) => p.content.toString()) : form.message;
    };
    expect(names(`hello\r\n--b\r\n${part}\r\n--b--\r\nbye --b\r\n`)).toEqual(['x']);
    expect(names(`--b \t\r\n${part}\r\n--b  \r\n${part}\r\n--b--`)).toEqual(['x', 'x']);
    expect(names('--b--')).toEqual([]);
    expect(names(`--b\r\n${part}x--b y\r\n--b--`)).toEqual(['xx--b y']);
    expect(names(`--b\n${part.replaceAll('\r\n', '\n')}\n--b--\n`)).toMatch(/neither CRLF nor --/);
    expect(names(`--b\r\n${part}\r\n--bx\r\n--b--`)).toMatch(/may not occur inside a part/);
    expect(names(`--b\r\n${part}`)).toMatch(/without the closing delimiter/);
    expect(names(`--b\r\n${part}\r\n--b`)).toMatch(/ends after a boundary/);
    expect(names('')).toMatch(/no boundary line/);
    expect(names(`--b\r\nContent-Disposition: form-data; name="f"\r\n--b--`)).toMatch(
      /not ended by an empty line/,
    );
  });

  it('holds the limits: one file, a few fields, the file size', () => {
    const file = (name: string, size = 1): RefPart => ({
      name,
      filename: `${name}.sta`,
      contentType: null,
      content: Buffer.alloc(size, 'x'),
    });
    const field = (name: string): RefPart => ({
      name,
      filename: null,
      contentType: null,
      content: Buffer.from('v'),
    });
    const limits = { files: 1, fields: 2, fileBytes: 10 };
    const read = (parts: RefPart[]) => {
      const { body, contentType } = encode(parts, 'b');
      return readForm(body, contentType, limits);
    };
    expect(read([field('a'), field('b'), file('statement_file', 10)])).toMatchObject({ ok: true });
    expect(read([file('statement_file'), file('statement_file')])).toMatchObject({
      ok: false,
      errorCode: 'too_many_parts',
    });
    expect(read([field('a'), field('b'), field('c'), file('statement_file')])).toMatchObject({
      ok: false,
      errorCode: 'too_many_parts',
    });
    expect(read([file('statement_file', 11)])).toMatchObject({ ok: false, errorCode: 'too_large' });
    // a field is not a file: its size is the body limit's business
    expect(read([{ ...field('a'), content: Buffer.alloc(100) }])).toMatchObject({ ok: true });
  });
});

describe('formBoundary', () => {
  it('takes the boundary quoted or not, 1 to 70 RFC 2046 characters', () => {
    expect(formBoundary('multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxk')).toEqual({
      ok: true,
      boundary: '----WebKitFormBoundary7MA4YWxk',
    });
    expect(formBoundary('Multipart/Form-Data;charset=utf-8; BOUNDARY="a b:c?"')).toEqual({
      ok: true,
      boundary: 'a b:c?',
    });
    expect(formBoundary(`multipart/form-data; boundary=${'a'.repeat(70)}`)).toMatchObject({ ok: true });
    for (const bad of [
      `multipart/form-data; boundary=${'a'.repeat(71)}`,
      'multipart/form-data; boundary=""',
      'multipart/form-data; boundary="ab "',
      'multipart/form-data; boundary="a{b"',
      'multipart/form-data; boundary=',
      'multipart/form-data',
      'multipart/form-data; boundary=a; boundary=b',
      'multipart/mixed; boundary=a',
    ]) {
      expect(formBoundary(bad), bad).toMatchObject({ ok: false });
    }
  });

  it('tells multipart/form-data from other media types', () => {
    expect(isFormData('multipart/form-data; boundary=x')).toBe(true);
    expect(isFormData('MULTIPART/FORM-DATA')).toBe(true);
    expect(isFormData('multipart/form-datax')).toBe(false);
    expect(isFormData('application/json')).toBe(false);
    expect(isFormData(undefined)).toBe(false);
  });
});
