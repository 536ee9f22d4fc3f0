import * as T from '@tsgrad/tensor';
import { check, defineTransformation, type GradientTransformation, zerosLikeParams } from '../transform.js';
import { isBeta, movingAverage } from './moments.js';

export interface ScaleByLionOptions {
  readonly beta1?: number;
  readonly beta2?: number;
}

export interface LionState {
  readonly expAvg: readonly T.NDArray[];
}

/**
 * Lion's direction (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"):
 * sign(β₁m + (1−β₁)g), then m ← β₂m + (1−β₂)g.
 */
export function scaleByLion(options: ScaleByLionOptions = {}): GradientTransformation<LionState> {
  const { beta1 = 0.9, beta2 = 0.99 } = options;
  check(isBeta(beta1), 'scaleByLion', `invalid beta1 ${beta1} (expected 0 ≤ beta1 < 1)`);
  check(isBeta(beta2), 'scaleByLion', `invalid beta2 ${beta2} (expected 0 ≤ beta2 < 1)`);
  return defineTransformation<LionState>({
    init: (params) => ({ expAvg: zerosLikeParams(params) }),
    update(grads, state) {
      const updates = grads.map((g, i) => T.sign(movingAverage(state.expAvg[i], g, beta1)));
      const expAvg = grads.map((g, i) => movingAverage(state.expAvg[i], g, beta2));
      return { updates, state: { expAvg } };
    },
  });
}
