/**
 * How cells are named in everything a user reads (errors, stack traces, the
 * runner's progress and messages, in VS Code and in the headless runner):
 * "Cell N" is the N-th cell of the notebook from the top, markdown cells
 * included, as the user sees the notebook. The cell the headless runner
 * injects for `--set` is not the user's: it is not counted, so the cells
 * after it keep their numbers, and it is called "Injected parameters".
 */

/** Tag of the cell the headless runner injects after the `parameters` cell. */
export const INJECTED_PARAMETERS_TAG = 'injected-parameters';

export const INJECTED_PARAMETERS_NAME = 'Injected parameters';

export interface NameableCell {
  readonly tags?: readonly string[];
}

/** The name of every cell, in order: "Cell N", or INJECTED_PARAMETERS_NAME. */
export function cellNames(cells: readonly NameableCell[]): string[] {
  let n = 0;
  return cells.map((c) => (c.tags?.includes(INJECTED_PARAMETERS_TAG) ? INJECTED_PARAMETERS_NAME : `Cell ${++n}`));
}

/** How many cells carry a number (all but injected ones). */
export function numberedCellCount(cells: readonly NameableCell[]): number {
  return cells.filter((c) => !c.tags?.includes(INJECTED_PARAMETERS_TAG)).length;
}
