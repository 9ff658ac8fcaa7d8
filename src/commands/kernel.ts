// Restart kernel, interrupt, select backend, show log.
import * as vscode from 'vscode';
import type { BackendChoiceName, KernelBackendInfo } from '../common/messages/kernel';
import { BACKEND_CHOICES, BACKEND_DESCRIPTIONS, SECTION, SETTING } from '../notebook/settings';
import { parseBackendArgs, parseNotebookTarget } from './args';
import { CommandDeps, registerCommand, resolveNotebook, UserError } from './common';
import { COMMANDS } from '../common/ids';

const BACKEND_LABELS: Record<BackendChoiceName, string> = {
  auto: 'Automatic',
  tensorflow: 'TensorFlow (native)',
  wasm: 'WebAssembly',
  cpu: 'CPU (plain JavaScript)',
};

export function registerKernelCommands(deps: CommandDeps): vscode.Disposable[] {
  const { kernels, log } = deps;

  const restart = async (nb: vscode.NotebookDocument): Promise<KernelBackendInfo> => {
    const session = kernels.session(nb);
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: `Restarting the kernel of ${session.name}` },
      async () => {
        try {
          const info = await session.restart();
          vscode.window.setStatusBarMessage(`$(check) Kernel restarted: ${info.name}`, 4000);
          return info;
        } catch (e) {
          throw new UserError(`The kernel could not start: ${(e as Error).message}`, [
            { title: 'Select Backend', run: () => vscode.commands.executeCommand(COMMANDS.selectBackend) },
            { title: 'Show Log', run: () => log.show(true) },
          ]);
        }
      },
    );
  };

  return [
    registerCommand(deps, COMMANDS.restartKernel, async (arg: unknown) => {
      const nb = await resolveNotebook(parseNotebookTarget(arg, 'Restart Kernel'));
      if (!vscode.workspace.isTrusted) {
        await kernels.explainRestricted();
        return undefined;
      }
      return restart(nb);
    }),

    registerCommand(deps, COMMANDS.interruptKernel, async (arg: unknown) => {
      const nb = await resolveNotebook(parseNotebookTarget(arg, 'Interrupt Kernel'));
      const r = kernels.interrupt(nb);
      if (r === 'idle') vscode.window.setStatusBarMessage('Nothing is running in this notebook.', 3000);
      return r;
    }),

    registerCommand(deps, COMMANDS.selectBackend, async (arg: unknown) => {
      const args = parseBackendArgs(arg);
      const cfg = vscode.workspace.getConfiguration(SECTION);
      const current = deps.settings().backend;
      let backend = args.backend;
      if (!backend) {
        const running = vscode.window.activeNotebookEditor ? kernels.existingSession(vscode.window.activeNotebookEditor.notebook)?.backend : undefined;
        const pick = await vscode.window.showQuickPick(
          BACKEND_CHOICES.map((b) => ({
            label: BACKEND_LABELS[b],
            description: [b === current ? 'current setting' : '', running?.name === b ? 'running now' : ''].filter(Boolean).join(' · '),
            detail: BACKEND_DESCRIPTIONS[b],
            backend: b,
          })),
          { title: 'Select the Kernel Backend', placeHolder: `Used by kernels started from now on (now: ${current})` },
        );
        if (!pick) return undefined;
        backend = pick.backend;
      }
      const inspect = cfg.inspect<string>(SETTING.backend);
      const target =
        args.target === 'workspace' || (args.target === undefined && inspect?.workspaceValue !== undefined)
          ? vscode.ConfigurationTarget.Workspace
          : vscode.ConfigurationTarget.Global;
      if (target === vscode.ConfigurationTarget.Workspace && !vscode.workspace.workspaceFolders?.length) {
        throw new UserError('There is no workspace to store the backend in; open a folder or store it in the user settings.');
      }
      await cfg.update(SETTING.backend, backend, target);
      log.info(`Backend setting: ${backend} (${target === vscode.ConfigurationTarget.Workspace ? 'workspace' : 'user'} settings)`);

      const stale = kernels.allSessions().filter((s) => s.runningSettings && s.runningSettings.backend !== backend);
      if (stale.length === 0 || args.restart === false) return backend;
      let go = args.restart === true;
      if (!go) {
        const label = stale.length === 1 ? 'Restart Kernel' : `Restart ${stale.length} Kernels`;
        const pick = await vscode.window.showInformationMessage(
          `The backend is now "${backend}". Running kernels keep their backend until they restart (their variables are lost).`,
          label,
          'Later',
        );
        go = pick === label;
      }
      if (go) {
        if (!vscode.workspace.isTrusted) {
          await kernels.explainRestricted();
          return backend;
        }
        await Promise.all(stale.map((s) => restart(s.notebook)));
      }
      return backend;
    }),

    registerCommand(deps, COMMANDS.showLog, () => {
      log.show(true);
    }),
  ];
}
