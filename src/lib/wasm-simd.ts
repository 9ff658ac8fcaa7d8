/**
 * Element-wise training kernels in WebAssembly SIMD, run on the wasm
 * backend's own heap (the module imports the backend's `WebAssembly.Memory`).
 *
 * tfjs-backend-wasm has no fused kernels for what a training step does
 * between its matrix products, and the same loops in plain JS run one float
 * at a time (the loss needs two logarithms per pixel). These kernels work on
 * four floats at a time:
 *
 *   bceLogits    sigmoid + binary cross-entropy from the logits: one exp, one log,
 *                clip mask, dL/dz = (s-t)/n, Σ loss (f64)
 *   mse          dL/dy = 2(y-t)/n, Σ (y-t)² (f64)
 *   adam, sgd, rmsprop (plain and centered)
 *                tfjs's update rules, float32 operations in tfjs's order (bit-identical)
 *   leakyRelu / relu forward and backward, sigmoid and tanh backward (from the output)
 *   colSums      bias gradients;  addRowBias: a bias per row;  add: dst += src;  mul: dst = a·b
 *   transpose    4x4 blocks, in column tiles
 *
 * Every kernel handles the multiple-of-4 part of its input and reports how
 * far it got; the caller finishes the remainder (at most 3 elements, or the
 * edge rows/columns of a transpose) in JS. The module is assembled here,
 * byte by byte, from the opcodes of the WebAssembly 2.0 specification: no
 * toolchain, nothing to download.
 */

// ---------------------------------------------------------------------------
// A minimal WebAssembly encoder: just what the kernels below use.

const I32 = 0x7f;
const F32 = 0x7d;
const F64 = 0x7c;
const V128 = 0x7b;
type ValType = typeof I32 | typeof F32 | typeof F64 | typeof V128;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

function bytesOf(array: Float32Array | Int32Array | Float64Array): number[] {
  return Array.from(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => vec([...new TextEncoder().encode(s)].map((b) => [b]));

/** Builds one function body. Locals are numbered after the parameters. */
class Fn {
  readonly code: number[] = [];
  private readonly extra: ValType[] = [];

  constructor(readonly params: ValType[], readonly results: ValType[]) {}

  local(type: ValType): number {
    this.extra.push(type);
    return this.params.length + this.extra.length - 1;
  }

  private op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }

  get(i: number) { return this.op(0x20, ...uleb(i)); }
  set(i: number) { return this.op(0x21, ...uleb(i)); }
  tee(i: number) { return this.op(0x22, ...uleb(i)); }
  i32(v: number) { return this.op(0x41, ...sleb(v | 0)); }
  f64c(v: number) { return this.op(0x44, ...bytesOf(new Float64Array([v]))); }
  add() { return this.op(0x6a); }
  sub() { return this.op(0x6b); }
  mul() { return this.op(0x6c); }
  and() { return this.op(0x71); }
  shl() { return this.op(0x74); }
  geU() { return this.op(0x4f); }
  ltU() { return this.op(0x49); }
  select() { return this.op(0x1b); }
  /** f32.load at `offset` bytes past the address on the stack. */
  loadF32(offset = 0) { return this.op(0x2a, 2, ...uleb(offset)); }
  f64add() { return this.op(0xa0); }
  block() { return this.op(0x02, 0x40); }
  loop() { return this.op(0x03, 0x40); }
  end() { return this.op(0x0b); }
  br(depth: number) { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number) { return this.op(0x0d, ...uleb(depth)); }

  /** A SIMD instruction (0xFD prefix) with its immediates. */
  simd(code: number, ...imm: number[]) { return this.op(0xfd, ...uleb(code), ...imm); }
  /** v128.load / v128.store at `offset` bytes past the address on the stack (alignment hint 4 bytes). */
  load(offset = 0) { return this.simd(0, 2, ...uleb(offset)); }
  store(offset = 0) { return this.simd(11, 2, ...uleb(offset)); }
  f32x4(v: number) { return this.simd(12, ...bytesOf(new Float32Array([v, v, v, v]))); }
  i32x4(v: number) { return this.simd(12, ...bytesOf(new Int32Array([v, v, v, v]))); }
  shuffle(lanes: number[]) { return this.simd(13, ...lanes); }
  splatF32() { return this.simd(19); }
  f64x2Lane(i: number) { return this.simd(33, i); }
  fEq() { return this.simd(65); }
  fLt() { return this.simd(67); }
  fGt() { return this.simd(68); }
  fLe() { return this.simd(69); }
  fGe() { return this.simd(70); }
  vAnd() { return this.simd(78); }
  vAndNot() { return this.simd(79); }
  vOr() { return this.simd(80); }
  bitselect() { return this.simd(82); }
  iShl() { return this.simd(171); }
  iShrU() { return this.simd(173); }
  iAdd() { return this.simd(174); }
  fAbs() { return this.simd(224); }
  fNearest() { return this.simd(106); }
  truncSat() { return this.simd(248); }
  fMin() { return this.simd(232); }
  fMax() { return this.simd(233); }
  iSub() { return this.simd(177); }
  fSqrt() { return this.simd(227); }
  fAdd() { return this.simd(228); }
  fSub() { return this.simd(229); }
  fMul() { return this.simd(230); }
  fDiv() { return this.simd(231); }
  fPmin() { return this.simd(234); }
  fPmax() { return this.simd(235); }
  toF32() { return this.simd(250); }
  promoteLow() { return this.simd(95); }
  dAdd() { return this.simd(240); }

  /** ptr += bytes */
  bump(ptr: number, bytes: number) { return this.get(ptr).i32(bytes).add().set(ptr); }

  /**
   * `loop { if (cursor >= end) break; body(); }`: the body advances the cursor.
   */
  whileBelow(cursor: number, end: number, body: () => void): this {
    this.block().loop();
    this.get(cursor).get(end).geU().brIf(1);
    body();
    this.br(0).end().end();
    return this;
  }

  /** end = base + (n & ~3) * 4: the address where the vectorised part stops. */
  vectorEnd(base: number, n: number): number {
    const end = this.local(I32);
    this.get(base).get(n).i32(-4).and().i32(2).shl().add().set(end);
    return end;
  }

  /** A v128 local holding `value` in every f32 lane (from an f32 parameter). */
  splat(param: number): number {
    const l = this.local(V128);
    this.get(param).splatF32().set(l);
    return l;
  }

  encodeType(): number[] {
    return [0x60, ...vec(this.params.map((t) => [t])), ...vec(this.results.map((t) => [t]))];
  }

  encodeBody(): number[] {
    // Locals, grouped by runs of one type.
    const groups: number[][] = [];
    for (let i = 0; i < this.extra.length; ) {
      let j = i;
      while (j < this.extra.length && this.extra[j] === this.extra[i]) j++;
      groups.push([...uleb(j - i), this.extra[i]]);
      i = j;
    }
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

function encodeModule(functions: [string, Fn][], shared: boolean): Uint8Array {
  const section = (id: number, content: number[]) => [id, ...uleb(content.length), ...content];
  // import env.memory: a memory of at least one page, no maximum (matches any unshared memory),
  // or a shared one of at most 4 GiB (matches any shared memory: the threads of src/lib/engine).
  const limits = shared ? [0x03, ...uleb(1), ...uleb(65536)] : [0x00, ...uleb(1)];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(functions.map(([, f]) => f.encodeType()))),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, ...limits]])),
    ...section(3, vec(functions.map((_, i) => uleb(i)))),
    ...section(7, vec(functions.map(([n], i) => [...name(n), 0x00, ...uleb(i)]))),
    ...section(10, vec(functions.map(([, f]) => f.encodeBody()))),
  ];
  return new Uint8Array(bytes);
}

