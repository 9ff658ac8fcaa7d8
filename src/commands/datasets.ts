// "Download the Data Sets": MNIST and Fashion-MNIST into the extension's
// cache (the kernel looks there too), verified, with progress and cancel.
// The work is src/lib/data's (no vscode there); this wraps it.
import * as vscode from 'vscode';
import { DatasetError } from '../lib/data/errors';
import { ensureDownloaded, locate, type DatasetLocation, type LoadOptions } from '../lib/data/load';
import { DATASET_NAMES, MANIFESTS, type DatasetName } from '../lib/data/manifest';
import { openSettingsWhereTheyApply } from '../notebook/open-settings';
import { SETTING } from '../notebook/settings';
import { parseDatasetArgs } from './args';
import { CommandDeps, registerCommand, UserError } from './common';
import { and, describeOutcomes, DownloadProgressTracker, type DatasetOutcome, type PlannedFile } from './download-progress';
import { COMMANDS } from '../common/ids';

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

      // Each data set on its own: one that cannot be had does not hide the others that are ready.
      const outcomes = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Data sets: ${titles}`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          const sub = token.onCancellationRequested(() => abort.abort());
          const tracker = new DownloadProgressTracker(planned);
          progress.report({ message: planned.length ? `downloading ${planned.length} file${planned.length > 1 ? 's' : ''}…` : 'verifying the local copies…' });
          const results: DatasetOutcome[] = [];
          try {
            for (const name of names ?? []) {
              if (abort.signal.aborted) {
                results.push({ dataset: name, cancelled: true });
                continue;
              }
              try {
                const [located] = await ensureDownloaded({
                  ...opts,
                  datasets: [name],
                  signal: abort.signal,
                  onProgress: (p) => {
                    progress.report(tracker.update(p));
                    if (p.total !== undefined && p.bytes >= p.total) progress.report(tracker.finish(p.dataset, p.file));
                  },
                  onWarning: (m) => log.warn(m),
                });
                log.info(located.summary);
                results.push({ dataset: name, located });
              } catch (e) {
                if (e instanceof DatasetError && e.code === 'cancelled') results.push({ dataset: name, cancelled: true });
                else if (e instanceof DatasetError) {
                  log.error(`${MANIFESTS[name].title}: ${e.message}`);
                  results.push({ dataset: name, error: e });
                } else throw e;
              }
            }
          } finally {
            sub.dispose();
          }
          return results;
        },
      );
      const report = describeOutcomes(outcomes);
      if (report.kind === 'cancelled') {
        log.info(report.message);
        void vscode.window.showInformationMessage(report.message);
      } else if (report.kind === 'failed') {
        throw new UserError(report.message, [
          { title: 'Open Settings', run: () => openSettingsWhereTheyApply([SETTING.dataFolder, SETTING.downloadMirror]) },
          { title: 'Show Log', run: () => log.show(true) },
        ]);
      } else {
        void vscode.window.showInformationMessage(report.message, 'Show Log').then((p) => p && log.show(true));
      }
      return outcomes.map((o) => ({
        dataset: o.dataset,
        ready: o.located !== undefined,
        ...(o.error ? { error: o.error.message } : {}),
        ...(o.cancelled ? { cancelled: true } : {}),
        files: o.located?.files.map((f) => ({ file: f.file, source: f.source, location: f.location, downloaded: f.downloaded === true })) ?? [],
      }));
    }),
  ];
}
