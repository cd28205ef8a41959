// The JSON text of a parse, written straight from the columnar result (./columns.ts) as UTF-8 bytes into
// 1 MiB buffers: the same bytes as `JSON.stringify(parseMt940(text))` encoded as UTF-8, without building
// an object or a string per entry. Used by `g2p-bridge mt940 --compact`, whose output for a 100,000-entry
// statement is 40 MB. (Concatenating the pieces as strings costs more than the parse: the rope of small
// strings takes about 15 ns a character to flatten when it is written.)

import { formatMinorUnits } from '../money/index.js';
import type { Mt940ColumnsResult, Mt940ColumnsStatement } from './columns.js';
import { isoDate } from './dates.js';

const MARKS = ['"D"', '"C"', '"RD"', '"RC"'];
const CHUNK = 1 << 20;

/**
 * Receives each filled buffer. It owns it (the writer starts a new one) unless it answers true: the bytes
 * are written already (a synchronous write) and the writer may fill the same buffer again.
 */
export type JsonSink = (chunk: Uint8Array) => boolean | undefined;

/** UTF-8 bytes into buffers of CHUNK bytes, handed to the sink when full. */
class ByteWriter {
  private buf = new Uint8Array(CHUNK);
  private pos = 0;

  constructor(private readonly sink: JsonSink) {}

