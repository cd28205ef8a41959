// A small, strict multipart/form-data reader (RFC 2046 §5.1, RFC 7578) over a body already held in memory,
// for the statement upload: it returns the parts as views (subarray) of the body, copying no content. It
// replaces @fastify/multipart, whose bundled busboy/Dicer never answered a part without Content-Disposition
// of 16 KiB or more arriving in one write (docs/decisions.md). Pure: no I/O, and it never throws on input.
//
// Strict where a sender has no excuse: CRLF line ends, a boundary line followed only by padding and CRLF,
// every part with `Content-Disposition: form-data; name=...`, header lines `Name: value`, a closing
// delimiter. Preamble and epilogue are ignored, as RFC 2046 says.

/** What a form may hold; beyond these the form is refused (too_many_parts, too_large, malformed). */
export interface FormLimits {
  /** Most bytes of one file part's content. */
  fileBytes: number;
  /** Most file parts (a part with a filename). */
  files: number;
  /** Most other parts (plain fields). */
  fields: number;
  /** Most bytes of one part's header block. */
  headerBytes: number;
}

export const DEFAULT_FORM_LIMITS: FormLimits = {
  fileBytes: 64 * 1024 * 1024,
  files: 1,
  fields: 10,
  headerBytes: 16 * 1024,
};

export interface FormPart {
  /** The `name` of its Content-Disposition. */
  name: string;
  /** Its `filename` (or decoded `filename*`) when it is a file, even an empty one; null for a plain field. */
  filename: string | null;
  contentType: string | null;
  /** A view of the body: no copy. */
  content: Buffer;
}

export type FormError = 'malformed' | 'too_many_parts' | 'too_large';

export type FormResult =
  | { ok: true; parts: FormPart[] }
  | { ok: false; errorCode: FormError; message: string };

/** RFC 2046 bchars: the boundary's alphabet (a space only inside, never last). */
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
/** RFC 9110 tchar+. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[\t ]*([\s\S]*?)[\t ]*$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Whether a Content-Type names multipart/form-data (whatever its parameters). */
export function isFormData(contentType: string | undefined): boolean {
  return /^multipart\/form-data[\t ]*(?:;|$)/i.test(trimSpace(contentType ?? ''));
}

/** The boundary of a multipart/form-data Content-Type (quoted or not, 1–70 bchars), or why there is none. */
export function formBoundary(
  contentType: string,
): { ok: true; boundary: string } | { ok: false; errorCode: 'malformed'; message: string } {
  const parsed = parseValueAndParameters(contentType);
  if (!parsed.ok) return { ok: false, errorCode: 'malformed', message: `Content-Type: ${parsed.message}` };
  if (parsed.value.toLowerCase() !== 'multipart/form-data') {
    return { ok: false, errorCode: 'malformed', message: 'the Content-Type is not multipart/form-data' };
  }
  const boundary = parsed.params.get('boundary');
  if (boundary === undefined)
    return { ok: false, errorCode: 'malformed', message: 'the Content-Type has no boundary' };
  if (!BOUNDARY.test(boundary)) {
    return {
      ok: false,
      errorCode: 'malformed',
      message: 'the boundary must be 1 to 70 characters of RFC 2046, not ending in a space',
    };
  }
  return { ok: true, boundary };
}

/** The parts of a multipart/form-data body, or the first reason it cannot be read. */
export function readForm(body: Buffer, contentType: string, limits: Partial<FormLimits> = {}): FormResult {
  const limit = { ...DEFAULT_FORM_LIMITS, ...limits };
  const b = formBoundary(contentType);
  if (!b.ok) return malformed(b.message);
  const dashBoundary = Buffer.from(`--${b.boundary}`, 'latin1');
  const delimiter = Buffer.from(`\r\n--${b.boundary}`, 'latin1');

  // The first boundary opens the body or ends the preamble's last line.
  let at: number;
  if (body.subarray(0, dashBoundary.length).equals(dashBoundary)) at = dashBoundary.length;
  else {
    const first = body.indexOf(delimiter);
    if (first < 0) return malformed(`the body holds no boundary line --${b.boundary}`);
    at = first + delimiter.length;
  }

  const parts: FormPart[] = [];
  let files = 0;
  let fields = 0;
  for (;;) {
    // `at` is just past a boundary: `--` closes the form (the epilogue is ignored), else padding and CRLF.
    if (body[at] === 0x2d && body[at + 1] === 0x2d) return { ok: true, parts };
    const boundaryEnd = at;
    while (body[at] === 0x20 || body[at] === 0x09) at++;
    if (at >= body.length) return malformed('the body ends after a boundary, without the closing delimiter');
    if (body[at] !== 0x0d || body[at + 1] !== 0x0a) {
      return malformed(
        `the boundary ending at byte ${boundaryEnd} is followed by neither CRLF nor -- (a boundary may not occur inside a part)`,
      );
    }
    const start = at + 2;
    const next = body.indexOf(delimiter, start);
    if (next < 0) return malformed(`the body ends without the closing delimiter --${b.boundary}--`);
    const part = readPart(body, start, next, delimiter, limit.headerBytes, parts.length + 1);
    if (!part.ok) return part;
    if (part.part.filename !== null) {
      if (++files > limit.files) return refuse('too_many_parts', `more than ${limit.files} file(s)`);
      if (part.part.content.length > limit.fileBytes) {
        return refuse('too_large', `a file of more than ${limit.fileBytes} bytes`);
      }
    } else if (++fields > limit.fields) {
      return refuse('too_many_parts', `more than ${limit.fields} field(s) besides the file`);
    }
    parts.push(part.part);
    at = part.end + delimiter.length;
  }
}

