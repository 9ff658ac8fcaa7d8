#!/usr/bin/env python3
"""PyTorch reference for `npm run bench` (bench/vs-torch.ts).

Trains one autoencoder for one epoch, the way our TensorFlow.js code does,
and prints one JSON line with the timing and the losses:

  vanilla  784 -> 64 (LeakyReLU 0.3) -> 784 (sigmoid)                  on MNIST
  stacked  784 -> 64 -> 36 (LeakyReLU 0.2), tied transposed decoder     on Fashion-MNIST
  dense    any chain of dense layers given in `dense` (the Keras blog's
           simple 784-32-784 and deep 784-128-64-32-64-128-784)         on MNIST
  conv     the convolutional autoencoder given in `conv` (conv / max-pool /
           up-sample layers, 'same' padding, NCHW inside)               on Fashion-MNIST

Same as ours: glorot-uniform kernels and zero biases (or, better, the exact
initial weights our side exports), binary cross-entropy on predictions
clipped to [1e-7, 1 - 1e-7] averaged over every pixel, Adam(lr 1e-3,
betas 0.9/0.999, eps 1e-7), the same IDX file, pixels / 255 in float32, the
same batch size, and the same shuffled order: the mulberry32 generator and
Fisher-Yates shuffle of src/lib/random.ts, ported below.

Input: a JSON object on stdin (or as the first argument), written by
bench/vs-torch.ts:
  model        "vanilla" | "stacked"
  images       path of the training images IDX file (raw or .gz)
  count        how many samples to use (from the start of the file)
  batchSize    samples per step
  seed         shuffling seed (an integer, as `fit({ seed })`)
  layers       encoder sizes, e.g. [64] or [64, 36] (vanilla, stacked)
  alpha        LeakyReLU slope (vanilla, stacked)
  dense        for "dense": [{"in", "out", "activation"}] (relu, sigmoid, linear, leakyRelu)
  conv         for "conv": [{"type": "conv", "in", "out", "kernel", "activation"} | {"type": "maxpool", "size"}
               | {"type": "upsample", "size"}]
  weights      optional {"path": file of float32 little-endian values,
                         "tensors": [{"name", "shape", "offset"}]}: initial weights
  threads      optional thread count (default: every core)
  warmupBatches optional, steps run on a throwaway copy before timing (default 4)
  perturb      optional seed: after the initial weights are set, each one moves by one
               float32 unit in the last place, up or down at random (this seed's
               generator): a start that differs from the given one only by the rounding
               of a float32 step, for the spread of a chaotic model's runs
  dtype        optional "float32" (default) or "float64": the whole model, data and
               optimizer in double precision (the float32 runs' reference in
               `npm run bench -- --trace`)
  adamBiasCorrection optional "tfjs" (default: Adam's bias corrections as TensorFlow.js
               computes them, in float32; see TfjsBiasCorrection) or "torch" (PyTorch's own)
  dumpWeights  optional path: after training, the parameters in our order and
               layout (tfjs's [h, w, in, out] for convolutions), float64 little-endian
  steps        optional: train only the first this many steps of the epoch (same
               shuffled order of all `count` samples); the per-step tolerance's float64 run
  stepLossSteps optional (default 100): for this many first steps, also the batch
               loss summed in float64 from the step's float32 predictions
               (`stepLosses`, the quantity every side of the per-step check reports;
               the predictions are copied in the loop and reduced after the timing)

`torch_ae.py --blas` prints only the BLAS PyTorch uses here and, for
OpenBLAS, the kernel set it runs (`openblasCore`).

Only the standard library, NumPy and PyTorch are used.
"""
import copy
import ctypes
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

EPSILON = 1e-7


def read_idx_images(path, count):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    magic, n = struct.unpack('>II', data[:8])
    if magic != 0x00000803:
        raise ValueError(f'{path}: not an IDX image file (magic {magic:#x})')
    rows, cols = struct.unpack('>II', data[8:16])
    if count > n:
        raise ValueError(f'{path} has {n} images, {count} asked for')
    pixels = np.frombuffer(data, dtype=np.uint8, count=count * rows * cols, offset=16)
    # Same arithmetic as ours: float32(pixel) / float32(255).
    return (pixels.astype(np.float32) / np.float32(255)).reshape(count, rows * cols)


