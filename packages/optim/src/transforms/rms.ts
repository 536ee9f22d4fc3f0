import * as T from '@tsgrad/tensor';
import * as S from '../scalar.js';
import { defineTransformation, type GradientTransformation, zerosLikeParams } from '../transform.js';
import * as V from '../validate.js';
import { movingAverage, movingAverageOfSquares } from './moments.js';

/** Options of `scaleByRmsprop`. */
export interface ScaleByRmspropOptions {
  /** The smoothing constant of the squared-gradient average (default 0.99). */
  readonly alpha?: number;
  /** Added to the denominator (default 1e-8). */
  readonly eps?: number;
  /** Normalize by the estimated variance instead of the second moment (default false). */
  readonly centered?: boolean;
}

/** The state of `scaleByRmsprop`. */
export interface RmspropState {
  /** The number of updates made. */
  readonly step: S.Scalar;
  /** The squared-gradient averages, one per parameter. */
  readonly squareAvg: readonly T.NDArray[];
  /** The moving average of gradients (centered RMSprop), created on first use. */
  readonly gradAvg: readonly (T.NDArray | null)[];
}

/**
 * RMSprop's direction (torch.optim.RMSprop): v ← αv + (1−α)g², then g / (√ṽ + ε) with ṽ = v,
 * or, centered, ṽ = v − ḡ² where ḡ ← αḡ + (1−α)g. Momentum is `traceMomentum` after it.
 */
export function scaleByRmsprop(options: ScaleByRmspropOptions = {}): GradientTransformation<RmspropState> {
  V.checkOptions(
    'scaleByRmsprop',
    { alpha: V.unitInterval, eps: V.nonNegative, centered: V.boolean },
    options,
  );
  const { alpha = 0.99, eps = 1e-8, centered = false } = options;
  return defineTransformation<RmspropState>({
    init: (params) => ({ step: 0, squareAvg: zerosLikeParams(params), gradAvg: params.map(() => null) }),
    update(grads, state) {
      const squareAvg = grads.map((g, i) => movingAverageOfSquares(state.squareAvg[i], g, alpha));
      const gradAvg = centered
        ? grads.map((g, i) => movingAverage(state.gradAvg[i] ?? T.zerosLike(g), g, alpha))
        : state.gradAvg;
      const updates = grads.map((g, i) => {
        const mean = gradAvg[i];
        const variance = centered && mean !== null ? T.sub(squareAvg[i], T.mul(mean, mean)) : squareAvg[i];
        return T.div(g, T.add(T.sqrt(variance), eps));
      });
      return { updates, state: { step: S.add(state.step, 1), squareAvg, gradAvg } };
    },
  });
}

/** Options of `scaleByAdagrad`. */
export interface ScaleByAdagradOptions {
  /** The update of step t is divided by 1 + (t − 1)·lrDecay (default 0). */
  readonly lrDecay?: number;
  /** Added to the denominator (default 1e-10). */
  readonly eps?: number;
  /** The starting value of the sums of squares (default 0). */
  readonly initialAccumulatorValue?: number;
}

/** The state of `scaleByAdagrad`. */
export interface AdagradState {
  /** The number of updates made. */
  readonly step: S.Scalar;
  /** The sums of squared gradients, one per parameter. */
  readonly sum: readonly T.NDArray[];
}

/**
 * Adagrad's direction (torch.optim.Adagrad): s ← s + g², then g / (√s + ε), divided by
 * 1 + (t−1)·lrDecay (the learning-rate decay of step t).
 */
export function scaleByAdagrad(options: ScaleByAdagradOptions = {}): GradientTransformation<AdagradState> {
  const rules = { lrDecay: V.nonNegative, eps: V.nonNegative, initialAccumulatorValue: V.nonNegative };
  V.checkOptions('scaleByAdagrad', rules, options);
  const { lrDecay = 0, eps = 1e-10, initialAccumulatorValue = 0 } = options;
  return defineTransformation<AdagradState>({
    init: (params) => ({
      step: 0,
      sum: params.map((p) => T.fullLike(p.value, initialAccumulatorValue)),
    }),
    update(grads, state) {
      const step = S.add(state.step, 1);
      const decay = S.add(1, S.mul(S.sub(step, 1), lrDecay));
      const sum = grads.map((g, i) => T.add(state.sum[i], T.mul(g, g)));
      const updates = grads.map((g, i) => {
        const direction = T.div(g, T.add(T.sqrt(sum[i]), eps));
        return decay === 1 ? direction : T.div(direction, S.operand(decay, direction.dtype));
      });
      return { updates, state: { step, sum } };
    },
  });
}

/** Options of `scaleByAdadelta`. */
export interface ScaleByAdadeltaOptions {
  /** The decay rate of the running averages (default 0.9). */
  readonly rho?: number;
  /** Added inside the square roots (default 1e-6). */
  readonly eps?: number;
}

/** The state of `scaleByAdadelta`. */
export interface AdadeltaState {
  /** The number of updates made. */
  readonly step: S.Scalar;
  /** The squared-gradient averages, one per parameter. */
  readonly squareAvg: readonly T.NDArray[];
  /** The squared-update averages, one per parameter. */
  readonly accDelta: readonly T.NDArray[];
}

/**
 * Adadelta's direction (torch.optim.Adadelta): v ← ρv + (1−ρ)g², Δ = √(u + ε)/√(v + ε) · g,
 * u ← ρu + (1−ρ)Δ²; the direction is Δ (torch's lr, default 1, scales it).
 */
export function scaleByAdadelta(options: ScaleByAdadeltaOptions = {}): GradientTransformation<AdadeltaState> {
  V.checkOptions('scaleByAdadelta', { rho: V.unitInterval, eps: V.nonNegative }, options);
  const { rho = 0.9, eps = 1e-6 } = options;
  return defineTransformation<AdadeltaState>({
    init: (params) => ({ step: 0, squareAvg: zerosLikeParams(params), accDelta: zerosLikeParams(params) }),
    update(grads, state) {
      const squareAvg = grads.map((g, i) => movingAverageOfSquares(state.squareAvg[i], g, rho));
      const updates = grads.map((g, i) => {
        const std = T.sqrt(T.add(squareAvg[i], eps));
        return T.mul(T.div(T.sqrt(T.add(state.accDelta[i], eps)), std), g);
      });
      const accDelta = updates.map((delta, i) => movingAverageOfSquares(state.accDelta[i], delta, rho));
      return { updates, state: { step: S.add(state.step, 1), squareAvg, accDelta } };
    },
  });
}
