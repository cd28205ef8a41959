export type {
  Mt940ColumnStore,
  Mt940ColumnsResult,
  Mt940ColumnsStatement,
  Mt940EntryRun,
  Mt940StreamResult,
  Mt940StreamStatement,
} from './columns.js';
export { Mt940ColumnStream, Mt940EntryColumns, materialiseColumns, parseMt940Columns } from './columns.js';
export { type JsonSink, writeMt940Json } from './json.js';
export { Mt940FormatError, Mt940LineReader, parseMt940, parseMt940Stream } from './parser.js';
export type {
  Mt940Balance,
  Mt940Entry,
  Mt940EntryInput,
  Mt940Mark,
  Mt940OtherField,
  Mt940ParseResult,
  Mt940Problem,
  Mt940Severity,
  Mt940Statement,
  Mt940StatementInput,
  Mt940WriteOptions,
} from './types.js';
export { writeMt940 } from './writer.js';
