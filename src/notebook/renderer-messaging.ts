// Requests from our renderer (src/common/messages/renderer.ts), answered here
// or by the kernel of the renderer's notebook: the training view's Stop button
// (interrupt the notebook's kernel), "Save as PNG" (a save dialog in the host,
// since a notebook webview cannot download files), and `kernel.*` requests,
// forwarded to that notebook's running kernel with their replies sent back.
import * as vscode from 'vscode';
import { base64ToBytes } from '../common/base64';
import { Endpoint, RequestError, type Methods } from '../common/messages/envelope';
import type { KernelMethods } from '../common/messages/kernel';
import { isRendererToHostMessage, KERNEL_PREFIX, RENDERER_ID, type RendererMethods } from '../common/messages/renderer';
import { AenbKernelController } from './controller';

/** Forwarded kernel requests wait at most this long for the kernel (a long synchronous cell keeps it busy). */
const KERNEL_REQUEST_TIMEOUT_MS = 60_000;

export function registerRendererMessaging(kernels: AenbKernelController, log: vscode.LogOutputChannel): vscode.Disposable {
  const messaging = vscode.notebooks.createRendererMessaging(RENDERER_ID);
  // One endpoint answers every webview; each request is answered to the editor it came from.
  const endpoint = new Endpoint<Methods, RendererMethods>(() => undefined, 'the renderer');
  // The editor of the request being handled (handlers run synchronously up to their first await).
  let current: vscode.NotebookEditor | undefined;
  const editorOf = (): vscode.NotebookEditor => {
    if (!current) throw new RequestError('failed', 'The request came from no notebook editor.');
    return current;
  };

  endpoint.handle('interrupt', ({ runId }) => {
    const editor = editorOf();
    const session = kernels.existingSession(editor.notebook);
    if (!session || !session.busy) throw new RequestError('failed', 'Nothing is running in this notebook.');
    if (!session.activeRuns.has(runId)) throw new RequestError('failed', 'This training run is not running any more.');
    log.info(`[${session.name}] Stop pressed on training run ${runId}`);
    session.interrupt();
    return { stopping: true as const };
  });

  endpoint.handle('savePng', async (m) => {
    const editor = editorOf();
    try {
      const fileName = await savePng(editor, m, log);
      if (fileName === '') throw new RequestError('cancelled', 'Cancelled.');
      return { fileName };
    } catch (e) {
      if (e instanceof RequestError) throw e;
      const text = e instanceof Error ? e.message : String(e);
      log.error(`Save as PNG failed: ${text}`);
      void vscode.window.showErrorMessage(`Could not save the image: ${text}`);
      throw e;
    }
  });

  const forward = (method: keyof KernelMethods & string) =>
    endpoint.handle(`${KERNEL_PREFIX}${method}` as `kernel.${typeof method}`, async (params, ctx) => {
      const session = kernels.existingSession(editorOf().notebook);
      if (!session) throw new RequestError('unavailable', 'No kernel is running for this notebook: run a cell to start one.');
      const r = await session.request(method, params, { signal: ctx.signal, timeoutMs: KERNEL_REQUEST_TIMEOUT_MS });
      if (!r.ok) throw new RequestError(r.error.code, r.error.message);
      return r.value;
    });
  // Which kernel methods a renderer may call (every method is listed, so that a new one is a decision):
  // `configure` changes the notebook's data settings, which only the user does; `settle` is the headless runner's.
  const kernelMethods: Record<keyof KernelMethods, boolean> = { ping: true, 'latent.decode': true, configure: false, settle: false };
  for (const method of Object.keys(kernelMethods) as (keyof KernelMethods & string)[]) if (kernelMethods[method]) forward(method);

  return messaging.onDidReceiveMessage(({ editor, message }) => {
    if (!isRendererToHostMessage(message)) {
      log.warn(`Renderer sent an unknown message: ${JSON.stringify(message)?.slice(0, 200)}`);
      return;
    }
    current = editor;
    try {
      endpoint.receive(message, (reply) => void messaging.postMessage(reply, editor));
    } finally {
      current = undefined;
    }
  });
}

/** Asks where to save and writes the PNG; resolves with the file name, or "" when cancelled. */
async function savePng(editor: vscode.NotebookEditor, m: { fileName: string; data: string }, log: vscode.LogOutputChannel): Promise<string> {
  const bytes = base64ToBytes(m.data);
  if (bytes.length < 8 || bytes[0] !== 0x89 || bytes[1] !== 0x50 || bytes[2] !== 0x4e || bytes[3] !== 0x47) {
    throw new Error('the renderer sent data that is not a PNG image');
  }
  const safeName =
    [...m.fileName]
      .map((c) => (c.charCodeAt(0) < 32 || '\\/:*?"<>|'.includes(c) ? '_' : c))
      .join('')
      .replace(/^\.+/, '') || 'image.png';
  const nbUri = editor.notebook.uri;
  const folder = nbUri.scheme === 'file' ? vscode.Uri.joinPath(nbUri, '..') : vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, safeName) : undefined,
    filters: { 'PNG image': ['png'] },
    title: 'Save Image as PNG',
  });
  if (!target) return '';
  await vscode.workspace.fs.writeFile(target, bytes);
  log.info(`Saved ${target.fsPath || target.toString()}`);
  return target.path.split('/').pop() ?? safeName;
}