# --- src/lib/random.ts, ported: mulberry32 and the Fisher-Yates permutation ---
M32 = 0xFFFFFFFF


def mulberry32(seed):
    state = [seed & M32]

    def rng():
        state[0] = (state[0] + 0x6D2B79F5) & M32
        t = state[0]
        t = ((t ^ (t >> 15)) * (t | 1)) & M32
        t ^= (t + (((t ^ (t >> 7)) * (t | 61)) & M32)) & M32
        return ((t ^ (t >> 14)) & M32) / 4294967296

    return rng


def permutation(n, rng):
    out = list(range(n))
    for i in range(n - 1, 0, -1):
        j = int(rng() * (i + 1))
        out[i], out[j] = out[j], out[i]
    return np.asarray(out, dtype=np.int64)


def glorot_uniform(fan_in, fan_out, generator):
    limit = (6.0 / (fan_in + fan_out)) ** 0.5
    return (torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * limit


class SeedAutoencoder(torch.nn.Module):
    """Kernels stored as [inputs, outputs] like Keras/TF.js, so weights copy over as they are."""

    def __init__(self, model, layers, alpha, generator):
        super().__init__()
        self.model = model
        self.alpha = alpha
        sizes = [784] + list(layers)
        if model == 'vanilla':
            if len(layers) != 1:
                raise ValueError('the vanilla model has one hidden layer')
            self.kernels = torch.nn.ParameterList([
                torch.nn.Parameter(glorot_uniform(784, layers[0], generator)),
                torch.nn.Parameter(glorot_uniform(layers[0], 784, generator)),
            ])
            self.biases = torch.nn.ParameterList([
                torch.nn.Parameter(torch.zeros(layers[0])),
                torch.nn.Parameter(torch.zeros(784)),
            ])
        elif model == 'stacked':
            self.kernels = torch.nn.ParameterList([
                torch.nn.Parameter(glorot_uniform(sizes[i], sizes[i + 1], generator)) for i in range(len(layers))
            ])
            self.biases = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(u)) for u in layers])
            # Decoder biases, in decoder order (innermost first), sized like the source layer's input.
            self.decoder_biases = torch.nn.ParameterList([
                torch.nn.Parameter(torch.zeros(sizes[i])) for i in reversed(range(len(layers)))
            ])
        else:
            raise ValueError(f'unknown model {model!r}')

    def forward(self, x):
        if self.model == 'vanilla':
            h = F.leaky_relu(torch.addmm(self.biases[0], x, self.kernels[0]), self.alpha)
            return torch.sigmoid(torch.addmm(self.biases[1], h, self.kernels[1]))
        h = x
        for w, b in zip(self.kernels, self.biases):
            h = F.leaky_relu(torch.addmm(b, h, w), self.alpha)
        n = len(self.kernels)
        for i, c in enumerate(self.decoder_biases):
            w = self.kernels[n - 1 - i]
            z = F.linear(h, w, c)  # h @ w.T + c: the tied, transposed kernel
            h = torch.sigmoid(z) if i == n - 1 else F.leaky_relu(z, self.alpha)
        return h

    def ordered_parameters(self):
        """Parameters in the order our side names them (see bench/vs-torch.ts)."""
        if self.model == 'vanilla':
            return [self.kernels[0], self.biases[0], self.kernels[1], self.biases[1]]
        out = []
        for w, b in zip(self.kernels, self.biases):
            out += [w, b]
        return out + list(self.decoder_biases)


ACTIVATIONS = {
    'relu': torch.relu,
    'sigmoid': torch.sigmoid,
    'linear': lambda x: x,
    'tanh': torch.tanh,
}


class DenseChain(torch.nn.Module):
    """Dense layers with kernels stored [inputs, outputs] like Keras/TF.js; weights in tfjs's getWeights() order."""

    def __init__(self, spec, generator):
        super().__init__()
        self.spec = spec
        self.kernels = torch.nn.ParameterList([torch.nn.Parameter(glorot_uniform(l['in'], l['out'], generator)) for l in spec])
        self.biases = torch.nn.ParameterList([torch.nn.Parameter(torch.zeros(l['out'])) for l in spec])

    def forward(self, x):
        h = x.reshape(x.shape[0], -1)
        for l, w, b in zip(self.spec, self.kernels, self.biases):
            h = ACTIVATIONS[l['activation']](torch.addmm(b, h, w))
        return h

    def ordered_parameters(self):
        out = []
        for w, b in zip(self.kernels, self.biases):
            out += [w, b]
        return out

    def load_tfjs(self, p, value):
        p.copy_(value)

    def export_tfjs(self, p):
        return p


