import * as T from '@tsgrad/tensor';
import {
  type AnnealStrategy,
  annealPhases,
  type CosineAnnealingScheduleOptions,
  type CosineAnnealingWarmRestartsScheduleOptions,
  cosineAnnealingSchedule,
  cosineAnnealingWarmRestartsSchedule,
  exponentialSchedule,
  linearSchedule,
  type MultiStepScheduleOptions,
  multiStepSchedule,
  ONE_CYCLE_RULES,
  type OneCycleScheduleOptions,
  oneCyclePhaseEnds,
  oneCycleSchedule,
  polynomialSchedule,
  type StepScheduleOptions,
  stepSchedule,
} from './schedules.js';
import type { Schedule } from './transform.js';
import * as V from './validate.js';

/** What a scheduler needs of an optimizer: parameter groups with a writable `lr`. */
export interface SchedulableOptimizer {
  /** The parameter groups, each with the `lr` the scheduler sets. */
  readonly paramGroups: readonly { lr: number }[];
}

/** Checks that `optimizer` has parameter groups with a learning rate each. */
export function checkSchedulable(op: string, optimizer: SchedulableOptimizer): void {
  T.checkRecord(op, 'optimizer', optimizer);
  if (!Array.isArray(optimizer.paramGroups))
    throw new T.ValueError(op, 'expected an optimizer with paramGroups');
  optimizer.paramGroups.forEach((group, i) => {
    V.nonNegative(op, `paramGroups[${i}].lr`, (group as { lr?: unknown } | undefined)?.lr);
  });
}

/** Builds a group's schedule from its learning rate when the scheduler was created. */
export type ScheduleFactory = (baseLr: number, groupIndex: number) => Schedule;

/** What `LRScheduler.stateDict` saves. */
export interface LRSchedulerStateDict {
  /** The number of steps taken, minus one (PyTorch's `last_epoch`). */
  readonly lastEpoch: number;
  /** The groups' learning rates when the scheduler was created. */
  readonly baseLrs: readonly number[];
}

/**
 * Drives the learning rates of an optimizer's groups from schedules, like
 * torch.optim.lr_scheduler: on creation every group gets its schedule's value at step 0, and
 * each `step()` (once per epoch or per batch, as the schedule means it) moves to the next.
 */
export class LRScheduler {
  /** The number of steps taken, minus one: the step the current learning rates belong to. */
  lastEpoch = -1;
  /** The groups' learning rates when the scheduler was created; the schedules start from them. */
  baseLrs: number[];
  private schedules: Schedule[];
  private lastLrs: number[] = [];

  constructor(
    /** The optimizer whose groups' `lr` the scheduler sets. */
    readonly optimizer: SchedulableOptimizer,
    private readonly scheduleFor: ScheduleFactory,
    /** Sets other hyper-parameters at each step (e.g. OneCycleLR's momentum). */
    private readonly onStep?: (step: number) => void,
  ) {
    checkSchedulable(new.target.name, optimizer);
    this.baseLrs = optimizer.paramGroups.map((g) => g.lr);
    this.schedules = this.baseLrs.map(scheduleFor);
    this.step();
  }

  /**
   * Moves every group to the next step of its schedule (call once per epoch or per batch, as the schedule
   * counts).
   */
  step(): void {
    const groups = this.optimizer.paramGroups;
    if (groups.length !== this.schedules.length) {
      throw new T.ValueError(
        'LRScheduler',
        `made for ${this.schedules.length} groups, the optimizer has ${groups.length}`,
      );
    }
    this.lastEpoch += 1;
    this.lastLrs = this.schedules.map((schedule) => schedule(this.lastEpoch));
    groups.forEach((group, i) => {
      group.lr = this.lastLrs[i];
    });
    this.onStep?.(this.lastEpoch);
  }

  /** The learning rates the last step set, one per group. */
  getLastLr(): number[] {
    return [...this.lastLrs];
  }

