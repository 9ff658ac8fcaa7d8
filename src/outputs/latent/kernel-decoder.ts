// The decoder of an explorer: as dense layers whose weights travel with the
// output (the renderer decodes by itself, ./dense.ts), or else kept here in
// the kernel, which decodes for the explorer on request (`latent.decode`,
// through the host; see src/common/messages/kernel.ts). Kernel side only.
import * as tf from '@tensorflow/tfjs';
import { bytesToBase64, decodeFloat32, encodeFloat32 } from '../../common/base64';
import { RequestError } from '../../common/messages/envelope';
import { LATENT_DECODE_MAX, type LatentDecodeParams, type LatentDecodeResult } from '../../common/messages/kernel';
import { kernelOf, LeakyReLUActivation, TransposedDense } from '../../lib/layers';
import type { LatentModel } from '../../lib/latent';
import type { ImageShape } from './contract';
import { DENSE_ACTIVATIONS, type DenseActivation, type DenseDecoderSpec, type DenseLayerSpec } from './dense';
import { toPixels } from './inverse';
import { valuesOf } from './kernel-args';

/** Decoders with more weights than this decode in the kernel (keeps outputs small). */
export const TRAVELLING_DECODER_MAX_WEIGHTS = 1_000_000;

type ActivationObject = { getClassName(): string };

function activationSpec(a: ActivationObject | null | undefined, where: string): { activation: DenseActivation; alpha?: number } | string {
  if (!a) return { activation: 'linear' };
  if (a instanceof LeakyReLUActivation) return { activation: 'leakyRelu', alpha: a.alpha };
  const name = a.getClassName();
  if ((DENSE_ACTIVATIONS as readonly string[]).includes(name) && name !== 'leakyRelu') return { activation: name as DenseActivation };
  return `${where} uses the activation ${name}`;
}

/** The tfjs layer's private fields we read (tfjs-layers has no public accessor). */
interface DenseInternals {
  kernel: { read(): tf.Tensor } | null;
  bias: { read(): tf.Tensor } | null;
  activation: ActivationObject | null;
}

/** Layers a decoder of dense layers may hold (TransposedDense aside). */
const CHAIN_LAYERS = new Set(['InputLayer', 'Dropout', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'SpatialDropout1D', 'Flatten', 'Reshape', 'Dense', 'Activation', 'LeakyReLU', 'ReLU', 'ELU']);

/**
 * The decoder as a chain of dense layers (Dense, TransposedDense, activation
 * layers; Flatten, Reshape and Dropout pass through), with its weights; or
 * the reason it is not one.
 */
