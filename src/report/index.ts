// The HTML report: see ./page.ts.
export { inlineRendererModule, renderHtmlReport, type ReportCell, type ReportNotebook, type ReportOptions, type ReportOutputItem } from './page';
export { escapeHtml } from './html';
export { markdownInline, markdownToHtml } from './markdown';
