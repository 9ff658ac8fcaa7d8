// Messages from our renderer: the training view's Stop button (interrupt the
// notebook's kernel) and "Save as PNG" (a save dialog in the host, since a
// notebook webview cannot download files).
import * as vscode from 'vscode';
import { base64ToBytes } from '../common/base64';
import { HostToRendererMessage, isRendererToHostMessage, RENDERER_ID, SavePngMessage } from '../common/messages/renderer';
import { AenbKernelController } from './controller';

export function registerRendererMessaging(kernels: AenbKernelController, log: vscode.LogOutputChannel): vscode.Disposable {
  const messaging = vscode.notebooks.createRendererMessaging(RENDERER_ID);
  const reply = (editor: vscode.NotebookEditor, m: HostToRendererMessage) => void messaging.postMessage(m, editor);

  return messaging.onDidReceiveMessage(async ({ editor, message }) => {
    if (!isRendererToHostMessage(message)) {
      log.warn(`Renderer sent an unknown message: ${JSON.stringify(message)?.slice(0, 200)}`);
      return;
    }
    if (message.type === 'interrupt') {
      const session = kernels.existingSession(editor.notebook);
      const runId = message.runId;
      if (!session || !session.busy) {
        reply(editor, { type: 'interruptAck', runId, ok: false, message: 'Nothing is running in this notebook.' });
        return;
      }
      if (!session.activeRuns.has(runId)) {
        reply(editor, { type: 'interruptAck', runId, ok: false, message: 'This training run is not running any more.' });
        return;
      }
      log.info(`[${session.name}] Stop pressed on training run ${runId}`);
      session.interrupt();
      reply(editor, { type: 'interruptAck', runId, ok: true });
      return;
    }
    await savePng(editor, message, log).then(
      (fileName) => reply(editor, { type: 'savePngDone', fileName, ok: fileName !== '', message: fileName === '' ? 'Cancelled.' : undefined }),
      (e: unknown) => {
        const text = e instanceof Error ? e.message : String(e);
        log.error(`Save as PNG failed: ${text}`);
        void vscode.window.showErrorMessage(`Could not save the image: ${text}`);
        reply(editor, { type: 'savePngDone', fileName: message.fileName, ok: false, message: text });
      },
    );
  });
}

/** Asks where to save and writes the PNG; resolves with the file name, or "" when cancelled. */
async function savePng(editor: vscode.NotebookEditor, m: SavePngMessage, log: vscode.LogOutputChannel): Promise<string> {
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
