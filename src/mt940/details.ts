// Structured :86: subfields. Two layouts are recognised:
//  - German "GVC" layout (Sparkassen, Volksbanken, Deutsche Bank, ...): `166?00GUTSCHRIFT?10...?20EREF+...`
//    a 3-digit business transaction code followed by ?NN subfields (the code may stand alone on the first
//    line, each subfield on a line of its own); SEPA keywords (EREF+, SVWZ+, ...) inside the purpose
//    subfields ?20..?29.
//  - SWIFT slash layout (ING, ABN AMRO, Rabobank, ...): `/TRTP/SEPA OVERBOEKING/IBAN/NL..../NAME/.../REMI/...`
// Anything else yields no details. Lines are joined without a separator first, since banks wrap mid-word.

const SEPA_KEYWORDS = [
  'EREF',
  'KREF',
  'MREF',
  'CRED',
  'DEBT',
  'COAM',
  'OAMT',
  'SVWZ',
  'ABWA',
  'ABWE',
  'IBAN',
  'BIC',
] as const;

/** Codes recognised in the slash layout (only these split the text, so values may contain '/'). */
const SLASH_CODES = new Set([
  'TRTP',
  'IBAN',
  'BIC',
  'NAME',
  'REMI',
  'EREF',
  'MARF',
  'CSID',
  'ORDP',
  'BENM',
  'ADDR',
  'CNTP',
  'SVCL',
  'PURP',
  'RTRN',
  'CREF',
  'ISDT',
  'OCMT',
  'ATTN',
  'ULTC',
  'ULTD',
  'ULTB',
  'CHGS',
  'EXCH',
  'IREF',
  'CDTRREF',
  'CDTRREFTP',
  'ISSR',
  'PREF',
  'RTYP',
  'BUSP',
]);

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function parseDetails(input: readonly string[]): Record<string, string> | undefined {
  let lines = input;
  if (lines.length === 0) return undefined;
  let first = lines[0]!;
  let skip = 0;
  while (first.charCodeAt(skip) === 32) skip++;
  if (skip > 0) {
    first = first.slice(skip);
    lines = [first, ...lines.slice(1)];
  }
  if (
    first.length >= 3 &&
    isDigit(first.charCodeAt(0)) &&
    isDigit(first.charCodeAt(1)) &&
    isDigit(first.charCodeAt(2))
  ) {
    if (first.charCodeAt(3) === 63 /* ? */) return parseGvc(lines.join(''));
    // the code alone on the first line, then one ?NN subfield per line (`109` / `?00SEPA...` / `?20...`)
    if (first.trimEnd().length === 3 && startsSubfield(lines[1]))
      return parseGvc(first.slice(0, 3) + lines.slice(1).join(''));
  } else if (first.charCodeAt(0) === 47 /* / */) {
    return parseSlash(lines.join(''));
  }
  return undefined;
}

/** Whether a line starts with a ?NN subfield. */
function startsSubfield(line: string | undefined): boolean {
  return (
    line !== undefined &&
    line.charCodeAt(0) === 63 &&
    isDigit(line.charCodeAt(1)) &&
    isDigit(line.charCodeAt(2))
  );
}

function parseGvc(text: string): Record<string, string> | undefined {
  const out: Record<string, string> = { code: text.slice(0, 3) };
  const order: Array<[string, string]> = [];
  let i = 3;
  // each subfield starts with ?NN; a '?' not followed by two digits is text
  while (i < text.length) {
    if (text.charCodeAt(i) !== 63 || !isDigit(text.charCodeAt(i + 1)) || !isDigit(text.charCodeAt(i + 2))) {
      i++;
      continue;
    }
    const key = text.slice(i + 1, i + 3);
    let j = i + 3;
    while (j < text.length) {
      if (text.charCodeAt(j) === 63 && isDigit(text.charCodeAt(j + 1)) && isDigit(text.charCodeAt(j + 2)))
        break;
      j++;
    }
    order.push([key, text.slice(i + 3, j)]);
    i = j;
  }
  if (order.length === 0) return undefined;
  let purposeText = '';
  let additional = '';
  let name = '';
  for (const [key, value] of order) {
    const raw = `?${key}`;
    out[raw] = raw in out ? out[raw] + value : value;
    const n = Number(key);
    if (n >= 20 && n <= 29) purposeText += value;
    else if (n >= 60 && n <= 63) additional += value;
    else if (n === 32 || n === 33) name += value;
  }
  setTrimmed(out, 'postingText', out['?00']);
  setTrimmed(out, 'primaNota', out['?10']);
  setTrimmed(out, 'counterpartyBic', out['?30']);
  setTrimmed(out, 'counterpartyAccount', out['?31']);
  setTrimmed(out, 'counterpartyName', name || undefined);
  setTrimmed(out, 'textKeyExtension', out['?34']);
  setTrimmed(out, 'additionalPurpose', additional || undefined);
  if (purposeText) {
    const sepa = splitSepa(purposeText);
    if (sepa) {
      Object.assign(out, sepa);
      if (sepa.SVWZ !== undefined) out.purpose = sepa.SVWZ;
    } else {
      setTrimmed(out, 'purpose', purposeText);
    }
  }
  return out;
}

function setTrimmed(out: Record<string, string>, key: string, value: string | undefined): void {
  if (value === undefined) return;
  const t = value.trim();
  if (t) out[key] = t;
}

/** Splits "EREF+abc MREF+def SVWZ+text" at SEPA keywords; undefined when there is none. */
function splitSepa(text: string): Record<string, string> | undefined {
  const marks: Array<{ key: string; at: number }> = [];
  for (const key of SEPA_KEYWORDS) {
    let from = 0;
    for (;;) {
      const at = text.indexOf(`${key}+`, from);
      if (at < 0) break;
      marks.push({ key, at });
      from = at + key.length + 1;
    }
  }
  if (marks.length === 0) return undefined;
  marks.sort((a, b) => a.at - b.at);
  const out: Record<string, string> = {};
  for (let k = 0; k < marks.length; k++) {
    const m = marks[k]!;
    const end = k + 1 < marks.length ? marks[k + 1]!.at : text.length;
    const value = text.slice(m.at + m.key.length + 1, end).trim();
    out[m.key] = m.key in out ? `${out[m.key]} ${value}` : value;
  }
  return out;
}

function parseSlash(text: string): Record<string, string> | undefined {
  const marks: Array<{ key: string; at: number; valueAt: number }> = [];
  let i = 0;
  while (i < text.length) {
    if (text.charCodeAt(i) === 47) {
      const close = text.indexOf('/', i + 1);
      if (close > i + 1 && close - i - 1 <= 9) {
        const code = text.slice(i + 1, close);
        if (SLASH_CODES.has(code)) {
          marks.push({ key: code, at: i, valueAt: close + 1 });
          i = close + 1;
          continue;
        }
      }
    }
    i++;
  }
  if (marks.length === 0 || marks[0]!.at !== 0) return undefined;
  const out: Record<string, string> = {};
  for (let k = 0; k < marks.length; k++) {
    const m = marks[k]!;
    let end = k + 1 < marks.length ? marks[k + 1]!.at : text.length;
    // a value ends before the '/' that opens the next code; a final trailing '/' is a separator too
    if (k + 1 === marks.length && text.charCodeAt(end - 1) === 47 && end - 1 >= m.valueAt) end--;
    const value = text.slice(m.valueAt, end).trim();
    out[m.key] = m.key in out ? `${out[m.key]} ${value}` : value;
  }
  return out;
}
