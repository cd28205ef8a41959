// Which statement format a file is, from its first bytes: a camt.053/.054 XML document (by the namespace of
// its root element), or MT940 (anything that is not XML). Only the head is read; parsing decides the rest.
import { CAMT_NAMESPACE, SUPPORTED } from './reader.js';
import type { CamtVersion, StatementFormat } from './types.js';

/** How much of the head is looked at: XML declaration, comments and the root start tag fit well inside. */
export const SNIFF_BYTES = 4096;

/** The root element of an XML head: its local name and namespace (either quote, prefixed or default). */
export type XmlRoot = { xml: false } | { xml: true; local: string | null; namespace: string };

export function xmlRootOf(head: string | Uint8Array): XmlRoot {
  const text = (
    typeof head === 'string'
      ? head.slice(0, SNIFF_BYTES)
      : Buffer.from(head.subarray(0, SNIFF_BYTES)).toString('utf8')
  ).replace(/^\uFEFF/, '');
  const start = text.trimStart();
  if (!start.startsWith('<')) return { xml: false };
  // skip the XML declaration, processing instructions and comments; a DOCTYPE is left for the parser to refuse
  const withoutProlog = start.replace(/^(?:<\?[\s\S]*?\?>\s*|<!--[\s\S]*?-->\s*)*/, '');
  const root = /<(?![?!])([A-Za-z_][\w.-]*)(?::([\w.-]+))?([^>]*)>?/.exec(withoutProlog);
  if (!root) return { xml: true, local: null, namespace: '' };
  const prefix = root[2] ? root[1] : '';
  const local = root[2] ?? root[1]!;
  const attrs = root[3] ?? '';
  const nsMatch = new RegExp(`\\sxmlns${prefix ? `:${prefix}` : ''}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`).exec(
    attrs,
  );
  return { xml: true, local, namespace: nsMatch?.[1] ?? nsMatch?.[2] ?? '' };
}

export function detectStatementFormat(head: string | Uint8Array): StatementFormat {
  const root = xmlRootOf(head);
  if (!root.xml) return { format: 'mt940' };
  if (root.local === null)
    return { format: 'unknown', reason: 'an XML file without a root element in its first 4 KB' };
  const { local, namespace: ns } = root;
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