// ---------------------------------------------------------------------------
// The kernels.

const SQRT2 = Math.SQRT2;
/** Where binary cross-entropy clips predictions (losses.ts EPSILON), in float32. */
const CLIP_LO = Math.fround(1e-7);
const CLIP_HI = Math.fround(1 - 1e-7);

/**
 * ln(x) for positive normal floats in `x` (a v128 local), left on the stack.
 * x = 2^e·m with m in (√½, √2]; ln(1+f), f = m-1, by the minimax polynomial
 * of Cephes' logf (relative error under 1e-7 on this range).
 */
function emitLog(f: Fn, x: number, t: { e: number; m: number; r: number; z: number; y: number; big: number }): void {
  f.get(x).i32(23).iShrU().i32x4(127).iSub().set(t.e);
  f.get(x).i32x4(0x007fffff).vAnd().i32x4(0x3f800000).vOr().set(t.m);
  f.get(t.m).f32x4(SQRT2).fGt().set(t.big);
  // m > √2: halve m and add 1 to e (the mask is -1 in those lanes, so e - mask).
  f.get(t.m).f32x4(0.5).fMul().get(t.m).get(t.big).bitselect().set(t.m);
  f.get(t.e).get(t.big).iSub().toF32().set(t.e);
  f.get(t.m).f32x4(1).fSub().set(t.r);
  f.get(t.r).get(t.r).fMul().set(t.z);
  const c = [7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1];
  f.f32x4(c[0]);
  for (let i = 1; i < c.length; i++) f.get(t.r).fMul().f32x4(c[i]).fAdd();
  f.get(t.r).fMul().get(t.z).fMul(); // y
  f.get(t.e).f32x4(-2.12194440e-4).fMul().fAdd();
  f.get(t.z).f32x4(0.5).fMul().fSub().set(t.y);
  f.get(t.r).get(t.y).fAdd().get(t.e).f32x4(0.693359375).fMul().fAdd();
}

/**
 * e^x for x in [-87, 0] (a v128 local), left on the stack: x = n·ln2 + r,
 * |r| ≤ ln2/2, e^r by the polynomial of Cephes' expf, 2^n built in the
 * exponent bits.
 */
function emitExp(f: Fn, x: number, t: { n: number; r: number; z: number }): void {
  f.get(x).f32x4(Math.LOG2E).fMul().fNearest().set(t.n);
  f.get(x).get(t.n).f32x4(0.693359375).fMul().fSub().get(t.n).f32x4(-2.12194440e-4).fMul().fSub().set(t.r);
  f.get(t.r).get(t.r).fMul().set(t.z);
  const c = [1.987569150e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
  f.f32x4(c[0]);
  for (let i = 1; i < c.length; i++) f.get(t.r).fMul().f32x4(c[i]).fAdd();
  f.get(t.z).fMul().get(t.r).fAdd().f32x4(1).fAdd(); // e^r
  f.get(t.n).truncSat().i32x4(127).iAdd().i32(23).iShl().fMul(); // · 2^n
}

/** acc0 += f64(lanes 0,1 of v); acc1 += f64(lanes 2,3 of v) — v is a local. */
function emitAccumulateF64(f: Fn, v: number, acc0: number, acc1: number): void {
  f.get(acc0).get(v).promoteLow().dAdd().set(acc0);
  f.get(acc1).get(v).get(v).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]).promoteLow().dAdd().set(acc1);
}

