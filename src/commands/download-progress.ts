// Progress of "Download the Data Sets" for a progress notification: one bar
// over all the files to download, and a line about the current file.
// No `vscode` import.
import type { DownloadProgress } from '../lib/data/download';
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