class ConvChain(torch.nn.Module):
    """Convolutions ('same' padding, stride 1), 2x2 max pooling and nearest up-sampling, NCHW; tfjs's HWIO kernels transposed on load."""

    def __init__(self, spec):
        super().__init__()
        self.spec = spec
        self.convs = torch.nn.ModuleList()
        for l in spec:
            if l['type'] == 'conv':
                k = l['kernel']
                self.convs.append(torch.nn.Conv2d(l['in'], l['out'], k, padding=k // 2))

    def forward(self, x):
        h = x
        convs = iter(self.convs)
        for l in self.spec:
            if l['type'] == 'conv':
                h = ACTIVATIONS[l['activation']](next(convs)(h))
            elif l['type'] == 'maxpool':
                h = F.max_pool2d(h, l['size'], ceil_mode=True)
            elif l['type'] == 'upsample':
                h = F.interpolate(h, scale_factor=l['size'], mode='nearest')
        return h

    def ordered_parameters(self):
        out = []
        for c in self.convs:
            out += [c.weight, c.bias]
        return out

    def load_tfjs(self, p, value):
        # tfjs kernels are [h, w, in, out]; PyTorch's are [out, in, h, w].
        p.copy_(value.permute(3, 2, 0, 1) if value.dim() == 4 else value)

    def export_tfjs(self, p):
        return p.permute(2, 3, 1, 0) if p.dim() == 4 else p


def bce(pred, target):
    # Keras/our clipping: predictions clipped to [eps, 1 - eps] (gradient zero outside).
    p = torch.clamp(pred, EPSILON, 1 - EPSILON)
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()


def bce64(pred, target):
    """Cross-entropy of float32 predictions, clipped at float32(eps) and float32(1 - eps), summed in float64."""
    lo, hi = float(np.float32(EPSILON)), float(np.float32(1 - EPSILON))
    p = pred.double().clamp(lo, hi)
    t = target.double()
    return -(t * torch.log(p) + (1 - t) * torch.log(1 - p)).mean().item()


def probe_loss(model, x):
    """Cross-entropy of the model on x, summed in float64 from its float32 predictions (as our side does)."""
    with torch.no_grad():
        return bce64(model(x.to(dtype_of(model))), x)


def dtype_of(model):
    return next(model.parameters()).dtype


def dump_weights(model, path):
    """The trained parameters in our order and layout, float64, for `npm run bench -- --trace`."""
    with torch.no_grad():
        parts = [(model.export_tfjs(p) if hasattr(model, 'export_tfjs') else p).contiguous().double().reshape(-1) for p in model.ordered_parameters()]
        torch.cat(parts).numpy().astype('<f8').tofile(path)


def load_weights(model, spec):
    params = model.ordered_parameters()
    tensors = spec['tensors']
    if len(tensors) != len(params):
        raise ValueError(f'{len(tensors)} weight tensors given, the model has {len(params)}')
    raw = np.fromfile(spec['path'], dtype='<f4')
    with torch.no_grad():
        for p, t in zip(params, tensors):
            shape = tuple(t['shape'])
            size = int(np.prod(shape))
            value = torch.from_numpy(raw[t['offset']:t['offset'] + size].reshape(shape).copy())
            if hasattr(model, 'load_tfjs'):
                if p.numel() != size:
                    raise ValueError(f"weight {t['name']}: {size} values, the model expects {p.numel()}")
                model.load_tfjs(p, value)
            else:
                if tuple(p.shape) != shape:
                    raise ValueError(f"weight {t['name']}: shape {shape}, the model expects {tuple(p.shape)}")
                p.copy_(value)


def nudge_weights(model, seed):
    """Moves every float32 weight one unit in the last place, up or down, at random (seeded)."""
    rng = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.ordered_parameters():
            w = p.detach().numpy()
            if w.dtype != np.float32:
                raise ValueError(f'perturb: weights must be float32, got {w.dtype}')
            up = rng.integers(0, 2, size=w.shape).astype(bool)
            p.copy_(torch.from_numpy(np.where(up, np.nextafter(w, np.float32(np.inf)), np.nextafter(w, np.float32(-np.inf))).astype(np.float32)))


def blas_in_use():
    """The BLAS libraries mapped into this process, and OpenBLAS's own report when it is one of them."""
    libs = set()
    try:
        with open('/proc/self/maps') as maps:
            for line in maps:
                path = line.split()[-1] if len(line.split()) >= 6 else ''
                base = os.path.basename(path)
                if any(k in base for k in ('blas', 'mkl', 'blis', 'atlas')):
                    libs.add(path)
    except OSError:
        pass
    info = {'libraries': sorted(libs)}
    for path in sorted(libs):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        if hasattr(lib, 'openblas_get_config'):
            lib.openblas_get_config.restype = ctypes.c_char_p
            info['openblas'] = lib.openblas_get_config().decode()
            if hasattr(lib, 'openblas_get_corename'):
                # The kernel set OpenBLAS runs (DYNAMIC_ARCH builds pick it at load time, or take OPENBLAS_CORETYPE).
                lib.openblas_get_corename.restype = ctypes.c_char_p
                info['openblasCore'] = lib.openblas_get_corename().decode()
            if hasattr(lib, 'openblas_get_num_threads'):
                info['openblasThreads'] = lib.openblas_get_num_threads()
            break
    build = torch.__config__.show()
    for token in build.replace(',', ' ').split():
        if token.startswith('BLAS_INFO='):
            info['torchBlasInfo'] = token.split('=', 1)[1]
    info['mkldnn'] = bool(torch.backends.mkldnn.is_available())
    return info


class TfjsBiasCorrection:
    """Makes torch.optim.Adam take TensorFlow.js's Adam step exactly (up to float32 rounding).

    Both compute w -= lr * m_hat / (sqrt(v_hat) + eps) with the same float32 moments, but tfjs
    bias-corrects with float32 scalars: accBeta = float32(beta) multiplied by float32(beta) once a
    step, and 1 - accBeta in float32. float32(0.999) is 0.99900001287, so tfjs's 1 - beta2^t is
    ~1.3e-5 (and its rounding up to ~3e-5) smaller than PyTorch's float64 one: every update is
    ~1e-5 larger. That is a tiny, systematic difference that a deep ReLU model amplifies (see
    bench/README.md, "The deep model"). This hook sets the group's lr and eps before each step so
    that PyTorch's formula lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps) equals tfjs's with its B1, B2:
    lr' = lr * bc1/B1 * sqrt(B2/bc2), eps' = eps * sqrt(B2/bc2). Costs two scalars a step.
    """

    def __init__(self, opt, lr, betas, eps):
        self.opt, self.lr, self.eps = opt, lr, eps
        self.betas = betas
        self.beta32 = [np.float32(b) for b in betas]
        self.acc = list(self.beta32)  # tfjs: accBeta = scalar(beta), multiplied by beta after each step
        self.step = 0

    def before_step(self):
        self.step += 1
        b1, b2 = self.betas
        bc1, bc2 = 1 - b1 ** float(self.step), 1 - b2 ** float(self.step)  # as torch 1.13's single-tensor Adam
        B1, B2 = float(np.float32(1) - self.acc[0]), float(np.float32(1) - self.acc[1])
        scale = (B2 / bc2) ** 0.5
        for group in self.opt.param_groups:
            group['lr'] = self.lr * bc1 / B1 * scale
            group['eps'] = self.eps * scale
        self.acc = [np.float32(a * b) for a, b in zip(self.acc, self.beta32)]


def train_epoch(model, opt, x, order, batch_size, record=True, hook=None, keep=0):
    """One epoch; returns the mean loss, the batch losses, and the first `keep` steps' predictions (copies)."""
    n = order.shape[0]
    losses = []
    kept = []
    total = 0.0
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        xb = x[idx]
        opt.zero_grad(set_to_none=True)
        pred = model(xb)
        if len(kept) < keep:
            kept.append((pred.detach().clone(), idx))
        loss = bce(pred, xb)
        loss.backward()
        if hook is not None:
            hook.before_step()
        opt.step()
        value = loss.item()
        if record:
            losses.append(value)
        total += value * idx.shape[0]
    return total / n, losses, kept


def main():
    if sys.argv[1:] == ['--blas']:
        # What BLAS this environment gives PyTorch: the library, and the kernel OpenBLAS picks (a small product loads it).
        torch.set_num_threads(1)
        torch.mm(torch.ones(64, 64), torch.ones(64, 64))
        print(json.dumps({'torch': torch.__version__, 'blas': blas_in_use()}))
        return
    raw = sys.argv[1] if len(sys.argv) > 1 else sys.stdin.read()
    spec = json.loads(raw)
    threads = int(spec.get('threads') or os.cpu_count() or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(int(spec.get('seed', 0)))
    count = int(spec['count'])
    batch_size = int(spec['batchSize'])

    x_np = read_idx_images(spec['images'], count)
    x = torch.from_numpy(x_np)
    if spec['model'] == 'conv':
        x = x.reshape(count, 1, 28, 28)  # NCHW
    order = permutation(count, mulberry32(int(spec['seed'])))
    if spec.get('steps'):
        # The first steps of the same epoch: the order is drawn over all `count` samples first.
        order = order[:int(spec['steps']) * batch_size]

    gen = torch.Generator().manual_seed(int(spec.get('seed', 0)))
    if spec['model'] == 'dense':
        model = DenseChain(spec['dense'], gen)
    elif spec['model'] == 'conv':
        model = ConvChain(spec['conv'])
    else:
        model = SeedAutoencoder(spec['model'], spec['layers'], float(spec['alpha']), gen)
    if spec.get('weights'):
        load_weights(model, spec['weights'])
    if spec.get('perturb') is not None:
        nudge_weights(model, int(spec['perturb']))
    dtype = spec.get('dtype', 'float32')
    if dtype not in ('float32', 'float64'):
        raise ValueError(f'dtype must be float32 or float64, got {dtype!r}')
    if dtype == 'float64':
        # The same float32 initial weights and pixels, widened: a reference without float32 rounding.
        model = model.double()
        x = x.double()

    def adam(m):
        return torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=EPSILON)

    bias_correction = spec.get('adamBiasCorrection', 'tfjs')
    if bias_correction not in ('tfjs', 'torch'):
        raise ValueError(f'adamBiasCorrection must be tfjs or torch, got {bias_correction!r}')

    def hook_for(o):
        return TfjsBiasCorrection(o, 1e-3, (0.9, 0.999), EPSILON) if bias_correction == 'tfjs' else None

    initial_loss = probe_loss(model, x[:1024])

    warmup = int(spec.get('warmupBatches', 4))
    if warmup > 0:
        scratch = copy.deepcopy(model)
        scratch_opt = adam(scratch)
        train_epoch(scratch, scratch_opt, x, order[:warmup * batch_size], batch_size, record=False, hook=hook_for(scratch_opt))
        del scratch

    opt = adam(model)
    hook = hook_for(opt)
    t0 = time.perf_counter()
    epoch_loss, losses, kept = train_epoch(model, opt, x, order, batch_size, hook=hook, keep=int(spec.get('stepLossSteps', 100)))
    seconds = time.perf_counter() - t0
    # The per-step check's quantity, from the copies of the first steps' predictions, outside the timing.
    step_losses = [bce64(pred, x[idx]) for pred, idx in kept]
    final_loss = probe_loss(model, x[:1024])
    if spec.get('dumpWeights'):
        dump_weights(model, spec['dumpWeights'])

    print(json.dumps({
        'peer': 'pytorch',
        'model': spec['model'],
        'batchSize': batch_size,
        'samples': int(order.shape[0]),
        'seconds': seconds,
        'samplesPerSecond': int(order.shape[0]) / seconds,
        'loss': epoch_loss,
        'initialLoss': initial_loss,
        'finalLoss': final_loss,
        'batchLosses': losses,
        'stepLosses': step_losses,
        'orderHead': order[:8].tolist(),
        'threads': torch.get_num_threads(),
        'dtype': dtype,
        'perturb': spec.get('perturb'),
        'adamBiasCorrection': bias_correction,
        'cpuCount': os.cpu_count(),
        'torch': torch.__version__,
        'python': sys.version.split()[0],
        'blas': blas_in_use(),
    }))


if __name__ == '__main__':
    main()
