import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import type { Tensor } from '../tensor.js';
import { constant } from './convert.js';
import { gather } from './indexing.js';

// Sorting picks positions (a constant int32 index) and gathers the values there, so the
// gradient flows through the selected values: each output's gradient lands on the input
// element it came from (PyTorch's convention). Ties keep the lower index first (stable).

/** Options of `sort` and `argsort`. */
export interface SortOptions {
  /** Default −1. */
  readonly axis?: number;
  /** Largest first (default false: smallest first). */
  readonly descending?: boolean;
}

/** Sorted (or top-k) values with the positions they came from. */
export interface ValuesIndices {
  /** The values, differentiable (the gradient flows back to where each came from). */
  readonly values: Tensor;
  /** int32 positions along the axis; a constant. */
  readonly indices: Tensor;
}

/** A stable sort along `axis` (NaN sorts as the largest value), like `torch.sort`. */
export function sort(x: Tensor, options: SortOptions = {}): ValuesIndices {
  checkTensor('sort', x);
  checkOptions('sort', options);
  return inLibrary(() => {
    const indices = constant(T.sort(x.peekValue(), options).indices);
    if (x.ndim === 0) return { values: x, indices };
    return { values: gather(x, options.axis ?? -1, indices), indices };
  });
}

/** The int32 positions that sort `x` along `axis`; a constant. */
export function argsort(x: Tensor, options: SortOptions = {}): Tensor {
  checkTensor('argsort', x);
  checkOptions('argsort', options);
  return inLibrary(() => constant(T.argsort(x.peekValue(), options)));
}

/** Options of `topk`. */
export interface TopkOptions {
  /** Default −1. */
  readonly axis?: number;
  /** The largest (default) or the smallest k. */
  readonly largest?: boolean;
}

/** The `k` largest (or smallest) entries along `axis`, sorted, and their indices (`torch.topk`). */
export function topk(x: Tensor, k: number, options: TopkOptions = {}): ValuesIndices {
  checkTensor('topk', x);
  checkOptions('topk', options);
  return inLibrary(() => {
    const indices = constant(T.topk(x.peekValue(), k, options).indices);
    if (x.ndim === 0) return { values: x, indices };
    return { values: gather(x, options.axis ?? -1, indices), indices };
  });
}
