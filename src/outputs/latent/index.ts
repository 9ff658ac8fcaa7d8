// The latent-space explorer: a map of an autoencoder's codes, drawn by our
// renderer, that decodes any point of it (see ./contract.ts for the payload,
// ./kernel.ts for show.latent, show.interpolate and callbacks.latentView).
import type { OutputKind } from '../kind';
import { checkLatentPayload, LATENT_MIME, latentText, settleLatentPayload, type LatentPayload } from './contract';
import { kernel } from './kernel';
import { view } from './view';

export const latent: OutputKind<LatentPayload, typeof kernel> = {
  name: 'latent',
  mimes: [LATENT_MIME],
  rendered: true,
  check: checkLatentPayload,
  text: latentText,
  stored: settleLatentPayload,
  kernel,
  view,
};
