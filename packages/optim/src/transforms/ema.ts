import * as T from '@tsgrad/tensor';
import * as S from '../scalar.js';
import { defineTransformation, type GradientTransformation } from '../transform.js';
import * as V from '../validate.js';
import { movingAverage } from './moments.js';

/** Options of `ema`. */
export interface EmaOptions {
  /** The weight of the old average in each update, in [0, 1]. */
  readonly decay: number;
  /**
   * Warm up the decay as min(decay, (1 + n)/(10 + n)) at the n-th update (TensorFlow's
   * `num_updates`, torch_ema's `use_num_updates`). Default false.
   */
  readonly useNumUpdates?: boolean;
}

/** The state of `ema`. */
export interface EmaState {
  /** The number of updates made. */
  readonly numUpdates: S.Scalar;
  /** The averaged parameters. */
  readonly shadow: readonly T.NDArray[];
}

export const EMA_RULES: V.Rules<EmaOptions> = { decay: V.unitInterval, useNumUpdates: V.boolean };

/** Checks the options of an EMA (the decay is required). */
export function checkEmaOptions(op: string, options: EmaOptions): void {
  V.checkOptions(op, EMA_RULES, options, ['decay']);
}

/** The decay of the `numUpdates`-th update (counted from 1). */
export function emaDecay(options: EmaOptions, numUpdates: number): number;
export function emaDecay(options: EmaOptions, numUpdates: S.Scalar): S.Scalar;
export function emaDecay(options: EmaOptions, numUpdates: S.Scalar): S.Scalar {
  const { decay, useNumUpdates = false } = options;
  return useNumUpdates ? S.minimum(decay, S.div(S.add(1, numUpdates), S.add(10, numUpdates))) : decay;
}

/** shadow ← d·shadow + (1 − d)·value for each parameter, in the parameter's dtype. */
export const averageInto = (shadow: readonly T.NDArray[], values: readonly T.NDArray[], decay: S.Scalar) =>
  values.map((v, i) => T.cast(movingAverage(shadow[i], v, decay), v.dtype));

/**
 * Keeps an exponential moving average of the parameters in its state: after each step, of the
 * new parameters p + u (so put it last in a chain). The updates pass through unchanged; read
 * the averages from `state.shadow`. The average starts at the initial parameters.
 */
export function ema(options: EmaOptions): GradientTransformation<EmaState> {
  checkEmaOptions('ema', options);
  return defineTransformation<EmaState>({
    init: (params) => ({ numUpdates: 0, shadow: params.map((p) => T.view(p.peekValue())) }),
    update(grads, state, params) {
      const numUpdates = S.add(state.numUpdates, 1);
      const next = params.map((p, i) => T.cast(T.add(p.value, grads[i]), p.dtype));
      const shadow = averageInto(state.shadow, next, emaDecay(options, numUpdates));
      return { updates: [...grads], state: { numUpdates, shadow } };
    },
  });
}
