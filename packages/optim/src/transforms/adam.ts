import * as T from '@tsgrad/tensor';
import * as S from '../scalar.js';
import { defineTransformation, type GradientTransformation, zerosLikeParams } from '../transform.js';
import * as V from '../validate.js';
import { movingAverage, movingAverageOfSquares } from './moments.js';

/** Options of `scaleByAdam`. */
export interface ScaleByAdamOptions {
  /** The decay rate of the first moment average (default 0.9). */
  readonly beta1?: number;
  /** The decay rate of the second moment average (default 0.999). */
  readonly beta2?: number;
  /** Added to the denominator (default 1e-8). */
  readonly eps?: number;
  /** Use the maximum of past second moments (AMSGrad; default false). */
  readonly amsgrad?: boolean;
}

/** The state of `scaleByAdam`. */
export interface AdamState {
  /** The number of updates made. */
  readonly step: S.Scalar;
  /** The first moment averages, one per parameter. */
  readonly expAvg: readonly T.NDArray[];
  /** The second moment averages, one per parameter. */
  readonly expAvgSq: readonly T.NDArray[];
  /** The running maximum of expAvgSq (AMSGrad), created on first use. */
  readonly maxExpAvgSq: readonly (T.NDArray | null)[];
}

const MOMENT_RULES = { beta1: V.beta, beta2: V.beta, eps: V.nonNegative } as const;

/**
 * Adam's direction, as torch.optim.Adam computes it: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
 * then (m / (1−β₁ᵗ)) / (√v / √(1−β₂ᵗ) + ε). AMSGrad uses the running maximum of v instead of v.
 */
export function scaleByAdam(options: ScaleByAdamOptions = {}): GradientTransformation<AdamState> {
  V.checkOptions('scaleByAdam', { ...MOMENT_RULES, amsgrad: V.boolean }, options);
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, amsgrad = false } = options;
  return defineTransformation<AdamState>({
    init: (params) => ({
      step: 0,
      expAvg: zerosLikeParams(params),
      expAvgSq: zerosLikeParams(params),
      maxExpAvgSq: params.map(() => null),
    }),
    update(grads, state) {
      const step = S.add(state.step, 1);
      const biasCorrection1 = S.sub(1, S.pow(beta1, step));
      const biasCorrection2Sqrt = S.sqrt(S.sub(1, S.pow(beta2, step)));
      const expAvg = grads.map((g, i) => movingAverage(state.expAvg[i], g, beta1));
      const expAvgSq = grads.map((g, i) => movingAverageOfSquares(state.expAvgSq[i], g, beta2));
      const maxExpAvgSq = amsgrad
        ? expAvgSq.map((v, i) => {
            const previous = state.maxExpAvgSq[i];
            return previous === null ? v : T.maximum(previous, v);
          })
        : state.maxExpAvgSq;
      const updates = expAvg.map((m, i) => {
        const v = amsgrad ? (maxExpAvgSq[i] as T.NDArray) : expAvgSq[i];
        const denominator = T.add(T.div(T.sqrt(v), S.operand(biasCorrection2Sqrt, v.dtype)), eps);
        return T.div(T.div(m, S.operand(biasCorrection1, m.dtype)), denominator);
      });
      return { updates, state: { step, expAvg, expAvgSq, maxExpAvgSq } };
    },
  });
}

/** Options of `scaleByAdamax`. */
export interface ScaleByAdamaxOptions {
  /** The decay rate of the first moment average (default 0.9). */
  readonly beta1?: number;
  /** The decay rate of the infinity norm (default 0.999). */
  readonly beta2?: number;
  /** Added to the denominator (default 1e-8). */
  readonly eps?: number;
}

/** The state of `scaleByAdamax`. */
export interface AdamaxState {
  /** The number of updates made. */
  readonly step: S.Scalar;
  /** The first moment averages, one per parameter. */
  readonly expAvg: readonly T.NDArray[];
  /** The exponentially weighted infinity norms, one per parameter. */
  readonly expInf: readonly T.NDArray[];
}

/**
 * Adamax's direction (torch.optim.Adamax): m ← β₁m + (1−β₁)g, u ← max(β₂u, |g| + ε), then
 * m / ((1−β₁ᵗ) u).
 */
