import * as T from '@tsgrad/tensor';
import { defineTransformation, type GradientTransformation } from '../transform.js';
import * as V from '../validate.js';

/** Options of `traceMomentum`. */
export interface TraceMomentumOptions {
  /** The momentum factor. */
  readonly momentum: number;
  /** The gradient enters the buffer scaled by 1 − dampening (default 0). */
  readonly dampening?: number;
  /** Use Nesterov momentum (default false). */
  readonly nesterov?: boolean;
}

/** One momentum buffer per parameter, created (as the first gradient) on first use. */
export interface MomentumState {
  /** The buffers, one per parameter (null until its first gradient). */
  readonly momentumBuffer: readonly (T.NDArray | null)[];
}

/**
 * Heavy-ball momentum as in torch.optim.SGD: b ← g on the first step, then
 * b ← μ·b + (1 − τ)·g; the update is b, or g + μ·b with Nesterov. With μ = 0 the gradients
 * pass through and no buffer is kept.
 */
export function traceMomentum(options: TraceMomentumOptions): GradientTransformation<MomentumState> {
  const rules = { momentum: V.nonNegative, dampening: V.nonNegative, nesterov: V.boolean };
  V.checkOptions('traceMomentum', rules, options, ['momentum']);
  const { momentum, dampening = 0, nesterov = false } = options;
  V.check(
    !nesterov || (momentum > 0 && dampening === 0),
    'traceMomentum',
    `Nesterov momentum requires a momentum > 0 and zero dampening (got momentum ${momentum}, dampening ${dampening})`,
  );
  return defineTransformation<MomentumState>({
    init: (params) => ({ momentumBuffer: params.map(() => null) }),
    update(grads, state) {
      if (momentum === 0) return { updates: [...grads], state };
      const buffers = grads.map((g, i) => {
        const buffer = state.momentumBuffer[i];
        return buffer === null ? g : T.add(T.mul(buffer, momentum), T.mul(g, 1 - dampening));
      });
      const updates = nesterov ? grads.map((g, i) => T.add(g, T.mul(buffers[i], momentum))) : buffers;
      return { updates, state: { momentumBuffer: buffers } };
    },
  });
}
