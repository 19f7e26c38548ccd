export { formatBytes, formatInteger, formatPercent } from './bytes.js';
export type { FormatBytesOptions } from './bytes.js';
export { CSV_COLUMNS, reportToCsv } from './csv.js';
export { CSV_LINE_END, csvCell, csvLine, markdownText, terminalText, toCsv } from './escape.js';
export { renderMarkdown } from './markdown.js';
export type { MarkdownOptions } from './markdown.js';
export { renderText } from './text.js';
export { bothMeasures, headline, topGroups } from './common.js';
export type { TopGroup } from './common.js';
