// A reference point for the benchmark, not a parser: it knows the exact layout of the generated file
// (":61:" statement line, then ":86:" and five more narrative lines, CRLF) and only slices the lines and
// builds the same entry objects parseMt940 returns (same fields, same strings, exact amounts). Its time is
// the cost of materialising the result (allocation plus garbage collection) with next to no parsing, so
// it bounds from below what any parser returning these objects can reach on this file.

import type { Mt940Entry, Mt940Mark } from '../../src/mt940/index.js';

const dates = new Map<number, string>();

function isoAt(s: string, p: number): string {
  const key =
    (s.charCodeAt(p) - 48) * 100000 +
    (s.charCodeAt(p + 1) - 48) * 10000 +
    (s.charCodeAt(p + 2) - 48) * 1000 +
    (s.charCodeAt(p + 3) - 48) * 100 +
    (s.charCodeAt(p + 4) - 48) * 10 +
    (s.charCodeAt(p + 5) - 48);
  let iso = dates.get(key);
  if (iso === undefined) {
    iso = `20${s.slice(p, p + 2)}-${s.slice(p + 2, p + 4)}-${s.slice(p + 4, p + 6)}`;
    dates.set(key, iso);
  }
  return iso;
}

export function buildObjectsOnly(text: string): Mt940Entry[] {
  const entries: Mt940Entry[] = [];
  const len = text.length;
  let pos = 0;
  let line = 0;
  while (pos < len) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = len;
    line++;
    if (text.startsWith(':61:', pos)) {
      const valueDate = isoAt(text, pos + 4);
      const entryDate = isoAt(text, pos + 4); // same day in the generated file
      let p = pos + 14;
      let mark: Mt940Mark = 'D';
      if (text.charCodeAt(p) === 82) {
        mark = text.charCodeAt(p + 1) === 68 ? 'RD' : 'RC';
        p += 2;
      } else {
        mark = text.charCodeAt(p) === 68 ? 'D' : 'C';
        p++;
      }
      const comma = text.indexOf(',', p);
      const amount = `${text.slice(p, comma)}.${text.slice(comma + 1, comma + 3)}`;
      const negative = mark === 'D' || mark === 'RC';
      const slashes = text.indexOf('//', comma + 7);
      const n: string[] = [];
      let q = nl + 1;
      for (let k = 0; k < 6; k++) {
        const e = text.indexOf('\n', q);
        n.push(text.slice(k === 0 ? q + 4 : q, e - 1));
        q = e + 1;
      }
      entries.push({
        valueDate,
        mark,
        amount,
        signedAmount: negative ? `-${amount}` : amount,
        transactionType: 'NTRF',
        customerReference: text.slice(comma + 7, slashes),
        narratives: [n[0]!, n[1]!, n[2]!, n[3]!, n[4]!, n[5]!],
        line,
        entryDate,
        bankReference: text.slice(slashes + 2, nl - 1),
      });
      line += 6;
      pos = q;
      continue;
    }
    pos = nl + 1;
  }
  return entries;
}
