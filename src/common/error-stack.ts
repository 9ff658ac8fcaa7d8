/**
 * The layout of the stack of a cell's error (`NotebookErrorData.stack`), as
 * the kernel writes it and the runner and the HTML report read it:
 *
 *     Error: Error in matMul: inner shapes (3) and (4) ... must match.
 *         at Cell 3:3:13                                  the cells' own frames, deepest first
 *         --- library frames, most recent call first ---
 *         at batchMatMul (kernel.js:105072:21)            where it happened inside the library
 *         ...
 *
 * The user's own code comes first, so that the line to fix is right under
 * the message (VS Code shows the top of a long stack); the library frames
 * stay available below the marker (the HTML report folds them).
 */
export const LIBRARY_FRAMES_MARKER = '--- library frames, most recent call first ---';

/** The marker as a line of the stack. */
export const LIBRARY_FRAMES_LINE = `    ${LIBRARY_FRAMES_MARKER}`;

/** Splits a stack at the marker: the message with the cell frames, and the library frames (without the marker). */
export function splitErrorStack(stack: string): { own: string; library: string } {
  const lines = stack.split('\n');
  const at = lines.findIndex((l) => l.trim() === LIBRARY_FRAMES_MARKER);
  if (at < 0) return { own: stack, library: '' };
  return { own: lines.slice(0, at).join('\n'), library: lines.slice(at + 1).join('\n') };
}

/**
 * The line (and column) of the deepest frame of `cellName`'s code in a stack,
 * e.g. 3 for "at Cell 3:3:13" or "at f (Cell 3:3:13)"; undefined when no frame
 * of that cell is among the cells' own frames.
 */
export function cellLocation(stack: string, cellName: string): { line: number; column: number } | undefined {
  const escaped = cellName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const frame = new RegExp(`^\\s+at (?:.* \\()?(?:async )?${escaped}:(\\d+):(\\d+)\\)?$`);
  for (const line of splitErrorStack(stack).own.split('\n')) {
    const m = frame.exec(line);
    if (m) return { line: Number(m[1]), column: Number(m[2]) };
  }
  return undefined;
}