/**
 * The body part that starts at `start`: its header block up to CRLFCRLF (never past `next`, the first
 * delimiter after `start`; none at all when the part starts with CRLF), then its content up to the delimiter
 * that follows the header block. Content may begin with `--boundary`, as busboy allows: the CRLF before it
 * ends the header block, not a part.
 */
function readPart(
  body: Buffer,
  start: number,
  next: number,
  delimiter: Buffer,
  headerBytes: number,
  n: number,
): { ok: true; part: FormPart; end: number } | { ok: false; errorCode: FormError; message: string } {
  if (next === start) return malformed(`part ${n} is empty, without headers`);
  let headerText = '';
  let contentStart: number;
  if (body[start] === 0x0d && body[start + 1] === 0x0a) contentStart = start + 2;
  else {
    const window = body.subarray(start, Math.min(start + headerBytes + CRLFCRLF.length, next + 2));
    const end = window.indexOf(CRLFCRLF);
    if (end < 0) {
      return malformed(
        window.length >= headerBytes + CRLFCRLF.length
          ? `the headers of part ${n} are longer than ${headerBytes} bytes`
          : `the headers of part ${n} are not ended by an empty line`,
      );
    }
    headerText = window.subarray(0, end).toString('utf8');
    contentStart = start + end + CRLFCRLF.length;
  }
  const end = contentStart <= next ? next : body.indexOf(delimiter, contentStart);
  if (end < 0) return malformed(`the body ends without the closing delimiter ${delimiter.subarray(2)}--`);
  const head = partHeadOf(headerText, n);
  if (!head.ok) return head;
  return { ok: true, part: { ...head.part, content: body.subarray(contentStart, end) }, end };
}

/** `Name: value` lines (names case-insensitive), obsolete folding joined; each of ours at most once. */
function parseHeaders(
  text: string,
): { ok: true; headers: Map<string, string> } | { ok: false; errorCode: 'malformed'; message: string } {
  const headers = new Map<string, string>();
  if (text === '') return { ok: true, headers };
  const lines: string[] = [];
  for (const line of text.split('\r\n')) {
    if (/[\r\n\0]/.test(line))
      return { ok: false, errorCode: 'malformed', message: 'a bare CR, LF or NUL in the headers' };
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (lines.length === 0)
        return { ok: false, errorCode: 'malformed', message: 'the headers start with a continuation line' };
      lines[lines.length - 1] += ` ${trimSpace(line)}`;
    } else lines.push(line);
  }
  for (const line of lines) {
    const m = HEADER_LINE.exec(line);
    if (!m) return { ok: false, errorCode: 'malformed', message: 'a header line is not "Name: value"' };
    const key = m[1]!.toLowerCase();
    if (key !== 'content-disposition' && key !== 'content-type') continue;
    if (headers.has(key)) return { ok: false, errorCode: 'malformed', message: `two ${m[1]} headers` };
    headers.set(key, m[2]!);
  }
  return { ok: true, headers };
}

/**
 * `value *(OWS ";" OWS name "=" (token / quoted-string))`, as Content-Type (RFC 9110) and
 * Content-Disposition (RFC 6266) write it. Names are case-insensitive and may not repeat; a quoted-string
 * takes backslash escapes (quoted-pair).
 */
