// The TensorFlow.js backends a kernel can run on: the one list that the
// library, the kernel protocol, the settings and the commands share.

/** What a user may ask for: `auto` picks the first that starts, in this order after it. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** A backend that actually runs. */
export type BackendName = Exclude<BackendChoice, 'auto'>;

export function isBackendChoice(value: unknown): value is BackendChoice {
  return typeof value === 'string' && (BACKEND_CHOICES as readonly string[]).includes(value);
}
