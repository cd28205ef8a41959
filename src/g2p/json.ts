// The bridge's application/json body parser. JSON.parse turns every number into a double and so rounds
// silently (99.999999999999999999 becomes 100), and it decodes "\ud800" into a string PostgreSQL cannot
// store. Node 20's JSON.parse cannot show a reviver the number's own text, so one linear pre-scan reads the
// text of every number and every string escape first; only a body that passes goes on to Fastify's own
// JSON parser (which also refuses __proto__ poisoning).
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Most significant digits a JSON number may have: every decimal of 15 digits survives a double exactly. */
export const MAX_NUMBER_DIGITS = 15;

/** Why a body's text is refused before it is parsed. */
export class JsonInputError extends Error {
  readonly statusCode = 400;
  readonly code = 'INVALID_REQUEST';
  constructor(message: string) {
    super(message);
    this.name = 'JsonInputError';
  }
}

const HAS_SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/**
 * What needs no closer look, up to 4,096 tokens at a time: strings without escapes, short numbers without
 * an exponent (at most MAX_NUMBER_DIGITS characters), and everything between tokens. The regular
 * expression engine steps over these about four times as fast as a character loop (a 2.4 MB body: 4 ms
 * against 16); the bound keeps its backtracking stack small whatever the body.
 */
const PLAIN = /(?:"[^"\\]*"|[^"\-0-9]+|[-0-9][-+.0-9]{0,14}(?![-+.0-9eE])){1,4096}/y;
const ESCAPE = /\\(?:u([0-9a-fA-F]{4})|[^u])/g;

/**
 * Why `text` may not be parsed as it stands (a number that a double would round, a number with an exponent,
 * a lone UTF-16 surrogate escape, a NUL escape), or null when it may. Does not validate the rest of the
 * syntax.
 *
 * One pass over the characters: a string is stepped over to its closing quote (escapes skipped), and outside
 * strings nothing else holds a digit or a '-', so every number of a valid document is seen; an invalid one
 * fails in JSON.parse after us. Plain stretches are stepped over by `PLAIN`; the loop below looks at what
 * it stops at (a string with an escape, a long number, a number with an exponent). A number is looked at closely only when it has an exponent or more
 * characters than MAX_NUMBER_DIGITS (a 2.4 MB body of 10,000 items: a few ms). No indexOf(x, from) here:
 * V8's optimised code pays for `from` on every call, which made this loop quadratic (seconds) once hot.
 */
export function jsonTextProblem(text: string): string | null {
  const surrogates = HAS_SURROGATE_ESCAPE.test(text);
  const n = text.length;
  for (let i = 0; i < n; i++) {
    PLAIN.lastIndex = i;
    if (PLAIN.test(text)) {
      i = PLAIN.lastIndex;
      if (i >= n) break;
    }
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      const start = i;
      let escapes = false;
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 34) break;
        if (d === 92 /* \ */) {
          escapes = true;
          i++; // the escaped character, which may be a quote
          // \u0000: PostgreSQL text cannot hold U+0000 (a raw one is no JSON at all: JSON.parse refuses it).
          if (
            text.charCodeAt(i) === 117 /* u */ &&
            text.charCodeAt(i + 1) === 48 &&
            text.charCodeAt(i + 2) === 48 &&
            text.charCodeAt(i + 3) === 48 &&
            text.charCodeAt(i + 4) === 48
          )
            return `a string at position ${start} holds U+0000 (NUL), which text in the database cannot hold`;
        }
      }
      if (i >= n) return null; // not closed: JSON.parse refuses it
      if (surrogates && escapes) {
        const token = text.slice(start, i + 1);
        if (HAS_SURROGATE_ESCAPE.test(token) && hasLoneSurrogate(token))
          return `a string at position ${start} holds a lone UTF-16 surrogate escape, which is not text`;
      }
    } else if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let end = i + 1;
      let exponent = false;
      for (; end < n; end++) {
        const d = text.charCodeAt(end);
        if (d === 101 || d === 69) exponent = true;
        else if (!((d >= 48 && d <= 57) || d === 46 || d === 43 || d === 45)) break;
      }
      if (exponent || end - i > MAX_NUMBER_DIGITS) {
        const token = text.slice(i, end);
        const problem = numberProblem(token);
        if (problem) return `the JSON number ${shorten(token)} at position ${i} ${problem}`;
      }
      i = end - 1;
    }
  }
  return null;
}

/** Why a JSON number's text cannot be read exactly as a number, or null. */
export function numberProblem(token: string): string | null {
  if (/[eE]/.test(token)) return 'uses an exponent; write it out (amounts may be sent as decimal strings)';
  const [whole = '', fraction = ''] = token.replace(/^-/, '').split('.');
  const integer = whole.replace(/^0+/, '');
  const decimals = fraction.replace(/0+$/, '');
  const digits = integer === '' ? decimals.replace(/^0+/, '') : integer + decimals;
  if (digits.length > MAX_NUMBER_DIGITS)
    return `has more than ${MAX_NUMBER_DIGITS} significant digits and would be rounded; send it as a decimal string`;
  return null;
}

