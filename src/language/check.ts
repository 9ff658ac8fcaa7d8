// `aenb check`: the problems of whole notebooks, as the editor shows them
// (without its hints), with positions a person and a CI log can follow.
import { cellTags, type AenbNotebook } from '../common/aenb';
import { cellNames } from '../common/cell-names';
import type { CellDiagnostic, Severity } from './api';
import type { CellTypes } from './bundle';
import { NotebookLanguageService } from './service';

export interface NotebookProblem {
  file: string;
  /**
   * N of "Cell N", the cell's name in the kernel's errors and the runner's
   * output (src/common/cell-names.ts): the N-th cell from the top, markdown
   * included; null for the cell the runner injects for --set.
   */
  cell: number | null;
  /** "Cell 3", or "Injected parameters". */
  cellName: string;
  /** 1-based line and column (UTF-16 code units) in the cell. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Exclude<Severity, 'hint'>;
  /** TypeScript's error number (2339), or "kernel" for what the kernel would refuse to run. */
  code: number | string;
  message: string;
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  const re = /\r\n?|\n|\u2028|\u2029/g;
  for (let m = re.exec(text); m && m.index < offset; m = re.exec(text)) {
    line++;
    start = m.index + m[0].length;
  }
  return { line, column: offset - start + 1 };
}

/** Every error, warning and message of every code cell, in notebook order. */
export function checkNotebook(nb: AenbNotebook, file: string, types: CellTypes): NotebookProblem[] {
  const service = new NotebookLanguageService(types);
  try {
    const code = nb.cells.map((cell, index) => ({ cell, index })).filter(({ cell }) => cell.kind === 'code');
    service.setCells(code.map(({ cell, index }) => ({ id: String(index), language: cell.language === 'javascript' ? 'javascript' : 'typescript', text: cell.source })));
    const names = cellNames(nb.cells.map((c) => ({ tags: cellTags(c) })));
    const problems: NotebookProblem[] = [];
    for (const { cell, index } of code) {
      for (const d of service.getDiagnostics(String(index))) {
        if (d.severity === 'hint') continue;
        problems.push(toProblem(file, names[index], cell.source, d));
      }
    }
    return problems;
  } finally {
    service.dispose();
  }
}

function toProblem(file: string, cellName: string, text: string, d: CellDiagnostic): NotebookProblem {
  const start = lineColumn(text, d.span.start);
  const end = lineColumn(text, d.span.end);
  return {
    file,
    cell: /^Cell \d+$/.test(cellName) ? Number(cellName.slice(5)) : null,
    cellName,
    line: start.line,
    column: start.column,
    endLine: end.line,
    endColumn: end.column,
    severity: d.severity as NotebookProblem['severity'],
    code: d.code,
    message: d.message,
  };
}

/** `file:cell N:line:column: error TS2551: message` (continuation lines indented). */
export function formatProblem(p: NotebookProblem): string {
  const code = typeof p.code === 'number' ? ` TS${p.code}` : ` (${p.code})`;
  const cell = p.cellName.replace(/^Cell /, 'cell ');
  return `${p.file}:${cell}:${p.line}:${p.column}: ${p.severity}${code}: ${p.message.replace(/\n/g, '\n    ')}`;
}
