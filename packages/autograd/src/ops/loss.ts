import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import { defineOp } from '../op.js';
import type { Tensor, TensorLike } from '../tensor.js';
import { logSigmoid, logSoftmax, sigmoid, softmax } from './activation.js';
import { constant, toTensor } from './convert.js';
import { abs, add, broadcastReference, div, log, mul, neg, sub, where } from './elementwise.js';
import { reshape } from './movement.js';
import { keptShape, mean, sum } from './reduce.js';
import { binaryShapes } from './samples.js';

// Functional losses, following torch.nn.functional. The two that need care for stability get
// fused ops: softmax cross-entropy (from logits) and binary cross-entropy with logits.

/** How a loss combines its per-element values: their mean, their sum, or none (per-element losses). */
export type Reduction = 'mean' | 'sum' | 'none';

/** Options every loss function takes. */
export interface LossOptions {
  /** 'mean' (default), 'sum', or 'none' for per-element losses. */
  readonly reduction?: Reduction;
}

const sameShape = (a: readonly number[], b: readonly number[]) =>
  a.length === b.length && a.every((d, i) => d === b[i]);

function checkReduction(op: string, reduction: Reduction | undefined): Reduction {
  const r = reduction ?? 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none') {
    throw new T.ValueError(op, `reduction must be 'mean', 'sum' or 'none', got '${String(r)}'`);
  }
  return r;
}

/** Applies the reduction; 'mean' divides the sum by `normalizer` when given, else by the count. */
function reduced(losses: Tensor, reduction: Reduction, normalizer?: () => Tensor | number): Tensor {
  if (reduction === 'none') return losses;
  if (reduction === 'sum') return sum(losses);
  return normalizer ? div(sum(losses), normalizer()) : mean(losses);
}

function checkFloat(op: string, name: string, x: Tensor): void {
  if (!T.isFloat(x.dtype)) throw new T.DTypeError(op, `${name} must be a float tensor, got ${x.dtype}`);
}

/**
 * The target as a tensor of the input's shape. A scalar broadcasts; any other shape must
 * match exactly: PyTorch only warns, but (N, 1) against (N,) would silently broadcast to (N, N).
 */
function elementwiseTarget(op: string, input: Tensor, target: TensorLike): Tensor {
  const t = toTensor(target, input);
  if (t.ndim !== 0 && !sameShape(t.shape, input.shape)) {
    throw new T.ShapeError(
      op,
      `target shape ${T.formatShape(t.shape)} differs from input shape ${T.formatShape(input.shape)}`,
    );
  }
  return t;
}

// ---- regression losses --------------------------------------------------------------------

/** Mean squared error (x − t)². */
export function mseLoss(input: Tensor, target: TensorLike, options: LossOptions = {}): Tensor {
  checkTensor('mseLoss', input, 'input');
  checkOptions('mseLoss', options);
  return inLibrary(() => {
    const reduction = checkReduction('mseLoss', options.reduction);
    const d = sub(input, elementwiseTarget('mseLoss', input, target));
    return reduced(mul(d, d), reduction);
  });
}

/** Mean absolute error |x − t|; the gradient at x = t is 0 (PyTorch's sign convention). */
export function l1Loss(input: Tensor, target: TensorLike, options: LossOptions = {}): Tensor {
  checkTensor('l1Loss', input, 'input');
  checkOptions('l1Loss', options);
  return inLibrary(() => {
    const reduction = checkReduction('l1Loss', options.reduction);
    return reduced(abs(sub(input, elementwiseTarget('l1Loss', input, target))), reduction);
  });
}

/** |d| < limit ? quadratic(d) : linear(|d|), with d = x − t; the branch mask is a constant. */
function piecewise(
  op: string,
  input: Tensor,
  target: TensorLike,
  limit: number,
  quadratic: (d: Tensor) => Tensor,
  linear: (a: Tensor) => Tensor,
): Tensor {
  const d = sub(input, elementwiseTarget(op, input, target));
  const a = abs(d);
  return where(constant(T.lt(a.peekValue(), limit)), quadratic(d), linear(a));
}