/** Returns lane0 + lane1 of acc0 + acc1 as an f64. */
function emitHorizontalSum(f: Fn, acc0: number, acc1: number): void {
  const s = f.local(V128);
  f.get(acc0).get(acc1).dAdd().set(s);
  f.get(s).f64x2Lane(0).get(s).f64x2Lane(1).f64add();
}

/** −ln p and −ln(1−p) at the clip points: the largest values the clipped cross-entropy's two halves reach. */
const CAP_NEG_LN_P = -Math.log(CLIP_LO);
const CAP_NEG_LN_1MP = -Math.log(Math.fround(1 - CLIP_HI));

/**
 * Sigmoid + binary cross-entropy straight from the logits z (one pass, one
 * exp and one log per element instead of a sigmoid and two logs):
 *   e = exp(-|z|),  s = z ≥ 0 ? 1 − e/(1+e) : e/(1+e),  l = ln(1+e)
 *   −ln p = min(max(-z, 0) + l, −ln ε),  −ln(1−p) = min(max(z, 0) + l, −ln ε')
 *   loss = t·(−ln p) + (1−t)·(−ln(1−p))      (p = clip(s, ε, 1−ε), exactly)
 *   dz = (s − t)·invN where ε ≤ s ≤ 1−ε (s in float32, as tfjs's clip mask sees it), else 0
 * Returns Σ loss.
 */
function bceLogits(): Fn {
  // (z, t, dz, n, invN) -> Σ loss
  const f = new Fn([I32, I32, I32, I32, F32], [F64]);
  const [z, t, dz, n, invN] = [0, 1, 2, 3, 4];
  const end = f.vectorEnd(z, n);
  const inv = f.splat(invN);
  const [acc0, acc1, zv, tv, e, r, s, l, a, term, u] = Array.from({ length: 11 }, () => f.local(V128));
  const ex = { n: f.local(V128), r: f.local(V128), z: f.local(V128) };
  const lg = { e: f.local(V128), m: f.local(V128), r: f.local(V128), z: f.local(V128), y: f.local(V128), big: f.local(V128) };
  f.whileBelow(z, end, () => {
    f.get(z).load().set(zv);
    f.get(t).load().set(tv);
    // e = exp(-min(|z|, 87))
    f.f32x4(0).get(zv).fAbs().f32x4(87).fPmin().fSub().set(u);
    emitExp(f, u, ex);
    f.set(e);
    // q = e/(1+e);  s = z ≥ 0 ? 1 − q : q  (1 − q, not 1/(1+e): rounds near 1 as a correctly rounded sigmoid does)
    f.get(e).f32x4(1).get(e).fAdd().fDiv().set(r);
    f.f32x4(1).get(r).fSub().get(r).get(zv).f32x4(0).fGe().bitselect().set(s);
    // dz = (ε ≤ s ≤ 1−ε) ? (s − t)·invN : 0
    f.get(dz).get(s).get(tv).fSub().get(inv).fMul();
    f.get(s).f32x4(CLIP_LO).fGe().get(s).f32x4(CLIP_HI).fLe().vAnd().vAnd().store();
    // l = ln(1 + e)
    f.f32x4(1).get(e).fAdd().set(u);
    emitLog(f, u, lg);
    f.set(l);
    // a = −ln(1−p) = min(max(z,0) + l, cap);  term = a + t·(−ln p − a)
    f.get(zv).f32x4(0).fMax().get(l).fAdd().f32x4(CAP_NEG_LN_1MP).fPmin().set(a);
    f.f32x4(0).get(zv).fSub().f32x4(0).fMax().get(l).fAdd().f32x4(CAP_NEG_LN_P).fPmin();
    f.get(a).fSub().get(tv).fMul().get(a).fAdd().set(term);
    emitAccumulateF64(f, term, acc0, acc1);
    f.bump(z, 16).bump(t, 16).bump(dz, 16);
  });
  emitHorizontalSum(f, acc0, acc1);
  return f;
}

function mse(): Fn {
  // (y, t, dz, n, scale) -> Σ (y-t)²; dz = (y-t)·scale
  const f = new Fn([I32, I32, I32, I32, F32], [F64]);
  const [y, t, dz, n, scale] = [0, 1, 2, 3, 4];
  const end = f.vectorEnd(y, n);
  const sc = f.splat(scale);
  const [acc0, acc1, d, sq] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.whileBelow(y, end, () => {
    f.get(y).load().get(t).load().fSub().set(d);
    f.get(dz).get(d).get(sc).fMul().store();
    f.get(d).get(d).fMul().set(sq);
    emitAccumulateF64(f, sq, acc0, acc1);
    f.bump(y, 16).bump(t, 16).bump(dz, 16);
  });
  emitHorizontalSum(f, acc0, acc1);
  return f;
}

function adam(): Fn {
  // (w, g, m, v, n, b1, b2, 1-b1, 1-b2, 1-acc1, 1-acc2, eps, -lr)
  const f = new Fn([I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32, F32], []);
  const [w, g, m, v, n] = [0, 1, 2, 3, 4];
  const end = f.vectorEnd(w, n);
  const [b1, b2, omb1, omb2, oma1, oma2, eps, nlr] = [5, 6, 7, 8, 9, 10, 11, 12].map((p) => f.splat(p));
  const [gv, mi, vi] = [f.local(V128), f.local(V128), f.local(V128)];
  f.whileBelow(w, end, () => {
    f.get(g).load().set(gv);
    // m = m·b1 + g·(1-b1);  v = v·b2 + g²·(1-b2)
    f.get(m).load().get(b1).fMul().get(gv).get(omb1).fMul().fAdd().set(mi);
    f.get(m).get(mi).store();
    f.get(v).load().get(b2).fMul().get(gv).get(gv).fMul().get(omb2).fMul().fAdd().set(vi);
    f.get(v).get(vi).store();
    // w = (m/(1-acc1)) / (sqrt(v/(1-acc2)) + eps) · (-lr) + w
    f.get(w);
    f.get(mi).get(oma1).fDiv();
    f.get(vi).get(oma2).fDiv().fSqrt().get(eps).fAdd();
    f.fDiv().get(nlr).fMul().get(w).load().fAdd().store();
    f.bump(w, 16).bump(g, 16).bump(m, 16).bump(v, 16);
  });
  return f;
}

