import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import type { InputSpec, OpSpec } from '../spec.js';
import type { OpContext, Tensor, TensorLike } from '../tensor.js';
import { constant, toTensor, withOperands } from './convert.js';
import {
  add,
  div,
  erf,
  exp,
  expm1,
  log1p,
  mul,
  neg,
  reciprocal,
  sqrt,
  sub,
  tanh,
  where,
} from './elementwise.js';
import { sum } from './reduce.js';
import { unaryShapes } from './samples.js';

// Activations. Most are compositions of differentiable ops; relu, sigmoid, logSigmoid,
// softmax and logSoftmax are fused ops (one tape node, a stable forward and a short VJP).
// Kinks follow PyTorch: the derivative at a kink is the one PyTorch's backward computes,
// noted on each function. Masks that pick a branch are constants computed from the values.

type NoParams = Record<string, never>;
const none: NoParams = {};

function checkNotBool(op: string, x: T.NDArray): void {
  if (x.dtype === 'bool') throw new T.DTypeError(op, 'expected a numeric tensor, got bool');
}

/** A fused unary op from a stable forward and its slope f'(x) written with differentiable ops. */
function fusedUnary(
  name: string,
  forward: (x: T.NDArray) => T.NDArray,
  slope: (x: Tensor, y: Tensor) => Tensor,
  spec: { input?: InputSpec<NoParams>; reference: (x: number) => number },
) {
  const slopeOf = ({ inputs, outputs }: OpContext<NoParams>) => slope(inputs[0], outputs[0]);
  const op = defineOp<NoParams>({
    name,
    forward: ([x]) => {
      checkNotBool(name, x);
      return forward(x);
    },
    vjp: (ctx, [g]) => [mul(g, slopeOf(ctx))],
    jvp: (ctx, [t]) => [mul(t, slopeOf(ctx))],
    save: { inputs: true, outputs: true },
    spec: {
      inputs: [spec.input ?? {}],
      samples: unaryShapes,
      reference: ([x]) => [x.map(spec.reference)],
      errors: [{ shapes: [[2]], dtypes: ['bool'], throws: T.DTypeError }],
    },
  });
  return (x: TensorLike): Tensor => withOperands(name, [x], () => op.apply([toTensor(x)], none)[0]);
}

/** Where x > 0, as a constant bool mask. */
const positive = (x: Tensor): Tensor => constant(T.gt(x.peekValue(), 0));

/** 1 where x > 0, else 0, as a constant of x's dtype. */
const positiveSlope = (x: Tensor): Tensor => constant(T.cast(T.gt(x.peekValue(), 0), x.dtype));

/** max(x, 0). relu'(0) = 0, as in PyTorch. */
export const relu = fusedUnary('relu', (x) => T.maximum(x, 0), positiveSlope, {
  input: { avoid: [0] },
  reference: (x) => Math.max(x, 0),
});

function stableSigmoid(x: T.NDArray): T.NDArray {
  const e = T.exp(T.neg(T.abs(x)));
  const r = T.reciprocal(T.add(e, 1));
  return T.where(T.ge(x, 0), r, T.mul(e, r));
}

/** 1 / (1 + e^{-x}), computed without overflow for large |x|; σ' = σ(1 − σ). */
export const sigmoid = fusedUnary('sigmoid', stableSigmoid, (_, y) => mul(y, sub(1, y)), {
  input: { range: [-6, 6] },
  reference: (x) => 1 / (1 + Math.exp(-x)),
});

/** log σ(x) = min(x, 0) − log1p(e^{−|x|}), finite for any x; its derivative is σ(−x). */
export const logSigmoid = fusedUnary(
  'logSigmoid',
  (x) => T.sub(T.minimum(x, 0), T.log1p(T.exp(T.neg(T.abs(x))))),
  (x) => sigmoid(neg(x)),
  { input: { range: [-6, 6] }, reference: (x) => -Math.log1p(Math.exp(-x)) },
);

