// A small streaming CSV reader (RFC 4180: quoted fields, doubled quotes, line breaks inside quotes, CRLF or LF),
// so a bulk load never holds the whole file in memory.

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
  }
}

export type CsvSource = string | AsyncIterable<string | Uint8Array> | Iterable<string | Uint8Array>;

export interface CsvRow {
  /** Line on which the row starts (1-based). */
  line: number;
  fields: string[];
}

async function* chunksOf(source: CsvSource): AsyncGenerator<string> {
  if (typeof source === 'string') {
    yield source;
    return;
  }
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source as AsyncIterable<string | Uint8Array>) {
    yield typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Yields rows as they complete; blank lines are skipped. Throws CsvError on malformed quoting. */
export async function* parseCsv(source: CsvSource): AsyncGenerator<CsvRow> {
  // start: at the beginning of a field; plain: inside an unquoted field; quoted: inside quotes;
  // closing: just read a quote inside quotes (either an escaped quote or the end of the field).
  let state: 'start' | 'plain' | 'quoted' | 'closing' = 'start';
  let field = '';
  let fields: string[] = [];
  let line = 1;
  let rowLine = 1;
  let first = true;

  const endRow = (): CsvRow | null => {
    fields.push(field);
    const row =
      fields.length === 1 && fields[0] === '' && state !== 'closing' ? null : { line: rowLine, fields };
    fields = [];
    field = '';
    state = 'start';
    return row;
  };

  for await (let chunk of chunksOf(source)) {
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      if (chunk === '') continue;
      first = false;
    }
    let i = 0;
    while (i < chunk.length) {
      const c = chunk[i]!;
      if (state === 'quoted') {
        // Copy the run up to the next quote in one slice: quoted fields can be long.
        const next = chunk.indexOf('"', i);
        const end = next === -1 ? chunk.length : next;
        const run = chunk.slice(i, end);
        for (let k = run.indexOf('\n'); k !== -1; k = run.indexOf('\n', k + 1)) line++;
        field += run;
        i = end;
        if (next !== -1) {
          state = 'closing';
          i++;
        }
        continue;
      }
      i++;
      if (c === '\r') continue; // CRLF and LF both end a row; a CR alone is dropped
      if (state === 'closing') {
        // A doubled quote stays inside the field; otherwise the field has ended and a separator must follow.
        if (c === '"') {
          field += '"';
          state = 'quoted';
          continue;
        }
        if (c !== ',' && c !== '\n') throw new CsvError(line, 'unexpected character after a closing quote');
      }
      if (c === ',') {
        fields.push(field);
        field = '';
        state = 'start';
      } else if (c === '\n') {
        const row = endRow();
        line++;
        rowLine = line;
        if (row) yield row;
      } else if (c === '"') {
        if (state !== 'start' || field !== '') throw new CsvError(line, 'a quote inside an unquoted field');
        state = 'quoted';
      } else {
        field += c;
        state = 'plain';
      }
    }
  }
  if (state === 'quoted') throw new CsvError(rowLine, 'a quoted field is not closed');
  if (state !== 'start' || field !== '' || fields.length > 0) {
    const row = endRow();
    if (row) yield row;
  }
}
