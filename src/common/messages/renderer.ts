// Messages between our renderer (in the notebook's webview) and the
// extension host, through VS Code's renderer messaging
// (`requiresMessaging: "optional"`). Pure: no Node, no DOM.

/** `contributes.notebookRenderer[].id` of our renderer. */
export const RENDERER_ID = 'autoencoder-notebooks.renderer';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
// Renderer <-> extension host messages (renderer messaging, `requiresMessaging: "optional"`)

/** The Stop button: interrupt the fit() whose payload had this run id. */
export interface InterruptMessage {
  type: 'interrupt';
  runId: string;
}

/** "Save as PNG" where the renderer cannot download itself (VS Code webviews): the host shows a save dialog. */
export interface SavePngMessage {
  type: 'savePng';
  /** Suggested file name, e.g. "reconstructions.png". */
  fileName: string;
  /** base64 PNG bytes. */
  data: string;
}

export type RendererToHostMessage = InterruptMessage | SavePngMessage;

/** Optional replies from the host. */
export type HostToRendererMessage =
  | { type: 'interruptAck'; runId: string; ok: boolean; message?: string }
  | { type: 'savePngDone'; fileName: string; ok: boolean; message?: string };

export function isRendererToHostMessage(m: unknown): m is RendererToHostMessage {
  if (!isObject(m)) return false;
  if (m.type === 'interrupt') return typeof m.runId === 'string';
  if (m.type === 'savePng') return typeof m.fileName === 'string' && typeof m.data === 'string';
  return false;
}

export function isHostToRendererMessage(m: unknown): m is HostToRendererMessage {
  if (!isObject(m)) return false;
  if (m.type === 'interruptAck') return typeof m.runId === 'string' && typeof m.ok === 'boolean';
  if (m.type === 'savePngDone') return typeof m.fileName === 'string' && typeof m.ok === 'boolean';
  return false;
}
