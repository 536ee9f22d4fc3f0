import * as T from '@tsgrad/tensor';
import { clipCoefficient, totalNorm } from '../norms.js';
import type * as S from '../scalar.js';
import {
  defineTransformation,
  type EmptyState,
  elementwise,
  type GradientTransformation,
  type Schedule,
} from '../transform.js';
import * as V from '../validate.js';

/** Multiplies every update by `factor`. */
export function scale(factor: number): GradientTransformation<EmptyState> {
  V.finite('scale', 'factor', factor);
  return elementwise((g) => T.mul(g, factor));
}

/** The number of updates made so far. */
export interface CountState {
  /** The number of updates made. */
  readonly count: S.Scalar;
}

/** Multiplies the updates by `schedule(count)`, where count is the number of earlier updates. */
export function scaleBySchedule(schedule: Schedule): GradientTransformation<CountState> {
  V.callable('scaleBySchedule', 'schedule', schedule);
  return defineTransformation<CountState>({
    init: () => ({ count: 0 }),
    update(grads, state) {
      if (typeof state.count !== 'number') {
        throw new T.ValueError(
          'scaleBySchedule',
          'a schedule is a JS function of the step, which a compiled update cannot trace: ' +
            'pass the learning rate to the compiled function instead (or use an LRScheduler with compileStep)',
        );
      }
      const factor = schedule(state.count);
      return { updates: grads.map((g) => T.mul(g, factor)), state: { count: state.count + 1 } };
    },
  });
}

/**
 * Scales by −lr, turning a descent direction into the update. `lr` is a number or a schedule
 * of the step (then the state counts steps).
 */
export function scaleByLearningRate(lr: number | Schedule): GradientTransformation<EmptyState | CountState> {
  V.learningRate('scaleByLearningRate', 'lr', lr);
  if (typeof lr === 'number') {
    return scale(-lr) as GradientTransformation<EmptyState | CountState>;
  }
  return scaleBySchedule((step) => -lr(step)) as GradientTransformation<EmptyState | CountState>;
}

/**
 * Adds `weightDecay · p` to each update. Before the optimizer's scaling this is PyTorch's
 * (coupled, L2) `weight_decay`; after it and before the learning rate it is the decoupled
 * weight decay of AdamW (p ← p − lr·wd·p).
 */
export function addDecayedWeights(weightDecay: number): GradientTransformation<EmptyState> {
  V.nonNegative('addDecayedWeights', 'weightDecay', weightDecay);
  return elementwise((g, p) => (weightDecay === 0 ? g : T.add(g, T.mul(p, weightDecay))));
}

/** Clamps every element to [−clipValue, clipValue] (like torch's `clip_grad_value_`). */
export function clipByValue(clipValue: number): GradientTransformation<EmptyState> {
  V.nonNegative('clipByValue', 'clipValue', clipValue);
  return elementwise((g) => T.minimum(T.maximum(g, -clipValue), clipValue));
}

/**
 * Rescales all updates together when their global `normType`-norm exceeds `maxNorm`, by the
 * same factor as torch's `clip_grad_norm_`: maxNorm / (norm + 1e-6).
 */
export function clipByGlobalNorm(maxNorm: number, normType = 2): GradientTransformation<EmptyState> {
  V.nonNegative('clipByGlobalNorm', 'maxNorm', maxNorm);
  V.normType('clipByGlobalNorm', 'normType', normType);
  return defineTransformation<EmptyState>({
    init: () => ({}),
    update(grads, state) {
      const coefficient = clipCoefficient(totalNorm('clipByGlobalNorm', grads, normType), maxNorm);
      return { updates: coefficient < 1 ? grads.map((g) => T.mul(g, coefficient)) : [...grads], state };
    },
  });
}
