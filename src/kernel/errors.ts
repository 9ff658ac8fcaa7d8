/**
 * Turns an error thrown in a cell (or escaping one) into what the user reads:
 * the message, the frames of the cells' own code with the cells' line numbers,
 * and the library frames after them (layout: src/common/error-stack.ts).
 * The kernel's own plumbing (vm, the execution queue, Node internals) is left
 * out.
 */
import * as path from 'node:path';
import { format } from 'node:util';
import type { NotebookErrorData } from '../common/aenb';
import { LIBRARY_FRAMES_LINE } from '../common/error-stack';
import { CellSyntaxError, type TransformedCell } from './transform';

/**
 * Frames V8 records per error. Its default (10) is used up by TensorFlow.js's
 * own calls (an op, the engine, the kernel) before the cell's frame is reached.
 */
export const STACK_TRACE_LIMIT = 200;

/** Frames that belong to the kernel's machinery: this frame and every outer one are dropped. */
const PLUMBING = /\bnode:vm\b|runInThisContext|AsyncLocalStorage\.run|KernelRuntime\.execute|processTicksAndRejections|node:internal\//;

/** The folder of the kernel bundle: library frames show paths relative to it (kernel.js:1:2). */
const BUNDLE_DIR = typeof __filename === 'string' ? path.dirname(__filename) : '';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Error data for `e`. `cells` maps the names of cells that ran to their
 * transform (for their line and column numbers); frames of any of them count
 * as the user's own code.
 */
export function cellErrorData(e: unknown, cells: ReadonlyMap<string, TransformedCell>): NotebookErrorData {
  if (e instanceof CellSyntaxError) {
    return { name: 'SyntaxError', message: e.message, stack: e.stack ?? `SyntaxError: ${e.message}` };
  }
  const err = e instanceof Error ? e : new Error(typeof e === 'string' ? e : format('%o', e));
  const name = err.name || 'Error';
  const head = `${name}: ${err.message}`;
  const raw = typeof err.stack === 'string' ? err.stack : '';
  const lines = raw.split('\n');
  const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
  const frames = firstFrame < 0 ? [] : lines.slice(firstFrame).filter((l) => /^\s+at /.test(l)).map((l) => l.trim());

  const names = [...cells.keys()].sort((a, b) => b.length - a.length).map(escape);
  const location = names.length ? new RegExp(`(?<=\\(|at |async )(${names.join('|')}):(\\d+):(\\d+)`) : undefined;
  const own: string[] = [];
  const library: string[] = [];
  for (const frame of frames) {
    if (PLUMBING.test(frame)) break;
    const m = location?.exec(frame);
    if (m) {
      const p = cells.get(m[1])?.mapPosition(Number(m[2]), Number(m[3]));
      if (!p) continue; // the cell wrapper's own code
      own.push(frame.replace(location as RegExp, `${m[1]}:${p.line}:${p.column}`));
    } else {
      library.push(BUNDLE_DIR ? frame.split(BUNDLE_DIR + path.sep).join('') : frame);
    }
  }
  const stack = [head, ...collapseRepeats(own)];
  if (library.length) stack.push(LIBRARY_FRAMES_LINE, ...collapseRepeats(library));
  return { name, message: err.message, stack: stack.join('\n') };
}

/** "at f (Cell 1:2:3)" a thousand times over (a runaway recursion) becomes the frame once and a count. */
function collapseRepeats(frames: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < frames.length; ) {
    let j = i + 1;
    while (j < frames.length && frames[j] === frames[i]) j++;
    out.push(`    ${frames[i]}`);
    const more = j - i - 1;
    if (more > 0) out.push(`    ... the frame above repeats ${more} more time${more > 1 ? 's' : ''}`);
    i = j;
  }
  return out;
}
