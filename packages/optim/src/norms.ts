import { inLibrary } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import * as V from './validate.js';

/**
 * The `normType`-norm of all the arrays together, as if concatenated (torch's
 * `clip_grad_norm_` total norm), accumulated in float64. `Infinity` gives the largest |x|.
 */
export function totalNorm(op: string, arrays: readonly T.NDArray[], normType: number): number {
  V.normType(op, 'normType', normType);
  V.listOf(V.ndarray)(op, 'arrays', arrays);
  return inLibrary(() => {
    if (normType === Number.POSITIVE_INFINITY) {
      return arrays.reduce((m, a) => (a.size === 0 ? m : Math.max(m, T.max(T.abs(a)).item() as number)), 0);
    }
    let total = 0;
    for (const a of arrays) {
      const x = T.abs(T.cast(a, 'float64'));
      total += T.sum(normType === 2 ? T.mul(x, x) : T.pow(x, normType)).item() as number;
    }
    return total ** (1 / normType);
  });
}

/**
 * The factor torch's `clip_grad_norm_` scales gradients by: maxNorm / (norm + 1e-6), at most 1
 * (the 1e-6 keeps the division finite for a zero norm).
 */
export const clipCoefficient = (norm: number, maxNorm: number): number =>
  Math.min(maxNorm / (norm + 1e-6), 1);
