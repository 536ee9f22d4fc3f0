import * as T from '@tsgrad/tensor';
import { checkOptions } from '@tsgrad/tensor';
import { checkTensor } from '../check.js';
import { inLibrary } from '../lifetime.js';
import type { Tensor } from '../tensor.js';
import { constant } from './convert.js';
import { mul } from './elementwise.js';

/** Options of `dropout`. */
export interface DropoutOptions {
  /** Probability of zeroing an element (default 0.5, as in PyTorch). */
  readonly p?: number;
  /** The PRNG key (`random.key(seed)`, split per call); required when it drops anything. */
  readonly key?: T.random.PRNGKey;
  /** When false, dropout is the identity (default true). */
  readonly training?: boolean;
}

/**
 * Inverted dropout: each element is zeroed with probability p and the survivors are scaled
 * by 1/(1 − p), so the expectation is unchanged. The mask is a constant drawn from `key`
 * (the same key gives the same mask); the gradient is the mask times the incoming gradient.
 */
export function dropout(x: Tensor, options: DropoutOptions = {}): Tensor {
  checkTensor('dropout', x);
  checkOptions('dropout', options);
  return inLibrary(() => {
    const p = options.p ?? 0.5;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1))
      throw new T.ValueError('dropout', `p must lie in [0, 1], got ${T.describe(p)}`);
    if (!T.isFloat(x.dtype)) throw new T.DTypeError('dropout', `expected a float input, got ${x.dtype}`);
    if (!(options.training ?? true) || p === 0) return x;
    if (p === 1) return mul(x, 0);
    if (options.key === undefined)
      throw new T.ValueError('dropout', 'needs a PRNG key (random.key(seed)) in training mode');
    const keep = T.random.bernoulli(options.key, 1 - p, x.shape);
    return mul(x, constant(T.mul(T.cast(keep, x.dtype), 1 / (1 - p))));
  });
}