  /** The step count and the base learning rates, to save with a checkpoint. */
  stateDict(): LRSchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs] };
  }

  /**
   * Resumes at a saved step (the optimizer's own lr comes back with its loadStateDict). A bad
   * state throws and changes nothing.
   */
  loadStateDict(dict: LRSchedulerStateDict): void {
    const op = `${this.constructor.name}.loadStateDict`;
    const rules = { lastEpoch: V.integerFromMinusOne, baseLrs: V.listOf(V.nonNegative, this.baseLrs.length) };
    V.checkFields<LRSchedulerStateDict>(op, 'state', rules, dict);
    const schedules = dict.baseLrs.map(this.scheduleFor);
    this.lastEpoch = dict.lastEpoch;
    this.baseLrs = [...dict.baseLrs];
    this.schedules = schedules;
  }
}

/** StepLR: each group's lr·γ^⌊epoch / stepSize⌋. */
export class StepLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: Omit<StepScheduleOptions, 'lr'>) {
    super(optimizer, (lr) => stepSchedule({ ...options, lr }));
  }
}

/** MultiStepLR: each group's lr·γ^(number of milestones reached). */
export class MultiStepLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: Omit<MultiStepScheduleOptions, 'lr'>) {
    super(optimizer, (lr) => multiStepSchedule({ ...options, lr }));
  }
}

/** ExponentialLR: each group's lr·γ^epoch. */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: { readonly gamma: number }) {
    super(optimizer, (lr) => exponentialSchedule({ lr, gamma: options.gamma }));
  }
}

/** CosineAnnealingLR (the closed form). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: Omit<CosineAnnealingScheduleOptions, 'lr'>) {
    super(optimizer, (lr) => cosineAnnealingSchedule({ ...options, lr }));
  }
}

/** CosineAnnealingWarmRestarts (SGDR). */
export class CosineAnnealingWarmRestarts extends LRScheduler {
  constructor(
    optimizer: SchedulableOptimizer,
    options: Omit<CosineAnnealingWarmRestartsScheduleOptions, 'lr'>,
  ) {
    super(optimizer, (lr) => cosineAnnealingWarmRestartsSchedule({ ...options, lr }));
  }
}

/** LinearLR: the lr times a factor going linearly from startFactor to endFactor over totalIters. */
export class LinearLR extends LRScheduler {
  constructor(
    optimizer: SchedulableOptimizer,
    options: {
      readonly startFactor?: number;
      readonly endFactor?: number;
      readonly totalIters?: number;
    } = {},
  ) {
    V.checkOptions(
      'LinearLR',
      { startFactor: V.finite, endFactor: V.finite, totalIters: V.positive },
      options,
    );
    const { startFactor = 1 / 3, endFactor = 1, totalIters = 5 } = options;
    super(optimizer, (lr) =>
      linearSchedule({ start: lr * startFactor, end: lr * endFactor, steps: totalIters }),
    );
  }
}

/** PolynomialLR: lr·(1 − min(epoch, totalIters)/totalIters)^power. */
export class PolynomialLR extends LRScheduler {
  constructor(
    optimizer: SchedulableOptimizer,
    options: { readonly totalIters?: number; readonly power?: number } = {},
  ) {
    V.checkOptions('PolynomialLR', { totalIters: V.positive, power: V.nonNegative }, options);
    const { totalIters = 5, power = 1 } = options;
    super(optimizer, (lr) => polynomialSchedule({ lr, totalSteps: totalIters, power }));
  }
}

/** LambdaLR: each group's lr times `lrLambda(epoch)` (one function for all groups, or one per group). */
export class LambdaLR extends LRScheduler {
  constructor(
    optimizer: SchedulableOptimizer,
    lrLambda: ((epoch: number) => number) | readonly ((epoch: number) => number)[],
  ) {
    checkSchedulable('LambdaLR', optimizer);
    if (Array.isArray(lrLambda)) V.listOf(V.callable)('LambdaLR', 'lrLambda', lrLambda);
    else V.callable('LambdaLR', 'lrLambda', lrLambda);
    const factorOf = (i: number) => (typeof lrLambda === 'function' ? lrLambda : lrLambda[i]);
    if (typeof lrLambda !== 'function' && lrLambda.length !== optimizer.paramGroups.length) {
      throw new T.ValueError(
        'LambdaLR',
        `${lrLambda.length} functions for ${optimizer.paramGroups.length} groups`,
      );
    }
    super(optimizer, (lr, i) => (epoch) => lr * factorOf(i)(epoch));
  }
}

