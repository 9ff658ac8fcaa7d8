// "Run Notebook Headless with Parameters...": what it asks and what it runs,
// without `vscode`. The values of the cell tagged "parameters" are shown as
// `name=value` pairs to edit; the changed ones become the headless runner's
// `--set name=value` arguments (the runner parses them the same way: JSON
// when they parse as JSON, else text).
import { findParametersCell, type AenbNotebook } from '../common/aenb';
import { transformCell } from '../kernel/transform';

/** A parameter of the notebook and its value as written in the parameters cell. */
export interface NotebookParameter {
  name: string;
  /** The initializer as written (`50`, `[64, 36]`, `'Vanilla'`), when it could be read. */
  text?: string;
}

/** The parameters the `parameters` cell declares, in order, with their written values; undefined when there is no such cell. */
export function notebookParameters(nb: AenbNotebook): NotebookParameter[] | undefined {
  const found = findParametersCell(nb);
  if (!found) return undefined;
  const declared = transformCell(found.cell.source, { language: found.cell.language, fileName: 'parameters' }).declared;
  return declared.map((name) => {
    // `const name = value;` or `const name: type = value; // comment`, on one line.
    const m = new RegExp(`^\\s*(?:const|let|var)\\s+${name}\\s*(?::[^=]+)?=\\s*(.+?)\\s*;?\\s*(?://.*)?$`, 'm').exec(found.cell.source);
    return m ? { name, text: m[1] } : { name };
  });
}

/** `'text'` (a single-quoted string without escapes) as JSON; other written values unchanged. */
function asInputValue(text: string): string {
  const single = /^'([^'\\]*)'$/.exec(text);
  return single ? JSON.stringify(single[1]) : text;
}

/** The text to edit: `epochs=50 batchSize=32 ...`. */
export function formatParameters(params: readonly NotebookParameter[]): string {
  return params.filter((p) => p.text !== undefined).map((p) => `${p.name}=${asInputValue(p.text!)}`).join(' ');
}

/** One `name=value` as typed, and where it starts in the text. */
interface Assignment {
  name: string;
  raw: string;
  at: number;
}

/** Splits `a=1 b="x y" c=[1, 2]` into assignments; values may be quoted strings or bracketed JSON with spaces. */
function splitAssignments(text: string): Assignment[] | string {
  const out: Assignment[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && /[\s,;]/.test(text[i])) i++;
    if (i >= n) break;
    const start = i;
    const name = /^[A-Za-z_$][\w$]*/.exec(text.slice(i))?.[0];
    if (!name) return `Expected a parameter name at "${text.slice(i, i + 20)}" (column ${i + 1}).`;
    i += name.length;
    if (text[i] !== '=') return `Expected "=" after "${name}" (column ${i + 1}); write name=value.`;
    i++;
    const valueStart = i;
    if (text[i] === '"' || text[i] === "'") {
      const quote = text[i++];
      while (i < n && text[i] !== quote) i += text[i] === '\\' ? 2 : 1;
      if (i >= n) return `The text value of "${name}" has no closing ${quote} (column ${valueStart + 1}).`;
      i++;
    } else if (text[i] === '[' || text[i] === '{') {
      let depth = 0;
      let quote: string | undefined;
      for (; i < n; i++) {
        const c = text[i];
        if (quote) {
          if (c === '\\') i++;
          else if (c === quote) quote = undefined;
        } else if (c === '"' || c === "'") quote = c;
        else if (c === '[' || c === '{') depth++;
        else if (c === ']' || c === '}') {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
      }
      if (depth !== 0) return `The value of "${name}" opens a bracket that is not closed (column ${valueStart + 1}).`;
    } else {
      while (i < n && !/[\s,;]/.test(text[i])) i++;
    }
    const raw = text.slice(valueStart, i);
    if (raw === '') return `"${name}=" has no value (column ${valueStart + 1}).`;
    out.push({ name, raw, at: start });
  }
  return out;
}

/** The value the runner will use for a typed value: JSON when it parses, a single-quoted string as its text, else the text itself. */
export function parameterValue(raw: string): unknown {
  const single = /^'([^'\\]*)'$/.exec(raw);
  if (single) return single[1];
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

/**
 * Reads the edited text against the notebook's parameters. Returns the values
 * that differ from the notebook's (the runner's `--set` list), or what is wrong.
 */
export function parseParameterText(text: string, params: readonly NotebookParameter[]): { values: [string, unknown][] } | { error: string } {
  const parts = splitAssignments(text);
  if (typeof parts === 'string') return { error: parts };
  const known = new Map(params.map((p) => [p.name, p]));
  const seen = new Set<string>();
  const values: [string, unknown][] = [];
  for (const a of parts) {
    const p = known.get(a.name);
    if (!p) return { error: `"${a.name}" is not a parameter of this notebook; its parameters cell declares ${[...known.keys()].map((k) => `"${k}"`).join(', ') || 'nothing'}.` };
    if (seen.has(a.name)) return { error: `"${a.name}" is given twice.` };
    seen.add(a.name);
    const value = parameterValue(a.raw);
    const current = p.text === undefined ? undefined : parameterValue(asInputValue(p.text));
    if (p.text !== undefined && JSON.stringify(value) === JSON.stringify(current)) continue;
    values.push([a.name, value]);
  }
  return { values };
}

export interface HeadlessRun {
  notebook: string;
  sets: readonly [string, unknown][];
  out: string;
  html?: string;
  backend: string;
  dataDir?: string;
  cacheDir?: string;
  mirror?: string;
}

/** The runner's arguments after `cli.js`. */
export function headlessArgs(run: HeadlessRun): string[] {
  const args = ['run', run.notebook];
  // Always JSON, so that a text value such as "true" or "5" stays text.
  for (const [name, value] of run.sets) args.push('--set', `${name}=${JSON.stringify(value)}`);
  args.push('--out', run.out);
  if (run.html) args.push('--html', run.html);
  args.push('--backend', run.backend);
  if (run.dataDir) args.push('--data-dir', run.dataDir);
  if (run.cacheDir) args.push('--cache-dir', run.cacheDir);
  if (run.mirror) args.push('--mirror', run.mirror);
  return args;
}

/** Quotes an argument for a POSIX shell when it needs it. */
function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** The same run as a command to type in a terminal, with the npm package: `npx autoencoder-notebooks run ...`. */
export function npxCommand(run: HeadlessRun): string {
  return ['npx', 'autoencoder-notebooks', ...headlessArgs(run)].map(shellQuote).join(' ');
}

/** `dir/name.aenb` -> `dir/name.executed.aenb` and `.executed.html` (the runner's default output name). */
export function headlessOutputs(notebookPath: string): { out: string; html: string } {
  const stem = notebookPath.replace(/\.aenb$/i, '');
  return { out: `${stem}.executed.aenb`, html: `${stem}.executed.html` };
}
