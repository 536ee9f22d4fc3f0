import { dropout, type Tensor } from '@tsgrad/autograd';
import * as T from '@tsgrad/tensor';
import { nextKey } from '../init.js';
import { Module, markBuiltIn } from '../module.js';

/** Options of `Dropout.forward`. */
export interface DropoutCallOptions {
  /** The key of this call's mask; the default generator (`manualSeed`) otherwise. */
  readonly key?: T.random.PRNGKey;
}

/**
 * PyTorch's `nn.Dropout`: in training mode zeroes each element with probability p and scales
 * the rest by 1/(1 − p); in eval mode it is the identity. Each call draws a fresh mask from
 * its `key` option or, without one, from the default generator, so a run is reproducible
 * under `manualSeed`.
 */
export class Dropout extends Module {
  /** @param p The probability of zeroing an element, in [0, 1] (default 0.5). */
  constructor(readonly p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1))
      throw new T.ValueError('Dropout', `p must lie in [0, 1], got ${T.describe(p)}`);
  }

  forward(x: Tensor, options: DropoutCallOptions = {}): Tensor {
    T.checkOptions('Dropout.forward', options);
    if (!this.training || this.p === 0) return x;
    return dropout(x, { p: this.p, key: options.key ?? nextKey(), training: true });
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

markBuiltIn(Dropout);
