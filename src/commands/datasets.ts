// "Download the Data Sets": MNIST and Fashion-MNIST into the extension's
// cache (the kernel looks there too), verified, with progress and cancel.
// The work is src/lib/data's (no vscode there); this wraps it.
import * as vscode from 'vscode';
import { DatasetError } from '../lib/data/errors';
import { ensureDownloaded, locate, type DatasetLocation, type LoadOptions } from '../lib/data/load';
import { DATASET_NAMES, MANIFESTS, type DatasetName } from '../lib/data/manifest';
import { SECTION, SETTING } from '../notebook/settings';
import { parseDatasetArgs } from './args';
import { CommandDeps, registerCommand, UserError } from './common';
import { DownloadProgressTracker, PlannedFile } from './download-progress';
import { COMMANDS } from '../common/ids';

function and(list: string[]): string {
  return list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

export function registerDatasetCommands(deps: CommandDeps): vscode.Disposable[] {
  const { log } = deps;
  return [
    registerCommand(deps, COMMANDS.downloadDatasets, async (arg: unknown) => {
      const parsed = parseDatasetArgs(arg);
      const settings = deps.settings();
      const opts: LoadOptions = { dataDir: settings.dataDir, cacheDir: deps.cacheDir, mirror: settings.mirror };
      let names: DatasetName[] | undefined = parsed.datasets;
      let located: DatasetLocation[] = await Promise.all((names ?? DATASET_NAMES).map((n) => locate(n, opts)));
      if (!names) {
        const pick = await vscode.window.showQuickPick(
          located.map((l) => ({
            label: l.title,
            description: l.local ? 'on this machine: will be verified' : `${l.files.filter((f) => f.source === 'download').length} files to download`,
            detail: l.local ? l.files[0]?.location.replace(/[/\\][^/\\]+$/, '') : `from ${l.files.find((f) => f.source === 'download')?.location.replace(/[^/]+$/, '')}`,
            picked: true,
            name: l.dataset,
          })),
          { title: 'Download the Data Sets', placeHolder: 'Data sets to download (when missing) and verify', canPickMany: true },
        );
        if (!pick || pick.length === 0) return undefined;
        names = pick.map((p) => p.name);
        located = located.filter((l) => names?.includes(l.dataset));
      }
      const planned: PlannedFile[] = located.flatMap((l) => l.files.filter((f) => f.source === 'download').map((f) => ({ dataset: l.dataset, file: f.file })));
      const titles = and(names.map((n) => MANIFESTS[n].title));
      log.info(`Data sets: ${titles}; ${planned.length} file(s) to download into ${deps.cacheDir}${settings.mirror ? ` from the mirror ${settings.mirror}` : ''}`);

      try {
        const result = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `Data sets: ${titles}`, cancellable: true },
          async (progress, token) => {
            const abort = new AbortController();
            const sub = token.onCancellationRequested(() => abort.abort());
            const tracker = new DownloadProgressTracker(planned);
            progress.report({ message: planned.length ? `downloading ${planned.length} file${planned.length > 1 ? 's' : ''}…` : 'verifying the local copies…' });
            try {
              return await ensureDownloaded({
                ...opts,
                datasets: names,
                signal: abort.signal,
                onProgress: (p) => {
                  const r = tracker.update(p);
                  progress.report(r);
                  if (p.total !== undefined && p.bytes >= p.total) progress.report(tracker.finish(p.dataset, p.file));
                },
                onWarning: (m) => log.warn(m),
              });
            } finally {
              sub.dispose();
            }
          },
        );
        for (const l of result) log.info(l.summary);
        const downloaded = result.flatMap((l) => l.files).filter((f) => f.downloaded).length;
        const total = result.flatMap((l) => l.files).length;
        const text =
          `${titles} ${names.length > 1 ? 'are' : 'is'} ready: ` +
          (downloaded ? `${downloaded} file${downloaded > 1 ? 's' : ''} downloaded and verified, ${total - downloaded} already here.` : `all ${total} files were already here and are verified.`);
        void vscode.window.showInformationMessage(text, 'Show Log').then((p) => p && log.show(true));
        return result.map((l) => ({ dataset: l.dataset, files: l.files.map((f) => ({ file: f.file, source: f.source, location: f.location, downloaded: f.downloaded === true })) }));
      } catch (e) {
        if (e instanceof DatasetError && e.code === 'cancelled') {
          log.info(`Download cancelled: ${e.message}`);
          void vscode.window.showInformationMessage('Download cancelled. Files that were complete are kept; the partial one was removed.');
          return undefined;
        }
        if (e instanceof DatasetError) {
          throw new UserError(`Could not get ${titles}: ${e.message}`, [
            { title: 'Open Settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', `${SECTION}.${SETTING.downloadMirror}`) },
            { title: 'Show Log', run: () => log.show(true) },
          ]);
        }
        throw e;
      }
    }),
  ];
}