/** Options of `leakyRelu`. */
export interface LeakyReluOptions {
  /** Slope for x ≤ 0 (default 0.01). */
  readonly negativeSlope?: number;
}

/** x for x > 0, else negativeSlope·x. The derivative at 0 is negativeSlope (PyTorch). */
export function leakyRelu(x: Tensor, options: LeakyReluOptions = {}): Tensor {
  checkTensor('leakyRelu', x);
  checkOptions('leakyRelu', options);
  return inLibrary(() => where(positive(x), x, mul(x, options.negativeSlope ?? 0.01)));
}

/** x for x > 0, else α(eˣ − 1). The derivative at 0 is α (PyTorch). */
export function elu(x: Tensor, options: { readonly alpha?: number } = {}): Tensor {
  checkTensor('elu', x);
  checkOptions('elu', options);
  return inLibrary(() => {
    const up = positive(x);
    // The exponential sees 0 on the positive side, so a huge x cannot make inf·0 = NaN in backward.
    const negativePart = mul(expm1(where(up, 0, x)), options.alpha ?? 1);
    return where(up, x, negativePart);
  });
}

const seluAlpha = 1.6732632423543772;
const seluScale = 1.0507009873554805;

/** scale·elu(x, α) with the self-normalizing constants of Klambauer et al. (2017). */
export function selu(x: Tensor): Tensor {
  checkTensor('selu', x);
  return inLibrary(() => mul(elu(x, { alpha: seluAlpha }), seluScale));
}

/** Options of `gelu`. */
export interface GeluOptions {
  /** 'none': x·Φ(x) with the exact erf; 'tanh': the tanh approximation. Default 'none'. */
  readonly approximate?: 'none' | 'tanh';
}