  /** Room for n more bytes (a new buffer when they do not fit; one larger than CHUNK for a huge string). */
  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.flush();
    if (n > this.buf.length) this.buf = new Uint8Array(n);
  }

  flush(): void {
    if (this.pos === 0) return;
    const reuse = this.sink(this.buf.subarray(0, this.pos)) === true;
    if (!reuse || this.buf.length !== CHUNK) this.buf = new Uint8Array(CHUNK);
    this.pos = 0;
  }

  /** s[a, b) as UTF-8 (a lone surrogate never reaches here: see `quoted`). */
  text(s: string, a = 0, b = s.length): void {
    this.room((b - a) * 3);
    const buf = this.buf;
    let p = this.pos;
    for (let i = a; i < b; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) buf[p++] = c;
      else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < b) {
        const cp = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
        buf[p++] = 0xf0 | (cp >> 18);
        buf[p++] = 0x80 | ((cp >> 12) & 63);
        buf[p++] = 0x80 | ((cp >> 6) & 63);
        buf[p++] = 0x80 | (cp & 63);
      } else {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 63);
        buf[p++] = 0x80 | (c & 63);
      }
    }
    this.pos = p;
  }

  /**
   * s[a, b) as a JSON string, in one pass: characters are encoded as UTF-8 while they are checked. Text that
   * JSON.stringify would escape (a quote, a backslash, a control character, a surrogate) is written by
   * JSON.stringify instead, so the bytes are always its bytes.
   */
  quoted(s: string, a: number, b: number): void {
    this.room((b - a) * 3 + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 34;
    for (let i = a; i < b; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c < 32 || c === 34 || c === 92) {
          this.text(JSON.stringify(s.slice(a, b)));
          return;
        }
        buf[p++] = c;
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        this.text(JSON.stringify(s.slice(a, b)));
        return;
      } else {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 63);
        buf[p++] = 0x80 | (c & 63);
      }
    }
    buf[p++] = 34;
    this.pos = p;
  }

  /**
   * The line that starts at `a` (up to the first CR or LF before `b`) as a JSON string, as `quoted`; returns
   * where it ends (its line break, or b). One pass over the characters for finding the break and writing.
   */
  quotedLine(s: string, a: number, b: number): number {
    this.room((b - a) * 3 + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = 34;
    for (let i = a; i < b; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x80) {
        if (c === 10 || c === 13) {
          buf[p++] = 34;
          this.pos = p;
          return i;
        }
        if (c < 32 || c === 34 || c === 92) return this.escapedLine(s, a, b);
        buf[p++] = c;
      } else if (c < 0x800) {
        buf[p++] = 0xc0 | (c >> 6);
        buf[p++] = 0x80 | (c & 63);
      } else if (c >= 0xd800 && c <= 0xdfff) {
        return this.escapedLine(s, a, b);
      } else {
        buf[p++] = 0xe0 | (c >> 12);
        buf[p++] = 0x80 | ((c >> 6) & 63);
        buf[p++] = 0x80 | (c & 63);
      }
    }
    buf[p++] = 34;
    this.pos = p;
    return b;
  }

  private escapedLine(s: string, a: number, b: number): number {
    let end = a;
    while (end < b && s.charCodeAt(end) !== 10 && s.charCodeAt(end) !== 13) end++;
    this.text(JSON.stringify(s.slice(a, end)));
    return end;
  }

  /** Bytes known to need no escape (the keys between the values). */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.room(n);
    this.buf.set(bytes, this.pos);
    this.pos += n;
  }

  /** A non-negative integer below 2^53 in decimal; `decimals` > 0 puts a point before the last that many digits. */
  minor(m: number, decimals: number): void {
    if (m < 2147483648) {
      // below 2^31 (nearly every amount and line number): the digits written from the last, no string
      let v = m | 0;
      let len = 1;
      for (let t = v; t >= 10; t = (t / 10) | 0) len++;
      const n = decimals > 0 ? Math.max(len, decimals + 1) + 1 : len;
      this.room(n);
      const buf = this.buf;
      let q = this.pos + n;
      this.pos = q;
      let k = 0;
      do {
        if (k === decimals && k > 0) buf[--q] = 46;
        buf[--q] = 48 + (v % 10);
        v = (v / 10) | 0;
        k++;
      } while (v > 0 || k <= decimals);
      return;
    }
    const t = String(m);
    this.room(t.length + decimals + 2);
    const buf = this.buf;
    let p = this.pos;
    const len = t.length;
    if (decimals === 0) for (let i = 0; i < len; i++) buf[p++] = t.charCodeAt(i);
    else {
      if (len <= decimals) {
        // 5 at two decimals is 0.05
        buf[p++] = 48;
        buf[p++] = 46;
        for (let z = len; z < decimals; z++) buf[p++] = 48;
        for (let i = 0; i < len; i++) buf[p++] = t.charCodeAt(i);
      } else {
        const cut = len - decimals;
        for (let i = 0; i < len; i++) {
          if (i === cut) buf[p++] = 46;
          buf[p++] = t.charCodeAt(i);
        }
      }
    }
    this.pos = p;
  }

  byte(c: number): void {
    this.room(1);
    this.buf[this.pos++] = c;
  }
}

/** Writes `{"statements":[...],"problems":[...]}` of a columnar parse, as JSON.stringify would, as UTF-8. */
export function writeMt940Json(result: Mt940ColumnsResult, sink: JsonSink): void {
  const w = new ByteWriter(sink);
  w.text('{"statements":[');
  for (let si = 0; si < result.statements.length; si++) {
    const s = result.statements[si]!;
    if (si > 0) w.byte(44);
    // the statement's own fields by JSON.stringify (their order is that of the object), entries by hand
    const head = JSON.stringify({ ...s, entries: [] });
    const slot = head.indexOf('"entries":[]') + '"entries":['.length;
    w.text(head, 0, slot);
    if (s.entries.columnar) writeEntries(s, w);
    else {
      const json = JSON.stringify(s.entries.toEntries());
      w.text(json, 1, json.length - 1);
    }
    w.text(head, slot);
  }
  w.text(`],"problems":${JSON.stringify(result.problems)}}`);
  w.flush();
}

const bytes = (t: string) => Uint8Array.from(t, (c) => c.charCodeAt(0));
const K = {
  signed: bytes('","signedAmount":"'),
  signedNegative: bytes('","signedAmount":"-'),
  narratives: bytes(',"narratives":['),
  line: bytes('],"line":'),
  entryDate: bytes(',"entryDate":'),
  bank: bytes(',"bankReference":'),
  supplementary: bytes(',"supplementaryDetails":'),
};

