#!/usr/bin/env python3
"""PyTorch side of `npm run bench:ceiling` (bench/ceiling.ts).

Times, on the thread count given, (1) `torch.mm` on each product shape of
our training step, with a transposed A passed as a transposed view (what
PyTorch's autograd hands OpenBLAS for a weight gradient), and (2) one whole
training step of the seed model the way bench/peers/torch_ae.py trains it
(gather the batch, forward, clipped cross-entropy, backward, Adam, the
loss read back), so that the ceiling of the products can be set against the
step they sit in. Medians over repeated timings.

Input: a JSON object on stdin:
  threads    thread count (the caller also sets OMP/OpenBLAS's variables)
  repeats    timings per measurement (the median is kept)
  products   [{"m", "k", "n", "transA", "transB"}] (a transposed operand as a transposed view)
  steps      [{"model": "vanilla" | "stacked", "layers", "alpha", "batch"}]
Output: one JSON line {torch, blas, products: [GFLOP/s], steps: [µs per step]}.
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_ae import SeedAutoencoder, bce, blas_in_use  # noqa: E402


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def timed(f, reps, repeats):
    """Median seconds per call of f over `repeats` timings of `reps` calls."""
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(reps):
            f()
        out.append((time.perf_counter() - t0) / reps)
    return median(out)


def calibrate(f, target=0.05):
    """Calls per timing so that one timing takes about `target` seconds (after a warm-up)."""
    for _ in range(5):
        f()
    t0 = time.perf_counter()
    f()
    one = max(time.perf_counter() - t0, 1e-7)
    return max(3, int(target / one))


def product_gflops(p, repeats):
    m, k, n = int(p['m']), int(p['k']), int(p['n'])
    a = torch.rand(k, m).t() if p.get('transA') else torch.rand(m, k)
    b = torch.rand(n, k).t() if p.get('transB') else torch.rand(k, n)
    c = torch.empty(m, n)

    def f():
        torch.mm(a, b, out=c)

    s = timed(f, calibrate(f), repeats)
    return 2.0 * m * k * n / s / 1e9


def step_us(spec, repeats):
    gen = torch.Generator().manual_seed(1)
    model = SeedAutoencoder(spec['model'], spec['layers'], spec['alpha'], gen)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    batch = int(spec['batch'])
    x = torch.rand(4096, 784, generator=gen)
    idx = torch.randperm(4096, generator=gen)[:batch]

    def f():
        xb = x[idx]
        opt.zero_grad(set_to_none=True)
        loss = bce(model(xb), xb)
        loss.backward()
        opt.step()
        loss.item()

    return timed(f, calibrate(f, 0.1), repeats) * 1e6


def main():
    spec = json.loads(sys.stdin.read())
    torch.set_num_threads(int(spec['threads']))
    repeats = int(spec.get('repeats', 7))
    products = [product_gflops(p, repeats) for p in spec['products']]
    steps = [step_us(s, repeats) for s in spec['steps']]
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas_in_use(), 'products': products, 'steps': steps}))


if __name__ == '__main__':
    main()
