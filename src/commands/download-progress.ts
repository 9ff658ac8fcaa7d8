// Progress of "Download the Data Sets" for a progress notification: one bar
// over all the files to download, and a line about the current file; and the
// message at the end, which names what failed and what is ready.
// No `vscode` import.
import type { DownloadProgress } from '../lib/data/download';
import type { DatasetError } from '../lib/data/errors';
import type { DatasetLocation } from '../lib/data/load';
import { MANIFESTS, type DatasetName } from '../lib/data/manifest';

export interface PlannedFile {
  dataset: DatasetName;
  /** File name without `.gz`, as in the manifest. */
  file: string;
}

export interface ProgressReport {
  message: string;
  /** Percent (0-100) of the whole job done since the previous report. */
  increment: number;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

export class DownloadProgressTracker {
  private readonly fraction = new Map<string, number>();
  private reported = 0;

  constructor(private readonly planned: readonly PlannedFile[]) {}

  private key(dataset: string, file: string): string {
    return `${dataset}/${file.replace(/\.gz$/, '')}`;
  }

  /** Overall fraction done, 0..1. */
  get done(): number {
    if (this.planned.length === 0) return 1;
    let sum = 0;
    for (const f of this.planned) sum += this.fraction.get(this.key(f.dataset, f.file)) ?? 0;
    return Math.min(1, sum / this.planned.length);
  }

  update(p: DownloadProgress): ProgressReport {
    const k = this.key(p.dataset, p.file);
    const known = this.planned.some((f) => this.key(f.dataset, f.file) === k);
    const fileFraction = p.total ? Math.min(1, p.bytes / p.total) : 0;
    if (known) this.fraction.set(k, Math.max(this.fraction.get(k) ?? 0, fileFraction));
    const percent = this.done * 100;
    const increment = Math.max(0, percent - this.reported);
    this.reported += increment;
    const index = this.planned.findIndex((f) => this.key(f.dataset, f.file) === k);
    const title = MANIFESTS[p.dataset as DatasetName]?.title ?? p.dataset;
    const count = index >= 0 ? ` (file ${index + 1} of ${this.planned.length})` : '';
    const size = p.total ? `${mb(p.bytes)} of ${mb(p.total)} MB` : `${mb(p.bytes)} MB`;
    const rate = p.bytesPerSecond > 0 ? ` at ${mb(p.bytesPerSecond)} MB/s` : '';
    return { message: `${title} ${p.file}${count}: ${size}${rate}`, increment };
  }

  /** Marks a file finished (a download that announced no size reaches 100% here). */
  finish(dataset: string, file: string): ProgressReport {
    const k = this.key(dataset, file);
    if (this.planned.some((f) => this.key(f.dataset, f.file) === k)) this.fraction.set(k, 1);
    const percent = this.done * 100;
    const increment = Math.max(0, percent - this.reported);
    this.reported += increment;
    return { message: `${MANIFESTS[dataset as DatasetName]?.title ?? dataset} ${file}: done`, increment };
  }
}

/** "a", "a and b", "a, b and c". */
export function and(list: readonly string[]): string {
  return list.length <= 1 ? list.join('') : `${list.slice(0, -1).join(', ')} and ${list[list.length - 1]}`;
}

/** How getting one data set ended. */
export interface DatasetOutcome {
  dataset: DatasetName;
  /** Every file has a verified local copy. */
  located?: DatasetLocation;
  error?: DatasetError;
  cancelled?: boolean;
}

function readyText(located: DatasetLocation): string {
  const downloaded = located.files.filter((f) => f.downloaded).length;
  const here = located.files.length - downloaded;
  return downloaded
    ? `${downloaded} file${downloaded > 1 ? 's' : ''} downloaded and verified${here ? `, ${here} already here` : ''}`
    : `all ${located.files.length} files were already here and are verified`;
}

/**
 * The message at the end of "Download the Data Sets": what failed (and only
 * that) with why, what is ready, what was cancelled.
 */
export function describeOutcomes(outcomes: readonly DatasetOutcome[]): { kind: 'ready' | 'failed' | 'cancelled'; message: string } {
  const title = (o: DatasetOutcome) => MANIFESTS[o.dataset].title;
  const ready = outcomes.filter((o) => o.located);
  const failed = outcomes.filter((o) => o.error);
  const cancelled = outcomes.filter((o) => o.cancelled);
  const readyLine = ready.length
    ? ready.length === 1
      ? `${title(ready[0])} is ready (${readyText(ready[0].located!)}).`
      : `${and(ready.map(title))} are ready.`
    : '';
  const cancelledLine = cancelled.length ? `${and(cancelled.map(title))}: cancelled (the partial file was removed).` : '';
  if (failed.length) {
    const why = failed.map((o) => `Could not get ${title(o)}: ${o.error!.message}`).join('\n');
    return { kind: 'failed', message: [why, readyLine, cancelledLine].filter(Boolean).join('\n') };
  }
  if (cancelled.length) {
    return { kind: 'cancelled', message: ['Download cancelled. Files that were complete are kept; the partial one was removed.', readyLine].filter(Boolean).join(' ') };
  }
  if (ready.length === 1) return { kind: 'ready', message: `${title(ready[0])} is ready: ${readyText(ready[0].located!)}.` };
  const files = ready.flatMap((o) => o.located!.files);
  const downloaded = files.filter((f) => f.downloaded).length;
  return {
    kind: 'ready',
    message: `${and(ready.map(title))} are ready: ` +
      (downloaded ? `${downloaded} file${downloaded > 1 ? 's' : ''} downloaded and verified, ${files.length - downloaded} already here.` : `all ${files.length} files were already here and are verified.`),
  };
}
