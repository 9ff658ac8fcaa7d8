// A decoder made of dense layers, as data that travels with an output, and
// its forward pass in plain TypeScript: the renderer decodes latent points by
// itself (offline, after a reload, in an exported report) when the model's
// decoder is such a chain. Products accumulate in float64 over float32
// weights, so results agree with TensorFlow.js's float32 `decode` to ~1e-6.
import { decodeFloat32 } from '../../common/base64';

/** Element-wise activations, named as tfjs-layers names them. */
export const DENSE_ACTIVATIONS = ['linear', 'relu', 'relu6', 'leakyRelu', 'elu', 'selu', 'sigmoid', 'hardSigmoid', 'tanh', 'softplus', 'softsign', 'swish'] as const;
export type DenseActivation = (typeof DENSE_ACTIVATIONS)[number];

export interface DenseLayerSpec {
  /** "dense": y = act(x · kernel + bias); "activation": y = act(x). */
  type: 'dense' | 'activation';
  inputs: number;
  outputs: number;
  /** Float32 base64 [inputs, outputs], row-major (dense only). */
  kernel?: string;
  /** Float32 base64 [outputs] (dense only, optional). */
  bias?: string;
  activation: DenseActivation;
  /** Slope of leakyRelu for negative inputs. */
  alpha?: number;
}

export interface DenseDecoderSpec {
  layers: DenseLayerSpec[];
}

/** Largest decoder that travels with an output (floats); beyond it the kernel decodes. */
export const DENSE_MAX_WEIGHTS = 4_000_000;

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;
const b64Len = (floats: number) => 4 * Math.ceil((floats * 4) / 3);

export function checkDenseDecoderSpec(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || !Array.isArray((v as DenseDecoderSpec).layers)) return 'must be { layers: [...] }';
  const layers = (v as DenseDecoderSpec).layers;
  if (layers.length === 0) return 'has no layers';
  let weights = 0;
  for (const [i, l] of layers.entries()) {
    if (typeof l !== 'object' || l === null) return `layers[${i}] is not an object`;
    if (l.type !== 'dense' && l.type !== 'activation') return `layers[${i}].type must be dense or activation`;
    if (!isCount(l.inputs) || !isCount(l.outputs)) return `layers[${i}] needs whole inputs and outputs`;
    if (!DENSE_ACTIVATIONS.includes(l.activation)) return `layers[${i}].activation ${JSON.stringify(l.activation)} is not supported`;
    if (l.alpha !== undefined && (typeof l.alpha !== 'number' || !Number.isFinite(l.alpha))) return `layers[${i}].alpha must be a number`;
    if (i > 0 && layers[i - 1].outputs !== l.inputs) return `layers[${i}] takes ${l.inputs} inputs but layers[${i - 1}] makes ${layers[i - 1].outputs}`;
    if (l.type === 'activation') {
      if (l.inputs !== l.outputs) return `layers[${i}] (activation) must keep its size`;
      continue;
    }
    if (typeof l.kernel !== 'string' || l.kernel.length !== b64Len(l.inputs * l.outputs)) return `layers[${i}].kernel must be base64 Float32 [${l.inputs}, ${l.outputs}]`;
    if (l.bias !== undefined && (typeof l.bias !== 'string' || l.bias.length !== b64Len(l.outputs))) return `layers[${i}].bias must be base64 Float32 [${l.outputs}]`;
    weights += l.inputs * l.outputs + l.outputs;
  }
  if (weights > DENSE_MAX_WEIGHTS) return `has ${weights} weights, more than ${DENSE_MAX_WEIGHTS}`;
  return undefined;
}

interface Layer {
  inputs: number;
  outputs: number;
  kernel: Float32Array | null;
  bias: Float32Array | null;
  act: (x: number) => number;
  identity: boolean;
}

const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;

