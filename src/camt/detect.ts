// Which statement format a file is, from its first bytes: a camt.053/.054 XML document (by the namespace of
// its root element), or MT940 (anything that is not XML). Only the head is read; parsing decides the rest.
import { CAMT_NAMESPACE, SUPPORTED } from './reader.js';
import type { CamtVersion, StatementFormat } from './types.js';

/** How much of the head is looked at: XML declaration, comments and the root start tag fit well inside. */
export const SNIFF_BYTES = 4096;

export function detectStatementFormat(head: string | Uint8Array): StatementFormat {
  const text = (
    typeof head === 'string'
      ? head.slice(0, SNIFF_BYTES)
      : Buffer.from(head.subarray(0, SNIFF_BYTES)).toString('utf8')
  ).replace(/^\uFEFF/, '');
  const start = text.trimStart();
  if (!start.startsWith('<')) return { format: 'mt940' };
  // skip the XML declaration, processing instructions and comments; a DOCTYPE is left for the parser to refuse
  const root = /<(?![?!])([A-Za-z_][\w.-]*)(?::([\w.-]+))?([^>]*)>?/.exec(start);
  if (!root) return { format: 'unknown', reason: 'an XML file without a root element in its first 4 KB' };
  const prefix = root[2] ? root[1] : '';
  const local = root[2] ?? root[1]!;
  const attrs = root[3] ?? '';
  const nsMatch = new RegExp(`\\sxmlns${prefix ? `:${prefix}` : ''}\\s*=\\s*["']([^"']*)["']`).exec(attrs);
  const ns = nsMatch?.[1] ?? '';
  const m = CAMT_NAMESPACE.exec(ns);
  if (local !== 'Document' || !m) {
    return { format: 'unknown', reason: `an XML file whose root is ${local} in namespace "${ns}", not camt` };
  }
  const kind = m[1]!;
  const version = m[2]!;
  const versions = SUPPORTED[kind];
  if (!versions)
    return { format: 'unknown', reason: `camt.${kind} is not a statement message the bridge reads` };
  if (!versions.includes(version as CamtVersion)) {
    return { format: 'unknown', reason: `camt.${kind}.${version} is not a version the bridge reads` };
  }
  return { format: 'camt', kind: kind as '053' | '054', version: version as CamtVersion, namespace: ns };
}
