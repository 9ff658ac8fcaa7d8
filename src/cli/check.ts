/**
 * `aenb check NOTEBOOK... [--json]`: type-checks notebooks the way the editor
 * does (each cell sees the kernel's globals and the cells above it), for CI,
 * like `tsc --noEmit` for a project.
 *
 * Prints each problem as `file:cell N:line:column: error TS2551: message`
 * (or a JSON array with --json). Exit status: 0 when no notebook has an error
 * (warnings are allowed), 1 when one has, 2 for a usage error or a file that
 * cannot be read or is not a valid notebook (the others are still checked).
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { AenbFormatError, parseNotebookBytes } from '../common/aenb';
import { parseOptions } from './args';
import type * as Language from '../language/main';

export const CHECK_USAGE = `Usage: autoencoder-notebooks check <notebook.aenb>... [--json]

Type-checks the code cells of notebooks as the editor does: each cell sees
the kernel's globals (tf, datasets, Autoencoder, show, ...) and the
declarations of the cells above it, in notebook order.

Options:
  --json       print the problems as a JSON array
  -h, --help   this text

Prints one line per problem: file:cell N:line:column: severity code: message.
Exit status: 0 when there is no error, 1 when there is one, 2 for a usage
error or a file that is not a readable notebook.`;

/** The language service bundle (dist/language.js beside this script): TypeScript is loaded only for `check`. */
function loadLanguage(): typeof Language {
  const file = path.join(__dirname, 'language.js');
  try {
    return require(file) as typeof Language;
  } catch (e) {
    throw new Error(`cannot load the language service (${file}): ${(e as Error).message}. Build with "npm run build".`);
  }
}

const CHECK_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function checkMain(argv: string[], out: { write(s: string): unknown } = process.stdout, err: { write(s: string): unknown } = process.stderr): Promise<number> {
  let values: { json?: boolean; help?: boolean };
  let files: string[];
  try {
    ({ values, positionals: files } = parseOptions(argv, CHECK_OPTIONS));
  } catch (e) {
    err.write(`aenb check: ${(e as Error).message}\n\n${CHECK_USAGE}\n`);
    return 2;
  }
  if (values.help) {
    out.write(CHECK_USAGE + '\n');
    return 0;
  }
  if (files.length === 0) {
    err.write(`aenb check: which notebooks? Give the paths of .aenb files.\n\n${CHECK_USAGE}\n`);
    return 2;
  }
  const language = loadLanguage();
  const types = language.loadCellTypes();
  const problems: Language.NotebookProblem[] = [];
  let unreadable = 0;
  let cells = 0;
  for (const file of files) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      err.write(`aenb check: cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (e as Error).message}\n`);
      unreadable++;
      continue;
    }
    let nb;
    try {
      nb = parseNotebookBytes(bytes, file);
    } catch (e) {
      if (!(e instanceof AenbFormatError)) throw e;
      err.write(`aenb check: ${e.message} (not a valid .aenb notebook; nothing was checked in it)\n`);
      unreadable++;
      continue;
    }
    cells += nb.cells.filter((c) => c.kind === 'code').length;
    const found = language.checkNotebook(nb, file, types);
    problems.push(...found);
    if (!values.json) for (const p of found) out.write(language.formatProblem(p) + '\n');
  }
  const errors = problems.filter((p) => p.severity === 'error').length;
  if (values.json) {
    out.write(JSON.stringify(problems, null, 2) + '\n');
  } else {
    const checked = files.length - unreadable;
    const what = `${checked} notebook${checked === 1 ? '' : 's'} (${cells} code cell${cells === 1 ? '' : 's'})`;
    const others = problems.length - errors;
    out.write(
      problems.length === 0
        ? `No problems in ${what}.\n`
        : `${errors} error${errors === 1 ? '' : 's'}${others ? `, ${others} other problem${others === 1 ? '' : 's'}` : ''} in ${what}.\n`,
    );
  }
  if (unreadable) return 2;
  return errors ? 1 : 0;
}
