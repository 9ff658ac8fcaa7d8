// The report page's stylesheet: VS Code's theme variables for light and dark
// (the renderer's views read them), and the notebook layout.

const LIGHT_VARS = `
  --vscode-editor-background: #ffffff; --vscode-editor-foreground: #1f1f1f; --vscode-descriptionForeground: #5f5f5f;
  --vscode-editorWidget-border: #d4d4d4; --vscode-editorWidget-background: #f5f5f5; --vscode-charts-lines: rgba(97, 97, 97, 0.5);
  --vscode-charts-blue: #1a85ff; --vscode-charts-orange: #c9700a; --vscode-charts-green: #388a34; --vscode-charts-purple: #652d90;
  --vscode-charts-red: #e51400; --vscode-charts-yellow: #bf8803; --vscode-focusBorder: #0078d4;
  --vscode-button-background: #0078d4; --vscode-button-foreground: #ffffff; --vscode-button-hoverBackground: #026ec1;
  --vscode-button-secondaryBackground: #e5e5e5; --vscode-button-secondaryForeground: #1f1f1f; --vscode-button-secondaryHoverBackground: #cccccc;
  --vscode-dropdown-background: #ffffff; --vscode-dropdown-border: #cecece; --vscode-progressBar-background: #0e70c0;
  --vscode-textCodeBlock-background: #f3f3f3; --vscode-textLink-foreground: #005fb8; --vscode-errorForeground: #d1242f;
  --vscode-editor-selectionBackground: #add6ff; --vscode-list-hoverBackground: #f2f2f2; --report-code-bg: #f8f8f8; --report-cell-border: #e5e5e5;
  color-scheme: light;`;

const DARK_VARS = `
  --vscode-editor-background: #1f1f1f; --vscode-editor-foreground: #cccccc; --vscode-descriptionForeground: #9d9d9d;
  --vscode-editorWidget-border: #454545; --vscode-editorWidget-background: #252526; --vscode-charts-lines: rgba(204, 204, 204, 0.5);
  --vscode-charts-blue: #3794ff; --vscode-charts-orange: #d18616; --vscode-charts-green: #89d185; --vscode-charts-purple: #b180d7;
  --vscode-charts-red: #f14c4c; --vscode-charts-yellow: #cca700; --vscode-focusBorder: #0078d4;
  --vscode-button-background: #0078d4; --vscode-button-foreground: #ffffff; --vscode-button-hoverBackground: #026ec1;
  --vscode-button-secondaryBackground: #313131; --vscode-button-secondaryForeground: #cccccc; --vscode-button-secondaryHoverBackground: #3c3c3c;
  --vscode-dropdown-background: #313131; --vscode-dropdown-border: #3c3c3c; --vscode-progressBar-background: #0078d4;
  --vscode-textCodeBlock-background: #2b2b2b; --vscode-textLink-foreground: #4daafc; --vscode-errorForeground: #f85149;
  --vscode-editor-selectionBackground: #264f78; --vscode-list-hoverBackground: #2a2d2e; --report-code-bg: #181818; --report-cell-border: #2b2b2b;
  color-scheme: dark;`;

export const REPORT_CSS = `
:root { --vscode-font-family: system-ui, -apple-system, "Segoe UI", Ubuntu, "Helvetica Neue", sans-serif; --vscode-font-size: 14px;
  --vscode-editor-font-family: ui-monospace, "SF Mono", "Cascadia Mono", Menlo, Consolas, "DejaVu Sans Mono", monospace; }
html[data-theme="light"] { ${LIGHT_VARS} }
html[data-theme="dark"] { ${DARK_VARS} }
html[data-theme="auto"] { ${LIGHT_VARS} }
@media (prefers-color-scheme: dark) { html[data-theme="auto"] { ${DARK_VARS} } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--vscode-editor-background); color: var(--vscode-editor-foreground);
  font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); line-height: 1.55; }
main { max-width: 1040px; margin: 0 auto; padding: 28px 24px 64px; }
.nb-head { border-bottom: 1px solid var(--report-cell-border); margin-bottom: 18px; padding-bottom: 10px; }
.nb-head h1 { margin: 0; font-size: 1.6em; }
.nb-meta { margin: 4px 0 0; color: var(--vscode-descriptionForeground); font-size: 0.9em; }
.cell { margin: 0 0 14px; }
.md h1, .md h2, .md h3, .md h4 { line-height: 1.25; margin: 1.1em 0 0.45em; }
.md h1 { font-size: 1.75em; } .md h2 { font-size: 1.4em; } .md h3 { font-size: 1.18em; }
.md p { margin: 0.55em 0; }
.md a { color: var(--vscode-textLink-foreground); }
.md code, .md-math { font-family: var(--vscode-editor-font-family); font-size: 0.92em; background: var(--vscode-textCodeBlock-background); padding: 0.1em 0.3em; border-radius: 3px; }
.md pre.md-code { background: var(--vscode-textCodeBlock-background); padding: 10px 12px; border-radius: 4px; overflow-x: auto; }
.md pre.md-code code { background: none; padding: 0; }
.md blockquote { margin: 0.6em 0; padding: 0 0 0 12px; border-left: 3px solid var(--vscode-editorWidget-border); color: var(--vscode-descriptionForeground); }
.md hr { border: none; border-top: 1px solid var(--report-cell-border); margin: 1.4em 0; }
.md-table { overflow-x: auto; margin: 0.6em 0; }
.md table { border-collapse: collapse; }
.md th, .md td { border: 1px solid var(--vscode-editorWidget-border); padding: 4px 10px; }
.md-img { color: var(--vscode-descriptionForeground); font-style: italic; }
.code-cell { display: grid; grid-template-columns: 3.6em minmax(0, 1fr); column-gap: 6px; }
.gutter { color: var(--vscode-descriptionForeground); font-family: var(--vscode-editor-font-family); font-size: 0.85em; text-align: right; padding-top: 9px; }
.gutter.failed { color: var(--vscode-errorForeground); }
.source { margin: 0; background: var(--report-code-bg); border: 1px solid var(--report-cell-border); border-radius: 4px; padding: 8px 12px;
  font-family: var(--vscode-editor-font-family); font-size: 0.88em; line-height: 1.5; overflow-x: auto; tab-size: 2; }
/* Under the code, as VS Code shows it in a cell's status bar: never over a long line. */
.source-box .lang { display: block; text-align: right; padding: 1px 12px 0; color: var(--vscode-descriptionForeground); font-size: 0.8em; font-family: var(--vscode-font-family); }
.outputs { grid-column: 2; padding: 6px 0 0 2px; }
.output { margin: 4px 0 8px; }
.output pre { margin: 0; font-family: var(--vscode-editor-font-family); font-size: 0.86em; white-space: pre-wrap; overflow-wrap: anywhere; }
.output-stream.stderr pre, .output-error > pre { color: var(--vscode-errorForeground); }
.output-error details { margin-top: 4px; color: var(--vscode-descriptionForeground); }
.output-error summary { cursor: pointer; font-size: 0.86em; }
.output-image img { max-width: 100%; image-rendering: auto; }
.output-missing p { color: var(--vscode-descriptionForeground); font-style: italic; margin: 0; }
@media print { .aenb-btn, .aenb-segmented, .aenb-select, .aenb-slider, .aenb-field { display: none !important; } }
`;