function sgd(): Fn {
  // (w, g, n, c): w = c·g + w
  const f = new Fn([I32, I32, I32, F32], []);
  const [w, g, n] = [0, 1, 2];
  const end = f.vectorEnd(w, n);
  const c = f.splat(3);
  f.whileBelow(w, end, () => {
    f.get(w).get(c).get(g).load().fMul().get(w).load().fAdd().store();
    f.bump(w, 16).bump(g, 16);
  });
  return f;
}

/**
 * tfjs's RMSPropOptimizer, one variable:
 *   ms = ms·decay + g²·(1−decay)
 *   (centered: mg = mg·decay + g·(1−decay); d = ms − (mg² + eps); else d = ms + eps)
 *   mom = mom·momentum + (g·lr) / sqrt(d);   w = w − mom
 */
function rmsprop(centered: boolean): Fn {
  // (w, g, ms, mom, mg, n, decay, 1-decay, momentum, lr, eps)
  const f = new Fn([I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32], []);
  const [w, g, ms, mom, mg, n] = [0, 1, 2, 3, 4, 5];
  const end = f.vectorEnd(w, n);
  const [decay, omd, momentum, lr, eps] = [6, 7, 8, 9, 10].map((p) => f.splat(p));
  const [gv, msi, mgi, momi] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  f.whileBelow(w, end, () => {
    f.get(g).load().set(gv);
    f.get(ms).load().get(decay).fMul().get(gv).get(gv).fMul().get(omd).fMul().fAdd().set(msi);
    f.get(ms).get(msi).store();
    // (g·lr) / sqrt(d)
    f.get(gv).get(lr).fMul();
    if (centered) {
      f.get(mg).load().get(decay).fMul().get(gv).get(omd).fMul().fAdd().set(mgi);
      f.get(mg).get(mgi).store();
      f.get(msi).get(mgi).get(mgi).fMul().get(eps).fAdd().fSub();
    } else {
      f.get(msi).get(eps).fAdd();
    }
    f.fSqrt().fDiv();
    // mom = mom·momentum + that
    f.get(mom).load().get(momentum).fMul().fAdd().set(momi);
    f.get(mom).get(momi).store();
    f.get(w).get(w).load().get(momi).fSub().store();
    f.bump(w, 16).bump(g, 16).bump(ms, 16).bump(mom, 16);
    if (centered) f.bump(mg, 16);
  });
  return f;
}

function leakyReluForward(): Fn {
  // (x, n, alpha): x = x < 0 ? x·alpha : x
  const f = new Fn([I32, I32, F32], []);
  const [x, n] = [0, 1];
  const end = f.vectorEnd(x, n);
  const alpha = f.splat(2);
  const xv = f.local(V128);
  f.whileBelow(x, end, () => {
    f.get(x).load().set(xv);
    f.get(x).get(xv).get(alpha).fMul().get(xv).get(xv).f32x4(0).fLt().bitselect().store();
    f.bump(x, 16);
  });
  return f;
}

function reluForward(): Fn {
  // (x, n): x = x > 0 ? x : 0 (NaN becomes 0, as in the backend's own Relu)
  const f = new Fn([I32, I32], []);
  const [x, n] = [0, 1];
  const end = f.vectorEnd(x, n);
  const xv = f.local(V128);
  f.whileBelow(x, end, () => {
    f.get(x).load().set(xv);
    f.get(x).get(xv).get(xv).f32x4(0).fGt().vAnd().store();
    f.bump(x, 16);
  });
  return f;
}

/** (dz, a, n[, alpha]): dz *= act'(a), from the activation's output a. */
function activationBackward(kind: 'leakyRelu' | 'relu' | 'sigmoid' | 'tanh'): Fn {
  const f = new Fn(kind === 'leakyRelu' ? [I32, I32, I32, F32] : [I32, I32, I32], []);
  const [dz, a, n] = [0, 1, 2];
  const end = f.vectorEnd(dz, n);
  const alpha = kind === 'leakyRelu' ? f.splat(3) : -1;
  const [d, av] = [f.local(V128), f.local(V128)];
  f.whileBelow(dz, end, () => {
    f.get(dz).load().set(d);
    f.get(a).load().set(av);
    f.get(dz);
    if (kind === 'leakyRelu') f.get(d).get(d).get(alpha).fMul().get(av).f32x4(0).fGt().bitselect();
    else if (kind === 'relu') f.get(d).get(av).f32x4(0).fGt().vAnd();
    else if (kind === 'sigmoid') f.get(d).get(av).f32x4(1).get(av).fSub().fMul().fMul();
    else f.f32x4(1).get(av).get(av).fMul().fSub().get(d).fMul(); // (1 − a²)·dz, in tfjs's order
    f.store();
    f.bump(dz, 16).bump(a, 16);
  });
  return f;
}