function writeEntries(s: Mt940ColumnsStatement, w: ByteWriter): void {
  const e = s.entries;
  const c = e.raw!;
  const text = e.text;
  const quote = (a: number, b: number) => w.quoted(text, a, b);
  const exp = e.exponent;
  // `{"valueDate":"…","mark":"…","amount":"` and `","transactionType":"…","customerReference":` are
  // the same for many entries: written as one piece each, made once
  const heads = new Map<number, Uint8Array>();
  const head = (d: number, mark: number) => {
    const key = d * 4 + mark;
    let t = heads.get(key);
    if (t === undefined) {
      const date = isoDate(Math.floor(d / 10000), Math.floor(d / 100) % 100, d % 100);
      t = bytes(`{"valueDate":"${date}","mark":${MARKS[mark]},"amount":"`);
      heads.set(key, t);
    }
    return t;
  };
  const dates = new Map<number, Uint8Array>();
  const iso = (d: number) => {
    let t = dates.get(d);
    if (t === undefined) {
      t = bytes(`"${isoDate(Math.floor(d / 10000), Math.floor(d / 100) % 100, d % 100)}"`);
      dates.set(d, t);
    }
    return t;
  };
  const types = c.types.map((t) =>
    new TextEncoder().encode(`","transactionType":${JSON.stringify(t)},"customerReference":`),
  );
  const end = e.first + e.count;
  for (let j = e.first; j < end; j++) {
    if (j > e.first) w.byte(44);
    const mark = c.mark[j]!;
    w.raw(head(c.valueDate[j]!, mark));
    const m = c.amount[j]!;
    const negative = (mark === 0 || mark === 3) && m !== 0;
    if (m >= 0) {
      w.minor(m, exp);
      w.raw(negative ? K.signedNegative : K.signed);
      w.minor(m, exp);
    } else {
      // 2^53 minor units or more: kept as a BigInt
      const amount = formatMinorUnits(c.bigAmounts.get(j)!, exp);
      w.text(`${amount}","signedAmount":"${negative ? '-' : ''}${amount}`);
    }
    w.raw(types[c.type[j]!]!);
    quote(c.refStart[j]!, c.refEnd[j]!);
    w.raw(K.narratives);
    const ns = c.narrStart[j]!;
    if (ns >= 0) {
      // the lines of the block, cut as ./columns.ts cuts them (CRLF, LF or a lone CR)
      const ne = c.narrEnd[j]!;
      let a = ns;
      for (;;) {
        const i = w.quotedLine(text, a, ne);
        if (i >= ne) break;
        w.byte(44);
        a = text.charCodeAt(i) === 13 && i + 1 < ne && text.charCodeAt(i + 1) === 10 ? i + 2 : i + 1;
      }
    }
    w.raw(K.line);
    w.minor(c.line[j]!, 0);
    const entryDate = c.entryDate[j]!;
    if (entryDate !== 0) {
      w.raw(K.entryDate);
      w.raw(iso(entryDate));
    }
    // parseMt940's keys in its order: entryDate, fundsCode, bankReference, supplementaryDetails, details
    const funds = c.fundsCode[j]!;
    if (funds !== 0) w.text(`,"fundsCode":${JSON.stringify(String.fromCharCode(funds))}`);
    const bankStart = c.bankStart[j]!;
    if (bankStart >= 0) {
      w.raw(K.bank);
      quote(bankStart, c.bankEnd[j]!);
    }
    if (c.suppStart[j]! >= 0) {
      w.raw(K.supplementary);
      quote(c.suppStart[j]!, c.suppEnd[j]!);
    }
    if (c.details.size > 0) {
      const d = c.details.get(j);
      if (d) w.text(`,"details":${JSON.stringify(d)}`);
    }
    w.byte(125);
  }
}
