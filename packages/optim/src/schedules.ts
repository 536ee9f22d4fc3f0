import type { Schedule } from './transform.js';
import * as V from './validate.js';

// Learning-rate schedules as pure functions of the step (counted from 0), each the closed form
// of the torch.optim.lr_scheduler class of the same idea. `LRScheduler` drives an optimizer
// from them; the functional optimizers take them as `lr` directly.

/** Always `value`. */
export function constantSchedule(value: number): Schedule {
  V.finite('constantSchedule', 'value', value);
  return () => value;
}

/** Options of `stepSchedule`. */
export interface StepScheduleOptions {
  /** The initial learning rate. */
  readonly lr: number;
  /** The number of steps between two decays. */
  readonly stepSize: number;
  /** The factor applied at each decay (default 0.1). */
  readonly gamma?: number;
}

/** StepLR: lr·γ^⌊t / stepSize⌋. */
export function stepSchedule(options: StepScheduleOptions): Schedule {
  V.checkOptions(
    'stepSchedule',
    { lr: V.nonNegative, stepSize: V.positiveInteger, gamma: V.nonNegative },
    options,
    ['lr', 'stepSize'],
  );
  const { lr, stepSize, gamma = 0.1 } = options;
  return (t) => lr * gamma ** Math.floor(t / stepSize);
}

/** Options of `multiStepSchedule`. */
export interface MultiStepScheduleOptions {
  /** The initial learning rate. */
  readonly lr: number;
  /** The increasing steps at which the rate decays. */
  readonly milestones: readonly number[];
  /** The factor applied at each milestone (default 0.1). */
  readonly gamma?: number;
}

/** MultiStepLR: lr·γ^(number of milestones ≤ t). */
export function multiStepSchedule(options: MultiStepScheduleOptions): Schedule {
  const rules = { lr: V.nonNegative, milestones: V.listOf(V.count), gamma: V.nonNegative };
  V.checkOptions('multiStepSchedule', rules, options, ['lr', 'milestones']);
  const { lr, milestones, gamma = 0.1 } = options;
  V.check(
    milestones.every((m, i) => i === 0 || m >= milestones[i - 1]),
    'multiStepSchedule',
    `milestones must be increasing, got [${milestones}]`,
  );
  return (t) => lr * gamma ** milestones.filter((m) => m <= t).length;
}

/** Options of `exponentialSchedule`. */
export interface ExponentialScheduleOptions {
  /** The initial learning rate. */
  readonly lr: number;
  /** The factor applied at every step. */
  readonly gamma: number;
}

/** ExponentialLR: lr·γᵗ. */
export function exponentialSchedule(options: ExponentialScheduleOptions): Schedule {
  const rules = { lr: V.nonNegative, gamma: V.nonNegative };
  V.checkOptions('exponentialSchedule', rules, options, ['lr', 'gamma']);
  const { lr, gamma } = options;
  return (t) => lr * gamma ** t;
}

/** Options of `cosineAnnealingSchedule`. */
export interface CosineAnnealingScheduleOptions {
  /** The initial (largest) learning rate. */
  readonly lr: number;
  /** The number of steps of the half cosine from lr down to etaMin. */
  readonly tMax: number;
  /** The smallest learning rate (default 0). */
  readonly etaMin?: number;
}

/** CosineAnnealingLR's closed form: η_min + (lr − η_min)(1 + cos(πt / T_max))/2. */
export function cosineAnnealingSchedule(options: CosineAnnealingScheduleOptions): Schedule {
  const rules = { lr: V.nonNegative, tMax: V.positive, etaMin: V.nonNegative };
  V.checkOptions('cosineAnnealingSchedule', rules, options, ['lr', 'tMax']);
  const { lr, tMax, etaMin = 0 } = options;
  return (t) => etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
}

/** Options of `cosineAnnealingWarmRestartsSchedule`. */
export interface CosineAnnealingWarmRestartsScheduleOptions {
  /** The learning rate at the start of each period. */
  readonly lr: number;
  /** The length of the first period. */
  readonly t0: number;
  /** Each period is tMult times longer than the one before. */
  readonly tMult?: number;
  /** The smallest learning rate (default 0). */
  readonly etaMin?: number;
}

/**
 * CosineAnnealingWarmRestarts (SGDR): cosine annealing from lr to η_min over periods of
 * T₀, T₀·T_mult, T₀·T_mult², …, restarting at lr at the start of each.
 */
