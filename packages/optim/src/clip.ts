import { inLibrary, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { clipCoefficient, totalNorm } from './norms.js';
import * as V from './validate.js';

/** Options of `clipGradNorm`. */
export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or infinite (default false). */
  readonly errorIfNonfinite?: boolean;
}

/**
 * torch.nn.utils.clip_grad_norm_: scales the gradients of `params` in place so that their
 * total `normType`-norm (all gradients together) is at most `maxNorm`, by maxNorm / (norm + 1e-6).
 * Returns the total norm before clipping. Parameters without a gradient are skipped.
 */
export function clipGradNorm(
  params: Iterable<Tensor>,
  maxNorm: number,
  normType = 2,
  options: ClipGradNormOptions = {},
): number {
  V.nonNegative('clipGradNorm', 'maxNorm', maxNorm);
  V.checkOptions('clipGradNorm', { errorIfNonfinite: V.boolean }, options);
  const grads = gradientsOf('clipGradNorm', params);
  const norm = totalNorm(
    'clipGradNorm',
    grads.map((g) => g.peekValue()),
    normType,
  );
  if (options.errorIfNonfinite && !Number.isFinite(norm)) {
    throw new T.ValueError('clipGradNorm', `the total norm of order ${normType} of the gradients is ${norm}`);
  }
  const coefficient = clipCoefficient(norm, maxNorm);
  if (coefficient < 1) {
    inLibrary(() => {
      for (const g of grads) g.assign(T.mul(g.peekValue(), coefficient));
    });
  }
  return norm;
}

/** torch.nn.utils.clip_grad_value_: clamps every gradient element to [−clipValue, clipValue] in place. */
export function clipGradValue(params: Iterable<Tensor>, clipValue: number): void {
  V.nonNegative('clipGradValue', 'clipValue', clipValue);
  const grads = gradientsOf('clipGradValue', params);
  inLibrary(() => {
    for (const g of grads) g.assign(T.minimum(T.maximum(g.peekValue(), -clipValue), clipValue));
  });
}

/** The gradients of `params` that have one, read without handing them out (see `Tensor.grad`). */
function gradientsOf(op: string, params: Iterable<Tensor>): Tensor[] {
  return V.tensorList(op, 'params', params).flatMap((p) => {
    const g = p.peekGrad();
    return g === null ? [] : [g];
  });
}
