// MT940 parser: a hand-written line scanner feeding a small state machine. No regular expressions on the
// hot path, no I/O. `parseMt940` reads a whole string; `parseMt940Stream` reads chunks and yields each
// statement as soon as it is complete, so a large file never needs more than one statement in memory.

import { Mt940LineSplitter, TextLines } from './lines.js';
import { StatementBuilder } from './statement.js';
import { firstOf, isBlank, KNOWN_TAGS, type OpenField, problem, tagAt } from './tags.js';
import type { Mt940ParseResult, Mt940Problem, Mt940Statement } from './types.js';

/**
 * The line-level state machine shared by the string and the streaming entry points. Feed it lines with
 * `line()` (or `lineAt()` for a line inside a larger string), then call `end()`. Completed statements go to
 * `onStatement`; file-level problems to `problems`.
 */
export class Mt940LineReader {
  readonly problems: Mt940Problem[] = [];
  statementCount = 0;
  private builder: StatementBuilder | null = null;
  /** The open field, reused from field to field (the builder does not keep it). */
  private readonly f: OpenField = {
    tag: '',
    first: '',
    src: '',
    at: 0,
    end: 0,
    lazyFirst: false,
    lines: [],
    count: 1,
    line: 0,
    col: 0,
  };
  private fieldOpen = false;
  /** A line holding only ':' (a tag wrapped after its colon) waits here for the next line. */
  private pendingColon = 0;
  private junkStart = 0;
  private junkText = '';
  private sawAnything = false;

  constructor(private readonly onStatement: (s: Mt940Statement) => void) {}

  line(raw: string, n: number): void {
    this.lineAt(raw, 0, raw.length, n);
  }

  /** The line text[start, end) (without its line break), 1-based line number n. */
  lineAt(text: string, start: number, end: number, n: number): void {
    if (this.continuation(text, start, end)) return;
    // SOH / ETX framing characters some banks put around messages
    if (text.charCodeAt(start) === 1) start++;
    if (end > start && text.charCodeAt(end - 1) === 3) end--;
    if (this.pendingColon) {
      const at = this.pendingColon;
      this.pendingColon = 0;
      const joined = `:${text.slice(start, end)}`;
      const tag = tagAt(joined, 0, joined.length);
      if (tag !== undefined && KNOWN_TAGS.has(tag)) {
        this.builder?.warn(`tag :${tag}: is split over two lines; joined`, at, 1, tag);
        this.content(joined, 0, joined.length, n, 1);
        return;
      }
      this.content(':', 0, 1, at, 1);
    }
    if (end - start === 1 && text.charCodeAt(start) === 58 && this.fieldOpen) {
      this.pendingColon = n;
      return;
    }
    this.content(text, start, end, n, 1);
  }

  /**
   * The usual continuation line of an open field (an :86: narrative) goes straight to the field; false for
   * any other line (tags, statement ends, SWIFT blocks, framing characters, a pending split tag).
   */
  continuation(text: string, start: number, end: number): boolean {
    const c0 = text.charCodeAt(start);
    if (
      this.fieldOpen &&
      c0 !== 58 /* : */ &&
      c0 !== 45 /* - */ &&
      c0 !== 123 /* { */ &&
      c0 !== 1 &&
      this.pendingColon === 0 &&
      text.charCodeAt(end - 1) !== 3
    ) {
      const f = this.f;
      if (f.count === 1) f.lines[0] = firstOf(f);
      f.lines[f.count++] = text.slice(start, end);
      return true;
    }
    return false;
  }

  private content(text: string, start: number, end: number, n: number, col: number): void {
    const c0 = text.charCodeAt(start);
    if (c0 === 58 /* : */) {
      const tag = tagAt(text, start, end);
      if (tag !== undefined) {
        const skip = tag.length + 2;
        if (KNOWN_TAGS.has(tag)) {
          this.startField(tag, text, start + skip, end, n, col + skip);
          return;
        }
        const f = this.f;
        if (this.fieldOpen && (f.tag === '86' || f.tag === '61')) {
          this.builder?.warn(`unknown tag :${tag}: inside :${f.tag}: read as text`, n, col, tag);
        } else if (this.builder) {
          this.closeField();
          this.builder.warn(`unknown field :${tag}: kept in otherFields`, n, col, tag);
          this.openField(tag, text.slice(start + skip, end), n, col + skip);
          return;
        }
      }
    } else if (c0 === 45 /* - */) {
      if (end - start === 1 || text.charCodeAt(start + 1) === 125 /* } */ || isBlank(text, start + 1, end)) {
        this.endStatement();
        return;
      }
    } else if (c0 === 123 /* { */) {
      // SWIFT block header {1:...}{2:...}{3:...}{4: — the text after {4: is message content
      this.endStatement();
      const b4 = text.indexOf('{4:', start);
      if (b4 >= 0 && b4 < end) {
        if (b4 + 3 < end) this.content(text, b4 + 3, end, n, col + b4 + 3 - start);
      }
      this.flushJunk();
      return;
    }
    if (this.fieldOpen) {
      const f = this.f;
      if (f.count === 1) f.lines[0] = firstOf(f);
      f.lines[f.count++] = text.slice(start, end);
      return;
    }
    if (isBlank(text, start, end)) return;
    // text outside any statement
    if (this.junkStart === 0) {
      this.junkStart = n;
      this.junkText = text.slice(start, Math.min(end, start + 40));
    }
  }

