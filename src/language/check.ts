// `aenb check`: the problems of whole notebooks, as the editor shows them
// (without its hints), with positions a person and a CI log can follow.
import type { AenbNotebook } from '../common/aenb';
import type { CellDiagnostic, Severity } from './api';
import type { CellTypes } from './bundle';
import { NotebookLanguageService } from './service';

export interface NotebookProblem {
  file: string;
  /** 1-based index of the cell in the notebook (markdown cells count), as "Cell N" in the kernel's errors. */
  cell: number;
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
    const problems: NotebookProblem[] = [];
    for (const { cell, index } of code) {
      for (const d of service.getDiagnostics(String(index))) {
        if (d.severity === 'hint') continue;
        problems.push(toProblem(file, index, cell.source, d));
      }
    }
    return problems;
  } finally {
    service.dispose();
  }
}

function toProblem(file: string, index: number, text: string, d: CellDiagnostic): NotebookProblem {
  const start = lineColumn(text, d.span.start);
  const end = lineColumn(text, d.span.end);
  return {
    file,
    cell: index + 1,
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
  return `${p.file}:cell ${p.cell}:${p.line}:${p.column}: ${p.severity}${code}: ${p.message.replace(/\n/g, '\n    ')}`;
}