function parseValueAndParameters(
  text: string,
):
  | { ok: true; value: string; params: Map<string, string> }
  | { ok: false; errorCode: 'malformed'; message: string } {
  const fail = (message: string) => ({ ok: false as const, errorCode: 'malformed' as const, message });
  const semicolon = text.indexOf(';');
  const value = trimSpace(semicolon < 0 ? text : text.slice(0, semicolon));
  const params = new Map<string, string>();
  if (semicolon < 0) return { ok: true, value, params };
  const s = text.slice(semicolon);
  let i = 0;
  const skipSpace = () => {
    while (s[i] === ' ' || s[i] === '\t') i++;
  };
  for (;;) {
    skipSpace();
    if (i >= s.length) return { ok: true, value, params };
    if (s[i] !== ';') return fail(`";" expected at ${JSON.stringify(s.slice(i, i + 20))}`);
    i++;
    skipSpace();
    if (i >= s.length || s[i] === ';') continue; // an empty parameter, as in a trailing ";"
    const nameStart = i;
    while (i < s.length && TCHAR.test(s[i]!)) i++;
    const name = s.slice(nameStart, i).toLowerCase();
    if (name === '') return fail(`a parameter name expected at ${JSON.stringify(s.slice(i, i + 20))}`);
    skipSpace();
    if (s[i] !== '=') return fail(`"=" expected after parameter ${name}`);
    i++;
    skipSpace();
    let v = '';
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) return fail(`the quoted value of ${name} is not closed`);
        const c = s[i++]!;
        if (c === '"') break;
        if (c === '\\') {
          if (i >= s.length) return fail(`the quoted value of ${name} is not closed`);
          v += s[i++];
        } else if (c < ' ' && c !== '\t') return fail(`a control character in the value of ${name}`);
        else v += c;
      }
    } else {
      const valueStart = i;
      while (i < s.length && TCHAR.test(s[i]!)) i++;
      v = s.slice(valueStart, i);
      if (!TOKEN.test(v)) return fail(`parameter ${name} has no value`);
    }
    if (params.has(name)) return fail(`parameter ${name} appears twice`);
    params.set(name, v);
  }
}

