// The :86: information field: narrative lines of the entry just read (with their structured subfields,
// ./details.ts), or the statement's own information when no entry precedes it.

import { parseDetails } from './details.js';
import { exactCopy, isBlankString, type OpenField, type ProblemSink } from './tags.js';
import type { Mt940Statement } from './types.js';

/**
 * Reads an :86: into `st`. `lastTag` is the field before it; `continuing` says whether the previous :86:
 * went to an entry. Returns the new `continuing`: one :86: per narrative line (Rabobank) keeps adding to
 * the same entry.
 */
export function readInformation(
  f: OpenField,
  st: Mt940Statement,
  lastTag: string,
  continuing: boolean,
  sink: ProblemSink,
): boolean {
  // trailing blank lines dropped; the lines become a new array of exactly their number (no growth)
  let lines: string[];
  if (f.count > 1) {
    const src = f.lines;
    let n = f.count;
    while (n > 0 && isBlankString(src[n - 1]!)) n--;
    lines = exactCopy(src, n);
  } else {
    lines = isBlankString(f.first) ? [] : [f.first];
  }
  const last = st.entries[st.entries.length - 1];
  if (lastTag === '86' && continuing && last) {
    for (const l of lines) last.narratives.push(l);
    return true;
  }
  if (lastTag === '61' && last) {
    last.narratives = lines;
    if (lines.length > 6) sink.warn(`:86: has ${lines.length} lines, more than 6`, f.line, 1, '86');
    for (let i = 0; i < lines.length; i++) {
      if (lines[i]!.length > 65) {
        sink.warn(`:86: line is ${lines[i]!.length} characters, more than 65`, f.line + i, 66, '86');
        break;
      }
    }
    const details = parseDetails(lines);
    if (details) last.details = details;
    return true;
  }
  for (const l of lines) st.information.push(l);
  return false;
}