/** Options of `OneCycleLR`: the schedule's, with a peak lr per group and the momentum cycle. */
export interface OneCycleLROptions extends Omit<OneCycleScheduleOptions, 'maxLr'> {
  /** The peak learning rate, for every group or one per group. */
  readonly maxLr: number | readonly number[];
  /** Cycle momentum (or Adam's β₁) inversely to the lr between baseMomentum and maxMomentum (default true). */
  readonly cycleMomentum?: boolean;
  /** The momentum at the peak learning rate (default 0.85). */
  readonly baseMomentum?: number;
  /** The momentum at the lowest learning rate (default 0.95). */
  readonly maxMomentum?: number;
}

type MomentumGroup = { lr: number; momentum?: number; betas?: readonly [number, number] };

/** Sets each group's momentum (or β₁) to the one-cycle momentum of the step. */
function cycleMomentum(optimizer: SchedulableOptimizer, options: OneCycleLROptions): (step: number) => void {
  const {
    totalSteps,
    pctStart = 0.3,
    annealStrategy = 'cos' as AnnealStrategy,
    threePhase = false,
  } = options;
  const { baseMomentum = 0.85, maxMomentum = 0.95 } = options;
  const ends = oneCyclePhaseEnds(totalSteps, pctStart, threePhase);
  const values = threePhase
    ? [maxMomentum, baseMomentum, maxMomentum, maxMomentum]
    : [maxMomentum, baseMomentum, maxMomentum];
  const groups = optimizer.paramGroups as readonly MomentumGroup[];
  for (const group of groups) {
    if (!('betas' in group) && !('momentum' in group)) {
      throw new T.ValueError(
        'OneCycleLR',
        'the optimizer has neither momentum nor betas to cycle (set cycleMomentum: false)',
      );
    }
  }
  return (step) => {
    const momentum = annealPhases(step, ends, values, annealStrategy);
    for (const group of groups) {
      if (group.betas !== undefined) group.betas = [momentum, group.betas[1]];
      else group.momentum = momentum;
    }
  };
}

const ONE_CYCLE_LR_RULES: V.Rules<OneCycleLROptions> = {
  ...ONE_CYCLE_RULES,
  maxLr: (op, name, value) => (typeof value === 'number' ? V.nonNegative(op, name, value) : undefined),
  cycleMomentum: V.boolean,
  baseMomentum: V.unitInterval,
  maxMomentum: V.unitInterval,
};

/**
 * OneCycleLR: a one-cycle policy per group (see `oneCycleSchedule`); the groups' own lr is
 * replaced. Call `step()` after every batch, `totalSteps` times in all.
 */
export class OneCycleLR extends LRScheduler {
  constructor(optimizer: SchedulableOptimizer, options: OneCycleLROptions) {
    checkSchedulable('OneCycleLR', optimizer);
    const groups = optimizer.paramGroups.length;
    V.checkOptions('OneCycleLR', ONE_CYCLE_LR_RULES, options);
    const { maxLr, cycleMomentum: cycle = true, baseMomentum, maxMomentum, ...schedule } = options;
    if (typeof maxLr !== 'number') V.listOf(V.nonNegative, groups)('OneCycleLR', 'maxLr', maxLr);
    super(
      optimizer,
      (_, i) => oneCycleSchedule({ ...schedule, maxLr: typeof maxLr === 'number' ? maxLr : maxLr[i] }),
      cycle ? cycleMomentum(optimizer, options) : undefined,
    );
  }
}
