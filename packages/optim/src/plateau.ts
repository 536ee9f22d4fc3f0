import * as T from '@tsgrad/tensor';
import { checkSchedulable, type SchedulableOptimizer } from './scheduler.js';
import * as V from './validate.js';

/** Options of `ReduceLROnPlateau` (torch's, camel-cased). */
export interface ReduceLROnPlateauOptions {
  /** Whether the metric should go down ('min', e.g. a loss) or up ('max', e.g. an accuracy). */
  readonly mode?: 'min' | 'max';
  /** The lr is multiplied by this on a plateau. */
  readonly factor?: number;
  /** Epochs without improvement tolerated before reducing. */
  readonly patience?: number;
  /** The smallest change that counts as an improvement, relative to the best or absolute. */
  readonly threshold?: number;
  /** Whether `threshold` is relative to the best value (`'rel'`, default) or absolute. */
  readonly thresholdMode?: 'rel' | 'abs';
  /** Epochs to wait after a reduction before counting bad epochs again. */
  readonly cooldown?: number;
  /** A lower bound on the lr, for all groups or one per group. */
  readonly minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped. */
  readonly eps?: number;
}

const RULES: V.Rules<ReduceLROnPlateauOptions> = {
  mode: V.oneOf('min', 'max'),
  factor: V.beta,
  patience: V.count,
  threshold: V.nonNegative,
  thresholdMode: V.oneOf('rel', 'abs'),
  cooldown: V.count,
  minLr: V.any, // checked against the number of groups below
  eps: V.nonNegative,
};

type PlateauState = ReturnType<ReduceLROnPlateau['stateDict']>;

/** A saved best value: a number (±Infinity before any epoch), or null for ±Infinity after JSON. */
const best: V.Rule = (op, name, value) => {
  if (value !== null) V.number(op, name, value);
};

const STATE_RULES: V.Rules<PlateauState> = {
  best,
  numBadEpochs: V.count,
  cooldownCounter: V.count,
  lastEpoch: V.count,
};

/**
 * torch's ReduceLROnPlateau: multiplies the groups' lr by `factor` once the metric passed to
 * `step(metric)` has not improved for more than `patience` epochs.
 */
export class ReduceLROnPlateau {
  /** The options with their defaults filled in. */
  readonly options: Required<Omit<ReduceLROnPlateauOptions, 'minLr'>>;
  /** The lower bound on the lr of each group. */
  readonly minLrs: readonly number[];
  /** The best metric so far. */
  best: number;
  /** Epochs since the metric last improved. */
  numBadEpochs = 0;
  /** Epochs left in the cooldown after the last reduction. */
  cooldownCounter = 0;
  /** The number of `step` calls so far. */
  lastEpoch = 0;

  constructor(
    /** The optimizer whose groups' lr is reduced. */
    readonly optimizer: SchedulableOptimizer,
    options: ReduceLROnPlateauOptions = {},
  ) {
    checkSchedulable('ReduceLROnPlateau', optimizer);
    V.checkOptions('ReduceLROnPlateau', RULES, options);
    const { mode = 'min', factor = 0.1, patience = 10, threshold = 1e-4, thresholdMode = 'rel' } = options;
    const { cooldown = 0, minLr = 0, eps = 1e-8 } = options;
    const groups = optimizer.paramGroups.length;
    if (typeof minLr === 'number') V.nonNegative('ReduceLROnPlateau', 'minLr', minLr);
    else V.listOf(V.nonNegative, groups)('ReduceLROnPlateau', 'minLr', minLr);
    this.minLrs = typeof minLr === 'number' ? optimizer.paramGroups.map(() => minLr) : [...minLr];
    this.options = { mode, factor, patience, threshold, thresholdMode, cooldown, eps };
    this.best = mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }

  /** Whether `value` improves on the best so far by more than the threshold. */
  isBetter(value: number): boolean {
    const { mode, threshold, thresholdMode } = this.options;
    if (mode === 'min')
      return value < (thresholdMode === 'rel' ? this.best * (1 - threshold) : this.best - threshold);
    return value > (thresholdMode === 'rel' ? this.best * (1 + threshold) : this.best + threshold);
  }

  /** Records the metric of an epoch and reduces the learning rates on a plateau. */
  step(metric: number): void {
    T.checkNumber('ReduceLROnPlateau.step', 'metric', metric);
    this.lastEpoch += 1;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else this.numBadEpochs += 1;
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.options.patience) {
      this.reduceLr();
      this.cooldownCounter = this.options.cooldown;
      this.numBadEpochs = 0;
    }
  }

  private reduceLr(): void {
    this.optimizer.paramGroups.forEach((group, i) => {
      const lr = Math.max(group.lr * this.options.factor, this.minLrs[i]);
      if (group.lr - lr > this.options.eps) group.lr = lr;
    });
  }

  /** The learning rates now, one per group. */
  getLastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The counters and the best value, to save with a checkpoint (`loadStateDict` restores them). */
  stateDict(): { best: number; numBadEpochs: number; cooldownCounter: number; lastEpoch: number } {
    const { best, numBadEpochs, cooldownCounter, lastEpoch } = this;
    return { best, numBadEpochs, cooldownCounter, lastEpoch };
  }

  /**
   * Restores `stateDict()`; a `best` of null (±Infinity after a JSON round trip) means no best
   * yet. A bad state throws and changes nothing.
   */
  loadStateDict(dict: Omit<PlateauState, 'best'> & { best: number | null }): void {
    V.checkFields('ReduceLROnPlateau.loadStateDict', 'state', STATE_RULES, dict);
    const none = this.options.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    Object.assign(this, {
      best: dict.best ?? none,
      numBadEpochs: dict.numBadEpochs,
      cooldownCounter: dict.cooldownCounter,
      lastEpoch: dict.lastEpoch,
    });
  }
}