/** The function of an activation (as tfjs computes it, in float64). */
export function activationFn(name: DenseActivation, alpha = 0.3): (x: number) => number {
  switch (name) {
    case 'linear':
      return (x) => x;
    case 'relu':
      return (x) => (x > 0 ? x : 0);
    case 'relu6':
      return (x) => (x > 0 ? (x < 6 ? x : 6) : 0);
    case 'leakyRelu':
      return (x) => (x < 0 ? alpha * x : x);
    case 'elu':
      return (x) => (x < 0 ? Math.exp(x) - 1 : x);
    case 'selu':
      return (x) => (x < 0 ? SELU_SCALE * SELU_ALPHA * (Math.exp(x) - 1) : SELU_SCALE * x);
    case 'sigmoid':
      return (x) => 1 / (1 + Math.exp(-x));
    case 'hardSigmoid':
      return (x) => Math.max(0, Math.min(1, 0.2 * x + 0.5));
    case 'tanh':
      return Math.tanh;
    case 'softplus':
      return (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));
    case 'softsign':
      return (x) => x / (1 + Math.abs(x));
    case 'swish':
      return (x) => x / (1 + Math.exp(-x));
  }
}

/** A runnable dense decoder. */
export class DenseDecoder {
  readonly inputs: number;
  readonly outputs: number;
  private readonly layers: Layer[];
  private readonly width: number;
  private bufA: Float64Array;
  private bufB: Float64Array;

  constructor(spec: DenseDecoderSpec) {
    const problem = checkDenseDecoderSpec(spec);
    if (problem) throw new Error(`decoder ${problem}`);
    this.layers = spec.layers.map((l) => ({
      inputs: l.inputs,
      outputs: l.outputs,
      kernel: l.type === 'dense' && l.kernel ? decodeFloat32(l.kernel) : null,
      bias: l.type === 'dense' && l.bias ? decodeFloat32(l.bias) : null,
      act: activationFn(l.activation, l.alpha),
      identity: l.activation === 'linear',
    }));
    this.inputs = spec.layers[0].inputs;
    this.outputs = spec.layers[spec.layers.length - 1].outputs;
    this.width = Math.max(this.inputs, ...spec.layers.map((l) => l.outputs));
    this.bufA = new Float64Array(this.width);
    this.bufB = new Float64Array(this.width);
  }

  /** Number of multiply-adds of one decode. */
  get cost(): number {
    return this.layers.reduce((s, l) => s + (l.kernel ? l.inputs * l.outputs : l.outputs), 0);
  }

  /** Decodes one code (length `inputs`) into `out` (length `outputs`). */
  decode(z: ArrayLike<number>, out: Float32Array = new Float32Array(this.outputs)): Float32Array {
    if (z.length !== this.inputs) throw new Error(`a code has ${this.inputs} values, got ${z.length}`);
    let x = this.bufA;
    let y = this.bufB;
    for (let i = 0; i < this.inputs; i++) x[i] = z[i];
    for (const l of this.layers) {
      const n = l.outputs;
      if (l.kernel) {
        const k = l.kernel;
        if (l.bias) for (let j = 0; j < n; j++) y[j] = l.bias[j];
        else y.fill(0, 0, n);
        for (let i = 0; i < l.inputs; i++) {
          const xi = x[i];
          if (xi === 0) continue;
          const row = i * n;
          for (let j = 0; j < n; j++) y[j] += xi * k[row + j];
        }
      } else {
        for (let j = 0; j < n; j++) y[j] = x[j];
      }
      if (!l.identity) for (let j = 0; j < n; j++) y[j] = l.act(y[j]);
      const t = x;
      x = y;
      y = t;
    }
    for (let j = 0; j < this.outputs; j++) out[j] = x[j];
    return out;
  }

  /** Decodes `count` codes stored one after another. */
  decodeMany(codes: Float32Array, count: number): Float32Array {
    const out = new Float32Array(count * this.outputs);
    for (let r = 0; r < count; r++) this.decode(codes.subarray(r * this.inputs, (r + 1) * this.inputs), out.subarray(r * this.outputs, (r + 1) * this.outputs));
    return out;
  }
}
