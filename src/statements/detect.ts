// Which format an uploaded statement file is in: camt.053 / camt.054 (by the root namespace of an XML file)
// or MT940 (anything that is not XML). Used by /upload_statement and `g2p-bridge statement parse`.

export type { StatementFormat } from '../camt/index.js';
export { detectStatementFormat, SNIFF_BYTES } from '../camt/index.js';