/** An RFC 8187 ext-value (`UTF-8'lang'%e2%82%ac.sta`) decoded; kept as written when it cannot be. */
function decodeExtValue(value: string): string {
  const m = /^([^']*)'[^']*'(.*)$/.exec(value);
  if (!m) return value;
  const charset = m[1]!.toLowerCase();
  try {
    if (charset === 'utf-8') return decodeURIComponent(m[2]!);
    if (charset === 'iso-8859-1') {
      return m[2]!.replace(/%([0-9A-Fa-f]{2})/g, (_x, h: string) =>
        String.fromCharCode(Number.parseInt(h, 16)),
      );
    }
  } catch {
    // a broken percent-encoding: the value as written
  }
  return value;
}

/** Without leading and trailing SP and HTAB (String.trim would take any Unicode space of a filename too). */
function trimSpace(text: string): string {
  return text.replace(/^[\t ]+|[\t ]+$/g, '');
}

function malformed(reason: string): { ok: false; errorCode: FormError; message: string } {
  return { ok: false, errorCode: 'malformed', message: reason };
}

function refuse(error: FormError, reason: string): { ok: false; errorCode: FormError; message: string } {
  return { ok: false, errorCode: error, message: reason };
}

// --- The same reader over a body that arrives as a stream -------------------------------------------------
//
// For the statement upload, whose file may be tens of MB: only part headers and plain fields are buffered;
// a part's content is handed on in pieces as it arrives (the delimiter is searched across chunk edges by
// holding back its length less one byte). It reads as readForm reads and refuses what readForm refuses, with
// one difference of order: a refusal is given as soon as it is seen (a second file, a file over fileBytes,
// a broken part header) rather than after a later part's framing is checked, so a broken form may be named
// by another of its faults. test/statements/multipart-stream.test.ts holds the two readers to each other.

/** A part's headers, before its content is read. */
export interface FormPartHead {
  name: string;
  filename: string | null;
  contentType: string | null;
}

export type FormFailure = { ok: false; errorCode: FormError; message: string };

/** A form read part by part: `next()` gives the next part's headers, `read()` the pieces of its content. */
export class FormStream {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes consumed before buf[0], for messages. */
  private offset = 0;
  private received = 0;
  private ended = false;
  private state: 'start' | 'boundary' | 'content' | 'closed' = 'start';
  private failure: FormFailure | null = null;
  private parts = 0;
  private files = 0;
  private fields = 0;
  /** In content: where the content ends in buf (-1: not seen yet), and whether it is a file's. */
  private contentEnd = -1;
  private contentBytes = 0;
  private isFile = false;
  private readonly source: AsyncIterator<Uint8Array>;

  private constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly boundary: string,
    private readonly dashBoundary: Buffer,
    private readonly delimiter: Buffer,
    private readonly limit: FormLimits & { bodyBytes: number },
  ) {
    this.source = source[Symbol.asyncIterator]();
  }

  /**
   * A reader of `source` (a request body) as the form its Content-Type names, or why it cannot be one.
   * `bodyBytes` bounds the whole body (too_large beyond it).
   */
  static open(
    source: AsyncIterable<Uint8Array>,
    contentType: string,
    limits: Partial<FormLimits & { bodyBytes: number }> = {},
  ): { ok: true; form: FormStream } | FormFailure {
    const b = formBoundary(contentType);
    if (!b.ok) return malformed(b.message);
    const limit = { ...DEFAULT_FORM_LIMITS, bodyBytes: Number.POSITIVE_INFINITY, ...limits };
    const dash = Buffer.from(`--${b.boundary}`, 'latin1');
    const delimiter = Buffer.from(`\r\n--${b.boundary}`, 'latin1');
    return { ok: true, form: new FormStream(source, b.boundary, dash, delimiter, limit) };
  }

  /** The next part's headers (its content, if unread, skipped), null after the closing delimiter. */
  async next(): Promise<{ ok: true; part: FormPartHead | null } | FormFailure> {
    while (this.state === 'content') {
      const piece = await this.read();
      if (!piece.ok) return piece;
    }
    if (this.failure) return this.failure;
    if (this.state === 'closed') return { ok: true, part: null };
    if (this.state === 'start') {
      const opened = await this.skipPreamble();
      if (opened) return this.fail(opened);
    }
    const head = await this.partHead();
    return head.ok ? head : this.fail(head);
  }

  /** The next piece of the current part's content; null at its end. */
  async read(): Promise<{ ok: true; piece: Buffer | null } | FormFailure> {
    if (this.failure) return this.failure;
    if (this.state !== 'content') return { ok: true, piece: null };
    for (;;) {
      if (this.contentEnd < 0) {
        const at = this.buf.indexOf(this.delimiter);
        if (at >= 0) this.contentEnd = at;
      }
      if (this.contentEnd === 0) {
        this.consume(this.delimiter.length);
        this.contentEnd = -1;
        this.state = 'boundary';
        return { ok: true, piece: null };
      }
      const take = this.contentEnd > 0 ? this.contentEnd : this.buf.length - (this.delimiter.length - 1);
      if (take > 0) {
        const piece = this.buf.subarray(0, take);
        this.consume(take);
        if (this.contentEnd > 0) this.contentEnd -= take;
        this.contentBytes += take;
        if (this.isFile && this.contentBytes > this.limit.fileBytes)
          return this.fail(refuse('too_large', `a file of more than ${this.limit.fileBytes} bytes`));
        return { ok: true, piece };
      }
      const more = await this.more();
      if (more !== true)
        return this.fail(
          more ?? malformed(`the body ends without the closing delimiter --${this.boundary}--`),
        );
    }
  }

  /** Moves past the first boundary: at the very start, or ending the preamble's last line. */
  private async skipPreamble(): Promise<FormFailure | null> {
    const fill = await this.fill(this.dashBoundary.length);
    if (fill) return fill;
    if (this.buf.subarray(0, this.dashBoundary.length).equals(this.dashBoundary)) {
      this.consume(this.dashBoundary.length);
    } else {
      for (;;) {
        const at = this.buf.indexOf(this.delimiter);
        if (at >= 0) {
          this.consume(at + this.delimiter.length);
          break;
        }
        this.consume(Math.max(0, this.buf.length - (this.delimiter.length - 1))); // the preamble is ignored
        const more = await this.more();
        if (more !== true) return more ?? malformed(`the body holds no boundary line --${this.boundary}`);
      }
    }
    this.state = 'boundary';
    return null;
  }

  /** Just past a boundary: the form's end, or a part's headers (readPart's reading, on what is buffered). */
  private async partHead(): Promise<{ ok: true; part: FormPartHead | null } | FormFailure> {
    let fill = await this.fill(2);
    if (fill) return fill;
    if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) {
      this.state = 'closed'; // the epilogue is ignored
      return { ok: true, part: null };
    }
    const boundaryEnd = this.offset;
    for (;;) {
      let k = 0;
      while (this.buf[k] === 0x20 || this.buf[k] === 0x09) k++;
      this.consume(k);
      if (this.buf.length > 0) break;
      const more = await this.more();
      if (more !== true)
        return more ?? malformed('the body ends after a boundary, without the closing delimiter');
    }
    fill = await this.fill(2);
    if (fill) return fill;
    if (this.buf[0] !== 0x0d || this.buf[1] !== 0x0a) {
      return malformed(
        `the boundary ending at byte ${boundaryEnd} is followed by neither CRLF nor -- (a boundary may not occur inside a part)`,
      );
    }
    this.consume(2);
    const n = ++this.parts;
    const headerBytes = this.limit.headerBytes;
    const next = await this.find(this.delimiter, headerBytes + CRLFCRLF.length + this.delimiter.length);
    if (typeof next !== 'number') return next;
    if (next < 0 && this.ended)
      return malformed(`the body ends without the closing delimiter --${this.boundary}--`);
    if (next === 0) return malformed(`part ${n} is empty, without headers`);
    let headerText = '';
    let contentStart: number;
    if (this.buf[0] === 0x0d && this.buf[1] === 0x0a) contentStart = 2;
    else {
      const window = this.buf.subarray(
        0,
        Math.min(headerBytes + CRLFCRLF.length, next < 0 ? Infinity : next + 2),
      );
      const end = window.indexOf(CRLFCRLF);
      if (end < 0) {
        return malformed(
          window.length >= headerBytes + CRLFCRLF.length
            ? `the headers of part ${n} are longer than ${headerBytes} bytes`
            : `the headers of part ${n} are not ended by an empty line`,
        );
      }
      headerText = window.subarray(0, end).toString('utf8');
      contentStart = end + CRLFCRLF.length;
    }
    const head = partHeadOf(headerText, n);
    if (!head.ok) return head;
    if (head.part.filename !== null) {
      if (++this.files > this.limit.files)
        return refuse('too_many_parts', `more than ${this.limit.files} file(s)`);
    } else if (++this.fields > this.limit.fields) {
      return refuse('too_many_parts', `more than ${this.limit.fields} field(s) besides the file`);
    }
    this.consume(contentStart);
    // Content may begin with --boundary (the CRLF before it ended the headers): its end is searched anew.
    this.contentEnd = next >= contentStart ? next - contentStart : -1;
    this.contentBytes = 0;
    this.isFile = head.part.filename !== null;
    this.state = 'content';
    return head;
  }

  private consume(n: number): void {
    this.buf = this.buf.subarray(n);
    this.offset += n;
  }

  /** One more chunk of the body into buf: true, false at its end, or a failure (over bodyBytes). */
  private async more(): Promise<true | null | FormFailure> {
    if (this.ended) return null;
    const r = await this.source.next();
    if (r.done) {
      this.ended = true;
      return null;
    }
    const chunk = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value);
    this.received += chunk.length;
    if (this.received > this.limit.bodyBytes)
      return refuse('too_large', `a body of more than ${this.limit.bodyBytes} bytes`);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Reads on until buf holds `n` bytes or the body ends. */
  private async fill(n: number): Promise<FormFailure | null> {
    while (this.buf.length < n) {
      const more = await this.more();
      if (more !== true) return more;
    }
    return null;
  }

  /** Where `needle` is in buf, reading on until it is, `within` bytes are buffered, or the body ends (-1). */
  private async find(needle: Buffer, within: number): Promise<number | FormFailure> {
    let from = 0;
    for (;;) {
      const at = this.buf.indexOf(needle, from);
      if (at >= 0) return at;
      if (this.buf.length >= within) return -1;
      from = Math.max(0, this.buf.length - needle.length + 1);
      const more = await this.more();
      if (more === null) return -1;
      if (more !== true) return more;
    }
  }

  private fail(failure: FormFailure): FormFailure {
    this.failure = failure;
    return failure;
  }
}

/** A part's name, filename and Content-Type from its header block (both readers). */
function partHeadOf(headerText: string, n: number): { ok: true; part: FormPartHead } | FormFailure {
  const headers = parseHeaders(headerText);
  if (!headers.ok) return malformed(`part ${n}: ${headers.message}`);
  const disposition = headers.headers.get('content-disposition');
  if (disposition === undefined) return malformed(`part ${n} has no Content-Disposition: form-data header`);
  const parsed = parseValueAndParameters(disposition);
  if (!parsed.ok) return malformed(`the Content-Disposition of part ${n}: ${parsed.message}`);
  if (parsed.value.toLowerCase() !== 'form-data') {
    return malformed(`the Content-Disposition of part ${n} is not form-data`);
  }
  const name = parsed.params.get('name');
  if (name === undefined) return malformed(`the Content-Disposition of part ${n} has no name`);
  const extended = parsed.params.get('filename*');
  const filename =
    parsed.params.get('filename') ?? (extended === undefined ? null : decodeExtValue(extended));
  return { ok: true, part: { name, filename, contentType: headers.headers.get('content-type') ?? null } };
}