/** Huber loss: ½d² for |d| < delta, else delta·(|d| − ½delta) (torch.nn.functional.huber_loss). */
export function huberLoss(
  input: Tensor,
  target: TensorLike,
  options: LossOptions & { readonly delta?: number } = {},
): Tensor {
  checkOptions('huberLoss', options);
  checkTensor('huberLoss', input, 'input');
  return inLibrary(() => {
    const reduction = checkReduction('huberLoss', options.reduction);
    const delta = options.delta ?? 1;
    if (typeof delta !== 'number' || !(delta > 0))
      throw new T.ValueError('huberLoss', `delta must be positive, got ${T.describe(delta)}`);
    const losses = piecewise(
      'huberLoss',
      input,
      target,
      delta,
      (d) => mul(mul(d, d), 0.5),
      (a) => mul(sub(a, 0.5 * delta), delta),
    );
    return reduced(losses, reduction);
  });
}

/** Smooth L1: ½d²/beta for |d| < beta, else |d| − ½beta; beta = 0 is the L1 loss. */
export function smoothL1Loss(
  input: Tensor,
  target: TensorLike,
  options: LossOptions & { readonly beta?: number } = {},
): Tensor {
  checkOptions('smoothL1Loss', options);
  checkTensor('smoothL1Loss', input, 'input');
  return inLibrary(() => {
    const beta = options.beta ?? 1;
    if (typeof beta !== 'number' || !(beta >= 0))
      throw new T.ValueError('smoothL1Loss', `beta must be non-negative, got ${T.describe(beta)}`);
    if (beta === 0) return l1Loss(input, target, options);
    const reduction = checkReduction('smoothL1Loss', options.reduction);
    const losses = piecewise(
      'smoothL1Loss',
      input,
      target,
      beta,
      (d) => mul(mul(d, d), 0.5 / beta),
      (a) => sub(a, 0.5 * beta),
    );
    return reduced(losses, reduction);
  });
}

// ---- classification: class-index targets ---------------------------------------------------

/** Options of `nllLoss`. */
export interface NllLossOptions extends LossOptions {
  /** A rescaling weight per class (C,); a constant (no gradient flows into it). */
  readonly weight?: Tensor;
  /** Samples whose target equals this contribute nothing, not even to the mean (default −100). */
  readonly ignoreIndex?: number;
}

/** The class axis: 1 for (N, C, d1, …) inputs, 0 for a single (C,) sample. */
const classAxisOf = (input: Tensor) => (input.ndim === 1 ? 0 : 1);

/** The shape [C, 1, …] that lines a per-class vector up with the class axis (from the right). */
const classShape = (input: Tensor, axis: number) => [
  input.shape[axis],
  ...new Array<number>(input.ndim - axis - 1).fill(1),
];

function checkClassInput(op: string, input: Tensor, weight: Tensor | undefined): void {
  checkFloat(op, 'input', input);
  if (input.ndim === 0) throw new T.ShapeError(op, 'input must have a class axis, got a 0-d tensor');
  const classes = input.shape[classAxisOf(input)];
  if (weight !== undefined && !sameShape(weight.shape, [classes])) {
    throw new T.ShapeError(
      op,
      `weight must have shape [${classes}] (one per class), got ${T.formatShape(weight.shape)}`,
    );
  }
}

/** Class weights shaped to broadcast along the class axis, in the input's dtype. */
function alongClasses(input: Tensor, weight: Tensor): T.NDArray {
  return T.reshape(T.cast(weight.peekValue(), input.dtype), classShape(input, classAxisOf(input)));
}

const classWeightOf = (input: Tensor, weight: Tensor | undefined) =>
  weight ? alongClasses(input, weight) : 1;

interface ClassTargets {
  readonly axis: number;
  /** True at each counted sample's target class (bool, the input's shape). */
  readonly hot: T.NDArray;
  /** w[target] at the hot positions and 0 elsewhere (the input's shape and dtype). */
  readonly hotWeight: T.NDArray;
  /** 1 for counted samples, 0 for ignored ones, with a size-1 class axis. */
  readonly counted: T.NDArray;
}

/** Validates int32 class-index targets and encodes them against the input (all constants). */
function classTargets(
  op: string,
  input: Tensor,
  target: Tensor,
  weight: Tensor | undefined,
  ignoreIndex: number,
): ClassTargets {
  const axis = classAxisOf(input);
  const classes = input.shape[axis];
  const sampleShape = input.shape.filter((_, i) => i !== axis);
  if (target.dtype !== 'int32') {
    throw new T.DTypeError(op, `class-index targets must be int32, got ${target.dtype}`);
  }
  if (!sameShape(target.shape, sampleShape)) {
    throw new T.ShapeError(
      op,
      `target shape ${T.formatShape(target.shape)} does not fit input ${T.formatShape(input.shape)} (expected ${T.formatShape(sampleShape)})`,
    );
  }
  for (const v of T.checkValues(() => target.peekValue().toTypedArray()) as Int32Array) {
    if (v !== ignoreIndex && (v < 0 || v >= classes)) {
      throw new T.IndexError(op, `target ${v} is out of range for ${classes} classes`);
    }
  }
  const kept = T.unsqueeze(T.ne(target.peekValue(), ignoreIndex), axis);
  const classIds = T.reshape(T.arange(classes, undefined, 1, { dtype: 'int32' }), classShape(input, axis));
  const hot = T.logicalAnd(T.eq(T.unsqueeze(target.peekValue(), axis), classIds), kept);
  const hotWeight = T.cast(T.where(hot, classWeightOf(input, weight), 0), input.dtype);
  return { axis, hot, hotWeight, counted: T.cast(kept, input.dtype) };
}