export function cosineAnnealingWarmRestartsSchedule(
  options: CosineAnnealingWarmRestartsScheduleOptions,
): Schedule {
  const rules = { lr: V.nonNegative, t0: V.positiveInteger, tMult: V.positiveInteger, etaMin: V.nonNegative };
  V.checkOptions('cosineAnnealingWarmRestartsSchedule', rules, options, ['lr', 't0']);
  const { lr, t0, tMult = 1, etaMin = 0 } = options;
  return (t) => {
    let start = 0;
    let period = t0;
    if (tMult === 1) start = Math.floor(t / t0) * t0;
    else {
      while (t >= start + period) {
        start += period;
        period *= tMult;
      }
    }
    return etaMin + ((lr - etaMin) * (1 + Math.cos((Math.PI * (t - start)) / period))) / 2;
  };
}

/** Options of `linearSchedule`. */
export interface LinearScheduleOptions {
  /** The value at step 0. */
  readonly start: number;
  /** The value from step `steps` on. */
  readonly end: number;
  /** Steps to go from start to end; constant at end afterwards. */
  readonly steps: number;
}

/** A straight line from `start` to `end` over `steps` steps (LinearLR, in absolute values). */
export function linearSchedule(options: LinearScheduleOptions): Schedule {
  const rules = { start: V.finite, end: V.finite, steps: V.positive };
  V.checkOptions('linearSchedule', rules, options, ['start', 'end', 'steps']);
  const { start, end, steps } = options;
  return (t) => start + ((end - start) * Math.min(t, steps)) / steps;
}

/** Options of `polynomialSchedule`. */
export interface PolynomialScheduleOptions {
  /** The initial learning rate. */
  readonly lr: number;
  /** The step at which the rate reaches endLr (and stays). */
  readonly totalSteps: number;
  /** The exponent of the decay (default 1: linear). */
  readonly power?: number;
  /** The final learning rate (default 0). */
  readonly endLr?: number;
}

/** PolynomialLR: (lr − endLr)(1 − min(t, T)/T)^power + endLr (torch's has endLr = 0). */
export function polynomialSchedule(options: PolynomialScheduleOptions): Schedule {
  const rules = { lr: V.nonNegative, totalSteps: V.positive, power: V.nonNegative, endLr: V.nonNegative };
  V.checkOptions('polynomialSchedule', rules, options, ['lr', 'totalSteps']);
  const { lr, totalSteps, power = 1, endLr = 0 } = options;
  return (t) => (lr - endLr) * (1 - Math.min(t, totalSteps) / totalSteps) ** power + endLr;
}

/**
 * SequentialLR: schedules[0] until milestones[0], then schedules[1] (restarted at its own step
 * 0) until milestones[1], and so on.
 */
export function sequentialSchedule(schedules: readonly Schedule[], milestones: readonly number[]): Schedule {
  V.listOf(V.callable)('sequentialSchedule', 'schedules', schedules);
  V.listOf(V.count)('sequentialSchedule', 'milestones', milestones);
  V.check(
    schedules.length === milestones.length + 1,
    'sequentialSchedule',
    `${schedules.length} schedules need ${schedules.length - 1} milestones, got ${milestones.length}`,
  );
  V.check(
    milestones.every((m, i) => i === 0 || m >= milestones[i - 1]),
    'sequentialSchedule',
    `milestones must be increasing, got [${milestones}]`,
  );
  return (t) => {
    let i = 0;
    while (i < milestones.length && t >= milestones[i]) i++;
    return schedules[i](i === 0 ? t : t - milestones[i - 1]);
  };
}

/** Options of `linearWarmup`. */
export interface LinearWarmupOptions {
  /** The length of the warmup, in steps. */
  readonly warmupSteps: number;
  /** The first step's fraction of the schedule's initial value (default 0). */
  readonly startFactor?: number;
}

/**
 * A linear warmup from startFactor·s(0) to s(0) over `warmupSteps` steps, then `schedule`
 * from its own step 0 (torch's SequentialLR of a LinearLR and the schedule).
 */
export function linearWarmup(schedule: Schedule, options: LinearWarmupOptions): Schedule {
  V.callable('linearWarmup', 'schedule', schedule);
  const rules = { warmupSteps: V.positive, startFactor: V.finite };
  V.checkOptions('linearWarmup', rules, options, ['warmupSteps']);
  const { warmupSteps, startFactor = 0 } = options;
  const peak = schedule(0);
  return sequentialSchedule(
    [linearSchedule({ start: startFactor * peak, end: peak, steps: warmupSteps }), schedule],
    [warmupSteps],
  );
}

