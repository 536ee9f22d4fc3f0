import * as T from '@tsgrad/tensor';
import { defineTransformation, type GradientTransformation, zerosLikeParams } from '../transform.js';
import * as V from '../validate.js';
import { movingAverage } from './moments.js';

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
  V.checkOptions('scaleByLion', { beta1: V.beta, beta2: V.beta }, options);
  const { beta1 = 0.9, beta2 = 0.99 } = options;
  return defineTransformation<LionState>({
    init: (params) => ({ expAvg: zerosLikeParams(params) }),
    update(grads, state) {
      const updates = grads.map((g, i) => T.sign(movingAverage(state.expAvg[i], g, beta1)));
      const expAvg = grads.map((g, i) => movingAverage(state.expAvg[i], g, beta2));
      return { updates, state: { expAvg } };
    },
  });
}