function colSums(): Fn {
  // (x, rows, cols, out): out[j] = Σ_r x[r, j] for j < cols & ~3
  const f = new Fn([I32, I32, I32, I32], []);
  const [x, rows, cols, out] = [0, 1, 2, 3];
  const outEnd = f.vectorEnd(out, cols);
  const [q, row, rowEnd, p, xEnd] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  f.get(out).set(q);
  f.whileBelow(q, outEnd, () => {
    f.get(q).f32x4(0).store();
    f.bump(q, 16);
  });
  // xEnd = x + rows·cols·4
  f.get(x).get(rows).get(cols).mul().i32(2).shl().add().set(xEnd);
  f.get(x).set(row);
  f.whileBelow(row, xEnd, () => {
    f.get(row).get(outEnd).get(out).sub().add().set(rowEnd);
    f.get(row).set(p);
    f.get(out).set(q);
    f.whileBelow(p, rowEnd, () => {
      f.get(q).get(q).load().get(p).load().fAdd().store();
      f.bump(p, 16).bump(q, 16);
    });
    f.get(row).get(cols).i32(2).shl().add().set(row);
  });
  return f;
}

function mulInto(): Fn {
  // (dst, a, b, n): dst = a·b
  const f = new Fn([I32, I32, I32, I32], []);
  const [dst, a, b, n] = [0, 1, 2, 3];
  const end = f.vectorEnd(dst, n);
  f.whileBelow(dst, end, () => {
    f.get(dst).get(a).load().get(b).load().fMul().store();
    f.bump(dst, 16).bump(a, 16).bump(b, 16);
  });
  return f;
}

function addInto(): Fn {
  // (dst, src, n): dst += src
  const f = new Fn([I32, I32, I32], []);
  const [dst, src, n] = [0, 1, 2];
  const end = f.vectorEnd(dst, n);
  f.whileBelow(dst, end, () => {
    f.get(dst).get(dst).load().get(src).load().fAdd().store();
    f.bump(dst, 16).bump(src, 16);
  });
  return f;
}

/** Columns of the source per tile: the tile's destination rows stay in L1 while the rows of the source stream by. */
const TRANSPOSE_TILE = 64;

function transpose(): Fn {
  // (src, rows, cols, dst): dst[j, i] = src[i, j] for i < rows & ~3, j < cols & ~3, in column tiles.
  const f = new Fn([I32, I32, I32, I32], []);
  const [src, rows, cols, dst] = [0, 1, 2, 3];
  const [i, j, j0, jEnd, rows4, cols4, a, b, rowBytes, colBytes] = Array.from({ length: 10 }, () => f.local(I32));
  const r = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const t = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const lo = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
  const hi = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
  const low64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const high64 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  f.get(rows).i32(-4).and().set(rows4);
  f.get(cols).i32(-4).and().set(cols4);
  f.get(cols).i32(2).shl().set(rowBytes); // one source row
  f.get(rows).i32(2).shl().set(colBytes); // one destination row
  f.i32(0).set(j0);
  f.whileBelow(j0, cols4, () => {
    // jEnd = min(j0 + TILE, cols4)
    f.get(j0).i32(TRANSPOSE_TILE).add().get(cols4).get(j0).i32(TRANSPOSE_TILE).add().get(cols4).ltU().select().set(jEnd);
    f.i32(0).set(i);
    f.whileBelow(i, rows4, () => {
      f.get(j0).set(j);
      f.whileBelow(j, jEnd, () => {
        // a = src + (i·cols + j)·4;  b = dst + (j·rows + i)·4
        f.get(src).get(i).get(cols).mul().get(j).add().i32(2).shl().add().set(a);
        f.get(dst).get(j).get(rows).mul().get(i).add().i32(2).shl().add().set(b);
        for (let k = 0; k < 4; k++) {
          f.get(a).load().set(r[k]);
          if (k < 3) f.get(a).get(rowBytes).add().set(a);
        }
        f.get(r[0]).get(r[1]).shuffle(lo).set(t[0]); // a0 b0 a1 b1
        f.get(r[0]).get(r[1]).shuffle(hi).set(t[1]); // a2 b2 a3 b3
        f.get(r[2]).get(r[3]).shuffle(lo).set(t[2]); // c0 d0 c1 d1
        f.get(r[2]).get(r[3]).shuffle(hi).set(t[3]); // c2 d2 c3 d3
        const outs: [number, number, number[]][] = [[0, 2, low64], [0, 2, high64], [1, 3, low64], [1, 3, high64]];
        outs.forEach(([x, y, lanes], k) => {
          f.get(b).get(t[x]).get(t[y]).shuffle(lanes).store();
          if (k < 3) f.get(b).get(colBytes).add().set(b);
        });
        f.get(j).i32(4).add().set(j);
      });
      f.get(i).i32(4).add().set(i);
    });
    f.get(j0).i32(TRANSPOSE_TILE).add().set(j0);
  });
  return f;
}

