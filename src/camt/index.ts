// ISO 20022 camt.053 / camt.054 reader: a streaming, exact parser over saxes (no DOM, no DTD). See docs/camt.md.
import { CamtReader } from './reader.js';
import type {
  CamtDocument,
  CamtGroupHeader,
  CamtMessageInfo,
  CamtParseOptions,
  CamtProblem,
  CamtStatement,
  CamtStreamEvent,
} from './types.js';

export { detectStatementFormat, SNIFF_BYTES, type XmlRoot, xmlRootOf } from './detect.js';
export type * from './types.js';

/** Thrown by `parseCamtStream` when the input cannot be read as camt (the `fatal` problem of a parse). */
export class CamtFormatError extends Error {
  readonly code: CamtProblem['code'];
  constructor(readonly problem: CamtProblem) {
    super(`${problem.message} (line ${problem.line}, column ${problem.column})`);
    this.name = 'CamtFormatError';
    this.code = problem.code;
  }
}

/** Parses a whole camt.053 or camt.054 document. Never throws on bad input: see `fatal` and `problems`. */
export function parseCamt(input: string | Uint8Array, options?: CamtParseOptions): CamtDocument {
  const statements: CamtStatement[] = [];
  let groupHeader: CamtGroupHeader | undefined;
  const reader = new CamtReader(
    {
      header: (_m, h) => {
        groupHeader = h;
      },
      statement: (s) => statements.push(s),
    },
    options,
  );
  let text: string | undefined;
  if (typeof input === 'string') text = input.replace(/^\uFEFF/, '');
  else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      reader.fail('camt.not_xml', 'the file is not UTF-8 text');
    }
  }
  if (text !== undefined && reader.write(text)) reader.end();
  const doc: CamtDocument = { statements, problems: reader.problems };
  if (reader.message) doc.message = reader.message;
  if (groupHeader) doc.groupHeader = groupHeader;
  if (reader.fatal) doc.fatal = reader.fatal;
  return doc;
}

/**
 * Parses from chunks (a file stream), yielding each entry as soon as it is closed and each statement when it
 * ends (with `entries: []`), so memory stays flat whatever the file size. Throws `CamtFormatError` on a fatal
 * problem (after yielding what came before it). Document-level problems go to `onProblem` when given.
 */
export async function* parseCamtStream(
  chunks: AsyncIterable<string | Uint8Array>,
  options?: CamtParseOptions & { onProblem?: (p: CamtProblem) => void },
): AsyncGenerator<CamtStreamEvent> {
  const ready: CamtStreamEvent[] = [];
  const reader = new CamtReader(
    {
      header: (message: CamtMessageInfo, groupHeader: CamtGroupHeader) =>
        ready.push({ type: 'header', message, groupHeader }),
      entry: (entry, statementIndex) => ready.push({ type: 'entry', statementIndex, entry }),
      statement: (statement, statementIndex) => ready.push({ type: 'statement', statementIndex, statement }),
    },
    { ...options, keepEntries: false },
  );
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let reported = 0;
  const flush = function* () {
    while (reported < reader.problems.length) {
      const p = reader.problems[reported++]!;
      if (p.severity !== 'fatal') options?.onProblem?.(p);
    }
    if (ready.length) {
      yield* ready;
      ready.length = 0;
    }
  };
  let first = true;
  for await (const chunk of chunks) {
    let text: string;
    if (typeof chunk === 'string') text = chunk;
    else {
      try {
        text = decoder.decode(chunk, { stream: true });
      } catch {
        reader.fail('camt.not_xml', 'the file is not UTF-8 text');
        text = '';
      }
    }
    if (first && text) {
      text = text.replace(/^\uFEFF/, '');
      first = false;
    }
    const ok = !reader.fatal && reader.write(text);
    yield* flush();
    if (!ok) throw new CamtFormatError(reader.fatal!);
  }
  if (!reader.fatal) {
    try {
      const tail = decoder.decode();
      if (tail) reader.write(tail);
    } catch {
      reader.fail('camt.not_xml', 'the file is not UTF-8 text');
    }
  }
  reader.end();
  yield* flush();
  if (reader.fatal) throw new CamtFormatError(reader.fatal);
}
