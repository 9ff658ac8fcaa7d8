// Unsaved notebook changes survive a window reload, even seconds-old ones.
//
// VS Code's own hot-exit backups do not cover them: a notebook opened over a
// remote connection (code-server, Remote-SSH, containers) is backed up only
// 10 s after its last change (NotebookFileWorkingCopyModel's backupDelay,
// chosen for remote saves), every further change restarts that wait, and a
// browser window cannot finish a backup while it unloads (it logs "Unload
// veto: pending backups" and asks the user whether to leave). So an edit made
// less than ~10 s before a reload is lost, and so is every edit made while a
// cell streams output (each output update restarts the wait). A `.txt` file
// is backed up after 1 s, which is why it kept its edit.
//
// This journal keeps its own copy: within about a second of a change to a
// dirty `.aenb` notebook (a few seconds for output-only changes), the
// notebook as Save would write it goes to the extension's storage. When the
// notebook opens again and the file on disk is still the one the changes
// were made to, the changes are put back (the notebook opens modified, as
// after hot exit); if the file changed on disk meanwhile, the user chooses.
// Saving, reverting or closing the notebook without saving drops the copy.
// With hot exit turned off (`files.hotExit: "off"`) no copy is kept.
import * as vscode from 'vscode';
import { notebookFromBytes, notebookToBytes } from './convert';
import { RecoveryEntry, RecoveryStore, sha256 } from './recovery-store';
import { plainFromDocument, toNotebookData } from './serializer';

/** Delays after a change before the copy is written: user edits, and output-only updates (a running cell). */
const EDIT_DELAY_MS = 250;
const EDIT_MAX_WAIT_MS = 1000;
const OUTPUT_DELAY_MS = 1500;
const OUTPUT_MAX_WAIT_MS = 4000;
/** A closed notebook's copy is dropped this long after the close (a window that reloads never gets there). */
const CLOSE_DROP_DELAY_MS = 3000;
const MAX_AGE_MS = 30 * 24 * 3600 * 1000;

interface Pending {
  timer: NodeJS.Timeout;
  firstAt: number;
  fast: boolean;
}