function minMax(): Fn {
  // (x, n, out): out[0..3] = lane-wise min, out[4..7] = lane-wise max over x[0 .. n & ~3) (n ≥ 4); a NaN makes its lane NaN in both.
  // f32x4.min/max (which propagate NaNs) take several instructions each on x86 and chain every step on the last one;
  // pmin/pmax are one instruction each, here in four independent chains, and NaNs are tracked apart (v == v).
  // Only −0 and +0 compare equal to pmin/pmax: the range may then say 0 where Math.min says −0.
  const f = new Fn([I32, I32, I32], []);
  const [x, n, out] = [0, 1, 2];
  const end = f.vectorEnd(x, n);
  const end16 = f.local(I32);
  f.get(x).get(n).i32(-16).and().i32(2).shl().add().set(end16);
  const mn = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const mx = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const [v, ok] = [f.local(V128), f.local(V128)];
  f.get(x).load().set(v);
  for (let i = 0; i < 4; i++) f.get(v).tee(mn[i]).set(mx[i]);
  f.get(v).get(v).fEq().set(ok);
  const fold = (i: number) => {
    f.get(mn[i]).get(v).fPmin().set(mn[i]);
    f.get(mx[i]).get(v).fPmax().set(mx[i]);
    f.get(ok).get(v).get(v).fEq().vAnd().set(ok);
  };
  f.whileBelow(x, end16, () => {
    for (let i = 0; i < 4; i++) {
      f.get(x).load(16 * i).set(v);
      fold(i);
    }
    f.bump(x, 64);
  });
  f.whileBelow(x, end, () => {
    f.get(x).load().set(v);
    fold(0);
    f.bump(x, 16);
  });
  for (let i = 1; i < 4; i++) {
    f.get(mn[0]).get(mn[i]).fPmin().set(mn[0]);
    f.get(mx[0]).get(mx[i]).fPmax().set(mx[0]);
  }
  // Lanes that saw a NaN (ok = 0 there) become NaN.
  f.get(mn[0]).f32x4(NaN).get(ok).bitselect().set(mn[0]);
  f.get(mx[0]).f32x4(NaN).get(ok).bitselect().set(mx[0]);
  f.get(out).get(mn[0]).store();
  f.get(out).get(mx[0]).store(16);
  return f;
}

function addRowBias(): Fn {
  // (x, rows, cols, bias): x[r, j] += bias[r] for j < cols & ~3
  const f = new Fn([I32, I32, I32, I32], []);
  const [x, rows, cols, bias] = [0, 1, 2, 3];
  const [row, rowEnd, p, xEnd, bp] = [f.local(I32), f.local(I32), f.local(I32), f.local(I32), f.local(I32)];
  const bv = f.local(V128);
  f.get(x).get(rows).get(cols).mul().i32(2).shl().add().set(xEnd);
  f.get(x).set(row);
  f.get(bias).set(bp);
  f.whileBelow(row, xEnd, () => {
    f.get(bp).loadF32().splatF32().set(bv);
    f.get(row).get(cols).i32(-4).and().i32(2).shl().add().set(rowEnd);
    f.get(row).set(p);
    f.whileBelow(p, rowEnd, () => {
      f.get(p).get(p).load().get(bv).fAdd().store();
      f.bump(p, 16);
    });
    f.get(row).get(cols).i32(2).shl().add().set(row);
    f.bump(bp, 4);
  });
  return f;
}

// ---------------------------------------------------------------------------
// The JS side: instantiation, and the remainders.

/** The raw exports of the SIMD module: each does the multiple-of-4 part of its job (see SimdKernels for the rest). */
export interface SimdExports {
  bceLogits(z: number, t: number, dz: number, n: number, invN: number): number;
  mse(y: number, t: number, dz: number, n: number, scale: number): number;
  adam(w: number, g: number, m: number, v: number, n: number, b1: number, b2: number, omb1: number, omb2: number, oma1: number, oma2: number, eps: number, nlr: number): void;
  sgd(w: number, g: number, n: number, c: number): void;
  rmsprop(w: number, g: number, ms: number, mom: number, mg: number, n: number, decay: number, omd: number, momentum: number, lr: number, eps: number): void;
  rmspropCentered(w: number, g: number, ms: number, mom: number, mg: number, n: number, decay: number, omd: number, momentum: number, lr: number, eps: number): void;
  leakyReluForward(x: number, n: number, alpha: number): void;
  reluForward(x: number, n: number): void;
  leakyReluBackward(dz: number, a: number, n: number, alpha: number): void;
  reluBackward(dz: number, a: number, n: number): void;
  sigmoidBackward(dz: number, a: number, n: number): void;
  tanhBackward(dz: number, a: number, n: number): void;
  mul(dst: number, a: number, b: number, n: number): void;
  colSums(x: number, rows: number, cols: number, out: number): void;
  add(dst: number, src: number, n: number): void;
  transpose(src: number, rows: number, cols: number, dst: number): void;
  addRowBias(x: number, rows: number, cols: number, bias: number): void;
  minMax(x: number, n: number, out: number): void;
}

const moduleBytes: Partial<Record<'shared' | 'unshared', Uint8Array>> = {};
const compiled: Partial<Record<'shared' | 'unshared', WebAssembly.Module | null>> = {};
const instances = new WeakMap<WebAssembly.Memory, SimdKernels>();

/** The module's bytes, for an unshared memory (the backend's heap) or a shared one (exposed for tests). */
export function simdModuleBytes(shared = false): Uint8Array {
  return (moduleBytes[shared ? 'shared' : 'unshared'] ??= encodeModule([
    ['bceLogits', bceLogits()],
    ['mse', mse()],
    ['adam', adam()],
    ['sgd', sgd()],
    ['rmsprop', rmsprop(false)],
    ['rmspropCentered', rmsprop(true)],
    ['leakyReluForward', leakyReluForward()],
    ['reluForward', reluForward()],
    ['leakyReluBackward', activationBackward('leakyRelu')],
    ['reluBackward', activationBackward('relu')],
    ['sigmoidBackward', activationBackward('sigmoid')],
    ['tanhBackward', activationBackward('tanh')],
    ['mul', mulInto()],
    ['colSums', colSums()],
    ['add', addInto()],
    ['transpose', transpose()],
    ['addRowBias', addRowBias()],
    ['minMax', minMax()],
  ], shared));
}

