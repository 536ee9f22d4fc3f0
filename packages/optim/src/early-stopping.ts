import * as T from '@tsgrad/tensor';
import * as V from './validate.js';

/** Options of `EarlyStopping`. */
export interface EarlyStoppingOptions {
  /** Epochs without improvement before stopping (default 3, as PyTorch Lightning). */
  readonly patience?: number;
  /** The smallest change of the metric that counts as an improvement (absolute, default 0). */
  readonly minDelta?: number;
  /** Whether the metric should go down ('min', the default) or up ('max'). */
  readonly mode?: 'min' | 'max';
  /** A value the metric has to beat to count as an improvement at all. */
  readonly baseline?: number;
}

const RULES: V.Rules<EarlyStoppingOptions> = {
  patience: V.count,
  minDelta: V.nonNegative,
  mode: V.oneOf('min', 'max'),
  baseline: V.number,
};

/** What `EarlyStopping.stateDict` saves: the counters, and the best value (null for ±Infinity, as JSON writes it). */
export interface EarlyStoppingStateDict {
  /** The best metric so far; null before any, or for ±Infinity. */
  readonly best: number | null;
  /** The epoch of the best metric, −1 before any improvement. */
  readonly bestEpoch: number;
  /** Epochs since the last improvement. */
  readonly wait: number;
  /** The last epoch stepped, −1 before any. */
  readonly epoch: number;
  /** Whether training should stop. */
  readonly shouldStop: boolean;
}

const STATE_RULES: V.Rules<EarlyStoppingStateDict> = {
  best: (op, name, value) => (value === null ? undefined : V.number(op, name, value)),
  bestEpoch: V.integerFromMinusOne,
  wait: V.count,
  epoch: V.integerFromMinusOne,
  shouldStop: V.boolean,
};

/**
 * Stops training when a monitored metric has stopped improving (Keras' and Lightning's
 * EarlyStopping): call `step(metric)` once per epoch; it returns true once the metric has not
 * improved by more than `minDelta` on the best for `patience` epochs in a row.
 */
export class EarlyStopping {
  /** Epochs without improvement before stopping. */
  readonly patience: number;
  /** The smallest change of the metric that counts as an improvement. */
  readonly minDelta: number;
  /** Whether the metric should go down (`'min'`) or up (`'max'`). */
  readonly mode: 'min' | 'max';
  /** The best metric so far (the baseline, or ±Infinity, before any). */
  best: number;
  /** The epoch (counted from 0) of the best metric, -1 before any improvement. */
  bestEpoch = -1;
  /** Epochs since the last improvement. */
  wait = 0;
  /** The last epoch stepped (counted from 0), −1 before any. */
  epoch = -1;
  /** Whether the metric has not improved for `patience` epochs: time to stop. */
  shouldStop = false;

  constructor(options: EarlyStoppingOptions = {}) {
    V.checkOptions('EarlyStopping', RULES, options);
    const { patience = 3, minDelta = 0, mode = 'min', baseline } = options;
    this.patience = patience;
    this.minDelta = minDelta;
    this.mode = mode;
    this.best = baseline ?? (mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
  }

  /** Whether `value` beats the best so far by more than minDelta (NaN never does). */
  isImprovement(value: number): boolean {
    return this.mode === 'min' ? value < this.best - this.minDelta : value > this.best + this.minDelta;
  }

  /** Records an epoch's metric; returns whether training should stop. */
  step(value: number): boolean {
    T.checkNumber('EarlyStopping.step', 'value', value);
    this.epoch += 1;
    if (this.isImprovement(value)) {
      this.best = value;
      this.bestEpoch = this.epoch;
      this.wait = 0;
    } else {
      this.wait += 1;
      if (this.wait >= this.patience) this.shouldStop = true;
    }
    return this.shouldStop;
  }

  /** The counters and the best value, to save with a checkpoint (`loadStateDict` restores them). */
  stateDict(): EarlyStoppingStateDict {
    const { best, bestEpoch, wait, epoch, shouldStop } = this;
    return { best, bestEpoch, wait, epoch, shouldStop };
  }

  /** Restores `stateDict()` (a null best is ±Infinity, no best yet). A bad state throws and changes nothing. */
  loadStateDict(dict: EarlyStoppingStateDict): void {
    V.checkFields('EarlyStopping.loadStateDict', 'state', STATE_RULES, dict);
    const none = this.mode === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
    this.best = dict.best ?? none;
    this.bestEpoch = dict.bestEpoch;
    this.wait = dict.wait;
    this.epoch = dict.epoch;
    this.shouldStop = dict.shouldStop;
  }
}
