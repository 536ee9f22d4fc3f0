import * as T from '@tsgrad/tensor';
import { defineTransformation, type GradientTransformation, zerosLikeParams } from '../transform.js';
import * as V from '../validate.js';
import { movingAverage } from './moments.js';

/** Options of `scaleByLion`. */
export interface ScaleByLionOptions {
  /** Interpolates between momentum and gradient for the update's sign (default 0.9). */
  readonly beta1?: number;
  /** The decay rate of the momentum (default 0.99). */
  readonly beta2?: number;
}

/** The state of `scaleByLion`. */
export interface LionState {
  /** The momentum, one per parameter. */
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
