export { formatBytes, formatInteger, formatPercent } from './bytes.js';
export type { FormatBytesOptions } from './bytes.js';
export { CSV_COLUMNS, csvLines, reportCsvRows, reportToCsv } from './csv.js';
export type { CsvRows } from './csv.js';
export { CSV_LINE_END, csvCell, csvLine, markdownText, terminalText, toCsv } from './escape.js';
export { renderMarkdown } from './markdown.js';
export type { MarkdownOptions, MarkdownReport } from './markdown.js';
export { renderText } from './text.js';
export {
  bothMeasures,
  headline,
  measuredUpperText,
  measurePair,
  predictedNote,
  topGroups,
} from './common.js';
export type { TopGroup } from './common.js';
export { formatFingerprint } from './fingerprint.js';
