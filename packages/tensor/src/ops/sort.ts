import { checkArray, checkOptions } from '../check.js';
import { runPrimitive } from '../dispatch.js';
import { DTypeError, describe, ValueError } from '../errors.js';
import type { NDArray } from '../ndarray.js';
import { normalizeAxis } from '../shape.js';
import { zeros } from './creation.js';
import { disposing } from './temporaries.js';
import { slice } from './views.js';

/** Options of `sort` and `argsort`. */
export interface SortOptions {
  /** The axis to sort along. Default −1 (the last). */
  readonly axis?: number;
  /** Largest first. Default false (smallest first). */
  readonly descending?: boolean;
}

/** A stable sort along `axis` (default −1); NaN sorts as the largest value. */
export function sort(x: NDArray, options: SortOptions = {}): { values: NDArray; indices: NDArray } {
  checkArray('sort', x);
  checkOptions('sort', options);
  if (x.dtype === 'bool') throw new DTypeError('sort', 'cannot sort bool arrays');
  if (x.ndim === 0) return { values: x, indices: zeros([], { dtype: 'int32' }) };
  const axis = normalizeAxis('sort', options.axis ?? -1, x.ndim);
  const [values, indices] = runPrimitive('sort', [x], { axis, descending: options.descending ?? false }, [
    { shape: x.shape, dtype: x.dtype },
    { shape: x.shape, dtype: 'int32' },
  ]);
  return { values, indices };
}

/** The int32 indices that sort `x` along `axis`. */
export function argsort(x: NDArray, options: SortOptions = {}): NDArray {
  const { values, indices } = sort(x, options);
  if (values !== x) values.dispose();
  return indices;
}

/**
 * The `k` largest (or smallest) entries along `axis` and their indices, sorted, like
 * `torch.topk`. Ties keep the lower index first.
 */
export function topk(
  x: NDArray,
  k: number,
  options: { axis?: number; largest?: boolean } = {},
): { values: NDArray; indices: NDArray } {
  checkArray('topk', x);
  checkOptions('topk', options);
  if (x.dtype === 'bool') throw new DTypeError('topk', 'cannot rank bool arrays');
  const axis = normalizeAxis('topk', options.axis ?? -1, Math.max(x.ndim, 1));
  const n = x.ndim === 0 ? 1 : x.shape[axis];
  if (!Number.isInteger(k) || k < 0 || k > n) {
    throw new ValueError('topk', `k = ${describe(k)} is out of range for an axis of size ${n}`);
  }
  const { values, indices } = sort(x, { axis, descending: options.largest ?? true });
  if (x.ndim === 0) return { values, indices };
  const take = x.shape.map((_, i) => (i === axis ? { stop: k } : null));
  return disposing([values, indices], [x], () => ({
    values: slice(values, take),
    indices: slice(indices, take),
  }));
}
