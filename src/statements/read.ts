// A stored statement file read as whichever format it is in (MT940, camt.053 or camt.054), into the
// format-neutral model of ./model.ts: from one whole text (`readStatement`), or from the pieces an upload
// was stored in (`readStatementPieces`), where MT940 in the regular layout is read as it comes, twice,
// without holding the whole text.
import { createHash } from 'node:crypto';
import { detectStatementFormat } from '../camt/index.js';
import { Mt940ColumnStream, type Mt940EntryRun } from '../mt940/index.js';
import { readCamt } from './from-camt.js';
import { readMt940, readMt940Streamed } from './from-mt940.js';
import type { StatementFile } from './model.js';

/** Characters that decide between XML (camt) and MT940: what opens like XML within them is XML. */
const SNIFF_CHARS = 1024;
const looksLikeXml = (head: string) => /^\uFEFF?\s*</.test(head.slice(0, SNIFF_CHARS));

/** Reads a stored statement as whichever format it is in: camt.053 / camt.054 XML, else MT940. */
export async function readStatement(text: string): Promise<StatementFile> {
  // MT940 is text of tags; only what opens like XML goes to the camt reader.
  if (!looksLikeXml(text)) return readMt940(text);
  const detected = detectStatementFormat(text.slice(0, 4096));
  if (detected.format === 'camt') return readCamt(text, detected.kind);
  const reason = detected.format === 'unknown' ? detected.reason : 'XML that is not camt';
  return {
    format: 'MT940',
    statements: [],
    errors: [{ message: `not a statement the bridge reads: ${reason}`, where: 'line 1', severity: 'error' }],
    warnings: [],
    counts: { D: 0, RD: 0, notBooked: 0 },
    transactions: async function* () {},
  };
}

/** A statement's text in its stored pieces, in order: each call reads them afresh from the first. */
export type StatementPieces = () => AsyncIterable<string>;

/** A later reading of a statement's pieces differs from the first one (a piece changed, went or came). */
export class StatementTextChanged extends Error {
  constructor(piece: number) {
    super(`the statement's stored text changed between two readings (at piece ${piece + 1})`);
  }
}

export interface StoredStatementRead {
  file: StatementFile;
  /** SHA-256 (hex) of the pieces' text as UTF-8: the uploaded file's content_sha256 when none is missing. */
  sha256: string;
  /** The entries are read from the pieces again on each request (MT940 in the regular layout). */
  streamed: boolean;
}

/** A piece's digest, from its UTF-8 bytes (encoded once for both hashes of the first reading). */
const digestOf = (bytes: Buffer) => createHash('sha1').update(bytes).digest('base64');

/**
 * Reads a statement from its stored pieces. A first reading checks it: MT940 goes through
 * `Mt940ColumnStream` as the pieces come (errors, statements, balances, counts), keeping no entries, and
 * notes a digest of each piece. Then `file.transactions` reads the pieces again each time it is called and
 * hands out the entries run by run, checking every piece against its digest before any of its entries is
 * used (else it throws StatementTextChanged). So the worker holds about a piece and its columns, not the text.
 * What the stream does not read (camt, MT940 the fast reader leaves to `parseMt940`) is read as before, from
 * the whole text joined from a second reading (checked the same way): the result is `readStatement`'s.
 */
export async function readStatementPieces(pieces: StatementPieces): Promise<StoredStatementRead> {
  const hash = createHash('sha256');
  const digests: string[] = [];
  let head = '';
  let early: string[] | null = []; // pieces until the first SNIFF_CHARS characters decide the format
  let stream: Mt940ColumnStream | null = null; // MT940: read as the pieces come
  const decide = (): Mt940ColumnStream | null => {
    const pending = early ?? [];
    early = null;
    if (looksLikeXml(head)) return null;
    const s = new Mt940ColumnStream({ entries: false });
    for (const p of pending) s.push(p);
    return s;
  };
  for await (const piece of pieces()) {
    const bytes = Buffer.from(piece, 'utf8');
    hash.update(bytes);
    digests.push(digestOf(bytes));
    if (stream) stream.push(piece);
    else if (early) {
      early.push(piece);
      head += piece.slice(0, SNIFF_CHARS - head.length);
      if (head.length >= SNIFF_CHARS) stream = decide();
    }
  }
  if (early) stream = decide();
  const sha256 = hash.digest('hex');
  stream?.end();
  const result = stream?.result ?? null;
  if (result) {
    async function* runs(): AsyncGenerator<Mt940EntryRun> {
      const again = new Mt940ColumnStream({ entries: true });
      for await (const piece of readAgain(pieces, digests)) yield* again.push(piece);
      yield* again.end();
      if (!again.result) throw new StatementTextChanged(digests.length - 1); // unreachable: same text
    }
    return { file: readMt940Streamed(result, runs), sha256, streamed: true };
  }
  const parts: string[] = [];
  for await (const piece of readAgain(pieces, digests)) parts.push(piece);
  return { file: await readStatement(parts.join('')), sha256, streamed: false };
}

/** The pieces read again, each checked against the digest of the first reading. */
async function* readAgain(pieces: StatementPieces, digests: readonly string[]): AsyncGenerator<string> {
  let k = 0;
  for await (const piece of pieces()) {
    if (k >= digests.length || digestOf(Buffer.from(piece, 'utf8')) !== digests[k])
      throw new StatementTextChanged(k);
    k++;
    yield piece;
  }
  if (k !== digests.length) throw new StatementTextChanged(k);
}
