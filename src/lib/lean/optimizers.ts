/**
 * The optimizers of the fast path: tfjs's Adam, SGD and RMSprop, applied in
 * place to the variables and to the optimizer's own slot variables
 * (`accumulatedFirstMoment`, `accBeta1`, `accumulatedMeanSquares`...), with
 * every operation rounded to float32 in the order tfjs's optimizers use. The
 * optimizer's state is the one the generic path would have, bit for bit, so
 * switching between the paths (or saving the optimizer) just works.
 */
import * as tf from '@tensorflow/tfjs';
import type { Param, StepRuntime } from './types';

const f32 = Math.fround;

type Slot = { originalName: string; variable: tf.Variable } | undefined;

interface AdamInternals {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: Slot[];
  accumulatedSecondMoment: Slot[];
  incrementIterations(): void;
}

interface SgdInternals {
  learningRate: number;
  incrementIterations(): void;
}

interface RmspropInternals {
  learningRate: number;
  decay: number;
  momentum: number;
  epsilon: number;
  centered: boolean;
  accumulatedMeanSquares: Slot[];
  accumulatedMoments: Slot[];
  accumulatedMeanGrads: Slot[];
  incrementIterations(): void;
}

/** An optimizer the fast path can apply. */
export interface UpdateRule {
  /** Creates (as tfjs would) and checks the optimizer's slots for these parameters; a reason when they do not fit. */
  prepare(params: Param[]): string | null;
  update(rt: StepRuntime, params: Param[]): void;
}

/** The optimizer's class name, for messages. */
export function optimizerName(o: tf.Optimizer): string {
  return o?.constructor?.name || 'an unknown optimizer';
}

/** A slot tfjs creates on first use: zeros shaped like the variable, named `<variable>/<suffix>`. */
function ensureSlot(slots: Slot[], p: Param, suffix: string): tf.Variable {
  slots[p.index] ??= { originalName: `${p.variable.name}/${suffix}`, variable: tf.tidy(() => tf.zerosLike(p.variable).variable(false)) };
  return slots[p.index]!.variable;
}

function sizeMismatch(slots: Slot[], params: Param[]): boolean {
  return params.some((p) => {
    const v = slots[p.index]?.variable;
    return v !== undefined && (v.size !== p.size || v.dtype !== 'float32');
  });
}

class Adam implements UpdateRule {
  private readonly slots: { m: tf.Variable; v: tf.Variable }[] = [];
  constructor(private readonly opt: AdamInternals) {}

  prepare(params: Param[]): string | null {
    const o = this.opt;
    if (sizeMismatch(o.accumulatedFirstMoment, params) || sizeMismatch(o.accumulatedSecondMoment, params)) return "the Adam optimizer's state belongs to other variables";
    for (const p of params) this.slots[p.index] = { m: ensureSlot(o.accumulatedFirstMoment, p, 'm'), v: ensureSlot(o.accumulatedSecondMoment, p, 'v') };
    return null;
  }

  update(rt: StepRuntime, params: Param[]): void {
    const opt = this.opt;
    const acc1 = rt.variable(opt.accBeta1, true);
    const acc2 = rt.variable(opt.accBeta2, true);
    let h = rt.f32;
    const a1 = h[acc1.off];
    const a2 = h[acc2.off];
    const b1 = f32(opt.beta1);
    const b2 = f32(opt.beta2);
    const omb1 = f32(1 - opt.beta1);
    const omb2 = f32(1 - opt.beta2);
    const oma1 = f32(1 - a1);
    const oma2 = f32(1 - a2);
    const eps = f32(opt.epsilon);
    const nlr = f32(-opt.learningRate);
    const vars = params.map((p) => {
      const slot = this.slots[p.index];
      return { w: rt.variable(p.variable, true).ptr, g: p.grad.ptr, m: rt.variable(slot.m, true).ptr, v: rt.variable(slot.v, true).ptr, n: p.size };
    });
    if (rt.simd.adamGroup) rt.simd.adamGroup(vars, b1, b2, omb1, omb2, oma1, oma2, eps, nlr);
    else for (const x of vars) rt.simd.adam(x.w, x.g, x.m, x.v, x.n, b1, b2, omb1, omb2, oma1, oma2, eps, nlr);
    h = rt.f32;
    h[acc1.off] = f32(a1 * b1);
    h[acc2.off] = f32(a2 * b2);
    opt.incrementIterations();
  }
}

class Sgd implements UpdateRule {
  constructor(private readonly opt: SgdInternals) {}
  prepare(): string | null {
    return null;
  }
  update(rt: StepRuntime, params: Param[]): void {
    const c = f32(-this.opt.learningRate);
    for (const p of params) rt.simd.sgd(rt.variable(p.variable, true).ptr, p.grad.ptr, p.size, c);
    this.opt.incrementIterations();
  }
}

class Rmsprop implements UpdateRule {
  private readonly slots: { ms: tf.Variable; mom: tf.Variable; mg: tf.Variable | null }[] = [];
  constructor(private readonly opt: RmspropInternals) {}

  prepare(params: Param[]): string | null {
    const o = this.opt;
    if ([o.accumulatedMeanSquares, o.accumulatedMoments, o.accumulatedMeanGrads].some((s) => sizeMismatch(s, params))) {
      return "the RMSprop optimizer's state belongs to other variables";
    }
    for (const p of params) {
      this.slots[p.index] = {
        ms: ensureSlot(o.accumulatedMeanSquares, p, 'rms'),
        mom: ensureSlot(o.accumulatedMoments, p, 'momentum'),
        mg: o.centered ? ensureSlot(o.accumulatedMeanGrads, p, 'mg') : null,
      };
    }
    return null;
  }

  update(rt: StepRuntime, params: Param[]): void {
    const o = this.opt;
    const [decay, omd, momentum, lr, eps] = [o.decay, 1 - o.decay, o.momentum, o.learningRate, o.epsilon].map(f32);
    for (const p of params) {
      const s = this.slots[p.index];
      const w = rt.variable(p.variable, true);
      const ms = rt.variable(s.ms, true);
      const mom = rt.variable(s.mom, true);
      const mg = s.mg ? rt.variable(s.mg, true).ptr : 0;
      rt.simd.rmsprop(w.ptr, p.grad.ptr, ms.ptr, mom.ptr, mg, p.size, decay, omd, momentum, lr, eps);
    }
    o.incrementIterations();
  }
}

/** The update rule for tfjs's Adam, SGD or RMSprop (exactly those classes: a subclass may compute anything), or why not. */
export function updateRuleFor(optimizer: tf.Optimizer): UpdateRule | string {
  const c = optimizer?.constructor;
  if (c === tf.AdamOptimizer) return new Adam(optimizer as unknown as AdamInternals);
  if (c === tf.SGDOptimizer) return new Sgd(optimizer as unknown as SgdInternals);
  if (c === tf.RMSPropOptimizer) return new Rmsprop(optimizer as unknown as RmspropInternals);
  return `the optimizer ${optimizerName(optimizer)} (the fast path runs Adam, SGD and RMSprop)`;
}
