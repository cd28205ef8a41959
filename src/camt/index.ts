// ISO 20022 camt.053 / camt.054 reader: a streaming, exact parser over saxes (no DOM, no DTD). See docs/camt.md.
import type {
  CamtDocument,
  CamtParseOptions,
  CamtProblem,
  CamtStreamEvent,
  StatementFormat,
} from './types.js';

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
export function parseCamt(_input: string | Uint8Array, _options?: CamtParseOptions): CamtDocument {
  throw new Error('not implemented');
}

/**
 * Parses from chunks (a file stream), yielding each entry as soon as it is closed and each statement when it
 * ends (with `entries: []`), so memory stays flat whatever the file size. Throws `CamtFormatError` on a fatal
 * problem (after yielding what came before it).
 */
export function parseCamtStream(
  _chunks: AsyncIterable<string | Uint8Array>,
  _options?: CamtParseOptions,
): AsyncGenerator<CamtStreamEvent> {
  throw new Error('not implemented');
}

/** Sniffs the first bytes: an XML camt.053/.054 of a version we read, MT940, or unknown (with why). */
export function detectStatementFormat(_head: string | Uint8Array): StatementFormat {
  throw new Error('not implemented');
}