/** Whether a JSON string token (quotes included) has a \uD800-\uDFFF escape without its pair. */
function hasLoneSurrogate(token: string): boolean {
  let pendingHigh = false;
  let lastEnd = -1;
  ESCAPE.lastIndex = 0;
  for (let m = ESCAPE.exec(token); m !== null; m = ESCAPE.exec(token)) {
    const unit = m[1] === undefined ? -1 : Number.parseInt(m[1], 16);
    const adjacent = m.index === lastEnd;
    if (pendingHigh && !(adjacent && unit >= 0xdc00 && unit <= 0xdfff)) return true;
    if (pendingHigh) pendingHigh = false;
    else if (unit >= 0xd800 && unit <= 0xdbff) pendingHigh = true;
    else if (unit >= 0xdc00 && unit <= 0xdfff) return true;
    lastEnd = m.index + m[0].length;
  }
  return pendingHigh;
}

function shorten(token: string): string {
  return token.length > 40 ? `${token.slice(0, 40)}…` : token;
}

/** Bodies parsed by the exact parser below: their text was checked, so they hold no U+0000 anywhere. */
const nulFree = new WeakSet<object>();

/**
 * Whether `value` is a body the exact JSON parser produced (its text had no NUL escape, and JSON has no raw
 * NUL), so the walk of src/api/server.ts need not look through its 10,000 items again.
 */
export function parsedWithoutNul(value: unknown): boolean {
  return value !== null && typeof value === 'object' && nulFree.has(value);
}

declare module 'fastify' {
  interface FastifyInstance {
    /** How strictly PBMS calls' G2P headers are checked (see src/feature/pbms-route.ts). */
    g2pInput: G2pInputRules;
  }
}

export interface G2pInputRules {
  /** G2P_LENIENT_HEADER: accept a header whose action, total_count or message_ts is wrong (legacy clients). */
  lenientHeader: boolean;
}

/**
 * Replaces Fastify's application/json parser with the exact one and records the header rules for the PBMS
 * routes. Called once by the server, before any route is registered.
 */
export function registerG2pInput(app: FastifyInstance, config: { G2P_LENIENT_HEADER?: boolean }): void {
  app.decorate('g2pInput', { lenientHeader: config.G2P_LENIENT_HEADER === true });
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    // The body as one Buffer, decoded once: a flat string (read as a string, it would be a rope of chunks).
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: string | Buffer, done: (err: Error | null, body?: unknown) => void) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      const problem = jsonTextProblem(text);
      if (problem) {
        done(new JsonInputError(`The request body cannot be read exactly: ${problem}`), undefined);
        return;
      }
      parse(request, text, (error, parsed) => {
        if (!error && parsed !== null && typeof parsed === 'object') nulFree.add(parsed);
        done(error, parsed);
      });
    },
  );
}

/** Spare bytes around a RawJson's own in the buffer its writer made: where `wrapped` writes an answer's frame. */
export interface JsonRoom {
  before: number;
  after: number;
}

/**
 * A piece of an answer that is already JSON (a list of 10,000 items written out while the database was
 * busy), kept as the UTF-8 bytes it goes out as. pbmsChange sends an answer whose message is one as bytes:
 * no second serialisation, and no 4 MB string to measure and encode on the way out.
 */
export class RawJson {
  readonly bytes: Buffer;
  #frame: { buffer: Buffer; room: JsonRoom } | null;
  /** `room`: the first `before` and last `after` bytes of `buffer` are not the JSON but spare, for `wrapped`. */
  constructor(buffer: Buffer, room: JsonRoom = { before: 0, after: 0 }) {
    this.bytes = buffer.subarray(room.before, buffer.length - room.after);
    this.#frame = { buffer, room };
  }
  get text(): string {
    return this.bytes.toString('utf8');
  }
  /**
   * `opening`, the JSON and `closing` as one buffer: written into the spare bytes around the JSON when they
   * fit (the first time only: the buffer returned then is not written again), else a copy of all three.
   */
  wrapped(opening: string, closing: string): Buffer {
    const frame = this.#frame;
    const open = Buffer.byteLength(opening, 'utf8');
    const close = Buffer.byteLength(closing, 'utf8');
    if (frame && open <= frame.room.before && close <= frame.room.after) {
      this.#frame = null;
      const start = frame.room.before - open;
      const end = frame.buffer.length - frame.room.after;
      frame.buffer.write(opening, start, 'utf8');
      frame.buffer.write(closing, end, 'utf8');
      return frame.buffer.subarray(start, end + close);
    }
    return Buffer.concat([Buffer.from(opening, 'utf8'), this.bytes, Buffer.from(closing, 'utf8')]);
  }
  /** Anything else that serialises it gets the value back (slowly, but the same JSON). */
  toJSON(): unknown {
    return JSON.parse(this.text);
  }
}