export function denseDecoderSpec(decoder: tf.LayersModel, maxWeights = TRAVELLING_DECODER_MAX_WEIGHTS): { spec: DenseDecoderSpec } | { reason: string } {
  const layers: DenseLayerSpec[] = [];
  let flat = true;
  let size = decoder.inputs[0].shape[1] as number;
  let weights = 0;
  let prev: tf.layers.Layer | undefined;
  for (const layer of decoder.layers) {
    const cls = layer.getClassName();
    const label = `layer ${layer.name} (${cls})`;
    // the kind of layer first: a convolution is "not dense" wherever else it is used
    if (!CHAIN_LAYERS.has(cls) && !(layer instanceof TransposedDense)) return { reason: `${label} is not a dense layer` };
    if (prev && layer.inboundNodes.length === 1) {
      const inbound = layer.inboundNodes[0].inboundLayers;
      if (inbound.length !== 1 || inbound[0] !== prev) return { reason: `${label} is not fed by the layer before it` };
    } else if (prev) {
      return { reason: `${label} is used more than once` };
    }
    prev = layer;
    if (cls === 'InputLayer' || cls === 'Dropout' || cls === 'GaussianNoise' || cls === 'GaussianDropout' || cls === 'AlphaDropout' || cls === 'SpatialDropout1D') continue;
    if (cls === 'Flatten') {
      flat = true;
      continue;
    }
    if (cls === 'Reshape') {
      flat = (layer.outputShape as (number | null)[]).length === 2;
      continue;
    }
    if (cls === 'Dense' || layer instanceof TransposedDense) {
      if (!flat) return { reason: `${label} gets a tensor that is not flat` };
      let kernel: tf.Tensor2D;
      let bias: tf.Tensor | null;
      let act: ReturnType<typeof activationSpec>;
      if (layer instanceof TransposedDense) {
        const internals = layer as unknown as { bias: { read(): tf.Tensor } | null; activationFn: ActivationObject };
        kernel = tf.tidy(() => tf.transpose(kernelOf(layer.source).read() as tf.Tensor2D));
        bias = internals.bias ? internals.bias.read() : null;
        act = activationSpec(internals.activationFn, label);
      } else {
        const d = layer as unknown as DenseInternals;
        if (!d.kernel) return { reason: `${label} is not built` };
        kernel = d.kernel.read() as tf.Tensor2D;
        bias = d.bias ? d.bias.read() : null;
        act = activationSpec(d.activation, label);
      }
      const [inputs, outputs] = kernel.shape;
      const owned = layer instanceof TransposedDense;
      try {
        if (typeof act === 'string') return { reason: act };
        if (inputs !== size) return { reason: `${label} takes ${inputs} inputs where ${size} come in` };
        weights += inputs * outputs + outputs;
        if (weights > maxWeights) return { reason: `its ${weights.toLocaleString('en-US')}+ weights are too many to travel with the output` };
        layers.push({
          type: 'dense',
          inputs,
          outputs,
          kernel: encodeFloat32(kernel.dataSync()),
          ...(bias ? { bias: encodeFloat32(bias.dataSync()) } : {}),
          ...act,
        });
      } finally {
        if (owned) kernel.dispose();
      }
      size = outputs;
      continue;
    }
    let step: ReturnType<typeof activationSpec> | undefined;
    if (cls === 'Activation') step = activationSpec((layer as unknown as { activation: ActivationObject }).activation, label);
    else if (cls === 'LeakyReLU') step = { activation: 'leakyRelu', alpha: (layer as unknown as { alpha: number }).alpha };
    else if (cls === 'ReLU') {
      const max = (layer as unknown as { maxValue?: number | null }).maxValue;
      step = max === undefined || max === null ? { activation: 'relu' } : max === 6 ? { activation: 'relu6' } : `${label} clips at ${max}`;
    } else if (cls === 'ELU') {
      step = (layer as unknown as { alpha?: number }).alpha === 1 ? { activation: 'elu' } : `${label} has alpha != 1`;
    }
    if (step === undefined) return { reason: `${label} is not a dense layer` };
    if (typeof step === 'string') return { reason: step };
    layers.push({ type: 'activation', inputs: size, outputs: size, ...step });
  }
  if (!layers.some((l) => l.type === 'dense')) return { reason: 'it has no dense layer' };
  return { spec: { layers } };
}

// ---------------------------------------------------------------------------
// Decoding in the kernel, for explorers whose decoder does not travel

/** Identifies this kernel process: an explorer made by another (restarted) kernel cannot use it. */
export const KERNEL_INSTANCE = `${process.pid}-${Date.now().toString(36)}-${Math.floor(Math.random() * 2 ** 31).toString(36)}`;

export interface RemoteEntry {
  model: LatentModel;
  range: [number, number];
  image: ImageShape;
}
const remoteModels = new Map<string, RemoteEntry>();
let remoteCounter = 0;
const REMOTE_LIMIT = 64;

export function registerRemote(entry: RemoteEntry): string {
  for (const [id, e] of remoteModels) {
    if (e.model.decoder === entry.model.decoder && e.range[0] === entry.range[0] && e.range[1] === entry.range[1]) return id;
  }
  const id = `latent-${++remoteCounter}`;
  remoteModels.set(id, entry);
  if (remoteModels.size > REMOTE_LIMIT) remoteModels.delete(remoteModels.keys().next().value as string);
  return id;
}

/**
 * The `latent.decode` request: decodes codes for an explorer. A request this
 * kernel cannot answer fails with a message the explorer shows as it is.
 */
export function decodeForExplorer(req: LatentDecodeParams): LatentDecodeResult {
  if (!req || typeof req.model !== 'string' || typeof req.kernel !== 'string' || typeof req.codes !== 'string') {
    throw new RequestError('bad-request', 'A decode request needs { model, kernel, codes, count }.');
  }
  if (req.kernel !== KERNEL_INSTANCE) throw new RequestError('failed', 'The kernel that made this map has restarted since; run the cell again to decode new points.');
  const entry = remoteModels.get(req.model);
  if (!entry) throw new RequestError('failed', 'This kernel no longer holds the model of this map; run the cell again.');
  const dim = entry.model.latentDim;
  const z = decodeFloat32(req.codes);
  if (!Number.isInteger(req.count) || req.count < 1 || req.count > LATENT_DECODE_MAX || z.length !== req.count * dim) {
    throw new RequestError('bad-request', `A decode request needs 1 to ${LATENT_DECODE_MAX} codes of ${dim} values.`);
  }
  const pixels = toPixels(valuesOf(() => entry.model.decode(tf.tensor2d(z, [req.count, dim]))), entry.range);
  return { pixels: bytesToBase64(pixels), count: req.count };
}
