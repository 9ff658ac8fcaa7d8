// Which tsserver files are cells of .aenb notebooks (see index.ts).

const AENB_CELL = /(^|\/)vscode-notebook-cell\/[^/]*\/.*\.aenb#/i;

/** Whether a tsserver file name (e.g. `^/vscode-notebook-cell/ts-nul-authority/home/me/a.aenb#W0sZmlsZQ==`) is a cell of an .aenb notebook. */
export function isAenbCell(fileName: string): boolean {
  return AENB_CELL.test(fileName.replace(/\\/g, '/'));
}