/** The compiled module for an unshared or a shared memory, or null when this engine has no WebAssembly SIMD. */
export function simdModule(shared = false): WebAssembly.Module | null {
  const key = shared ? 'shared' : 'unshared';
  if (compiled[key] === undefined) {
    try {
      compiled[key] = new WebAssembly.Module(simdModuleBytes(shared) as BufferSource);
    } catch {
      compiled[key] = null;
    }
  }
  return compiled[key];
}

const f32 = Math.fround;

/**
 * The kernels, bound to one memory. Addresses are byte addresses; counts are
 * float counts. Each method does the whole job: the SIMD module does the
 * multiple-of-4 part and JS the rest, or JS all of it when the engine has no
 * WebAssembly SIMD. `heap()` must return the current Float32Array view of
 * that memory (it changes when the memory grows).
 */
export class SimdKernels {
  private constructor(private readonly k: SimdExports | null, private readonly heap: () => Float32Array) {}

  /** Whether the SIMD module runs (false: everything is done in JS). */
  get simd(): boolean {
    return this.k !== null;
  }

  /** The kernels on `memory`; `forceJs` skips the SIMD module (for tests and comparisons). */
  static for(memory: WebAssembly.Memory, heap: () => Float32Array, forceJs = false): SimdKernels {
    if (forceJs) return new SimdKernels(null, heap);
    const cached = instances.get(memory);
    if (cached) return cached;
    const module = simdModule(typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer);
    const kernels = new SimdKernels(module ? (new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdExports) : null, heap);
    instances.set(memory, kernels);
    return kernels;
  }

  /** Where the JS part starts: after the SIMD part when there is one. */
  private from(n: number): number {
    return this.k ? n & ~3 : 0;
  }

  /**
   * Sigmoid + cross-entropy from the logits z: writes dL/dz to dz (zero where
   * the sigmoid is clipped), returns Σ loss (positive) with the sigmoid
   * clipped to [1e-7, 1-1e-7] as binaryCrossentropy does.
   */
  bceLogits(z: number, t: number, dz: number, n: number, invN: number): number {
    let sum = this.k ? this.k.bceLogits(z, t, dz, n, invN) : 0;
    const h = this.heap();
    for (let i = this.from(n); i < n; i++) {
      const zi = h[(z >>> 2) + i];
      const ti = h[(t >>> 2) + i];
      const e = Math.exp(-Math.min(Math.abs(zi), 87));
      const s = f32(zi >= 0 ? 1 - e / (1 + e) : e / (1 + e));
      const l = Math.log1p(e);
      const negLnP = Math.min(Math.max(-zi, 0) + l, CAP_NEG_LN_P);
      const negLn1mP = Math.min(Math.max(zi, 0) + l, CAP_NEG_LN_1MP);
      sum += ti * negLnP + (1 - ti) * negLn1mP;
      h[(dz >>> 2) + i] = s >= CLIP_LO && s <= CLIP_HI ? f32(f32(s - ti) * invN) : 0;
    }
    return sum;
  }

  /** dz = (y - t)·scale; returns Σ (y - t)². */
  mse(y: number, t: number, dz: number, n: number, scale: number): number {
    let sum = this.k ? this.k.mse(y, t, dz, n, scale) : 0;
    const h = this.heap();
    for (let i = this.from(n); i < n; i++) {
      const d = f32(h[(y >>> 2) + i] - h[(t >>> 2) + i]);
      h[(dz >>> 2) + i] = f32(d * scale);
      sum += f32(d * d);
    }
    return sum;
  }

  adam(w: number, g: number, m: number, v: number, n: number, b1: number, b2: number, omb1: number, omb2: number, oma1: number, oma2: number, eps: number, nlr: number): void {
    this.k?.adam(w, g, m, v, n, b1, b2, omb1, omb2, oma1, oma2, eps, nlr);
    const h = this.heap();
    const [W, G, M, V] = [w >>> 2, g >>> 2, m >>> 2, v >>> 2];
    for (let i = this.from(n); i < n; i++) {
      const gi = h[G + i];
      const mi = f32(f32(h[M + i] * b1) + f32(gi * omb1));
      const vi = f32(f32(h[V + i] * b2) + f32(f32(gi * gi) * omb2));
      h[M + i] = mi;
      h[V + i] = vi;
      const upd = f32(f32(f32(mi / oma1) / f32(f32(Math.sqrt(f32(vi / oma2))) + eps)) * nlr);
      h[W + i] = f32(upd + h[W + i]);
    }
  }

  sgd(w: number, g: number, n: number, c: number): void {
    this.k?.sgd(w, g, n, c);
    const h = this.heap();
    for (let i = this.from(n); i < n; i++) h[(w >>> 2) + i] = f32(f32(c * h[(g >>> 2) + i]) + h[(w >>> 2) + i]);
  }

  /** tfjs's RMSprop (centered when `mg` is not 0): updates w, ms, mom (and mg) in place. */
  rmsprop(w: number, g: number, ms: number, mom: number, mg: number, n: number, decay: number, omd: number, momentum: number, lr: number, eps: number): void {
    const centered = mg !== 0;
    if (centered) this.k?.rmspropCentered(w, g, ms, mom, mg, n, decay, omd, momentum, lr, eps);
    else this.k?.rmsprop(w, g, ms, mom, mg, n, decay, omd, momentum, lr, eps);
    const h = this.heap();
    const [W, G, MS, MOM, MG] = [w >>> 2, g >>> 2, ms >>> 2, mom >>> 2, mg >>> 2];
    for (let i = this.from(n); i < n; i++) {
      const gi = h[G + i];
      const msi = f32(f32(h[MS + i] * decay) + f32(f32(gi * gi) * omd));
      h[MS + i] = msi;
      let d: number;
      if (centered) {
        const mgi = f32(f32(h[MG + i] * decay) + f32(gi * omd));
        h[MG + i] = mgi;
        d = f32(msi - f32(f32(mgi * mgi) + eps));
      } else {
        d = f32(msi + eps);
      }
      const momi = f32(f32(h[MOM + i] * momentum) + f32(f32(gi * lr) / f32(Math.sqrt(d))));
      h[MOM + i] = momi;
      h[W + i] = f32(h[W + i] - momi);
    }
  }