export function scaleByAdamax(options: ScaleByAdamaxOptions = {}): GradientTransformation<AdamaxState> {
  V.checkOptions('scaleByAdamax', MOMENT_RULES, options);
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8 } = options;
  return defineTransformation<AdamaxState>({
    init: (params) => ({ step: 0, expAvg: zerosLikeParams(params), expInf: zerosLikeParams(params) }),
    update(grads, state) {
      const step = S.add(state.step, 1);
      const biasCorrection = S.sub(1, S.pow(beta1, step));
      const expAvg = grads.map((g, i) => movingAverage(state.expAvg[i], g, beta1));
      const expInf = grads.map((g, i) => T.maximum(T.mul(state.expInf[i], beta2), T.add(T.abs(g), eps)));
      const updates = expAvg.map((m, i) => T.div(m, T.mul(expInf[i], S.operand(biasCorrection, m.dtype))));
      return { updates, state: { step, expAvg, expInf } };
    },
  });
}

/** Options of `scaleByNadam`. */
export interface ScaleByNadamOptions {
  /** The decay rate of the first moment average (default 0.9). */
  readonly beta1?: number;
  /** The decay rate of the second moment average (default 0.999). */
  readonly beta2?: number;
  /** Added to the denominator (default 1e-8). */
  readonly eps?: number;
  /** ψ in μₜ = β₁(1 − ½·0.96^(tψ)). */
  readonly momentumDecay?: number;
}

/** The state of `scaleByNadam`. */
export interface NadamState {
  /** The number of updates made. */
  readonly step: S.Scalar;
  /** ∏ μᵢ for i ≤ step. */
  readonly muProduct: S.Scalar;
  /** The first moment averages, one per parameter. */
  readonly expAvg: readonly T.NDArray[];
  /** The second moment averages, one per parameter. */
  readonly expAvgSq: readonly T.NDArray[];
}

/**
 * NAdam's direction (torch.optim.NAdam, with the momentum schedule
 * μₜ = β₁(1 − ½·0.96^(tψ))): with m and v as in Adam and d = √(v/(1−β₂ᵗ)) + ε,
 * (1−μₜ)/(1−∏ᵢ≤ₜ μᵢ) · g/d + μₜ₊₁/(1−∏ᵢ≤ₜ₊₁ μᵢ) · m/d.
 */
export function scaleByNadam(options: ScaleByNadamOptions = {}): GradientTransformation<NadamState> {
  V.checkOptions('scaleByNadam', { ...MOMENT_RULES, momentumDecay: V.nonNegative }, options);
  const { beta1 = 0.9, beta2 = 0.999, eps = 1e-8, momentumDecay = 4e-3 } = options;
  const muAt = (step: S.Scalar) =>
    S.mul(beta1, S.sub(1, S.mul(0.5, S.pow(0.96, S.mul(step, momentumDecay)))));
  return defineTransformation<NadamState>({
    init: (params) => ({
      step: 0,
      muProduct: 1,
      expAvg: zerosLikeParams(params),
      expAvgSq: zerosLikeParams(params),
    }),
    update(grads, state) {
      const step = S.add(state.step, 1);
      const biasCorrection2 = S.sub(1, S.pow(beta2, step));
      const mu = muAt(step);
      const muNext = muAt(S.add(step, 1));
      const muProduct = S.mul(state.muProduct, mu);
      const gradWeight = S.div(S.sub(1, mu), S.sub(1, muProduct));
      const momentumWeight = S.div(muNext, S.sub(1, S.mul(muProduct, muNext)));
      const expAvg = grads.map((g, i) => movingAverage(state.expAvg[i], g, beta1));
      const expAvgSq = grads.map((g, i) => movingAverageOfSquares(state.expAvgSq[i], g, beta2));
      const updates = grads.map((g, i) => {
        const dtype = g.dtype;
        const denominator = T.add(T.sqrt(T.div(expAvgSq[i], S.operand(biasCorrection2, dtype))), eps);
        const weighted = T.add(
          T.mul(g, S.operand(gradWeight, dtype)),
          T.mul(expAvg[i], S.operand(momentumWeight, dtype)),
        );
        return T.div(weighted, denominator);
      });
      return { updates, state: { step, muProduct, expAvg, expAvgSq } };
    },
  });
}