/** The 'mean' normalizer of class-index losses: the total weight of the counted samples (a constant). */
const totalWeight = (hotWeight: T.NDArray) => () => constant(T.sum(hotWeight));

/**
 * Negative log-likelihood of class-index targets: loss_n = −w[y_n]·logProbs[n, y_n], classes on
 * axis 1 of an (N, C, d1, …) input (or a (C,) input with a 0-d target). 'mean' divides by
 * the total weight of the samples not ignored (NaN when all are ignored, as in PyTorch).
 */
export function nllLoss(logProbs: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  checkTensor('nllLoss', logProbs, 'logProbs');
  checkTensor('nllLoss', target, 'target');
  checkOptions('nllLoss', options);
  return inLibrary(() => {
    const reduction = checkReduction('nllLoss', options.reduction);
    checkClassInput('nllLoss', logProbs, options.weight);
    const { axis, hot, hotWeight } = classTargets(
      'nllLoss',
      logProbs,
      target,
      options.weight,
      options.ignoreIndex ?? -100,
    );
    // `where` rather than a product with the one-hot, so −inf at other classes cannot give NaN.
    const picked = where(constant(hot), logProbs, 0);
    return reduced(neg(sum(mul(picked, constant(hotWeight)), { axis })), reduction, totalWeight(hotWeight));
  });
}

// ---- cross-entropy from logits ---------------------------------------------------------------

type ClassAxis = { axis: number };

/** Per-sample −Σ_c q·logSoftmax(x) along `axis` on row-major values, for the spec reference. */
function crossEntropyReference(
  x: Float64Array,
  q: Float64Array,
  shape: readonly number[],
  axis: number,
): Float64Array {
  const size = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (c: number) => (o * size + c) * inner + i;
      let m = -Infinity;
      for (let c = 0; c < size; c++) m = Math.max(m, x[at(c)]);
      let total = 0;
      for (let c = 0; c < size; c++) total += Math.exp(x[at(c)] - m);
      const lse = m + Math.log(total);
      for (let c = 0; c < size; c++) out[o * inner + i] += q[at(c)] * (lse - x[at(c)]);
    }
  }
  return out;
}

/**
 * The fused loss ℓ = −Σ_c q_c·log softmax(x)_c along `axis`, for any (soft, weighted) target
 * distribution q. With s = Σ_c q_c its VJPs are g·(s·softmax(x) − q) for x and −g·logSoftmax(x)
 * for q, written with differentiable ops so that second derivatives work.
 */
const softmaxCrossEntropyOp = defineOp<ClassAxis>({
  name: 'softmaxCrossEntropy',
  forward: ([x, q], { axis }) => {
    if (!T.isFloat(x.dtype))
      throw new T.DTypeError('softmaxCrossEntropy', `logits must be float, got ${x.dtype}`);
    if (!sameShape(x.shape, q.shape)) {
      throw new T.ShapeError(
        'softmaxCrossEntropy',
        `targets ${T.formatShape(q.shape)} must have the logits' shape ${T.formatShape(x.shape)}`,
      );
    }
    const shifted = T.sub(x, T.max(x, { axis, keepdims: true }));
    const negLogp = T.sub(T.log(T.sum(T.exp(shifted), { axis, keepdims: true })), shifted);
    return T.sum(T.mul(q, negLogp), { axis });
  },
  vjp: ({ inputs: [x, q], params: { axis }, needsInputGrad }, [g]) => {
    const gk = reshape(g, keptShape(x.shape, [axis]));
    const mass = sum(q, { axis, keepdims: true });
    return [
      needsInputGrad[0] ? mul(gk, sub(mul(softmax(x, axis), mass), q)) : null,
      needsInputGrad[1] ? neg(mul(gk, logSoftmax(x, axis))) : null,
    ];
  },
  jvp: ({ inputs: [x, q], params: { axis } }, [tx, tq]) => {
    const mass = sum(q, { axis, keepdims: true });
    const dx = mul(sub(mul(softmax(x, axis), mass), q), tx);
    return [sum(sub(dx, mul(logSoftmax(x, axis), tq)), { axis })];
  },
  spec: {
    inputs: [{ range: [-4, 4] }, { range: [0, 1] }],
    samples: [
      { shapes: [[5], [5]], params: { axis: 0 } },
      {
        shapes: [
          [3, 4],
          [3, 4],
        ],
        params: { axis: 1 },
      },
      {
        shapes: [
          [2, 3, 2],
          [2, 3, 2],
        ],
        params: { axis: 1 },
      },
      {
        shapes: [
          [1, 1],
          [1, 1],
        ],
        params: { axis: 1 },
      },
    ],
    reference: ([x, q], [shape], { axis }) => [crossEntropyReference(x, q, shape, axis)],
    errors: [
      {
        shapes: [
          [3, 4],
          [3, 5],
        ],
        params: { axis: 1 },
        throws: T.ShapeError,
      },
      {
        shapes: [
          [3, 4],
          [3, 4],
        ],
        params: { axis: 1 },
        dtypes: ['int32', undefined],
        throws: T.DTypeError,
      },
    ],
  },
});

