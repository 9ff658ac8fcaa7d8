// Reads the settings through VS Code (the checks are settings.ts's) and tells
// the user, once per distinct problem, which settings were ignored.
import * as vscode from 'vscode';
import { openSettingsWhereTheyApply } from './open-settings';
import { KernelSettings, readKernelSettings, SECTION, SETTING } from './settings';

export function createSettingsReader(log: vscode.LogOutputChannel): () => KernelSettings {
  const told = new Set<string>();
  return () => {
    const cfg = vscode.workspace.getConfiguration(SECTION);
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
    const settings = readKernelSettings((name) => cfg.get(name), { workspaceFolder: folder?.uri.fsPath });
    for (const problem of settings.problems) {
      if (told.has(problem)) continue;
      told.add(problem);
      log.warn(problem);
      const open = 'Open Settings';
      // The problem names the setting: `autoencoderNotebooks.<name>: ...`.
      const name = new RegExp(`^${SECTION}\\.(\\w+)`).exec(problem)?.[1];
      void vscode.window.showWarningMessage(`Autoencoder Notebooks: ${problem}`, open).then((pick) => {
        if (pick === open) void openSettingsWhereTheyApply(name ? [name] : Object.values(SETTING));
      });
    }
    return settings;
  };
}