  leakyReluForward(x: number, n: number, alpha: number): void {
    this.k?.leakyReluForward(x, n, alpha);
    const h = this.heap();
    for (let i = (x >>> 2) + this.from(n), end = (x >>> 2) + n; i < end; i++) if (h[i] < 0) h[i] = f32(h[i] * alpha);
  }

  reluForward(x: number, n: number): void {
    this.k?.reluForward(x, n);
    const h = this.heap();
    for (let i = (x >>> 2) + this.from(n), end = (x >>> 2) + n; i < end; i++) if (!(h[i] > 0)) h[i] = 0;
  }

  leakyReluBackward(dz: number, a: number, n: number, alpha: number): void {
    this.k?.leakyReluBackward(dz, a, n, alpha);
    const h = this.heap();
    for (let i = this.from(n); i < n; i++) if (!(h[(a >>> 2) + i] > 0)) h[(dz >>> 2) + i] = f32(h[(dz >>> 2) + i] * alpha);
  }

  reluBackward(dz: number, a: number, n: number): void {
    this.k?.reluBackward(dz, a, n);
    const h = this.heap();
    for (let i = this.from(n); i < n; i++) if (!(h[(a >>> 2) + i] > 0)) h[(dz >>> 2) + i] = 0;
  }

  sigmoidBackward(dz: number, a: number, n: number): void {
    this.k?.sigmoidBackward(dz, a, n);
    const h = this.heap();
    for (let i = this.from(n); i < n; i++) {
      const y = h[(a >>> 2) + i];
      h[(dz >>> 2) + i] = f32(h[(dz >>> 2) + i] * f32(y * f32(1 - y)));
    }
  }

  tanhBackward(dz: number, a: number, n: number): void {
    this.k?.tanhBackward(dz, a, n);
    const h = this.heap();
    for (let i = this.from(n); i < n; i++) {
      const y = h[(a >>> 2) + i];
      h[(dz >>> 2) + i] = f32(f32(1 - f32(y * y)) * h[(dz >>> 2) + i]);
    }
  }

  /** dst = a·b (dst may be a or b). */
  mul(dst: number, a: number, b: number, n: number): void {
    this.k?.mul(dst, a, b, n);
    const h = this.heap();
    for (let i = this.from(n); i < n; i++) h[(dst >>> 2) + i] = f32(h[(a >>> 2) + i] * h[(b >>> 2) + i]);
  }

  /** out[j] = Σ_r x[r, j] (float32 sums, row by row). */
  colSums(x: number, rows: number, cols: number, out: number): void {
    this.k?.colSums(x, rows, cols, out);
    const h = this.heap();
    for (let j = this.from(cols); j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s = f32(s + h[(x >>> 2) + r * cols + j]);
      h[(out >>> 2) + j] = s;
    }
  }

  add(dst: number, src: number, n: number): void {
    this.k?.add(dst, src, n);
    const h = this.heap();
    for (let i = this.from(n); i < n; i++) h[(dst >>> 2) + i] = f32(h[(dst >>> 2) + i] + h[(src >>> 2) + i]);
  }

  /** x[r, j] += bias[r]: a bias per row (for a product computed transposed). */
  addRowBias(x: number, rows: number, cols: number, bias: number): void {
    this.k?.addRowBias(x, rows, cols, bias);
    const h = this.heap();
    for (let r = 0; r < rows; r++) {
      const b = h[(bias >>> 2) + r];
      for (let j = this.from(cols); j < cols; j++) h[(x >>> 2) + r * cols + j] = f32(h[(x >>> 2) + r * cols + j] + b);
    }
  }

  /**
   * [min, max] of x[0..n) (NaN when there is a NaN); `scratch` is the byte
   * address of 8 floats this may overwrite.
   */
  range(x: number, n: number, scratch: number): [number, number] {
    if (n === 0) return [NaN, NaN];
    let lo = Infinity;
    let hi = -Infinity;
    let from = 0;
    const h = () => this.heap();
    if (this.k && n >= 4) {
      this.k.minMax(x, n, scratch);
      const v = h().subarray(scratch >>> 2, (scratch >>> 2) + 8);
      lo = Math.min(v[0], v[1], v[2], v[3]);
      hi = Math.max(v[4], v[5], v[6], v[7]);
      from = n & ~3;
    }
    const a = h();
    for (let i = from; i < n; i++) {
      const vi = a[(x >>> 2) + i];
      lo = Math.min(lo, vi);
      hi = Math.max(hi, vi);
    }
    return [lo, hi];
  }

  /** dst[cols, rows] = src[rows, cols]ᵀ */
  transpose(src: number, rows: number, cols: number, dst: number): void {
    this.k?.transpose(src, rows, cols, dst);
    const rows4 = this.k ? rows & ~3 : 0;
    const cols4 = this.k ? cols & ~3 : 0;
    if (rows4 === rows && cols4 === cols) return;
    const h = this.heap();
    const s = src >>> 2;
    const d = dst >>> 2;
    for (let i = 0; i < rows; i++) {
      for (let j = i < rows4 ? cols4 : 0; j < cols; j++) h[d + j * rows + i] = h[s + i * cols + j];
    }
  }
}
