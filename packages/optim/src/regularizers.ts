import * as A from '@tsgrad/autograd';
import { inLibrary } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import * as V from './validate.js';

function penalty(op: string, params: Iterable<A.Tensor>, lambda: number, term: (p: A.Tensor) => A.Tensor) {
  V.nonNegative(op, 'lambda', lambda);
  const list = V.tensorList(op, 'params', params);
  return inLibrary(() => {
    const terms = list.map(term);
    if (terms.length === 0) return A.full([], 0);
    return A.mul(
      terms.reduce((total, t) => A.add(total, t)),
      lambda,
    );
  });
}

/** λ·Σ|p| over all elements of all `params`: a differentiable loss term (L1 regularization). */
export const l1Penalty = (params: Iterable<A.Tensor>, lambda: number): A.Tensor =>
  penalty('l1Penalty', params, lambda, (p) => A.sum(A.abs(p)));

/**
 * λ·Σp² over all elements of all `params` (Keras' L2, the usual hand-written PyTorch term):
 * a differentiable loss term whose gradient 2λp equals SGD's `weightDecay` = 2λ.
 */
export const l2Penalty = (params: Iterable<A.Tensor>, lambda: number): A.Tensor =>
  penalty('l2Penalty', params, lambda, (p) => A.sum(A.square(p)));

/** Options of `maxNorm`. */
export interface MaxNormOptions {
  /** The axes each norm is taken over; by default every axis but the first (each row of a torch weight). */
  readonly axis?: number | readonly number[];
  /** The p of the p-norm (default 2). */
  readonly normType?: number;
}

/**
 * The max-norm constraint (Keras' MaxNorm, torch.renorm): rescales in place every slice whose
 * norm over `axis` exceeds `maxNorm` down to norm maxNorm (by maxNorm / (norm + 1e-7), as
 * torch.renorm); the others are left alone. Call it after each optimizer step.
 */
export function maxNormConstraint(
  params: Iterable<A.Tensor>,
  maxNorm: number,
  options: MaxNormOptions = {},
): void {
  const op = 'maxNormConstraint';
  V.nonNegative(op, 'maxNorm', maxNorm);
  V.checkOptions(op, { axis: V.any, normType: V.normType }, options);
  const { normType = 2 } = options;
  const list = V.tensorList(op, 'params', params);
  inLibrary(() => {
    for (const p of list) constrain(p, maxNorm, normType, options.axis);
  });
}

/** Rescales the slices of `p` whose norm over `axis` exceeds `maxNorm`. */
function constrain(p: A.Tensor, maxNorm: number, normType: number, axis: MaxNormOptions['axis']): void {
  const axes =
    axis === undefined
      ? Array.from({ length: Math.max(p.ndim - 1, 0) }, (_, i) => i + 1)
      : T.normalizeAxes('maxNormConstraint', axis, p.ndim);
  const magnitude = T.abs(p.peekValue());
  const norms =
    axes.length === 0
      ? magnitude
      : normType === Number.POSITIVE_INFINITY
        ? T.max(magnitude, { axis: axes, keepdims: true })
        : T.pow(T.sum(T.pow(magnitude, normType), { axis: axes, keepdims: true }), 1 / normType);
  const factor = T.where(T.gt(norms, maxNorm), T.div(maxNorm, T.add(norms, 1e-7)), 1);
  p.assign(T.cast(T.mul(p.peekValue(), factor), p.dtype));
}
