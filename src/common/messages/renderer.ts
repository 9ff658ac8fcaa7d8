// Messages between our renderer (in the notebook's webview) and the extension
// host, through VS Code's renderer messaging (`requiresMessaging:
// "optional"`): requests with replies (./envelope.ts). The renderer asks; the
// host answers what it can itself (stop a training run, save a PNG) and
// forwards `kernel.*` requests to the kernel of the renderer's notebook, whose
// reply travels back the same way. Pure: no Node, no DOM.
import { isEnvelope, type EnvelopeMessage } from './envelope';
import type { KernelMethods } from './kernel';

/** `contributes.notebookRenderer[].id` of our renderer. */
export const RENDERER_ID = 'autoencoder-notebooks.renderer';

/** The prefix of requests the host forwards to the notebook's kernel: `kernel.ping` is the kernel's `ping`. */
export const KERNEL_PREFIX = 'kernel.';

type KernelForwarded = { [K in keyof KernelMethods & string as `kernel.${K}`]: KernelMethods[K] };

/** What the renderer may ask the host. */
export type RendererMethods = {
  /** The Stop button: interrupt the notebook's kernel if this training run is running. */
  interrupt: { params: { runId: string }; result: { stopping: true } };
  /** "Save as PNG" where the renderer cannot download itself (VS Code webviews): the host shows a save dialog. A cancelled dialog is a `cancelled` error. */
  savePng: { params: { fileName: string; data: string }; result: { fileName: string } };
} & KernelForwarded;

export type RendererToHostMessage = EnvelopeMessage;
export type HostToRendererMessage = EnvelopeMessage;

export function isRendererToHostMessage(m: unknown): m is RendererToHostMessage {
  return isEnvelope(m);
}

export function isHostToRendererMessage(m: unknown): m is HostToRendererMessage {
  return isEnvelope(m);
}