export class RecoveryJournal implements vscode.Disposable {
  private readonly store: RecoveryStore;
  private readonly pending = new Map<vscode.NotebookDocument, Pending>();
  /** SHA-256 of each notebook's file as last opened or saved (what its unsaved changes are based on). */
  private readonly bases = new Map<string, string>();
  private readonly checks = new WeakMap<vscode.NotebookDocument, Promise<void>>();
  private readonly writing = new Map<string, Promise<void>>();
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    storageDir: string,
    private readonly notebookType: string,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.store = new RecoveryStore(storageDir);
    void this.store.prune(MAX_AGE_MS).catch(() => undefined);
    this.disposables.push(
      vscode.workspace.onDidOpenNotebookDocument((nb) => this.opened(nb)),
      vscode.workspace.onDidChangeNotebookDocument((e) => this.changed(e)),
      vscode.workspace.onDidSaveNotebookDocument((nb) => this.saved(nb)),
      vscode.workspace.onDidCloseNotebookDocument((nb) => this.closed(nb)),
    );
    for (const nb of vscode.workspace.notebookDocuments) this.opened(nb);
  }

  private ours(nb: vscode.NotebookDocument): boolean {
    return nb.notebookType === this.notebookType && nb.uri.scheme !== 'untitled';
  }

  /** Resolves once a just-opened notebook has had its unsaved changes put back (if it had any). */
  ready(nb: vscode.NotebookDocument): Promise<void> {
    return this.checks.get(nb) ?? Promise.resolve();
  }

  private opened(nb: vscode.NotebookDocument): void {
    if (!this.ours(nb) || this.checks.has(nb)) return;
    this.checks.set(nb, this.restore(nb).catch((e) => this.log.warn(`[recovery] ${name(nb)}: ${message(e)}`)));
  }

  private async diskSha(uri: vscode.Uri): Promise<string | undefined> {
    try {
      return sha256(await vscode.workspace.fs.readFile(uri));
    } catch {
      return undefined;
    }
  }

  private async restore(nb: vscode.NotebookDocument): Promise<void> {
    const key = nb.uri.toString();
    const disk = await this.diskSha(nb.uri);
    if (disk) this.bases.set(key, disk);
    const entry = await this.store.read(key);
    if (!entry) return;
    const current = new TextDecoder().decode(notebookToBytes(plainFromDocument(nb)));
    if (current === entry.text) {
      this.log.info(`[recovery] ${name(nb)}: opened with its unsaved changes already in place`);
      return;
    }
    const age = Math.round((Date.now() - entry.savedAt) / 1000);
    if (entry.baseSha256 && disk && entry.baseSha256 !== disk) {
      this.log.warn(`[recovery] ${name(nb)}: unsaved changes from ${age} s ago were kept, but the file has changed on disk since`);
      const restore = 'Restore Unsaved Changes';
      const discard = 'Discard Them';
      const pick = await vscode.window.showWarningMessage(
        `${name(nb)} had unsaved changes when the window closed or reloaded, and the file has changed on disk since. Restore those changes (the notebook opens modified; the file stays as it is until you save)?`,
        restore,
        discard,
      );
      if (pick === discard) {
        await this.store.remove(key);
        return;
      }
      if (pick !== restore) return; // asked again next time it opens
    }
    await this.apply(nb, entry);
    this.log.info(`[recovery] ${name(nb)}: restored the unsaved changes kept ${age} s ago, before the window closed or reloaded`);
    vscode.window.setStatusBarMessage(`$(history) Restored the unsaved changes to ${name(nb)}`, 8000);
  }

  private async apply(nb: vscode.NotebookDocument, entry: RecoveryEntry): Promise<void> {
    const data = toNotebookData(notebookFromBytes(new TextEncoder().encode(entry.text)));
    const edit = new vscode.WorkspaceEdit();
    edit.set(nb.uri, [
      vscode.NotebookEdit.replaceCells(new vscode.NotebookRange(0, nb.cellCount), data.cells),
      vscode.NotebookEdit.updateNotebookMetadata(data.metadata ?? {}),
    ]);
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error('VS Code refused the edit that puts the unsaved changes back');
  }

  private changed(e: vscode.NotebookDocumentChangeEvent): void {
    const nb = e.notebook;
    if (!this.ours(nb) || this.disposed) return;
    if (!nb.isDirty || vscode.workspace.getConfiguration('files', nb.uri).get('hotExit') === 'off') {
      this.cancel(nb);
      void this.drop(nb);
      return;
    }
    const fast = e.contentChanges.length > 0 || e.metadata !== undefined || e.cellChanges.some((c) => c.document !== undefined || c.metadata !== undefined);
    const now = Date.now();
    const p = this.pending.get(nb);
    const firstAt = p?.firstAt ?? now;
    const isFast = fast || (p?.fast ?? false);
    if (p) clearTimeout(p.timer);
    const delay = Math.max(0, Math.min(isFast ? EDIT_DELAY_MS : OUTPUT_DELAY_MS, firstAt + (isFast ? EDIT_MAX_WAIT_MS : OUTPUT_MAX_WAIT_MS) - now));
    this.pending.set(nb, { timer: setTimeout(() => void this.capture(nb), delay), firstAt, fast: isFast });
  }

  private cancel(nb: vscode.NotebookDocument): void {
    const p = this.pending.get(nb);
    if (p) clearTimeout(p.timer);
    this.pending.delete(nb);
  }

  /** Writes the notebook's current state (one write at a time per notebook). */
  private async capture(nb: vscode.NotebookDocument): Promise<void> {
    this.pending.delete(nb);
    if (nb.isClosed || !nb.isDirty) return;
    const key = nb.uri.toString();
    const previous = this.writing.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      let text: string;
      try {
        text = new TextDecoder().decode(notebookToBytes(plainFromDocument(nb)));
      } catch (e) {
        this.log.debug(`[recovery] ${name(nb)}: not captured (${message(e)})`);
        return;
      }
      const entry: RecoveryEntry = { version: 1, uri: key, savedAt: Date.now(), text };
      const base = this.bases.get(key);
      if (base) entry.baseSha256 = base;
      await this.store.write(entry);
    });
    this.writing.set(
      key,
      next.catch((e) => this.log.warn(`[recovery] ${name(nb)}: could not keep a copy of the unsaved changes: ${message(e)}`)),
    );
    await next.catch(() => undefined);
  }

  private async drop(nb: vscode.NotebookDocument): Promise<void> {
    const key = nb.uri.toString();
    await (this.writing.get(key) ?? Promise.resolve());
    await this.store.remove(key).catch(() => undefined);
  }

  private saved(nb: vscode.NotebookDocument): void {
    if (!this.ours(nb)) return;
    this.cancel(nb);
    void this.drop(nb).then(async () => {
      const disk = await this.diskSha(nb.uri);
      if (disk) this.bases.set(nb.uri.toString(), disk);
    });
  }

  private closed(nb: vscode.NotebookDocument): void {
    if (!this.ours(nb)) return;
    this.cancel(nb);
    // Closed without saving: the changes were discarded on purpose. When the
    // whole window goes away instead (reload, quit), this extension host ends
    // before the timer fires and the copy stays for the next window.
    const timer = setTimeout(() => void this.drop(nb), CLOSE_DROP_DELAY_MS);
    timer.unref?.();
  }

  /** Writes every pending copy now (the window is going away). */
  async flush(): Promise<void> {
    const docs = [...this.pending.keys()];
    for (const nb of docs) this.cancel(nb);
    await Promise.all(docs.map((nb) => this.capture(nb)));
    await Promise.all(this.writing.values());
  }

  dispose(): void {
    this.disposed = true;
    void this.flush();
    for (const d of this.disposables) d.dispose();
  }
}

function name(nb: vscode.NotebookDocument): string {
  return nb.uri.path.split('/').pop() || nb.uri.toString();
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