/** Options of `crossEntropy`. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** Mixes the target with the uniform distribution: (1 − ε)·target + ε/C (default 0). */
  readonly labelSmoothing?: number;
}

/**
 * Cross-entropy from unnormalized logits, like torch.nn.functional.cross_entropy: classes on
 * axis 1 of (N, C, d1, …) (or a single (C,) sample). `target` is either int32 class indices of
 * shape (N, d1, …), honouring `ignoreIndex` and `weight` ('mean' divides by the total weight of
 * the counted samples), or float class probabilities of the logits' shape ('mean' divides by
 * the number of samples; the target is differentiable). Stable for any finite logits: one
 * fused op whose gradient is (softmax·Σq − q) with q the smoothed, weighted target.
 */
export function crossEntropy(logits: Tensor, target: Tensor, options: CrossEntropyOptions = {}): Tensor {
  checkTensor('crossEntropy', logits, 'logits');
  checkTensor('crossEntropy', target, 'target');
  checkOptions('crossEntropy', options);
  return inLibrary(() => {
    const op = 'crossEntropy';
    const reduction = checkReduction(op, options.reduction);
    const smoothing = options.labelSmoothing ?? 0;
    if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing <= 1))
      throw new T.ValueError(op, `labelSmoothing must lie in [0, 1], got ${T.describe(smoothing)}`);
    checkClassInput(op, logits, options.weight);
    const axis = classAxisOf(logits);
    const classes = logits.shape[axis];
    if (T.isFloat(target.dtype)) {
      if (!sameShape(target.shape, logits.shape)) {
        throw new T.ShapeError(
          op,
          `probability targets ${T.formatShape(target.shape)} must have the logits' shape ${T.formatShape(logits.shape)}`,
        );
      }
      const smoothed = smoothing > 0 ? add(mul(target, 1 - smoothing), smoothing / classes) : target;
      const q = options.weight ? mul(smoothed, constant(alongClasses(logits, options.weight))) : smoothed;
      const losses = softmaxCrossEntropyOp.apply([logits, q], { axis })[0];
      return reduced(losses, reduction, () => logits.size / classes);
    }
    const { hotWeight, counted } = classTargets(
      op,
      logits,
      target,
      options.weight,
      options.ignoreIndex ?? -100,
    );
    const uniform = T.mul(T.mul(counted, classWeightOf(logits, options.weight)), smoothing / classes);
    const q = smoothing > 0 ? T.add(T.mul(hotWeight, 1 - smoothing), uniform) : hotWeight;
    const losses = softmaxCrossEntropyOp.apply([logits, constant(q)], { axis })[0];
    return reduced(losses, reduction, totalWeight(hotWeight));
  });
}

// ---- binary cross-entropy -------------------------------------------------------------------

type NoParams = Record<string, never>;

const stableBce = (x: number, t: number) => Math.max(x, 0) - x * t + Math.log1p(Math.exp(-Math.abs(x)));