/** How a one-cycle schedule moves between its phase values: along a half cosine or a straight line. */
export type AnnealStrategy = 'cos' | 'linear';

const anneal: Record<AnnealStrategy, (from: number, to: number, pct: number) => number> = {
  cos: (from, to, pct) => to + ((from - to) / 2) * (Math.cos(Math.PI * pct) + 1),
  linear: (from, to, pct) => (to - from) * pct + from,
};

/**
 * A piecewise annealing: phase i goes from values[i] to values[i + 1], ending at step
 * ends[i] (the last phase extends beyond its end), as OneCycleLR computes it.
 */
export function annealPhases(
  step: number,
  ends: readonly number[],
  values: readonly number[],
  strategy: AnnealStrategy,
): number {
  V.number('annealPhases', 'step', step);
  V.listOf(V.number)('annealPhases', 'ends', ends);
  V.listOf(V.number, ends.length + 1)('annealPhases', 'values', values);
  V.oneOf('cos', 'linear')('annealPhases', 'strategy', strategy);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    if (step <= ends[i] || i === ends.length - 1) {
      const pct = ends[i] === start ? 1 : (step - start) / (ends[i] - start);
      return anneal[strategy](values[i], values[i + 1], pct);
    }
    start = ends[i];
  }
  return values[values.length - 1];
}

/** Options of `oneCycleSchedule` (torch's OneCycleLR, camel-cased). */
export interface OneCycleScheduleOptions {
  /** The peak learning rate. */
  readonly maxLr: number;
  /** The length of the cycle, in steps. */
  readonly totalSteps: number;
  /** The fraction of the cycle spent increasing the learning rate. */
  readonly pctStart?: number;
  /** How to move between the phase values (default `'cos'`). */
  readonly annealStrategy?: AnnealStrategy;
  /** The initial lr is maxLr / divFactor. */
  readonly divFactor?: number;
  /** The final lr is the initial lr / finalDivFactor. */
  readonly finalDivFactor?: number;
  /** Anneal back to the initial lr before annealing to the final one (fast.ai's variant has two phases). */
  readonly threePhase?: boolean;
}

/** The phase ends of a one-cycle policy, as torch's OneCycleLR places them. */
export function oneCyclePhaseEnds(totalSteps: number, pctStart: number, threePhase: boolean): number[] {
  V.positiveInteger('oneCycleSchedule', 'totalSteps', totalSteps);
  V.unitInterval('oneCycleSchedule', 'pctStart', pctStart);
  const up = pctStart * totalSteps - 1;
  return threePhase ? [up, 2 * pctStart * totalSteps - 2, totalSteps - 1] : [up, totalSteps - 1];
}

/**
 * OneCycleLR (Smith & Topin, super-convergence): from maxLr/divFactor up to maxLr over the
 * first pctStart of the steps, then down to maxLr/(divFactor·finalDivFactor).
 */
export const ONE_CYCLE_RULES: V.Rules<OneCycleScheduleOptions> = {
  maxLr: V.nonNegative,
  totalSteps: V.positiveInteger,
  pctStart: V.unitInterval,
  annealStrategy: V.oneOf('cos', 'linear'),
  divFactor: V.positive,
  finalDivFactor: V.positive,
  threePhase: V.boolean,
};

/**
 * OneCycleLR (Smith & Topin, super-convergence): from maxLr/divFactor up to maxLr over the first pctStart of
 * the steps, then down to maxLr/(divFactor·finalDivFactor).
 */
export function oneCycleSchedule(options: OneCycleScheduleOptions): Schedule {
  V.checkOptions('oneCycleSchedule', ONE_CYCLE_RULES, options, ['maxLr', 'totalSteps']);
  const { maxLr, totalSteps, pctStart = 0.3, annealStrategy = 'cos' } = options;
  const { divFactor = 25, finalDivFactor = 1e4, threePhase = false } = options;
  const ends = oneCyclePhaseEnds(totalSteps, pctStart, threePhase);
  const initialLr = maxLr / divFactor;
  const minLr = initialLr / finalDivFactor;
  const values = threePhase ? [initialLr, maxLr, initialLr, minLr] : [initialLr, maxLr, minLr];
  return (t) => {
    V.check(t <= totalSteps, 'oneCycleSchedule', `step ${t} is beyond totalSteps ${totalSteps}`);
    return annealPhases(t, ends, values, annealStrategy);
  };
}
