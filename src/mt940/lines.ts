// Line breaks of MT940 text, the one rule every entry point uses (whole text, stream, columns): a line
// ends at CRLF, at LF, or at a lone CR. Files use any of them, and some mix them.
//
// Both readers below are linear in the input: each character is searched once per break character, and a
// line cut by chunk boundaries is joined once, when it ends.

/**
 * The lines of one whole string. `next()` sets `start`/`stop` (the line without its break) and returns
 * false after the last line; a break at the very end opens no empty last line.
 */
export class TextLines {
  start = 0;
  stop = 0;
  private at: number;
  private lf: number;
  private cr: number;

  constructor(
    private readonly text: string,
    from = 0,
  ) {
    this.at = from;
    this.lf = text.indexOf('\n', from);
    this.cr = text.indexOf('\r', from);
  }

  next(): boolean {
    const text = this.text;
    const start = this.at;
    if (start >= text.length) return false;
    let lf = this.lf;
    let cr = this.cr;
    // each cached position is searched again only once the reading has passed it
    if (lf >= 0 && lf < start) lf = this.lf = text.indexOf('\n', start);
    if (cr >= 0 && cr < start) cr = this.cr = text.indexOf('\r', start);
    this.start = start;
    if (cr >= 0 && (lf < 0 || cr < lf)) {
      this.stop = cr;
      this.at = lf === cr + 1 ? cr + 2 : cr + 1;
    } else if (lf >= 0) {
      this.stop = lf;
      this.at = lf + 1;
    } else {
      this.stop = text.length;
      this.at = text.length;
    }
    return true;
  }
}

/** Receives one line: text[start, stop), without its line break. */
export type LineSink = (text: string, start: number, stop: number) => void;

/**
 * Splits string chunks into lines (same rule as `TextLines`). A line inside one chunk is handed over as a
 * range of that chunk (no copy); a line cut by chunk boundaries is kept as its pieces and joined once.
 * A CR at the end of a chunk ends the line at once; an LF opening the next chunk is then its pair.
 */
export class Mt940LineSplitter {
  /** Characters searched or copied so far: stays proportional to the input (tested). */
  work = 0;
  private pieces: string[] = [];
  private afterCr = false;
  private started = false;

  push(chunk: string, sink: LineSink): void {
    const len = chunk.length;
    if (len === 0) return;
    let start = 0;
    if (!this.started) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) start = 1;
    }
    if (this.afterCr) {
      this.afterCr = false;
      if (chunk.charCodeAt(0) === 10) start = 1;
    }
    let lf = this.find(chunk, '\n', start);
    let cr = this.find(chunk, '\r', start);
    while (lf >= 0 || cr >= 0) {
      let stop: number;
      let next: number;
      if (cr >= 0 && (lf < 0 || cr < lf)) {
        stop = cr;
        if (cr + 1 < len) next = lf === cr + 1 ? cr + 2 : cr + 1;
        else {
          next = len;
          this.afterCr = true;
        }
      } else {
        stop = lf;
        next = lf + 1;
      }
      if (this.pieces.length > 0) {
        this.pieces.push(chunk.slice(start, stop));
        const line = this.pieces.join('');
        this.work += line.length;
        this.pieces = [];
        sink(line, 0, line.length);
      } else {
        sink(chunk, start, stop);
      }
      start = next;
      if (lf >= 0 && lf < start) lf = this.find(chunk, '\n', start);
      if (cr >= 0 && cr < start) cr = this.find(chunk, '\r', start);
    }
    if (start < len) this.pieces.push(start === 0 ? chunk : chunk.slice(start));
  }

  /** Hands over the last line when the input did not end with a line break. */
  end(sink: LineSink): void {
    if (this.pieces.length === 0) return;
    const line = this.pieces.join('');
    this.work += line.length;
    this.pieces = [];
    if (line.length > 0) sink(line, 0, line.length);
  }

  private find(chunk: string, c: string, from: number): number {
    const at = chunk.indexOf(c, from);
    this.work += (at < 0 ? chunk.length : at + 1) - from;
    return at;
  }
}