/** max(x, 0) − x·t + log1p(e^{−|x|}), with VJPs g·(σ(x) − t) for x and −g·x for t. */
const bceWithLogitsOp = defineOp<NoParams>({
  name: 'binaryCrossEntropyWithLogits',
  forward: ([x, t]) => {
    if (!T.isFloat(x.dtype))
      throw new T.DTypeError('binaryCrossEntropyWithLogits', `logits must be float, got ${x.dtype}`);
    T.broadcastShapes('binaryCrossEntropyWithLogits', x.shape, t.shape);
    return T.add(T.sub(T.maximum(x, 0), T.mul(x, t)), T.log1p(T.exp(T.neg(T.abs(x)))));
  },
  vjp: ({ inputs: [x, t], needsInputGrad }, [g]) => [
    needsInputGrad[0] ? mul(g, sub(sigmoid(x), t)) : null,
    needsInputGrad[1] ? neg(mul(g, x)) : null,
  ],
  jvp: ({ inputs: [x, t] }, [tx, tt]) => [sub(mul(sub(sigmoid(x), t), tx), mul(x, tt))],
  spec: {
    inputs: [{ range: [-4, 4] }, { range: [0, 1] }],
    samples: binaryShapes,
    reference: ([x, t], shapes) => [broadcastReference(x, shapes[0], t, shapes[1], stableBce)],
    errors: [
      { shapes: [[2, 3], [4]], throws: T.ShapeError },
      { shapes: [[2], [2]], dtypes: ['int32', undefined], throws: T.DTypeError },
    ],
  },
});

/** Options of `binaryCrossEntropyWithLogits`. */
export interface BceWithLogitsOptions extends LossOptions {
  /** Rescales each element's loss (broadcast against the input). */
  readonly weight?: Tensor;
  /** Weight of the positive term, broadcast along the last (class) axis, e.g. (C,). */
  readonly posWeight?: TensorLike;
}

/**
 * Binary cross-entropy on logits, −[t·log σ(x) + (1 − t)·log(1 − σ(x))], computed stably as
 * max(x, 0) − x·t + log1p(e^{−|x|}) (torch.nn.functional.binary_cross_entropy_with_logits).
 * With `posWeight` p the positive term is scaled: (1 − t)·x − (1 + (p − 1)·t)·log σ(x).
 * Differentiable in both logits and target.
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: TensorLike,
  options: BceWithLogitsOptions = {},
): Tensor {
  checkTensor('binaryCrossEntropyWithLogits', logits, 'logits');
  checkOptions('binaryCrossEntropyWithLogits', options);
  return inLibrary(() => {
    const op = 'binaryCrossEntropyWithLogits';
    const reduction = checkReduction(op, options.reduction);
    checkFloat(op, 'logits', logits);
    const t = elementwiseTarget(op, logits, target);
    let losses: Tensor;
    if (options.posWeight === undefined) {
      losses = bceWithLogitsOp.apply([logits, t], {})[0];
    } else {
      const positiveScale = add(mul(sub(toTensor(options.posWeight, logits), 1), t), 1);
      losses = sub(mul(sub(1, t), logits), mul(positiveScale, logSigmoid(logits)));
    }
    return reduced(options.weight ? mul(losses, options.weight) : losses, reduction);
  });
}

/** log(p) clamped below at −100 (PyTorch's BCE convention); no gradient where clamped. */
function clampedLog(p: Tensor): Tensor {
  const usable = constant(T.gt(p.peekValue(), Math.exp(-100)));
  return where(usable, log(where(usable, p, 1)), -100);
}

/**
 * Binary cross-entropy on probabilities, −[t·log p + (1 − t)·log(1 − p)], with each log
 * clamped at −100 like PyTorch. Prefer binaryCrossEntropyWithLogits, which is stable.
 */
export function binaryCrossEntropy(
  probs: Tensor,
  target: TensorLike,
  options: LossOptions & { readonly weight?: Tensor } = {},
): Tensor {
  checkOptions('binaryCrossEntropy', options);
  checkTensor('binaryCrossEntropy', probs, 'probs');
  return inLibrary(() => {
    const op = 'binaryCrossEntropy';
    const reduction = checkReduction(op, options.reduction);
    checkFloat(op, 'input', probs);
    const outside = T.logicalOr(T.lt(probs.peekValue(), 0), T.gt(probs.peekValue(), 1));
    if (Number(T.checkValues(() => T.sum(outside).item())) > 0) {
      throw new T.ValueError(op, 'every input must lie in [0, 1] (probabilities)');
    }
    const t = elementwiseTarget(op, probs, target);
    const losses = neg(add(mul(t, clampedLog(probs)), mul(sub(1, t), clampedLog(sub(1, probs)))));
    return reduced(options.weight ? mul(losses, options.weight) : losses, reduction);
  });
}