/** Gaussian error linear unit, x·Φ(x) (exact) or its tanh approximation, like torch.nn.functional.gelu. */
export function gelu(x: Tensor, options: GeluOptions = {}): Tensor {
  checkTensor('gelu', x);
  checkOptions('gelu', options);
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new T.ValueError('gelu', `approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  }
  return inLibrary(() => {
    if (approximate === 'none') return mul(mul(x, 0.5), add(erf(mul(x, Math.SQRT1_2)), 1));
    const inner = mul(add(x, mul(mul(mul(x, x), x), 0.044715)), Math.sqrt(2 / Math.PI));
    return mul(mul(x, 0.5), add(tanh(inner), 1));
  });
}

/** x·σ(x) (also called swish). */
export function silu(x: Tensor): Tensor {
  checkTensor('silu', x);
  return inLibrary(() => mul(x, sigmoid(x)));
}

/** Options of `softplus`. */
export interface SoftplusOptions {
  /** The sharpness β of log(1 + e^(βx)) / β (default 1). */
  readonly beta?: number;
  /** Above beta·x > threshold the result is x itself, as in PyTorch (default 20). */
  readonly threshold?: number;
}

/** log(1 + e^{βx})/β, linear where βx > threshold (PyTorch's convention). */
export function softplus(x: Tensor, options: SoftplusOptions = {}): Tensor {
  checkTensor('softplus', x);
  checkOptions('softplus', options);
  return inLibrary(() => {
    const beta = options.beta ?? 1;
    const scaled = mul(x, beta);
    const linear = constant(T.gt(scaled.peekValue(), options.threshold ?? 20));
    // exp sees 0 on the linear side, so its (unused) branch stays finite.
    const smooth = div(log1p(exp(where(linear, 0, scaled))), beta);
    return where(linear, x, smooth);
  });
}

/** Options of `clamp`: either bound may be omitted. */
export interface ClampOptions {
  /** The lower bound; none when omitted. */
  readonly min?: number;
  /** The upper bound; none when omitted. */
  readonly max?: number;
}

/** x clamped by the given bounds; the gradient passes only where `passes` holds (a constant mask). */
function clampParts(
  op: string,
  x: Tensor,
  min: number | undefined,
  max: number | undefined,
  passes: (v: T.NDArray) => T.NDArray,
) {
  if (min === undefined && max === undefined)
    throw new T.ValueError(op, 'at least one of min and max must be given');
  return inLibrary(() => {
    let clamped = x.peekValue();
    if (min !== undefined) clamped = T.maximum(clamped, min);
    if (max !== undefined) clamped = T.minimum(clamped, max);
    return where(constant(passes(x.peekValue())), x, constant(T.cast(clamped, x.dtype)));
  });
}

/**
 * Clamps into [min, max] (either may be omitted). The gradient is 1 where min ≤ x ≤ max,
 * boundaries included, and 0 outside, as in PyTorch.
 */
export function clamp(x: Tensor, options: ClampOptions): Tensor {
  checkTensor('clamp', x);
  const { min, max } = checkOptions('clamp', options);
  return clampParts('clamp', x, min, max, (v) => {
    const low = min === undefined ? T.full(v.shape, true, { dtype: 'bool' }) : T.ge(v, min);
    return max === undefined ? low : T.logicalAnd(low, T.le(v, max));
  });
}

/** Options of `hardtanh`. */
export interface HardtanhOptions {
  /** The lower bound (default −1). */
  readonly minVal?: number;
  /** The upper bound (default 1). */
  readonly maxVal?: number;
}

/**
 * Clamps into [minVal, maxVal] (default [−1, 1]). Unlike clamp, the gradient is 0 at the
 * boundaries themselves (PyTorch's hardtanh_backward).
 */
export function hardtanh(x: Tensor, options: HardtanhOptions = {}): Tensor {
  checkTensor('hardtanh', x);
  checkOptions('hardtanh', options);
  const min = options.minVal ?? -1;
  const max = options.maxVal ?? 1;
  return clampParts('hardtanh', x, min, max, (v) => T.logicalAnd(T.gt(v, min), T.lt(v, max)));
}

/** min(max(x, 0), 6); the gradient is 0 at 0 and at 6 (hardtanh's convention). */
export function relu6(x: Tensor): Tensor {
  checkTensor('relu6', x);
  return hardtanh(x, { minVal: 0, maxVal: 6 });
}

/** x². */
export function square(x: TensorLike): Tensor {
  return withOperands('square', [x], () => {
    const t = toTensor(x);
    return mul(t, t);
  });
}

/** 1 / √x. */
export function rsqrt(x: TensorLike): Tensor {
  return withOperands('rsqrt', [x], () => reciprocal(sqrt(toTensor(x))));
}

// ---- softmax and logSoftmax ----------------------------------------------------------------

/** The reduced axis as a list: empty for a 0-d input, where softmax is 1 (as in PyTorch). */
type SoftmaxParams = { axes: readonly number[] };

function softmaxAxes(op: string, x: Tensor, axis: number): number[] {
  // A 0-d tensor accepts axis 0 or -1, as in PyTorch.
  const at = T.normalizeAxis(op, axis, Math.max(x.ndim, 1));
  return x.ndim === 0 ? [] : [at];
}

/** x minus its maximum along the axes (the shift that keeps exp from overflowing), validated. */
function shifted(op: string, x: T.NDArray, axes: readonly number[]): T.NDArray {
  if (!T.isFloat(x.dtype)) throw new T.DTypeError(op, `expected a float tensor, got ${x.dtype}`);
  T.normalizeAxes(op, axes, x.ndim);
  // An empty input has no max to shift by, and needs none (PyTorch returns it empty too).
  if (x.size === 0) return x;
  return T.sub(x, T.max(x, { axis: axes, keepdims: true }));
}

/** Row-wise softmax/logSoftmax on row-major float64 values, for the spec references. */
function softmaxReference(
  x: Float64Array,
  shape: T.Shape,
  axes: readonly number[],
  log: boolean,
): Float64Array {
  const out = new Float64Array(x.length);
  if (axes.length === 0) return out.fill(log ? 0 : 1);
  const axis = axes[0];
  const size = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = x.length / (size * inner || 1);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (c: number) => (o * size + c) * inner + i;
      let m = -Infinity;
      for (let c = 0; c < size; c++) m = Math.max(m, x[at(c)]);
      let total = 0;
      for (let c = 0; c < size; c++) total += Math.exp(x[at(c)] - m);
      for (let c = 0; c < size; c++) {
        const logp = x[at(c)] - m - Math.log(total);
        out[at(c)] = log ? logp : Math.exp(logp);
      }
    }
  }
  return out;
}

function softmaxSpec(log: boolean): OpSpec<SoftmaxParams> {
  return {
    inputs: [{ range: [-4, 4] }],
    samples: [
      { shapes: [[5]], params: { axes: [0] } },
      { shapes: [[3, 4]], params: { axes: [1] } },
      { shapes: [[3, 4]], params: { axes: [0] } },
      { shapes: [[2, 1, 3]], params: { axes: [1] } },
      { shapes: [[2, 3, 2]], params: { axes: [1] } },
      { shapes: [[]], params: { axes: [] } },
    ],
    reference: ([x], [shape], { axes }) => [softmaxReference(x, shape, axes, log)],
    errors: [
      { shapes: [[2, 3]], params: { axes: [2] }, throws: T.IndexError },
      { shapes: [[2, 3]], params: { axes: [1] }, dtypes: ['int32'], throws: T.DTypeError },
    ],
  };
}

const softmaxOp = defineOp<SoftmaxParams>({
  name: 'softmax',
  forward: ([x], { axes }) => {
    const e = T.exp(shifted('softmax', x, axes));
    return T.div(e, T.sum(e, { axis: axes, keepdims: true }));
  },
  // y·(g − Σ g·y)
  vjp: ({ outputs: [y], params: { axes } }, [g]) => [
    mul(y, sub(g, sum(mul(g, y), { axis: axes, keepdims: true }))),
  ],
  jvp: ({ outputs: [y], params: { axes } }, [t]) => [
    mul(y, sub(t, sum(mul(t, y), { axis: axes, keepdims: true }))),
  ],
  save: { inputs: false, outputs: true },
  spec: softmaxSpec(false),
});

const logSoftmaxOp = defineOp<SoftmaxParams>({
  name: 'logSoftmax',
  forward: ([x], { axes }) => {
    const s = shifted('logSoftmax', x, axes);
    return T.sub(s, T.log(T.sum(T.exp(s), { axis: axes, keepdims: true })));
  },
  // g − softmax·Σg, with softmax = exp(y) (y ≤ 0, so it cannot overflow)
  vjp: ({ outputs: [y], params: { axes } }, [g]) => [
    sub(g, mul(exp(y), sum(g, { axis: axes, keepdims: true }))),
  ],
  jvp: ({ outputs: [y], params: { axes } }, [t]) => [
    sub(t, sum(mul(exp(y), t), { axis: axes, keepdims: true })),
  ],
  save: { inputs: false, outputs: true },
  spec: softmaxSpec(true),
});

/** exp(x) / Σ exp(x) along `axis` (default −1), stable for any finite x (shifts by the max). */
export function softmax(x: Tensor, axis = -1): Tensor {
  checkTensor('softmax', x);
  return softmaxOp.apply([x], { axes: softmaxAxes('softmax', x, axis) })[0];
}

/** x − logΣexp(x) along `axis` (default −1), stable for any finite x. */
export function logSoftmax(x: Tensor, axis = -1): Tensor {
  checkTensor('logSoftmax', x);
  return logSoftmaxOp.apply([x], { axes: softmaxAxes('logSoftmax', x, axis) })[0];
}
