// Opens the settings editor on the tab where our settings apply (see
// settingsTab): in a remote window such as code-server the data settings
// live under "Remote", and the user tab would say "No Settings Found".
import * as vscode from 'vscode';
import { EXTENSION_ID, SECTION, settingsQuery, settingsTab, type SettingsTab } from './settings';

const COMMAND: Record<SettingsTab, string> = {
  user: 'workbench.action.openGlobalSettings',
  remote: 'workbench.action.openRemoteSettings',
  workspace: 'workbench.action.openWorkspaceSettings',
};

type Manifest = { contributes?: { configuration?: { properties?: Record<string, { scope?: string }> } } };

/** The `scope` of each of our settings in the manifest. */
function manifestScopes(): Record<string, string | undefined> {
  const props = (vscode.extensions.getExtension(EXTENSION_ID)?.packageJSON as Manifest | undefined)?.contributes?.configuration?.properties ?? {};
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.scope]));
}

/**
 * Shows these settings (names without the section, e.g. `dataFolder`) in the
 * settings editor, on the tab where they apply. Returns the tab.
 */
export async function openSettingsWhereTheyApply(names: readonly string[]): Promise<SettingsTab> {
  const cfg = vscode.workspace.getConfiguration(SECTION);
  const keys = names.map((n) => `${SECTION}.${n}`);
  const scopes = manifestScopes();
  const tab = settingsTab(names.map((n) => cfg.inspect(n)), keys.map((k) => scopes[k]), vscode.env.remoteName !== undefined);
  const query = settingsQuery(keys);
  try {
    await vscode.commands.executeCommand(COMMAND[tab], { query });
  } catch {
    // An older VS Code without that tab's command: the settings editor as it opens by default.
    await vscode.commands.executeCommand('workbench.action.openSettings', query);
  }
  return tab;
}