  private flushJunk(): void {
    if (this.junkStart === 0) return;
    this.problems.push(
      problem(
        `text outside a statement ignored: ${JSON.stringify(this.junkText)}`,
        this.junkStart,
        1,
        'warning',
      ),
    );
    this.junkStart = 0;
    this.junkText = '';
  }

  private openField(tag: string, first: string, n: number, col: number): void {
    const f = this.f;
    f.tag = tag;
    f.first = first;
    f.lazyFirst = false;
    f.count = 1;
    f.line = n;
    f.col = col;
    this.fieldOpen = true;
  }

  private startField(tag: string, src: string, at: number, end: number, n: number, col: number): void {
    this.closeField();
    if (this.junkStart !== 0) this.flushJunk();
    this.sawAnything = true;
    let b = this.builder;
    if (tag === '20') {
      if (b?.hasFields) {
        this.emit();
        b = null;
      }
    } else if (b && (tag === '60F' || tag === '60M') && b.hasBalances) {
      // an opening balance after balances: a new statement whose :20: is missing
      this.emit();
      b = null;
    }
    if (!b) {
      b = new StatementBuilder(n);
      this.builder = b;
    }
    if (tag === '61') {
      this.openField(tag, '', n, col);
      const f = this.f;
      f.src = src;
      f.at = at;
      f.end = end;
      f.lazyFirst = true;
    } else {
      this.openField(tag, src.slice(at, end), n, col);
    }
  }

  private closeField(): void {
    if (!this.fieldOpen) return;
    this.fieldOpen = false;
    this.builder?.field(this.f);
    this.f.count = 1;
  }

  private emit(): void {
    const b = this.builder;
    if (!b) return;
    this.builder = null;
    this.statementCount++;
    this.onStatement(b.finish(0));
  }

  private endStatement(): void {
    if (this.pendingColon) this.pendingColon = 0;
    this.closeField();
    this.emit();
  }

  end(lastLine: number): void {
    if (this.pendingColon) {
      const at = this.pendingColon;
      this.pendingColon = 0;
      this.content(':', 0, 1, at, 1);
    }
    this.endStatement();
    if (this.statementCount === 0) {
      if (this.junkStart) {
        this.problems.push(
          problem(
            `not an MT940 statement: expected a field tag such as :20: at the start of a line, found ${JSON.stringify(this.junkText)}`,
            this.junkStart,
            1,
            'error',
          ),
        );
        this.junkStart = 0;
      } else if (!this.sawAnything) {
        this.problems.push(
          problem('not an MT940 statement: the input holds no field tags', Math.max(1, lastLine), 1, 'error'),
        );
      }
    }
    this.flushJunk();
  }
}

/** Feeds every line of `text` (CRLF, LF or CR line ends, see lines.ts) to the reader. Returns the number of lines. */
function readLines(text: string, reader: Mt940LineReader): number {
  const lines = new TextLines(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
  let n = 0;
  while (lines.next()) {
    const { start, stop } = lines;
    ++n;
    if (!reader.continuation(text, start, stop)) reader.lineAt(text, start, stop, n);
  }
  return n;
}

/** Parses a whole MT940 file (one or many statements). Never throws on bad input: see `problems`. */
export function parseMt940(text: string): Mt940ParseResult {
  const statements: Mt940Statement[] = [];
  const reader = new Mt940LineReader((s) => statements.push(s));
  reader.end(readLines(text, reader));
  return { statements, problems: reader.problems };
}

/** Thrown by `parseMt940Stream` when the input holds no statement at all. */
export class Mt940FormatError extends Error {
  constructor(readonly problems: Mt940Problem[]) {
    const first = problems[0];
    super(first ? `${first.message} (line ${first.line}, column ${first.column})` : 'not an MT940 statement');
    this.name = 'Mt940FormatError';
  }
}

/**
 * Parses MT940 from string chunks (e.g. a file stream with `setEncoding`), yielding each statement once it is
 * complete. File-level problems (text between statements) go to `onProblem` when given; when the input
 * holds no statement at all, the generator throws an `Mt940FormatError` carrying the problems.
 */
export async function* parseMt940Stream(
  chunks: AsyncIterable<string>,
  onProblem?: (p: Mt940Problem) => void,
): AsyncGenerator<Mt940Statement> {
  const ready: Mt940Statement[] = [];
  const reader = new Mt940LineReader((s) => ready.push(s));
  // every line inside a chunk is read from the chunk as it came (a flat string); a line cut by chunk
  // boundaries is joined once, when it ends (see lines.ts)
  const splitter = new Mt940LineSplitter();
  let n = 0;
  const sink = (text: string, start: number, stop: number) => reader.lineAt(text, start, stop, ++n);
  let reported = 0;
  const report = () => {
    if (onProblem) while (reported < reader.problems.length) onProblem(reader.problems[reported++]!);
  };
  for await (const chunk of chunks) {
    splitter.push(chunk, sink);
    report();
    for (let i = 0; i < ready.length; i++) yield ready[i]!;
    ready.length = 0;
  }
  splitter.end(sink);
  reader.end(n);
  report();
  for (const s of ready) yield s;
  if (reader.statementCount === 0) throw new Mt940FormatError(reader.problems);
}
