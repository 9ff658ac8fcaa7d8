// Every command of the extension (ids in ./ids).
import type * as vscode from 'vscode';
import type { CommandDeps } from './common';
import { registerDatasetCommands } from './datasets';
import { registerExportCommands } from './export';
import { registerKernelCommands } from './kernel';
import { registerNotebookCommands } from './notebooks';
import { registerHeadlessCommands } from './run-headless';

export type { CommandDeps } from './common';

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  return [...registerNotebookCommands(deps), ...registerKernelCommands(deps), ...registerDatasetCommands(deps), ...registerExportCommands(deps), ...registerHeadlessCommands(deps)];
}
